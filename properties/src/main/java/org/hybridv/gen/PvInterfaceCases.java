package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.xen.EventChannels;
import org.hybridv.xen.Faults;
import org.hybridv.xen.GrantTables;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.PvHypercalls;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * Runs of the para-virtual interface (docs/pv-interfaces.md) on {@link HypervisorCases}' machine with the interface
 * brought up ({@link #machine}): d1 (direct, vCPU K) and d2 (HAP, vCPU H) with shared-info pages and grant tables,
 * upcall vector {@value #VECTOR}, d1 port 1 ↔ d2 port 1 connected, K's VIRQ_TIMER on d1 port 1, d2 granting
 * its frame 0x37 to d1 writable (ref 0) and read-only (ref 1), d1 granting its frame 0x2e to d2 (ref 0), and H's L1
 * mapping VA 0x9000 to gfn 9, where H maps that grant into its EPT. An op is a small value ({@link Op}).
 */
public final class PvInterfaceCases {
    private PvInterfaceCases() {}

    public static final int VECTOR = 0xF3;
    public static final long HOST_ADDR = 0x9000;
    public static final long GRANTED = 0x37;
    /** d1's frame it grants to d2 (ref 0), which H maps into its EPT at guest-physical {@link #HOST_ADDR}. */
    public static final long GRANTED_BY_D1 = 0x2e;
    /** The linear address of H's L1 entry 9 through its L1's self-map at 0x8000. */
    public static final long H_L1_SLOT = 0x8000 + 9 * 8;

    /** The op kinds. */
    public enum Kind { SEND_FROM_H, SEND_FROM_K, RUN_K, CLI_K, STI_K, HANDLE_K, BLOCK_K, SET_TIMER_K, ADVANCE_TIME,
        MAP, UNMAP, ACCESS_GRANT, COPY, MAP_H, UNMAP_H, ACCESS_GRANT_H }

    /** One op: its kind and an argument (timer delta, ticks, grant ref, read-only, write). */
    public record Op(Kind kind, int arg, boolean flag) {
        @Override
        public String toString() {
            return kind + "(" + arg + (flag ? ", flag" : "") + ")";
        }
    }

    public static Op generateOp(Choices c) {
        Kind k = Kind.values()[c.below(Kind.values().length)];
        return new Op(k, c.below(4), c.flag(false, 40));
    }

    /**
     * A run: random ops, and with some probability grant windows (map one of the two grants, read-only or not; use
     * it; unmap) and delivery windows (K disables interrupts, an event arrives, K runs, enables them, runs).
     */
    public static List<Op> generate(Choices c) {
        List<Op> ops = new ArrayList<>();
        int n = 1 + c.below(10);
        for (int i = 0; i < n; i++) {
            int w = c.weighted(6, 2, 2, 1);
            if (w == 3) {
                ops.add(new Op(Kind.MAP_H, 0, c.flag(false, 40)));
                ops.add(new Op(Kind.ACCESS_GRANT_H, c.below(4), c.flag(false, 50)));
                ops.add(new Op(Kind.UNMAP_H, 0, false));
                ops.add(new Op(Kind.ACCESS_GRANT_H, 0, false));
            } else if (w == 1) {
                ops.add(new Op(Kind.MAP, c.below(2), c.flag(false, 40)));
                ops.add(new Op(Kind.ACCESS_GRANT, 0, c.flag(false, 50)));
                ops.add(new Op(Kind.UNMAP, 0, false));
                ops.add(new Op(Kind.ACCESS_GRANT, 0, false));
            } else if (w == 2) {
                ops.add(new Op(Kind.RUN_K, 0, false));
                ops.add(new Op(Kind.CLI_K, 0, false));
                ops.add(new Op(Kind.SEND_FROM_H, 0, false));
                ops.add(new Op(Kind.RUN_K, 0, false));
                ops.add(new Op(Kind.STI_K, 0, false));
                ops.add(new Op(Kind.RUN_K, 0, false));
            } else {
                ops.add(generateOp(c));
            }
        }
        return ops;
    }

    public static final VcpuId K = HypervisorCases.K;
    public static final VcpuId H = HypervisorCases.H;

    private static final java.util.Map<Faults, XenMachine> MACHINES = new java.util.concurrent.ConcurrentHashMap<>();

    /** The machine of the class comment, with {@code faults} (built once per fault set: states are values). */
    public static XenMachine machine(Faults faults) {
        return MACHINES.computeIfAbsent(faults, PvInterfaceCases::build);
    }

    private static XenMachine build(Faults faults) {
        XenMachine m = HypervisorCases.initialMachine(faults, 1);
        long[][] pages = {{0x2a, 0x2b}, {5, 6}};
        List<VcpuId> vcpus = List.of(K, H);
        for (int i = 0; i < 2; i++) { // in the order of the pvSetup step: shared info, grant table, callback
            VcpuId v = vcpus.get(i);
            m = ok(m, v, Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP, PvHypercalls.XENMEM_ADD_TO_PHYSMAP,
                    PvHypercalls.XENMAPSPACE_SHARED_INFO, pages[i][0]));
            m = ok(m, v, Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP, PvHypercalls.XENMEM_ADD_TO_PHYSMAP,
                    PvHypercalls.XENMAPSPACE_GRANT_TABLE, pages[i][1]));
            m = ok(m, v, Hypercall.of(PvHypercalls.HYPERVISOR_HVM_OP, PvHypercalls.HVMOP_SET_PARAM,
                    PvHypercalls.HVM_PARAM_CALLBACK_IRQ, (PvHypercalls.HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | VECTOR));
        }
        m = ok(m, H, evtchn(EventChannels.EVTCHNOP_ALLOC_UNBOUND, EventChannels.DOMID_SELF, 1));
        m = ok(m, K, evtchn(EventChannels.EVTCHNOP_BIND_INTERDOMAIN, 2, 1));
        m = ok(m, K, evtchn(EventChannels.EVTCHNOP_BIND_VIRQ, EventChannels.VIRQ_TIMER, 0));
        m = EventChannels.guestHandleUpcall(m, K);
        m = GrantTables.guestGrant(m, 2, 0, 1, GRANTED, false, false);
        m = GrantTables.guestGrant(m, 2, 1, 1, GRANTED, true, false);
        m = GrantTables.guestGrant(m, 1, 0, 2, GRANTED_BY_D1, false, false);
        // H's own store through its L1's self-map at 0x8000: L1[9] maps VA 0x9000 to gfn 9, where H maps grants
        return Hypervisor.run(m, H, new org.hybridv.vmx.GuestInstruction.MemoryAccess(org.hybridv.x86.Access.write(
                H_L1_SLOT, org.hybridv.x86.Entry.table(9, true, true).raw()))).machine();
    }

    public static Hypercall evtchn(int cmd, long a1, long a2) {
        return Hypercall.of(PvHypercalls.HYPERVISOR_EVENT_CHANNEL_OP, cmd, a1, a2);
    }

    public static Hypercall gnttab(int cmd, long a1, long a2, long a3, long a4) {
        return Hypercall.of(PvHypercalls.HYPERVISOR_GRANT_TABLE_OP, cmd, a1, a2, a3, a4);
    }

    private static XenMachine ok(XenMachine m, VcpuId v, Hypercall c) {
        HvStep s = Hypervisor.hypercall(m, v, c);
        if (!(s.outcome() instanceof org.hybridv.xen.VcpuOutcome.HypercallDone)) {
            throw new IllegalStateException("PV bring-up " + c + ": " + s.outcome());
        }
        return s.machine();
    }
}
