package org.hybridv.invariants;

import org.hybridv.x86.Hex;
import org.hybridv.x86.TlbEntry;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * I6 over a migration step (docs/smp.md): post-conditions of moving a vCPU between pCPUs, stated from the rules
 * (docs/rules/xen.md, MIG-1 and MIG-2) over the observable states before and after the step — never by calling the
 * code that performs the migration. A step in which the vCPU did not change pCPU is not a migration: both hold.
 */
public final class MigrationRules {
    private MigrationRules() {}

    /** Both post-conditions of the step that took vCPU {@code id} from {@code pre} to {@code post}. */
    public static InvariantResult check(XenMachine pre, XenMachine post, VcpuId id) {
        InvariantResult r = vpidFlushedOnArrival(pre, post, id);
        return r.holds() ? launchStateClearOnArrival(pre, post, id) : r;
    }

    /**
     * MIG-2: right after vCPU {@code id} was moved to pCPU q, q's TLB holds no entry tagged with its VPID (the
     * entries it left there earlier predate every invalidation it performed elsewhere; Xen gives it a fresh
     * VPID generation there, here its fixed VPID is invalidated on q).
     */
    public static InvariantResult vpidFlushedOnArrival(XenMachine pre, XenMachine post, VcpuId id) {
        int from = pre.vcpu(id).pcpu();
        Vcpu v = post.vcpu(id);
        int to = v.pcpu();
        if (from == to) {
            return InvariantResult.HOLDS;
        }
        for (TlbEntry e : post.pcpu(to).tlb().entries()) {
            if (e.tag().vpid() == v.vpid()) {
                return new InvariantResult.Violated("MIG-2", id + " moved from pCPU " + from + " to pCPU " + to
                        + ", which still holds its VPID " + v.vpid() + "'s entry linear " + Hex.of(e.linearBase())
                        + " → " + Hex.of(e.physicalBase()) + (e.rights().writable() ? " writable" : " read-only")
                        + ": a translation it cached there before leaving survives its later invalidations");
            }
        }
        return InvariantResult.HOLDS;
    }

    /**
     * MIG-1: right after vCPU {@code id} was moved to another pCPU its VMCS launch state is clear (it was VMCLEARed
     * on the old pCPU, Intel SDM Vol. 3C §24.1, §24.11.1), and it is current on no pCPU (its next entry loads it with
     * VMPTRLD and enters with VMLAUNCH).
     */
    public static InvariantResult launchStateClearOnArrival(XenMachine pre, XenMachine post, VcpuId id) {
        int from = pre.vcpu(id).pcpu();
        Vcpu v = post.vcpu(id);
        if (from == v.pcpu()) {
            return InvariantResult.HOLDS;
        }
        if (v.launched()) {
            return new InvariantResult.Violated("MIG-1", id + " moved from pCPU " + from + " to pCPU " + v.pcpu()
                    + " with its launch state still launched: its VMCS was not VMCLEARed on pCPU " + from);
        }
        for (int q = 0; q < post.pcpuCount(); q++) {
            if (post.current(q).isPresent() && post.current(q).get().equals(id)) {
                return new InvariantResult.Violated("MIG-1", id + " moved to pCPU " + v.pcpu()
                        + " but its VMCS is still current on pCPU " + q);
            }
        }
        return InvariantResult.HOLDS;
    }
}
