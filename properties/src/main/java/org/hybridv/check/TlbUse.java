package org.hybridv.check;

import java.util.Optional;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.guest.XenPlatform;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.X86Machine;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.XenMachine;

/** The "TLB" coverage of the stateful hypervisor and whole-system properties. */
final class TlbUse {
    private TlbUse() {}

    /** The coverage label. */
    static final String LABEL = "TLB";

    /**
     * What a memory access of an adversarial vCPU found in the TLB, prefixed by its domain's MMU mode: nothing for
     * its page ("miss"), an entry that a fresh walk agrees with ("hit, current"), or an entry that became stale after
     * it was cached ("hit, stale"): the same access from the same state with the TLB emptied observes something
     * else. A stale hit is architecturally allowed (SDM Vol. 3A §4.10.4 and §4.10.4.2, "Recommended Invalidation":
     * after changing a paging-structure entry software invalidates, and until it does the processor may use the old
     * translation) as long as I6 holds — the hypervisor only has to flush what it relies on — and exercising it is
     * what gives I6 teeth. Empty for an operation that is not a memory access.
     */
    static Optional<String> classify(XenMachine pre, HypervisorCases.Op op, HvStep s) {
        if (!(op.insn() instanceof GuestInstruction.MemoryAccess a)) {
            return Optional.empty();
        }
        int vpid = pre.vcpu(op.vcpu()).vpid();
        pre = pre.withActive(pre.vcpu(op.vcpu()).pcpu()); // the TLB of the pCPU the vCPU runs on
        X86Machine hw = pre.processor().machine();
        boolean cached = hw.tlb().entries().stream()
                .anyMatch(e -> e.tag().vpid() == vpid && e.covers(a.access().linear()));
        String use = "miss";
        if (cached) {
            XenMachine cold = pre.withProcessor(pre.processor().withMachine(hw.withTlb(Tlb.empty(hw.tlb().policy()))));
            HvStep fresh = Hypervisor.run(cold, op.vcpu(), op.insn(), op.regs());
            use = XenPlatform.observed(fresh.outcome()).equals(XenPlatform.observed(s.outcome())) ? "hit, current"
                    : "hit, stale";
        }
        return Optional.of(pre.domain(op.vcpu().domain()).mode() + " " + use);
    }
}
