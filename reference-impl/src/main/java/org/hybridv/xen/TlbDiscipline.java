package org.hybridv.xen;

import java.util.List;
import org.hybridv.vmx.InvvpidType;
import org.hybridv.vmx.Invvpid;
import org.hybridv.vmx.RootOutcome;
import org.hybridv.vmx.RootStep;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.CpuState;

/**
 * Performing the direct-paging core's TLB obligations ({@link Effect}) on the processor's VPID-tagged TLB with INVVPID
 * (CTL-5, docs/rules/hybrid.md: with VPID on, a CR3 change does not flush the guest's other translations, so every
 * hypervisor-initiated invalidation names the VPIDs of the vCPUs that may cache the translation). A domain's
 * translations are those tagged with its VPIDs. Domain-wide obligations are performed on every pCPU (Xen flushes the
 * domain's dirty CPU mask; every pCPU is a superset of it): the flush IPIs and their handlers' exits are not modelled,
 * the invalidations are done synchronously (docs/smp.md). A vCPU's own obligations are performed on the active pCPU,
 * the one the vCPU runs on. With one pCPU both are that pCPU.
 */
public final class TlbDiscipline {
    private TlbDiscipline() {}

    /** Applies {@code effects} in order (the processor must be in root operation). */
    public static XenMachine apply(XenMachine m, List<Effect> effects) {
        for (Effect e : effects) {
            m = apply(m, e);
        }
        return m;
    }

    /**
     * One obligation:
     * <ul>
     * <li>{@link Effect.FlushDomain} (MU-5/TLB-3, MX-5, UVA-2) and {@link Effect.TypeChange} (TLB-1: no translation
     * made under the old type may survive; the owner's vCPUs are the only ones that can hold one): INVVPID
     * single-context for every VPID of the domain;</li>
     * <li>{@link Effect.FlushLocal}: single-context for the vCPU's VPID;</li>
     * <li>{@link Effect.InvlpgLocal} / {@link Effect.InvlpgDomain}: individual-address for the vCPU's / each of the
     * domain's VPIDs; a non-canonical address is dropped (TLB-6, XSA-168: INVVPID would fail);</li>
     * <li>{@link Effect.LoadBase} (MX-3, TLB-4): the vCPU's guest CR3 becomes the new base, and its non-global
     * translations are flushed (single-context retaining globals), as a CR3 load does.</li>
     * </ul>
     */
    public static XenMachine apply(XenMachine m, Effect e) {
        if (e instanceof Effect.FlushDomain f) {
            return flushDomain(m, f.domain());
        }
        if (e instanceof Effect.TypeChange t) {
            int owner = m.frames().get(t.mfn()).owner();
            return m.domains().containsKey(owner) ? flushDomain(m, owner) : m;
        }
        if (e instanceof Effect.FlushLocal f) {
            return invvpid(m, InvvpidType.SINGLE_CONTEXT, m.vcpu(f.vcpu()).vpid(), 0);
        }
        if (e instanceof Effect.InvlpgLocal i) {
            return invvpid(m, InvvpidType.INDIVIDUAL_ADDRESS, m.vcpu(i.vcpu()).vpid(), i.linear());
        }
        if (e instanceof Effect.InvlpgDomain i) {
            for (int vpid : m.vpids(i.domain())) {
                m = invvpidEverywhere(m, InvvpidType.INDIVIDUAL_ADDRESS, vpid, i.linear());
            }
            return m;
        }
        if (e instanceof Effect.LoadBase b) {
            Vcpu v = m.vcpu(b.vcpu());
            CpuState g = v.vmcs().guest().cpu();
            CpuState loaded = g.withCr3(new Cr3(Cr3.ofFrame(b.mfn()).pml4Base(), g.cr3().pcid()));
            m = m.withVcpu(v.withVmcs(v.vmcs().withGuest(new org.hybridv.vmx.GuestState(loaded,
                    v.vmcs().guest().rip()))));
            return invvpid(m, InvvpidType.SINGLE_CONTEXT_RETAINING_GLOBALS, v.vpid(), 0);
        }
        throw new IllegalArgumentException("unknown effect " + e);
    }

    static XenMachine flushDomain(XenMachine m, int d) {
        for (int vpid : m.vpids(d)) {
            m = invvpidEverywhere(m, InvvpidType.SINGLE_CONTEXT, vpid, 0);
        }
        return m;
    }

    /** INVVPID on every pCPU, the active one first. */
    static XenMachine invvpidEverywhere(XenMachine m, InvvpidType type, int vpid, long linear) {
        m = invvpid(m, type, vpid, linear);
        for (int q = 0; q < m.pcpuCount(); q++) {
            if (q != m.active()) {
                m = invvpidOn(m, q, type, vpid, linear);
            }
        }
        return m;
    }

    /**
     * INVVPID executed by the hypervisor on pCPU {@code q} (in root operation there: a pCPU running a guest is
     * interrupted for it, an exit and re-entry this model does not show); only {@code q}'s TLB changes. A VMfailValid
     * (VPID 0, a non-canonical address) changes nothing.
     */
    static XenMachine invvpidOn(XenMachine m, int q, InvvpidType type, int vpid, long linear) {
        VmxProcessor p = m.processor(q);
        RootStep r = Invvpid.execute(new VmxProcessor(p.machine(), org.hybridv.vmx.VmxMode.ROOT, p.vmcs(),
                p.launched()), type, vpid, linear);
        if (r.outcome() instanceof RootOutcome.VmFailValid) {
            return m;
        }
        return m.withPcpu(q, m.pcpu(q).withTlb(r.processor().machine().tlb()));
    }

    static XenMachine invvpid(XenMachine m, InvvpidType type, int vpid, long linear) {
        RootStep r = Invvpid.execute(m.processor(), type, vpid, linear);
        if (r.outcome() instanceof RootOutcome.VmFailValid) {
            return m;
        }
        VmxProcessor p = r.processor();
        return m.withProcessor(p);
    }
}
