package org.hybridv.x86;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * {@link PhysicalMemory#nextNonZero}, which the invariant scans use to skip empty entries, against a model: after
 * every write and clear it enumerates exactly the non-zero words of the frame, in order, and an older memory's
 * enumeration is untouched by a newer write (copy-on-write, the bitmap included).
 */
class PhysicalMemoryNonZeroTest {
    @Test
    void nextNonZeroIsTheNonZeroWords() {
        SplittableRandom r = new SplittableRandom(7);
        long[] frames = {0, 1, 63, 64, 65, 129};
        int[] edges = {0, 63, 64, 127, 128, 511};
        PhysicalMemory m = PhysicalMemory.ofFrames(130);
        Map<Long, long[]> model = new TreeMap<>();
        for (int step = 0; step < 5_000; step++) {
            long frame = frames[r.nextInt(frames.length)];
            int index = r.nextInt(10) < 7 ? r.nextInt(512) : edges[r.nextInt(edges.length)];
            long value = r.nextInt(10) < 6 ? r.nextLong() | 1 : 0;
            PhysicalMemory before = m;
            m = m.write(frame, index, value);
            model.computeIfAbsent(frame, f -> new long[512])[index] = value;
            if (step % 97 == 0) {
                assertThat(enumerate(before, frame)).isEqualTo(expected(before, frame));
            }
            assertThat(enumerate(m, frame)).isEqualTo(expected(m, frame));
        }
        for (long f = 0; f < 130; f++) {
            assertThat(enumerate(m, f)).isEqualTo(expected(m, f));
            long[] words = model.getOrDefault(f, new long[512]);
            for (int i = 0; i < 512; i++) {
                assertThat(m.read(f, i)).isEqualTo(words[i]);
            }
        }
        assertThat(m.nextNonZero(2, 512)).isEqualTo(512);
    }

    private static List<Integer> enumerate(PhysicalMemory m, long frame) {
        List<Integer> out = new ArrayList<>();
        for (int i = m.nextNonZero(frame, 0); i < 512; i = m.nextNonZero(frame, i + 1)) {
            out.add(i);
        }
        return out;
    }

    private static List<Integer> expected(PhysicalMemory m, long frame) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < 512; i++) {
            if (m.read(frame, i) != 0) {
                out.add(i);
            }
        }
        return out;
    }
}
