package org.hybridv.invariants;

import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hybridv.xen.FlushRequest;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.HypercallInFlight;
import org.hybridv.xen.PageType;
import org.hybridv.xen.XenMachine;

/**
 * Xen rule TLB-8's filter (docs/rules/xen.md; {@code _get_page_type}: "cpumask_copy(mask, d->dirty_cpumask);
 * tlbflush_filter(mask, page->tlbflush_timestamp)", with {@code NEED_FLUSH}) stated over one step's observable state —
 * the frame table with its stamps, each domain's dirty CPU mask, the clock's counter and each pCPU's last-flush time,
 * the flush requests pending on each pCPU and the hypercalls in flight — never by calling the filter's code. A frame
 * whose type changes was last used under its old type until its stamp (TLB-2); a pCPU of the owner's mask must be
 * flushed for it exactly when its last flush is not later than the stamp and the stamp is not later than the counter
 * (a stamp above the counter is from before the last wrap, whose global flush already emptied every TLB). A frame
 * whose old use ends within the step itself is stamped with the counter's value then, which every pCPU's time is at
 * most; a frame without a stamp is treated as used until now. Both sides are checked:
 * <ul>
 * <li><b>no pCPU that needs it is skipped</b>: for a type change committed in the step (one whose flush was not
 * already sent before the step by a hypercall that waited for it, IPI-3), every pCPU of the owner's mask before the
 * step that needs the flush is flushed whole in the step — its time ticked, or a whole-TLB flush request is newly
 * pending on it;</li>
 * <li><b>no pCPU that does not need it is flushed</b> (the filter's purpose, a performance rule): a pCPU flushed whole in
 * the step, without a whole-TLB request pending on it before, needs it for at least one frame retyped in the step (or
 * whose type change's flush a waiting hypercall sent in it); a pCPU whose last flush is after every such frame's
 * stamp, or that is in no such frame's owner's mask, is left alone.</li>
 * </ul>
 * A step in which the clock began a new period flushes every pCPU by rule and is not judged here
 * ({@link TlbClockRules}).
 */
public final class TlbFilterRules {
    private TlbFilterRules() {}

    /**
     * Xen's {@code NEED_FLUSH(cpu_stamp, lastuse_stamp)} restated: during a wrap (the counter at 0) always; otherwise
     * when the CPU's last flush is not later than the stamp and the stamp not later than the counter.
     */
    public static boolean needFlush(long cpuTime, long stamp, long now) {
        return now == 0 || cpuTime <= stamp && stamp <= now;
    }

    /**
     * Whether pCPU {@code q} must be flushed for a type change of frame {@code mfn} in the step from {@code pre}: it
     * is in the owner's mask ({@code mask}) and the frame's stamp as the change reads it needs it.
     */
    public static boolean needs(XenMachine pre, long mfn, Set<Integer> mask, int q) {
        if (!mask.contains(q)) {
            return false;
        }
        FrameInfo was = pre.frames().get(mfn);
        long now = pre.tlbFlush().clock().now();
        long time = pre.tlbFlush().clock().cpuTime().get(q);
        if (was.typeCount() > 0) {
            return needFlush(time, now, now); // the old use ends in this very step: stamped now
        }
        return was.tlbflushTimestamp() == FrameInfo.NO_TIMESTAMP || needFlush(time, was.tlbflushTimestamp(), now);
    }

    /** Whether pCPU {@code q} was flushed whole in the step: its clock time moved or a whole flush is newly pending. */
    public static boolean flushedWhole(XenMachine pre, XenMachine post, int q) {
        if (!pre.tlbFlush().clock().cpuTime().get(q).equals(post.tlbFlush().clock().cpuTime().get(q))) {
            return true;
        }
        for (FlushRequest r : post.tlbFlush().pendingFlushes(q)) {
            if (r.scope() == FlushRequest.Scope.WHOLE && !pre.tlbFlush().pendingFlushes(q).contains(r)) {
                return true;
            }
        }
        return false;
    }

    private static boolean wholePending(XenMachine m, int q) {
        return m.tlbFlush().pendingFlushes(q).stream().anyMatch(r -> r.scope() == FlushRequest.Scope.WHOLE);
    }

    /** The frames whose type-change flush a hypercall in flight in {@code m} has sent (IPI-3). */
    private static Set<Long> sent(XenMachine m) {
        Set<Long> out = new TreeSet<>();
        for (HypercallInFlight h : m.tlbFlush().inFlight().values()) {
            out.addAll(h.flushed().keySet());
        }
        return out;
    }

    /** The owner's mask over the step: before it, and a pCPU that joined at the step's VM entry. */
    private static Set<Integer> mask(XenMachine pre, XenMachine post, int owner) {
        Set<Integer> m = new TreeSet<>(pre.tlbFlush().dirtyCpumask(owner));
        m.addAll(post.tlbFlush().dirtyCpumask(owner));
        return m;
    }

    /**
     * The frames retyped in the step from {@code pre} to {@code post}, each with its owner: a frame of a domain whose
     * type was a real one (a type change from none owes no flush, TLB-1) and is another now.
     */
    public static TreeMap<Long, Integer> retyped(XenMachine pre, XenMachine post) {
        TreeMap<Long, Integer> out = new TreeMap<>();
        for (int mfn = 0; mfn < post.frames().size(); mfn++) {
            FrameInfo a = pre.frames().get(mfn);
            FrameInfo b = post.frames().get(mfn);
            if (a.type() != PageType.NONE && b.type() != a.type() && post.domains().containsKey(b.owner())) {
                out.put((long) mfn, b.owner());
            }
        }
        return out;
    }

    /** What is wrong with the step's type-change flushes, or null. */
    public static String check(XenMachine pre, XenMachine post) {
        if (!post.runsTlbFlushClock() || TlbClockRules.newPeriod(pre, post)) {
            return null;
        }
        int pcpus = post.pcpuCount();
        TreeMap<Long, Integer> retyped = retyped(pre, post);
        Set<Long> sentBefore = sent(pre);
        for (var e : retyped.entrySet()) {
            if (sentBefore.contains(e.getKey())) {
                continue; // its flush was sent and awaited before this step (IPI-3)
            }
            Set<Integer> mask = pre.tlbFlush().dirtyCpumask(e.getValue());
            for (int q = 0; q < pcpus; q++) {
                if (needs(pre, e.getKey(), mask, q) && !flushedWhole(pre, post, q)) {
                    return "frame " + org.hybridv.x86.Hex.of(e.getKey()) + " changed type "
                            + pre.frames().get(e.getKey()).type() + " → " + post.frames().get(e.getKey()).type()
                            + " with stamp " + stamp(pre, e.getKey()) + ", yet pCPU " + q + " of d" + e.getValue()
                            + "'s mask, last flushed at " + pre.tlbFlush().clock().cpuTime().get(q)
                            + " (clock " + pre.tlbFlush().clock().now() + "), was not flushed";
                }
            }
        }
        TreeMap<Long, Integer> candidates = new TreeMap<>(retyped);
        for (long mfn : sent(post)) {
            candidates.put(mfn, post.frames().get(mfn).owner());
        }
        for (int q = 0; q < pcpus; q++) {
            if (!flushedWhole(pre, post, q) || wholePending(pre, q)) {
                continue;
            }
            boolean needed = false;
            for (var e : candidates.entrySet()) {
                needed |= needs(pre, e.getKey(), mask(pre, post, e.getValue()), q);
            }
            if (!needed) {
                return "pCPU " + q + " (last flushed at " + pre.tlbFlush().clock().cpuTime().get(q) + ", clock "
                        + pre.tlbFlush().clock().now() + ") was flushed whole, but no frame retyped in the step needs"
                        + " it: " + describe(pre, candidates) + " (tlbflush_filter leaves out a pCPU that flushed"
                        + " after the frame's stamp)";
            }
        }
        return null;
    }

    private static String stamp(XenMachine pre, long mfn) {
        FrameInfo f = pre.frames().get(mfn);
        return f.typeCount() > 0 ? "now (" + pre.tlbFlush().clock().now() + ")"
                : f.tlbflushTimestamp() == FrameInfo.NO_TIMESTAMP ? "none" : Long.toString(f.tlbflushTimestamp());
    }

    private static String describe(XenMachine pre, TreeMap<Long, Integer> frames) {
        if (frames.isEmpty()) {
            return "none was";
        }
        StringBuilder b = new StringBuilder();
        frames.forEach((mfn, owner) -> b.append(b.length() == 0 ? "" : ", ").append("frame ")
                .append(org.hybridv.x86.Hex.of(mfn)).append(" of d").append(owner).append(" stamped ")
                .append(stamp(pre, mfn)));
        return b.toString();
    }

    /**
     * Coverage ("filter"): for each frame retyped in the step with a stamp from an earlier step, how the clock's test
     * splits the owner's mask — every pCPU of it cleared, some cleared and some flushed, or every one flushed.
     */
    public static void coverage(XenMachine pre, XenMachine post,
            java.util.function.BiConsumer<String, String> coverage) {
        if (!post.runsTlbFlushClock() || TlbClockRules.newPeriod(pre, post)) {
            return;
        }
        for (var e : retyped(pre, post).entrySet()) {
            FrameInfo was = pre.frames().get(e.getKey());
            SortedSet<Integer> mask = pre.tlbFlush().dirtyCpumask(e.getValue());
            if (was.typeCount() > 0 || was.tlbflushTimestamp() == FrameInfo.NO_TIMESTAMP || mask.isEmpty()) {
                continue;
            }
            int need = 0;
            for (int q : mask) {
                need += needs(pre, e.getKey(), mask, q) ? 1 : 0;
            }
            coverage.accept("filter", need == 0 ? "stamped type change, every pCPU of the mask cleared by the clock"
                    : need == mask.size() ? "stamped type change, every pCPU of the mask flushed"
                    : "stamped type change, one pCPU of the mask cleared, another flushed");
        }
    }
}
