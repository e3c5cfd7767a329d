package org.hybridv.invariants;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.hybridv.x86.TlbEntry;
import org.hybridv.xen.XenMachine;

/**
 * Xen rule TLB-8's clock (docs/rules/xen.md; {@code tlbflush_clock}, {@code pre_flush}, {@code post_flush},
 * {@code new_tlbflush_clock_period}) stated over one step's observable state — the counter, each pCPU's last-flush
 * time, and the pCPUs' TLBs — never by calling the clock's code. A counter of w bits runs through 1 .. 2^w − 1 within a
 * period; a flush ticks it once and gives its pCPU the new value; the tick that would reach 0 instead flushes every
 * pCPU and starts a new period at 1 with every pCPU's time 0. So after every step:
 * <ul>
 * <li>the counter is within 1 .. 2^w − 1 (a wrap is never left pending) and no pCPU's time is later than it;</li>
 * <li>within one period (neither the counter nor a pCPU's time went back): a pCPU's time changed only to a value
 * ticked in this step (later than the old counter, at most the new), and the counter stood still if no time
 * changed;</li>
 * <li>a pCPU whose time moved within the period was flushed whole: it holds no guest translation it held before the
 * step (within one step nothing runs on a pCPU after its flush that could cache one again);</li>
 * <li>a new period began (the counter or a pCPU's time went back) only with the counter near its top (a step makes
 * at most {@link #MAX_TICKS_PER_STEP} ticks), and then every pCPU's TLB was flushed whole — none still holds a
 * guest translation it held before the step.</li>
 * </ul>
 */
public final class TlbClockRules {
    private TlbClockRules() {}

    /**
     * Whether a new period began in the step from {@code pre} to {@code post}, as far as the clock shows it: the
     * counter or a pCPU's time went back (within a period both only move forward).
     */
    public static boolean newPeriod(XenMachine pre, XenMachine post) {
        if (post.tlbFlush().clock().now() < pre.tlbFlush().clock().now()) {
            return true;
        }
        List<Long> before = pre.tlbFlush().clock().cpuTime();
        List<Long> after = post.tlbFlush().clock().cpuTime();
        for (int q = 0; q < after.size() && q < before.size(); q++) {
            if (after.get(q) < before.get(q)) {
                return true;
            }
        }
        return false;
    }

    /** What is wrong with the clock over the step from {@code pre} to {@code post}, or null. */
    public static String check(XenMachine pre, XenMachine post) {
        if (!post.runsTlbFlushClock()) {
            return null;
        }
        int width = post.tlbFlush().clock().width();
        long top = (1L << width) - 1;
        long was = pre.tlbFlush().clock().now();
        long now = post.tlbFlush().clock().now();
        List<Long> before = pre.tlbFlush().clock().cpuTime();
        List<Long> after = post.tlbFlush().clock().cpuTime();
        if (now < 1 || now > top) {
            return "the " + width + "-bit TLB-flush clock is at " + now + " after the step, outside 1.." + top
                    + " (a wrap must start a new period at once)";
        }
        boolean changed = false;
        for (int q = 0; q < after.size(); q++) {
            if (after.get(q) > now) {
                return "pCPU " + q + "'s last flush is at " + after.get(q) + ", later than the clock's " + now;
            }
            changed |= !after.get(q).equals(before.get(q));
        }
        if (!newPeriod(pre, post)) {
            for (int q = 0; q < after.size(); q++) {
                long t = after.get(q);
                if (t != before.get(q) && (t <= was || t > now)) {
                    return "pCPU " + q + "'s last flush went from " + before.get(q) + " to " + t + ", which the clock"
                            + " (" + was + " to " + now + ") did not tick to in this step";
                }
            }
            if (now != was && !changed) {
                return "the clock ticked from " + was + " to " + now + " but no pCPU's flush took a new time";
            }
            for (int q = 0; q < after.size(); q++) {
                if (!after.get(q).equals(before.get(q))) {
                    String kept = keptGuestEntry(pre, post, q);
                    if (kept != null) {
                        return "pCPU " + q + "'s last flush moved from " + before.get(q) + " to " + after.get(q)
                                + " yet it still holds " + kept + " from before: only a whole flush takes a new time";
                    }
                }
            }
            return null;
        }
        if (was < top - MAX_TICKS_PER_STEP) {
            return "a new period began (the clock went from " + was + " to " + now + ") though the " + width
                    + "-bit counter was " + (top - was) + " ticks from its top: a period ends only when it wraps";
        }
        for (int q = 0; q < after.size(); q++) {
            String kept = keptGuestEntry(pre, post, q);
            if (kept != null) {
                return "the clock wrapped (" + was + " to " + now + ") yet pCPU " + q + " still holds " + kept
                        + " from before: a new period flushes every pCPU";
            }
        }
        return null;
    }

    /**
     * A bound on the ticks of one step: a step flushes each pCPU whole at most once per frame it retypes, and no step
     * of the model retypes more than a few frames, so a clock further than this from its top cannot wrap in one step.
     */
    public static final long MAX_TICKS_PER_STEP = 64;

    /** A guest translation (VPID ≠ 0) pCPU {@code q} held before the step and still holds after it, or null. */
    public static String keptGuestEntry(XenMachine pre, XenMachine post, int q) {
        Set<TlbEntry> old = new HashSet<>();
        for (TlbEntry e : pre.pcpu(q).tlb().entries()) {
            if (e.tag().vpid() != 0) {
                old.add(e);
            }
        }
        for (TlbEntry e : post.pcpu(q).tlb().entries()) {
            if (old.contains(e)) {
                return e.toString();
            }
        }
        return null;
    }
}
