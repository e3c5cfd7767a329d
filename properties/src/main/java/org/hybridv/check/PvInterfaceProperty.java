package org.hybridv.check;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.hybridv.gen.Choices;
import org.hybridv.gen.PvInterfaceCases;
import org.hybridv.gen.PvInterfaceCases.Op;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.PvInvariants;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.xen.EventChannels;
import org.hybridv.xen.EventDelivery;
import org.hybridv.xen.Faults;
import org.hybridv.xen.GrantTables;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.PvHypercalls;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.VirtualTime;
import org.hybridv.xen.XenMachine;

/**
 * The para-virtual interface beyond the MMU (docs/pv-interfaces.md): event sends, upcall delivery with interrupts
 * disabled and enabled, timer, block and wake, grant map/use/unmap and copy, on {@link PvInterfaceCases}' machine.
 * After every op: I1 (refined for grant mappings), I2, I6, I9 and I11 ({@link PvInvariants}); after every send, I10.
 */
public final class PvInterfaceProperty implements SystemProperty<PvInterfaceProperty.Run> {
    /** A run: its ops. */
    public record Run(List<Op> ops) {
        @Override
        public String toString() {
            return ops.toString();
        }
    }

    private static final VcpuId K = PvInterfaceCases.K;
    private static final VcpuId H = PvInterfaceCases.H;

    @Override
    public String name() {
        return "pv-interface";
    }

    @Override
    public String description() {
        return "event channels, upcall injection (IF = 0 then 1), timer, block/wake, grants; I1, I2, I6, I9-I11";
    }

    @Override
    public Run generate(Choices c) {
        return new Run(PvInterfaceCases.generate(c));
    }

    @Override
    public int length(Run run) {
        return run.ops().size();
    }

    @Override
    public Verdict check(Run run, Faults faults) {
        return check(run, faults, Coverage.Sink.NONE);
    }

    @Override
    public List<Coverage.Floor> floors() {
        return List.of(Coverage.Floor.reached("pv", "event delivered"),
                Coverage.Floor.reached("pv", "delivery blocked by IF=0, then delivered"),
                Coverage.Floor.reached("pv", "timer fired"),
                Coverage.Floor.reached("pv", "blocked, then woken"),
                Coverage.Floor.reached("pv", "grant mapped writable"),
                Coverage.Floor.reached("pv", "grant mapped read-only"),
                Coverage.Floor.reached("pv", "grant unmapped"),
                Coverage.Floor.reached("pv", "grant copied"));
    }

    @Override
    public Verdict check(Run run, Faults faults, Coverage.Sink coverage) {
        XenMachine m = PvInterfaceCases.machine(faults);
        boolean windowSeen = false;
        boolean blockedSeen = false;
        int step = 0;
        for (Op op : run.ops()) {
            step++;
            XenMachine post = apply(m, op);
            int before = m.pv().domain(1).vcpu(0).upcallsInjected();
            int after = post.pv().domain(1).vcpu(0).upcallsInjected();
            windowSeen |= post.pv().domain(1).vcpu(0).interruptWindowExiting();
            blockedSeen |= post.vcpu(K).blocked();
            if (after > before) {
                coverage.collect("pv", windowSeen ? "delivery blocked by IF=0, then delivered" : "event delivered");
            }
            if (m.vcpu(K).blocked() && !post.vcpu(K).blocked() && blockedSeen) {
                coverage.collect("pv", "blocked, then woken");
            }
            if (op.kind() == PvInterfaceCases.Kind.ADVANCE_TIME && m.pv().domain(1).vcpu(0).timerDeadline() >= 0
                    && post.pv().domain(1).vcpu(0).timerDeadline() < 0) {
                coverage.collect("pv", "timer fired");
            }
            int mapsBefore = m.pv().domain(1).maptrack().size();
            int mapsAfter = post.pv().domain(1).maptrack().size();
            if (mapsAfter > mapsBefore) {
                coverage.collect("pv", op.flag() ? "grant mapped read-only" : "grant mapped writable");
            } else if (mapsAfter < mapsBefore) {
                coverage.collect("pv", "grant unmapped");
            }
            if (op.kind() == PvInterfaceCases.Kind.COPY && Hypervisor.hypercall(m, K, copy(m, op)).outcome()
                    instanceof VcpuOutcome.HypercallDone) {
                coverage.collect("pv", "grant copied");
            }
            InvariantResult send = InvariantResult.HOLDS;
            if (op.kind() == PvInterfaceCases.Kind.SEND_FROM_H) {
                send = PvInvariants.checkSend(m, post, 2, 1);
            } else if (op.kind() == PvInterfaceCases.Kind.SEND_FROM_K) {
                send = PvInvariants.checkSend(m, post, 1, 1);
            }
            String[] names = {"I10", "I1", "I2", "I6", "I9/I11"};
            InvariantResult[] results = {send, Isolation.check(post), TranslationIntegrity.check(post),
                TlbCoherence.check(post), PvInvariants.check(post)};
            for (int i = 0; i < results.length; i++) {
                if (results[i] instanceof InvariantResult.Violated v) {
                    return new Verdict.Violated(names[i], v.rule(), step, op + ": " + v.explanation());
                }
            }
            m = post;
        }
        return Verdict.HOLDS;
    }

    /** One op on {@code m}: its post-state (a refused hypercall or an instruction of a blocked vCPU included). */
    static XenMachine apply(XenMachine m, Op op) {
        switch (op.kind()) {
            case SEND_FROM_H:
                return Hypervisor.hypercall(m, H, PvInterfaceCases.evtchn(EventChannels.EVTCHNOP_SEND, 1, 0))
                        .machine();
            case SEND_FROM_K:
                return Hypervisor.hypercall(m, K, PvInterfaceCases.evtchn(EventChannels.EVTCHNOP_SEND, 1, 0))
                        .machine();
            case RUN_K:
                return Hypervisor.run(m, K, new GuestInstruction.MemoryAccess(Access.read(0x5000))).machine();
            case CLI_K:
                return EventDelivery.setInterruptFlag(m, K, false).machine();
            case STI_K:
                return EventDelivery.setInterruptFlag(m, K, true).machine();
            case HANDLE_K:
                return EventChannels.guestHandleUpcall(m, K);
            case BLOCK_K:
                return Hypervisor.hypercall(m, K, Hypercall.of(PvHypercalls.HYPERVISOR_SCHED_OP,
                        VirtualTime.SCHEDOP_BLOCK)).machine();
            case SET_TIMER_K:
                return Hypervisor.hypercall(m, K, Hypercall.of(PvHypercalls.HYPERVISOR_VCPU_OP,
                        VirtualTime.VCPUOP_SET_SINGLESHOT_TIMER, 0, m.pv().now() + op.arg(), 0)).machine();
            case ADVANCE_TIME:
                return VirtualTime.advanceTime(m, op.arg());
            case MAP:
                return Hypervisor.hypercall(m, K, PvInterfaceCases.gnttab(GrantTables.GNTTABOP_MAP_GRANT_REF,
                        PvInterfaceCases.HOST_ADDR, GrantTables.GNTMAP_HOST_MAP | (op.flag()
                                ? GrantTables.GNTMAP_READONLY : 0), op.arg() % 2, 2)).machine();
            case UNMAP:
                return Hypervisor.hypercall(m, K, PvInterfaceCases.gnttab(GrantTables.GNTTABOP_UNMAP_GRANT_REF,
                        PvInterfaceCases.HOST_ADDR, 0, 0, 0)).machine();
            case ACCESS_GRANT: {
                Access a = op.flag() ? Access.write(PvInterfaceCases.HOST_ADDR, op.arg())
                        : Access.read(PvInterfaceCases.HOST_ADDR);
                HvStep s = Hypervisor.run(m, K, new GuestInstruction.MemoryAccess(a));
                return s.outcome() instanceof VcpuOutcome.EntryFailed ? m : s.machine();
            }
            default:
                return Hypervisor.hypercall(m, K, copy(m, op)).machine();
        }
    }

    /** d1 copies a word from d2's grant 0 or 1 into its own frame 0x2c (GNT-6). */
    private static Hypercall copy(XenMachine m, Op op) {
        return PvInterfaceCases.gnttab(GrantTables.GNTTABOP_COPY, (2L << 32) | (op.arg() % 2), (1L << 32) | 0x2c,
                GrantTables.GNTCOPY_SOURCE_GREF, 8);
    }

    /** Runs of this property are not written as scenarios yet (the PV scenario ops are not built). */
    @Override
    public ObjectNode scenario(Run run, Faults faults, Verdict.Violated violation) {
        return null;
    }
}
