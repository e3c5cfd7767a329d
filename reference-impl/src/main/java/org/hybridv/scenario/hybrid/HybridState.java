package org.hybridv.scenario.hybrid;

import java.util.List;
import org.hybridv.guest.Lockstep;
import org.hybridv.invariants.HybridInvariants;

/**
 * The hybrid module's part of a scenario's state: the kernel under the hypervisor (or on bare metal) and its native
 * twin, driven in lockstep, and the invariant history — every {@code kernel} step is checked (I1–I8) and the first
 * violation of each invariant is kept for {@code checkHybrid}.
 *
 * @param lockstep   the guest and its twin, or null without a {@code kernel} section
 * @param shared     whether the kernel runs in a domain of the scenario's {@code hypervisor} section: the machine
 *                   then lives in the xen module's state (one machine, one owner) and the lockstep's copy is
 *                   refreshed from it before every kernel step
 * @param steps      how many {@code kernel} steps have run
 * @param violations the first violation per invariant so far ("kernel step n: …"), in invariant order
 */
public record HybridState(Lockstep lockstep, boolean shared, int steps, List<HybridInvariants.Violation> violations) {
    public static final HybridState NONE = new HybridState(null, false, 0, List.of());

    public HybridState {
        violations = List.copyOf(violations);
    }

    public boolean configured() {
        return lockstep != null;
    }

    /** After one more step with {@code found} violations: keeps the first per invariant. */
    public HybridState after(Lockstep l, List<HybridInvariants.Violation> found) {
        java.util.List<HybridInvariants.Violation> all = new java.util.ArrayList<>(violations);
        for (HybridInvariants.Violation v : found) {
            if (all.stream().noneMatch(x -> x.invariant().equals(v.invariant()))) {
                all.add(new HybridInvariants.Violation(v.invariant(), new org.hybridv.invariants.InvariantResult
                        .Violated(v.violation().rule(), "kernel step " + (steps + 1) + ": "
                                + v.violation().explanation())));
            }
        }
        all.sort(java.util.Comparator.comparing(HybridInvariants.Violation::invariant));
        return new HybridState(l, shared, steps + 1, all);
    }
}
