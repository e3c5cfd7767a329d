package org.hybridv.invariants;

import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import org.hybridv.xen.FlushRequest;
import org.hybridv.xen.HypercallInFlight;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * The flush-IPI protocol (Xen rules IPI-1, IPI-2, IPI-5, docs/rules/xen.md; {@code flush_area_mask}) stated over one
 * step's observable state — the vCPUs' pCPUs, the flush requests pending on each pCPU and the hypercalls in flight —
 * never by calling the code it checks:
 * <ul>
 * <li>IPI-1 ({@code flush_area_mask}: the local CPU is flushed by {@code flush_area_local}, the IPI goes to
 * {@code mask} without it): no flush request is pending on the pCPU of the vCPU that sent it;</li>
 * <li>IPI-2 (the sender spins until {@code flush_cpumask} is empty): the pCPUs a hypercall in flight awaits are
 * exactly those with a request of its vCPU pending, and a request is pending only for a hypercall in flight;</li>
 * <li>IPI-5 (no scheduling point in the spin): while a hypercall of some vCPU is in flight on pCPU q (waiting for
 * acknowledgements, or between two entries or requests of a table validation or a batch), a guest instruction of any
 * vCPU placed on q leaves the machine as it was, and a vCPU inside its hypercall is not moved.</li>
 * </ul>
 */
public final class FlushIpiRules {
    private FlushIpiRules() {}

    /** IPI-1 and IPI-2 over the state {@code m}: what is wrong with its pending requests, under the rule it breaks. */
    public static InvariantResult requests(XenMachine m) {
        for (int q = 0; q < m.pcpuCount(); q++) {
            for (FlushRequest r : m.tlbFlush().pendingFlushes(q)) {
                if (m.vcpu(r.sender()).pcpu() == q) {
                    return new InvariantResult.Violated("IPI-1", "a flush request of " + r.sender() + " is pending on"
                            + " its own pCPU " + q + " (IPI-1: the sender flushes its own pCPU itself, the IPIs go to"
                            + " the others)");
                }
                if (m.tlbFlush().inFlight(r.sender()).isEmpty()) {
                    return new InvariantResult.Violated("IPI-2", "a flush request of " + r.sender() + " is pending on"
                            + " pCPU " + q + " but its hypercall has returned (IPI-2: it waits for every"
                            + " acknowledgement)");
                }
            }
        }
        for (Map.Entry<VcpuId, HypercallInFlight> e : m.tlbFlush().inFlight().entrySet()) {
            SortedSet<Integer> pendingOn = new TreeSet<>();
            for (int q = 0; q < m.pcpuCount(); q++) {
                for (FlushRequest r : m.tlbFlush().pendingFlushes(q)) {
                    if (r.sender().equals(e.getKey())) {
                        pendingOn.add(q);
                    }
                }
            }
            if (!pendingOn.equals(e.getValue().awaiting())) {
                return new InvariantResult.Violated("IPI-2", e.getKey() + "'s hypercall awaits pCPUs "
                        + e.getValue().awaiting() + " but its requests are pending on " + pendingOn + " (IPI-2: it"
                        + " waits exactly for the pCPUs it sent IPIs to)");
            }
        }
        return InvariantResult.HOLDS;
    }

    /**
     * IPI-5 over a step of vCPU {@code v} from {@code pre} to {@code post}: a guest instruction ({@code to} -1) or a
     * migration to pCPU {@code to}. Coverage ("spin"): each such step tried on an occupied pCPU.
     */
    public static String spin(XenMachine pre, XenMachine post, VcpuId v, int to,
            java.util.function.BiConsumer<String, String> coverage) {
        int q = pre.vcpu(v).pcpu();
        if (to >= 0) {
            if (pre.tlbFlush().inFlight(v).isEmpty() || to == q) {
                return null;
            }
            coverage.accept("spin", "migration of a vCPU inside its hypercall");
            return post.equals(pre) ? null : v + " was moved (or the machine changed) while its hypercall is in flight"
                    + " on pCPU " + q + ": the hypervisor spins there and is not preempted";
        }
        VcpuId busy = null;
        for (VcpuId w : pre.tlbFlush().inFlight().keySet()) {
            if (pre.vcpu(w).pcpu() == q) {
                busy = w;
            }
        }
        if (busy == null) {
            return null;
        }
        coverage.accept("spin", busy.equals(v) ? "instruction of the vCPU inside its hypercall"
                : "instruction of another vCPU on the occupied pCPU");
        return post.equals(pre) ? null : v + "'s instruction changed the machine while " + busy + "'s hypercall is in"
                + " flight on pCPU " + q + ": no guest instruction runs there";
    }
}
