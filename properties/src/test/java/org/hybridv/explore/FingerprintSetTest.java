package org.hybridv.explore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The visited-state set: a set of non-zero 64-bit values with a trace, growing without losing anything. */
class FingerprintSetTest {
    /**
     * The trace is read back from its file (records past the write buffer) as it was written, also through a
     * checkpoint's copy, and the heap holds only
     * the table: once past the initial capacity, between 10 and 15 bytes per state (load 8/15 to 4/5).
     */
    @Test
    void theTraceReadsBackFromDiskAndTheTableCostsAtMost15BytesPerState() throws Exception {
        try (FingerprintSet s = new FingerprintSet(16)) {
            SplittableRandom r = new SplittableRandom(3);
            int[] parents = new int[50_000];
            int[] actions = new int[parents.length];
            for (int i = 0; i < parents.length; i++) {
                parents[i] = i == 0 ? FingerprintSet.NO_PARENT : r.nextInt(i);
                actions[i] = r.nextInt(FingerprintSet.MAX_ACTIONS + 1);
                assertThat(s.add(r.nextLong() | 1, parents[i], actions[i])).isEqualTo(i);
                if (i >= 100) {
                    assertThat(s.bytesPerState()).isBetween(10.0, 15.0);
                }
            }
            for (int i = parents.length - 1; i >= 0; i -= 7) {
                assertThat(s.parent(i)).isEqualTo(parents[i]);
                assertThat(s.action(i)).isEqualTo(actions[i]);
            }
            assertThat(s.bytes()).isEqualTo((long) (s.bytesPerState() * s.size() + 0.5));
            assertThat(s.traceBytes()).isEqualTo(6L * parents.length);
            // a checkpoint copies the trace from the file (records on disk and in the write buffer)
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
                s.write(out);
            }
            try (FingerprintSet b = FingerprintSet.read(new java.io.DataInputStream(new java.io.ByteArrayInputStream(
                    bytes.toByteArray())))) {
                assertThat(b.size()).isEqualTo(parents.length);
                for (int i = 0; i < parents.length; i += 3) {
                    assertThat(b.parent(i)).isEqualTo(parents[i]);
                    assertThat(b.action(i)).isEqualTo(actions[i]);
                }
            }
        }
    }

    /**
     * The trace read from each place a record can be: a mapped chunk (the first 32,768 records, a chunk of the size
     * given here), the file past the last full chunk, and the write buffer; parent and action as appended, the
     * initial state's parent {@link FingerprintSet#NO_PARENT} included, and the largest action.
     */
    @Test
    void theTraceReadsTheSameFromMappedChunksTheFileAndTheBuffer() {
        try (FingerprintSet s = new FingerprintSet(16, 32_768)) {
            SplittableRandom r = new SplittableRandom(5);
            int[] parents = new int[50_000];
            int[] actions = new int[parents.length];
            for (int i = 0; i < parents.length; i++) {
                parents[i] = i == 0 ? FingerprintSet.NO_PARENT : r.nextInt(i);
                actions[i] = i % 11 == 0 ? FingerprintSet.MAX_ACTIONS : r.nextInt(FingerprintSet.MAX_ACTIONS + 1);
                assertThat(s.add(r.nextLong() | 1, parents[i], actions[i])).isEqualTo(i);
            }
            for (int i = 0; i < parents.length; i++) {
                long e = s.traceEntry(i);
                assertThat(FingerprintSet.parentOf(e)).as("parent of %d", i).isEqualTo(parents[i]);
                assertThat(FingerprintSet.actionOf(e)).as("action of %d", i).isEqualTo(actions[i]);
                assertThat(s.parent(i)).isEqualTo(parents[i]);
                assertThat(s.action(i)).isEqualTo(actions[i]);
            }
        }
        assertThatThrownBy(() -> new FingerprintSet(16, 1000)).isInstanceOf(IllegalArgumentException.class);
    }

    /** The next level's index by fingerprint agrees with a map on random fingerprints, through its growth. */
    @Test
    void theLevelIndexAgreesWithAMap() {
        LevelIndex x = new LevelIndex();
        java.util.Map<Long, Integer> expected = new java.util.HashMap<>();
        SplittableRandom r = new SplittableRandom(9);
        for (int i = 0; i < 20_000; i++) {
            long fp = r.nextLong();
            if (fp == 0 || expected.containsKey(fp)) {
                continue;
            }
            x.put(fp, expected.size());
            expected.put(fp, expected.size());
        }
        assertThat(x.size()).isEqualTo(expected.size());
        expected.forEach((fp, i) -> assertThat(x.get(fp)).isEqualTo(i));
        for (int i = 0; i < 1000; i++) {
            long other = r.nextLong();
            assertThat(x.get(other)).isEqualTo(expected.getOrDefault(other, -1));
        }
        assertThat(x.get(0)).isEqualTo(-1);
        long some = expected.keySet().iterator().next();
        assertThatThrownBy(() -> x.put(some, 7)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> x.put(0, 7)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void everyInsertedFingerprintIsFoundAfterGrowthAndNoOtherIs() {
        FingerprintSet s = new FingerprintSet(0);
        Set<Long> model = new HashSet<>();
        SplittableRandom r = new SplittableRandom(14);
        for (int i = 0; i < 100_000; i++) {
            long fp = r.nextLong() | 1;
            int parent = s.size() == 0 ? FingerprintSet.NO_PARENT : r.nextInt(s.size());
            int n = s.add(fp, parent, i % 100);
            assertThat(n >= 0).isEqualTo(model.add(fp));
            if (n >= 0) {
                assertThat(n).isEqualTo(model.size() - 1);
                assertThat(s.parent(n)).isEqualTo(parent);
                assertThat(s.action(n)).isEqualTo(i % 100);
            }
        }
        assertThat(s.size()).isEqualTo(model.size());
        for (long fp : model) {
            assertThat(s.contains(fp)).isTrue();
        }
        SplittableRandom other = new SplittableRandom(41);
        for (int i = 0; i < 10_000; i++) {
            long fp = other.nextLong() | 1;
            assertThat(s.contains(fp)).isEqualTo(model.contains(fp));
        }
    }

    @Test
    void aSecondInsertKeepsTheFirstTraceAndColludingSlotsAreKept() {
        FingerprintSet s = new FingerprintSet(4);
        // same low bits: the same home slot, resolved by probing
        long a = 0x1_0000_0005L;
        long b = 0x2_0000_0005L;
        assertThat(s.add(a, FingerprintSet.NO_PARENT, 0)).isZero();
        assertThat(s.add(b, 0, 7)).isEqualTo(1);
        assertThat(s.add(b, 0, 9)).isEqualTo(-1);
        assertThat(s.action(1)).isEqualTo(7);
        assertThat(s.contains(a)).isTrue();
        assertThat(s.contains(b)).isTrue();
        assertThat(s.contains(0x3_0000_0005L)).isFalse();
        assertThat(s.add(-1L, 1, FingerprintSet.MAX_ACTIONS)).isEqualTo(2);
        assertThat(s.action(2)).isEqualTo(FingerprintSet.MAX_ACTIONS);
    }

    @Test
    void misuseIsRefused() {
        FingerprintSet s = new FingerprintSet(4);
        assertThatThrownBy(() -> s.add(0, FingerprintSet.NO_PARENT, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> s.add(5, 0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> s.parent(0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void collisionProbabilityIsTlcsEstimate() {
        // n²/2⁶⁵: 2³² states give 2⁶⁴/2⁶⁵ = 1/2
        assertThat(FingerprintSet.collisionProbability(1L << 32)).isEqualTo(0.5);
        assertThat(FingerprintSet.collisionProbability(0)).isZero();
    }

    /**
     * A set written and read back (a checkpoint) is the same set: the same members and no others, the same trace by
     * state number, the same measured bytes, and a new fingerprint gets the next number; a damaged copy is refused.
     */
    @Test
    void aWrittenSetReadsBackAsTheSameSet() throws Exception {
        FingerprintSet a = new FingerprintSet(16);
        SplittableRandom r = new SplittableRandom(7);
        long[] fps = new long[100];
        for (int i = 0; i < fps.length; i++) {
            fps[i] = r.nextLong() | 1;
            a.add(fps[i], i == 0 ? FingerprintSet.NO_PARENT : r.nextInt(i), r.nextInt(1000));
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.DataOutputStream out = new java.io.DataOutputStream(bytes)) {
            a.write(out);
        }
        FingerprintSet b = FingerprintSet.read(new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes
                .toByteArray())));
        assertThat(b.size()).isEqualTo(100);
        assertThat(b.bytes()).isEqualTo(a.bytes());
        for (int i = 0; i < fps.length; i++) {
            assertThat(b.contains(fps[i])).isTrue();
            assertThat(b.parent(i)).isEqualTo(a.parent(i));
            assertThat(b.action(i)).isEqualTo(a.action(i));
        }
        assertThat(b.contains(2)).isFalse();
        assertThat(b.add(2, 5, 3)).isEqualTo(100);
        assertThat(b.add(fps[3], 0, 0)).isEqualTo(-1);
        byte[] damaged = bytes.toByteArray();
        damaged[3] ^= 1; // the size no longer matches the slots in use
        assertThatThrownBy(() -> FingerprintSet.read(new java.io.DataInputStream(new java.io.ByteArrayInputStream(
                damaged)))).isInstanceOf(java.io.IOException.class);
    }
}
