package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;

import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;

/**
 * {@link Hv}'s machine with the para-virtual interface brought up: d1 (direct, vCPU K) has its shared-info page in
 * frame 0x2a and its grant table in 0x2b; d2 (HAP, vCPU H) has them in gfn 5 (frame 0x35) and gfn 6 (0x36); both
 * take upcalls on vector {@link #VECTOR}.
 */
final class PvFixture {
    static final int VECTOR = 0xF3;
    static final long SI1 = 0x2a;
    static final long GT1 = 0x2b;
    static final long SI2 = 0x35;
    static final long GT2 = 0x36;
    /** A frame of d2 it grants (gfn 7). */
    static final long GRANTED = 0x37;
    /** An empty L1 slot of d1 (L1 0x13[7]) for grant mappings. */
    static final long HOST_ADDR = 0x7000;

    private PvFixture() {}

    static XenMachine machine(Faults f) {
        XenMachine m = Hv.machine(f);
        m = ok(m, Hv.K, Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP, PvHypercalls.XENMEM_ADD_TO_PHYSMAP,
                PvHypercalls.XENMAPSPACE_SHARED_INFO, SI1));
        m = ok(m, Hv.K, Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP, PvHypercalls.XENMEM_ADD_TO_PHYSMAP,
                PvHypercalls.XENMAPSPACE_GRANT_TABLE, GT1));
        m = ok(m, Hv.H, Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP, PvHypercalls.XENMEM_ADD_TO_PHYSMAP,
                PvHypercalls.XENMAPSPACE_SHARED_INFO, 5));
        m = ok(m, Hv.H, Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP, PvHypercalls.XENMEM_ADD_TO_PHYSMAP,
                PvHypercalls.XENMAPSPACE_GRANT_TABLE, 6));
        for (VcpuId v : new VcpuId[] {Hv.K, Hv.H}) {
            m = ok(m, v, callback(VECTOR));
        }
        return m;
    }

    static Hypercall callback(int vector) {
        return Hypercall.of(PvHypercalls.HYPERVISOR_HVM_OP, PvHypercalls.HVMOP_SET_PARAM,
                PvHypercalls.HVM_PARAM_CALLBACK_IRQ, (PvHypercalls.HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | vector);
    }

    static Hypercall evtchn(int cmd, long a1, long a2) {
        return Hypercall.of(PvHypercalls.HYPERVISOR_EVENT_CHANNEL_OP, cmd, a1, a2);
    }

    static Hypercall gnttab(int cmd, long a1, long a2, long a3, long a4) {
        return Hypercall.of(PvHypercalls.HYPERVISOR_GRANT_TABLE_OP, cmd, a1, a2, a3, a4);
    }

    /** The hypercall, accepted; the post-state. */
    static XenMachine ok(XenMachine m, VcpuId v, Hypercall c) {
        HvStep s = Hypervisor.hypercall(m, v, c);
        assertThat(s.outcome()).as(c.toString()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        return s.machine();
    }

    static long rax(XenMachine m, VcpuId v, Hypercall c) {
        HvStep s = Hypervisor.hypercall(m, v, c);
        assertThat(s.outcome()).as(c.toString()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        return ((VcpuOutcome.HypercallDone) s.outcome()).rax();
    }

    /** d1 port 1 ↔ d2 port 1: d2 allocates for d1, d1 binds (its port 1 is pending after, EVT-3); d1 handles it. */
    static XenMachine connected(XenMachine m) {
        m = ok(m, Hv.H, evtchn(EventChannels.EVTCHNOP_ALLOC_UNBOUND, EventChannels.DOMID_SELF, Hv.D1));
        m = ok(m, Hv.K, evtchn(EventChannels.EVTCHNOP_BIND_INTERDOMAIN, Hv.D2, 1));
        return EventChannels.guestHandleUpcall(m, Hv.K);
    }

    static XenMachine read(XenMachine m, VcpuId v, long va) {
        return Hypervisor.run(m, v, new GuestInstruction.MemoryAccess(Access.read(va))).machine();
    }

    /** d2's grant {@code ref} of {@link #GRANTED} to d1 (the guest's own store). */
    static XenMachine granted(XenMachine m, int ref, boolean readonly) {
        return GrantTables.guestGrant(m, Hv.D2, ref, Hv.D1, GRANTED, readonly, false);
    }
}
