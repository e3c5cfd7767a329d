package org.hybridv.invariants;

import org.hybridv.xen.XenMachine;

/**
 * I6 over one step of the machine: TLB-8's clock ({@link TlbClockRules}) and its filter ({@link TlbFilterRules}), and
 * the flush-IPI protocol's pending requests (IPI-1, IPI-2: {@link FlushIpiRules#requests}), each stated from the
 * rulebook over the observable state before and after the step. The whole-system properties check them after every
 * step; a scenario checks them after every step too (its {@code checkInvariants} reports the first violation as I6),
 * so a counterexample the checker writes for one of them replays to the same violation. IPI-5 needs the step's own
 * operation (which vCPU ran, where it was moved) and is judged by the properties only.
 */
public final class ShootdownRules {
    private ShootdownRules() {}

    /**
     * The first of the step's rules, in this order, that the step from {@code pre} to {@code post} breaks (TLB-8,
     * then IPI-1 or IPI-2), or {@link InvariantResult#HOLDS}.
     */
    public static InvariantResult check(XenMachine pre, XenMachine post) {
        String clock = TlbClockRules.check(pre, post);
        if (clock != null) {
            return new InvariantResult.Violated("TLB-8", clock);
        }
        String filter = TlbFilterRules.check(pre, post);
        if (filter != null) {
            return new InvariantResult.Violated("TLB-8", filter);
        }
        return FlushIpiRules.requests(post);
    }
}
