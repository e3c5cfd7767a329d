package org.hybridv.xen;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.hybridv.x86.Checks;

/**
 * Xen's TLB-flush clock (Xen rules TLB-2 and TLB-8, docs/rules/xen.md): how the hypervisor decides which physical CPUs
 * may still hold a translation of a frame whose last use has ended, so that a type change (TLB-1) or a re-allocation
 * (TLB-5) flushes only those. Immutable: each operation returns the next clock.
 *
 * <p>The clock is one global counter, {@code width} bits wide, that ticks once per TLB flush. Each CPU remembers the
 * value its TLB was last flushed at; each frame carries the value the clock had when its last TLB-relevant use ended
 * (its stamp, {@link #timestamp()}). A CPU whose last flush came after that stamp cannot hold a translation from the
 * use; one whose last flush came at or before it may ({@link #needFlush}). When the counter wraps to 0, the order of
 * old and new values is lost: until a global flush of every CPU starts a new period ({@link #newPeriod}), every CPU
 * is treated as needing a flush.
 *
 * <p>Xen's clock is 32 bits wide ({@link #XEN_WIDTH}); narrower clocks exist so that the Alloy model
 * {@code xen/tlb_clock} can reach the wrap in a few steps and be compared with this class instance by instance.
 *
 * @param width   the counter's width in bits (1..32)
 * @param now     the global counter; 0 only between a wrap and the flush that starts the next period
 * @param cpuTime per CPU, the counter value its TLB was last flushed at
 */
public record TlbFlushClock(int width, long now, List<Long> cpuTime) {
    /** The width of Xen's clock (a 32-bit counter). */
    public static final int XEN_WIDTH = 32;

    public TlbFlushClock {
        Checks.inRange("clock width", width, 1, 32);
        Checks.notNull("CPU times", cpuTime);
        long max = (1L << width) - 1;
        if (now < 0 || now > max) {
            throw new IllegalArgumentException("clock value " + now + " is outside 0.." + max);
        }
        for (Long t : cpuTime) {
            if (t == null || t < 0 || t > max) {
                throw new IllegalArgumentException("CPU time " + t + " is outside 0.." + max);
            }
        }
        cpuTime = List.copyOf(cpuTime);
    }

    /**
     * The clock at boot for {@code cpus} CPUs: the counter at 1, every CPU's time at 0 (never flushed since the
     * clock started), so every frame stamped from now on needs every CPU flushed until it flushes (Xen rule TLB-8).
     */
    public static TlbFlushClock boot(int width, int cpus) {
        Checks.inRange("CPUs", cpus, 1, 64);
        return new TlbFlushClock(width, 1, java.util.Collections.nCopies(cpus, 0L));
    }

    /**
     * The stamp a frame gets when its last TLB-relevant use ends: the current counter (Xen rule TLB-2). Taken at the
     * moment the use ends, never earlier: a stamp older than the end of the use could let a CPU that flushed in
     * between (and then cached the frame again) be skipped (XSA-241).
     */
    public long timestamp() {
        return now;
    }

    /**
     * Xen rule TLB-8: whether a CPU last flushed at {@code cpuStamp} must be flushed before a frame stamped
     * {@code pageStamp} is relied on. During a wrap (the counter is 0) always; otherwise exactly when the CPU's flush
     * is not later than the stamp ({@code cpuStamp ≤ pageStamp}) and the stamp is not in the future
     * ({@code pageStamp ≤ now}: a stamp greater than the counter is from the period before the last wrap, and the
     * global flush that started this period already removed everything the CPU cached then).
     */
    public boolean needFlush(long cpuStamp, long pageStamp) {
        return now == 0 || cpuStamp <= pageStamp && pageStamp <= now;
    }

    /** {@link #needFlush} for CPU {@code cpu}'s own time. */
    public boolean cpuNeedsFlush(int cpu, long pageStamp) {
        return needFlush(cpuTime.get(index(cpu)), pageStamp);
    }

    /**
     * The CPUs of {@code mask} that must be flushed for a frame stamped {@code pageStamp} (Xen rule TLB-8: a flush
     * mask filtered by the clock), in ascending order.
     */
    public List<Integer> filter(Collection<Integer> mask, long pageStamp) {
        Checks.notNull("mask", mask);
        List<Integer> out = new ArrayList<>();
        for (int c = 0; c < cpuTime.size(); c++) {
            if (mask.contains(c) && cpuNeedsFlush(c, pageStamp)) {
                out.add(c);
            }
        }
        return out;
    }

    /**
     * CPU {@code cpu} flushes its TLB (Xen rule TLB-8). Before the flush the counter ticks (unless it is 0: a wrap is
     * being handled and the tick is skipped); after it the CPU's time is the counter's new value. A tick that wraps
     * the counter to 0 leaves it there: {@link #wrapped()} then holds until {@link #newPeriod}.
     */
    public TlbFlushClock flush(int cpu) {
        int c = index(cpu);
        long t = now == 0 ? 0 : (now + 1) & mask();
        List<Long> times = new ArrayList<>(cpuTime);
        times.set(c, t);
        return new TlbFlushClock(width, t, times);
    }

    /** Whether the counter has wrapped and the global flush that starts a new period is still owed. */
    public boolean wrapped() {
        return now == 0;
    }

    /**
     * The global flush after a wrap (Xen rule TLB-8): every CPU flushes with the tick skipped (its time becomes 0),
     * then the counter restarts at 1, so that every stamp of the old period compares as "no flush needed" and every
     * stamp of the new one as "needed by CPUs not flushed since".
     *
     * @throws IllegalStateException if the counter has not wrapped (API misuse: there is no period to end)
     */
    public TlbFlushClock newPeriod() {
        if (now != 0) {
            throw new IllegalStateException("no wrap to end: the clock is at " + now);
        }
        return new TlbFlushClock(width, 1, java.util.Collections.nCopies(cpuTime.size(), 0L));
    }

    private long mask() {
        return (1L << width) - 1;
    }

    private int index(int cpu) {
        Checks.inRange("CPU", cpu, 0, cpuTime.size() - 1);
        return cpu;
    }
}
