package org.hybridv.check;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.hybridv.gen.Choices;
import org.hybridv.gen.EmulationCases;
import org.hybridv.guest.Executed;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.Layout;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.XenPlatform;
import org.hybridv.invariants.DeviceIsolation;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.xen.Faults;

/**
 * Emulated devices (docs/emulation.md): a hybrid kernel booted in a domain of each type ({@link EmulationCases}),
 * then MSR and port accesses at CPL 0; after the boot and after every access, {@link DeviceIsolation}: EMU-1 and
 * EMU-2 over the VMCS of every vCPU, and the access itself either exited or touched only what the rules leave to the
 * guest. Its violations are reported as "EMU" with the rule; no scenario is written (the scenario format has no
 * step that runs a raw instruction on a kernel's vCPU and checks EMU-1/EMU-2).
 */
public final class EmulationProperty implements SystemProperty<EmulationCases.Run> {
    /** The name violations are reported under. */
    public static final String INVARIANT = "EMU";

    @Override
    public String name() {
        return "emulation";
    }

    @Override
    public String description() {
        return "x2APIC MSRs and port I/O of a kernel in every domain type; every access exits or touches only the"
                + " guest's own (EMU-1, EMU-2 over the VMCS bitmaps)";
    }

    @Override
    public EmulationCases.Run generate(Choices c) {
        return EmulationCases.generate(c);
    }

    @Override
    public int length(EmulationCases.Run run) {
        return 1 + run.accesses().size();
    }

    @Override
    public Verdict check(EmulationCases.Run run, Faults faults) {
        return check(run, faults, (Coverage.Sink) null);
    }

    @Override
    public Verdict check(EmulationCases.Run run, Faults faults, Coverage.Sink coverage) {
        Lockstep l = Lockstep.start(run.mode(), Layout.MIN_FRAMES + 26, EmulationCases.XEN_FRAMES, faults,
                run.identity()).step(new GuestOp.Boot(run.boot())).post();
        XenPlatform p = (XenPlatform) l.guest().platform();
        InvariantResult r = DeviceIsolation.check(p.machine());
        if (r instanceof InvariantResult.Violated v) {
            return new Verdict.Violated(INVARIANT, v.rule(), 1, "after booting to " + run.boot() + " in a "
                    + run.mode() + " " + run.identity().personality() + " domain: " + v.explanation());
        }
        int step = 1;
        for (GuestInstruction i : run.accesses()) {
            step++;
            Executed e = p.execute(i);
            if (coverage != null) {
                coverage.collect("access", kind(i) + (e.exits().total() > 0 ? ", exits" : ", no exit"));
            }
            r = DeviceIsolation.checkAccess(i, e.exits().total());
            if (r instanceof InvariantResult.Violated v) {
                return new Verdict.Violated(INVARIANT, v.rule(), step, i + ": " + v.explanation());
            }
            p = (XenPlatform) e.platform();
            r = DeviceIsolation.check(p.machine());
            if (r instanceof InvariantResult.Violated v) {
                return new Verdict.Violated(INVARIANT, v.rule(), step, i + ": " + v.explanation());
            }
        }
        return Verdict.HOLDS;
    }

    private static String kind(GuestInstruction i) {
        if (i instanceof GuestInstruction.Io io) {
            return "port " + (io.port() >= 0x3F8 && io.port() <= 0x3FF ? "UART" : "other");
        }
        long msr = i instanceof GuestInstruction.Rdmsr r ? r.msr() : ((GuestInstruction.Wrmsr) i).msr();
        return (msr >= 0x800 && msr <= 0x8FF ? "x2APIC" : "other") + " MSR";
    }

    @Override
    public List<Coverage.Floor> floors() {
        return List.of(Coverage.Floor.reached("access", "x2APIC MSR, exits"),
                Coverage.Floor.reached("access", "port UART, exits"),
                Coverage.Floor.reached("access", "other MSR, no exit"));
    }

    @Override
    public ObjectNode scenario(EmulationCases.Run run, Faults faults, Verdict.Violated violation) {
        return null;
    }
}
