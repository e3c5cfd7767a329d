package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The TLB-flush clock against Xen rules TLB-2 and TLB-8 (docs/rules/xen.md): each expectation below follows from the
 * rule's text — a CPU needs a flush for a frame iff the counter is in a wrap, or its last flush is not later than the
 * frame's stamp and the stamp is not later than the counter; the counter ticks once per flush; a wrap is ended by a
 * global flush that restarts the counter at 1.
 */
class TlbFlushClockTest {
    @Test
    void atBootEveryCpuNeedsAFlushForAFrameStampedNow() {
        TlbFlushClock c = TlbFlushClock.boot(TlbFlushClock.XEN_WIDTH, 2);
        assertThat(c.now()).isEqualTo(1);
        assertThat(c.cpuTime()).containsExactly(0L, 0L);
        long stamp = c.timestamp();
        assertThat(stamp).isEqualTo(1);
        // 0 ≤ 1 ≤ 1 for both CPUs: neither has flushed since the clock started
        assertThat(c.filter(List.of(0, 1), stamp)).containsExactly(0, 1);
    }

    @Test
    void aCpuThatFlushedAfterTheUseEndedIsSkipped() {
        TlbFlushClock c = TlbFlushClock.boot(TlbFlushClock.XEN_WIDTH, 2);
        long stamp = c.timestamp();                 // the frame's use ends at 1
        c = c.flush(0);                             // the counter ticks to 2; CPU 0 flushed at 2 > 1
        assertThat(c.now()).isEqualTo(2);
        assertThat(c.cpuTime()).containsExactly(2L, 0L);
        assertThat(c.cpuNeedsFlush(0, stamp)).isFalse();
        assertThat(c.cpuNeedsFlush(1, stamp)).isTrue();
        assertThat(c.filter(Set.of(0, 1), stamp)).containsExactly(1);
        // a use that ends after CPU 0's flush is stamped 2: CPU 0 may have cached it since (2 ≤ 2)
        assertThat(c.cpuNeedsFlush(0, c.timestamp())).isTrue();
        // a CPU outside the mask is never named
        assertThat(c.filter(Set.of(0), stamp)).isEmpty();
    }

    @Test
    void aWrapFlushesEveryoneUntilTheNewPeriodStarts() {
        TlbFlushClock c = TlbFlushClock.boot(2, 2);         // a 2-bit counter: 1, 2, 3, then 0
        long oldStamp = c.flush(1).flush(1).timestamp();    // 3
        c = c.flush(1).flush(1);
        assertThat(c.now()).isEqualTo(3);
        c = c.flush(1);
        assertThat(c.wrapped()).isTrue();
        assertThat(c.cpuTime()).containsExactly(0L, 0L);
        // in a wrap the order is lost: every CPU needs a flush, even one whose time is later than the stamp
        assertThat(c.needFlush(3, 1)).isTrue();
        // a flush during the wrap does not tick
        assertThat(c.flush(0).now()).isZero();
        c = c.newPeriod();
        assertThat(c.now()).isEqualTo(1);
        assertThat(c.cpuTime()).containsExactly(0L, 0L);
        // a stamp from the old period (3 > now 1): the global flush already removed every translation of it
        assertThat(c.filter(List.of(0, 1), oldStamp)).isEmpty();
    }

    /**
     * The guarantee, exhaustively for 2 CPUs, 1 frame and a 2-bit counter over every sequence of up to 8 operations
     * (a CPU uses the frame, the frame's use ends, a CPU flushes, a wrap ends): whenever a CPU may still cache the frame
     * — it used the frame and has not flushed since — and the frame's use has ended, the clock says to flush that
     * CPU. "May cache" is tracked here by its meaning, not by the clock.
     */
    @Test
    void everyCpuThatMayStillCacheAnEndedFrameIsFlushed() {
        int[] checked = {0};
        explore(TlbFlushClock.boot(2, 2), new boolean[2], false, 0, 8, checked);
        assertThat(checked[0]).isGreaterThan(100_000);
    }

    private static void explore(TlbFlushClock c, boolean[] mayCache, boolean ended, long stamp, int depth,
            int[] checked) {
        if (ended) {
            for (int cpu = 0; cpu < 2; cpu++) {
                if (mayCache[cpu]) {
                    assertThat(c.cpuNeedsFlush(cpu, stamp)).as("%s, CPU %d may cache a frame stamped %d", c, cpu,
                            stamp).isTrue();
                }
                checked[0]++;
            }
        }
        if (depth == 0) {
            return;
        }
        for (int cpu = 0; cpu < 2; cpu++) {
            boolean[] used = mayCache.clone();
            used[cpu] = true;
            explore(c, used, false, stamp, depth - 1, checked);
            boolean[] flushed = mayCache.clone();
            flushed[cpu] = false;
            explore(c.flush(cpu), flushed, ended, stamp, depth - 1, checked);
        }
        if (!ended) {
            explore(c, mayCache, true, c.timestamp(), depth - 1, checked);
        }
        if (c.wrapped()) {
            explore(c.newPeriod(), new boolean[2], ended, stamp, depth - 1, checked);
        }
    }

    @Test
    void misuseIsAnException() {
        assertThatThrownBy(() -> TlbFlushClock.boot(32, 1).newPeriod()).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no wrap");
        assertThatThrownBy(() -> TlbFlushClock.boot(33, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TlbFlushClock.boot(8, 2).flush(2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TlbFlushClock(2, 4, List.of(0L))).isInstanceOf(IllegalArgumentException.class);
        List<Long> negative = new ArrayList<>(List.of(-1L));
        assertThatThrownBy(() -> new TlbFlushClock(2, 1, negative)).isInstanceOf(IllegalArgumentException.class);
    }
}
