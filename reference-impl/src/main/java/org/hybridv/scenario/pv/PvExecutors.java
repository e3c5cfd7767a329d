package org.hybridv.scenario.pv;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.PvInvariants;
import org.hybridv.scenario.Check;
import org.hybridv.scenario.MachineState;
import org.hybridv.scenario.Observation;
import org.hybridv.scenario.StepResult;
import org.hybridv.scenario.xen.Facts;
import org.hybridv.scenario.xen.XenModule;
import org.hybridv.xen.DomainPv;
import org.hybridv.xen.EventChannel;
import org.hybridv.xen.EventChannels;
import org.hybridv.xen.EventDelivery;
import org.hybridv.xen.GrantTables;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.SharedInfo;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.VcpuPv;
import org.hybridv.xen.VirtualTime;
import org.hybridv.xen.XenMachine;

/**
 * Runs the PV steps on the hypervisor of the state: {@code post = f(pre, step)} through the reference
 * ({@link Hypervisor#hypercall}, {@link EventChannels}, {@link GrantTables}, {@link VirtualTime},
 * {@link EventDelivery}, {@link PvInvariants}); the outcome as facts and the step's expectations compared with them.
 */
final class PvExecutors {
    private PvExecutors() {}

    static XenMachine machine(MachineState s) {
        return s.get(XenModule.XEN).machine();
    }

    private static MachineState write(MachineState s, XenMachine m) {
        return s.with(XenModule.XEN, s.get(XenModule.XEN).withMachine(m));
    }

    /** A hypercall's outcome as a {@link PvStep.PvExpect}-shaped fact record. */
    private static PvStep.PvExpect seen(HvStep r) {
        VcpuOutcome o = r.outcome();
        if (o instanceof VcpuOutcome.HypercallDone d) {
            return new PvStep.PvExpect("ok", null, null, d.rax());
        }
        if (o instanceof VcpuOutcome.HypercallRefused x) {
            return new PvStep.PvExpect("refused", x.errno(), x.rule(), x.rax());
        }
        return null;
    }

    private static String text(HvStep r) {
        VcpuOutcome o = r.outcome();
        if (o instanceof VcpuOutcome.HypercallDone d) {
            return "ok, RAX " + d.rax();
        }
        if (o instanceof VcpuOutcome.HypercallRefused x) {
            return "refused -" + x.errno() + " by " + x.rule() + ": " + x.reason();
        }
        return o + " (the hypercall did not run)";
    }

    private static StepResult hypercall(MachineState s, VcpuId id, Hypercall call, PvStep.PvExpect expect) {
        HvStep r = Hypervisor.hypercall(machine(s), id, call);
        return result(write(s, r.machine()), r, expect, List.of());
    }

    private static StepResult result(MachineState after, HvStep r, PvStep.PvExpect expect, List<String> notes) {
        PvStep.PvExpect seen = seen(r);
        Map<String, String> facts = seen == null ? new LinkedHashMap<>() : Facts.of(seen);
        String result = seen == null ? r.outcome().getClass().getSimpleName() : seen.result();
        List<Check> checks = expect == null ? List.of() : seen == null
                ? List.of(Check.equal("result", expect.result(), result)) : Facts.compare(expect, seen);
        return new StepResult(after, new Observation(result, text(r), facts), checks, notes);
    }

    static StepResult eventChannelOp(MachineState s, PvStep.EventChannelOp step) {
        VcpuId id = new VcpuId(step.domain(), step.vcpu());
        if (step.cmd() != PvStep.EvtchnCmd.SEND) {
            return hypercall(s, id, step.hypercall(), step.expect());
        }
        XenMachine pre = machine(s);
        HvStep r = Hypervisor.hypercall(pre, id, step.hypercall());
        InvariantResult i10 = PvInvariants.checkSend(pre, r.machine(), id, step.port());
        MachineState after = write(s, r.machine());
        List<String> notes = List.of();
        if (!i10.holds()) {
            notes = List.of("I10 (event routing) violated by this send: " + i10);
            if (after.get(PvModule.HISTORY).routingViolation() == null) {
                after = after.with(PvModule.HISTORY, new PvHistory(step.describe() + ": " + i10));
            }
        }
        return result(after, r, step.expect(), notes);
    }

    static StepResult grantTableOp(MachineState s, PvStep.GrantTableOp step) {
        return hypercall(s, new VcpuId(step.domain(), step.vcpu()), step.hypercall(), step.expect());
    }

    static StepResult vcpuOp(MachineState s, PvStep.VcpuOp step) {
        return hypercall(s, new VcpuId(step.domain(), step.vcpu()), step.hypercall(), step.expect());
    }

    static StepResult schedOp(MachineState s, PvStep.SchedOp step) {
        return hypercall(s, new VcpuId(step.domain(), step.vcpu()), step.hypercall(), step.expect());
    }

    static StepResult pvSetup(MachineState s, PvStep.PvSetup step) {
        VcpuId id = new VcpuId(step.domain(), step.vcpu());
        XenMachine m = machine(s);
        HvStep last = null;
        for (Hypercall c : step.hypercalls()) {
            last = Hypervisor.hypercall(m, id, c);
            m = last.machine();
            if (!(last.outcome() instanceof VcpuOutcome.HypercallDone)) {
                break;
            }
        }
        return result(write(s, m), last, step.expect(), List.of());
    }

    static StepResult grantAccess(MachineState s, PvStep.GrantAccess step) {
        XenMachine m = machine(s);
        XenMachine after = GrantTables.guestGrant(m, step.domain(), step.ref(), step.to() == null ? 0 : step.to(),
                step.frame() == null ? 0 : step.frame(), Boolean.TRUE.equals(step.readonly()),
                Boolean.TRUE.equals(step.end()));
        String result = after == null ? "refused" : "ok";
        String text = after == null ? (m.pv().domain(step.domain()).grantTable() < 0 ? "d" + step.domain()
                + " has no grant table (GNT-1)" : "grant " + step.ref() + " is mapped: the guest does not end it (GNT-7)")
                : "grant entry " + step.ref() + " of d" + step.domain() + " is " + org.hybridv.x86.Hex.of(
                        GrantTables.entry(after, step.domain(), step.ref()).raw());
        PvStep.GuestExpect seen = new PvStep.GuestExpect(result, 0);
        List<Check> checks = step.expect() == null ? List.of() : Facts.compare(step.expect(), seen);
        return new StepResult(after == null ? s : write(s, after), new Observation(result, text, Facts.of(seen)),
                checks);
    }

    static StepResult guestEvent(MachineState s, PvStep.GuestEvent step) {
        VcpuId id = new VcpuId(step.domain(), step.vcpu());
        XenMachine m = machine(s);
        HvStep r;
        switch (step.action()) {
            case HANDLE_UPCALL -> r = new HvStep(new VcpuOutcome.Retired(0), EventChannels.guestHandleUpcall(m, id), 0);
            case MASK -> r = new HvStep(new VcpuOutcome.Retired(0), EventChannels.guestMask(m, step.domain(),
                    step.port(), true), 0);
            case CLI -> r = EventDelivery.setInterruptFlag(m, id, false);
            default -> r = EventDelivery.setInterruptFlag(m, id, true);
        }
        String result = r.outcome() instanceof VcpuOutcome.Resumed ? "exited" : "ok";
        PvStep.GuestExpect seen = new PvStep.GuestExpect(result, r.vmExits());
        String text = result.equals("exited") ? "interrupt-window VM exit (reason 7): the next entry injects (EVT-9)"
                : step.action() + " done";
        List<Check> checks = step.expect() == null ? List.of() : Facts.compare(step.expect(), seen);
        return new StepResult(write(s, r.machine()), new Observation(result, text, Facts.of(seen)), checks);
    }

    static StepResult advanceTime(MachineState s, PvStep.AdvanceTime step) {
        XenMachine after = VirtualTime.advanceTime(machine(s), step.ticks());
        return new StepResult(write(s, after), Observation.of("ok", "time is " + after.pv().now()), List.of());
    }

    /** The binding of a port as {@code expectPv} names it. */
    static String binding(EventChannel c) {
        if (c == null) {
            return "free";
        }
        if (c instanceof EventChannel.Unbound u) {
            return "unbound d" + u.remoteDomain();
        }
        if (c instanceof EventChannel.Interdomain i) {
            return "interdomain d" + i.remoteDomain() + ":" + i.remotePort();
        }
        EventChannel.Virq v = (EventChannel.Virq) c;
        return "virq " + v.virq() + " v" + v.notifyVcpu();
    }

    static StepResult expectPv(MachineState s, PvStep.ExpectPv step) {
        XenMachine m = machine(s);
        PvStep.ExpectPv seen;
        if (step.domain() == null) {
            seen = new PvStep.ExpectPv(null, null, null, null, m.pv().now(), null, null, null, null, null, null, null,
                    null, null, null, null, null);
        } else {
            int d = step.domain();
            int v = step.vcpu();
            DomainPv dp = m.pv().domain(d);
            VcpuPv p = dp.vcpu(v);
            long si = dp.sharedInfo();
            Integer port = step.port();
            Boolean pending = port == null || si < 0 ? null : SharedInfo.pending(m.memory(), si, port);
            Boolean masked = port == null || si < 0 ? null : SharedInfo.masked(m.memory(), si, port);
            String binding = port == null ? null : binding(dp.ports().get(port));
            Long flags = step.ref() == null || GrantTables.entry(m, d, step.ref()) == null ? null
                    : (long) GrantTables.entry(m, d, step.ref()).flags();
            seen = new PvStep.ExpectPv(d, v, port, step.ref(), m.pv().now(), si < 0 ? null
                    : SharedInfo.upcallPending(m.memory(), si, v), p.upcallsInjected(), p.interruptFlag(),
                    p.interruptWindowExiting(), m.vcpu(new VcpuId(d, v)).blocked(),
                    p.timerDeadline() != VcpuPv.NO_DEADLINE, p.timerDeadline() == VcpuPv.NO_DEADLINE ? null
                            : p.timerDeadline(), pending,
                    masked, binding, dp.maptrack().size(), flags);
        }
        List<Check> checks = new ArrayList<>(Facts.compare(step, seen));
        checks.removeIf(c -> List.of("domain", "vcpu", "port", "ref").contains(c.what()));
        Map<String, String> facts = Facts.of(seen);
        return new StepResult(s, new Observation("ok", facts.toString(), facts), checks);
    }

    static StepResult checkPv(MachineState s, PvStep.CheckPv step) {
        XenMachine m = machine(s);
        InvariantResult i9 = PvInvariants.events(m);
        InvariantResult i11 = PvInvariants.grants(m);
        String i10 = s.get(PvModule.HISTORY).routingViolation();
        PvStep.PvInvariantsExpect seen = new PvStep.PvInvariantsExpect(PvStep.Verdict.of(i9.holds()),
                PvStep.Verdict.of(i10 == null), PvStep.Verdict.of(i11.holds()));
        String text = "I9 " + i9 + "; I10 " + (i10 == null ? "holds over every send so far" : i10) + "; I11 " + i11;
        List<Check> checks = step.expect() == null ? List.of() : Facts.compare(step.expect(), seen);
        boolean all = i9.holds() && i10 == null && i11.holds();
        return new StepResult(s, new Observation(all ? "holds" : "violated", text, Facts.of(seen)), checks);
    }
}
