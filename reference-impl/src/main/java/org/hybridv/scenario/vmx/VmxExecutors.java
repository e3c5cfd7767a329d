package org.hybridv.scenario.vmx;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hybridv.ept.Eptp;
import org.hybridv.scenario.Check;
import org.hybridv.scenario.MachineState;
import org.hybridv.scenario.Observation;
import org.hybridv.scenario.ScenarioInputException;
import org.hybridv.scenario.StepResult;
import org.hybridv.scenario.x86.Render;
import org.hybridv.scenario.x86.X86Module;
import org.hybridv.vmx.EntryOutcome;
import org.hybridv.vmx.EntryStep;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestOutcome;
import org.hybridv.vmx.GuestState;
import org.hybridv.vmx.GuestStep;
import org.hybridv.vmx.HostState;
import org.hybridv.vmx.Invept;
import org.hybridv.vmx.Invvpid;
import org.hybridv.vmx.NonRoot;
import org.hybridv.vmx.RootOutcome;
import org.hybridv.vmx.RootStep;
import org.hybridv.vmx.Vmcs;
import org.hybridv.vmx.VmEntries;
import org.hybridv.vmx.VmxMode;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.TlbTag;
import org.hybridv.x86.X86Machine;

/**
 * Runs the VMX steps: each builds the {@link VmxProcessor} of the state ({@link VmxState#processor}), runs the
 * reference ({@link VmEntries}, {@link NonRoot}, {@link Invvpid}, {@link Invept}), writes the processor back
 * ({@link VmxState#write}) and compares the outcome with the step's expectation. Nothing here decides an
 * architectural question: that is the VMX layer's job. The mode each op needs is a precondition registered in
 * {@link VmxModule}, checked before these run.
 */
final class VmxExecutors {
    private VmxExecutors() {}

    // ------------------------------------------------------------------ vmcs

    /** {@code vmcs}: the named fields written, the others kept. */
    static StepResult vmcs(MachineState s, VmxStep.Vmcs step) {
        VmxState v = s.get(VmxModule.VMX);
        Vmcs vmcs = v.vmcs();
        ExecutionControls c = vmcs.controls();
        List<String> written = new ArrayList<>();
        if (step.pinBased() != null) {
            c = c.withPin(step.pinBased().applyTo(c.pin()));
            written.add("pin-based " + VmxRender.pin(c.pin()));
        }
        if (step.primary() != null) {
            c = c.withPrimary(step.primary().applyTo(c.primary()));
            written.add("primary " + VmxRender.primary(c.primary()));
        }
        if (step.secondary() != null) {
            c = c.withSecondary(step.secondary().applyTo(c.secondary()));
            written.add("secondary " + VmxRender.secondary(c.secondary()));
        }
        if (step.exceptionBitmap() != null || step.pfecMask() != null || step.pfecMatch() != null) {
            c = c.withExceptionControls(or(step.exceptionBitmap(), c.exceptionBitmap()),
                    or(step.pfecMask(), c.pfecMask()), or(step.pfecMatch(), c.pfecMatch()));
            written.add("exception bitmap " + u32(c.exceptionBitmap()) + ", PFEC_MASK " + u32(c.pfecMask())
                    + ", PFEC_MATCH " + u32(c.pfecMatch()));
        }
        if (step.cr0GuestHostMask() != null || step.cr0ReadShadow() != null) {
            c = c.withCr0Ownership(or(step.cr0GuestHostMask(), c.cr0GuestHostMask()),
                    or(step.cr0ReadShadow(), c.cr0ReadShadow()));
            written.add("CR0 guest/host mask " + Render.hex(c.cr0GuestHostMask()) + ", read shadow "
                    + Render.hex(c.cr0ReadShadow()));
        }
        if (step.cr4GuestHostMask() != null || step.cr4ReadShadow() != null) {
            c = c.withCr4Ownership(or(step.cr4GuestHostMask(), c.cr4GuestHostMask()),
                    or(step.cr4ReadShadow(), c.cr4ReadShadow()));
            written.add("CR4 guest/host mask " + Render.hex(c.cr4GuestHostMask()) + ", read shadow "
                    + Render.hex(c.cr4ReadShadow()));
        }
        if (step.cr3TargetValues() != null) {
            c = c.withCr3TargetValues(step.cr3TargetValues());
            written.add("CR3-target count " + c.cr3TargetValues().size() + ", values "
                    + VmxStep.hexList(c.cr3TargetValues()));
        }
        if (step.ioBitmap() != null) {
            c = c.withIoBitmaps(step.ioBitmap().applyTo(c.ioBitmaps()));
            written.add("I/O bitmaps " + step.ioBitmap());
        }
        if (step.msrBitmap() != null) {
            c = c.withMsrBitmap(step.msrBitmap().applyTo(c.msrBitmap()));
            written.add("MSR bitmap " + step.msrBitmap());
        }
        if (step.eptp() != null) {
            c = c.withEptp(step.eptp().value());
            written.add("EPTP " + new Eptp(step.eptp().value()));
        }
        if (step.vpid() != null) {
            c = c.withVpid(step.vpid());
            written.add("VPID " + Render.hex(c.vpid()));
        }
        vmcs = vmcs.withControls(c);
        if (step.guest() != null) {
            CpuState old = vmcs.guest().cpu();
            CpuState g = state("guest", () -> step.guest().applyTo(old));
            vmcs = vmcs.withGuest(new GuestState(g, or(step.guest().rip(), vmcs.guest().rip())));
            written.add("guest " + registers(g) + ", RIP " + Render.hex(vmcs.guest().rip()));
        }
        if (step.host() != null) {
            CpuState old = vmcs.host().cpu();
            CpuState h = state("host", () -> step.host().applyTo(old));
            vmcs = vmcs.withHost(new HostState(h, or(step.host().rip(), vmcs.host().rip())));
            written.add("host " + registers(h) + ", RIP " + Render.hex(vmcs.host().rip()));
        }
        return new StepResult(s.with(VmxModule.VMX, new VmxState(v.mode(), vmcs, v.launched(), v.capabilities())),
                Observation.of("ok", "ok: " + String.join("; ", written)), List.of());
    }

    /** A guest- or host-state area with {@code fields} written; a state the reference cannot hold is bad input. */
    private static CpuState state(String area, java.util.function.Supplier<CpuState> written) {
        try {
            return written.get();
        } catch (IllegalArgumentException e) {
            throw new ScenarioInputException(area + ": " + e.getMessage(), null);
        }
    }

    // ------------------------------------------------------------------ VM entry

    /** {@code vmlaunch}, {@code vmresume}: {@link VmEntries#enter}. */
    static StepResult enter(MachineState s, VmxStep.VmEntry step) {
        EntryStep r = VmEntries.enter(VmxState.processor(s), step.resume());
        VmxProcessor p = r.processor();
        Map<String, String> facts = new LinkedHashMap<>();
        Observation observed;
        List<Check> checks = new ArrayList<>();
        VmxStep.EntryExpect expect = step.expect() == null ? new VmxStep.EntryExpect.Entered() : step.expect();
        if (r.outcome() instanceof EntryOutcome.Entered) {
            X86Machine m = p.machine();
            TlbTag tag = m.tlbTag();
            facts.put("vpid", Render.hex(tag.vpid()));
            if (tag.combined()) {
                facts.put("ep4ta", Render.hex(tag.ep4ta()));
            }
            observed = new Observation("entered", "entered VMX non-root operation: guest " + registers(m.cpu())
                    + "; VPID " + Render.hex(tag.vpid()) + (tag.combined() ? ", EPT with EP4TA "
                            + Render.hex(tag.ep4ta()) : ", no EPT"), facts);
            checks.add(Check.equal("result", expect.result(), observed.result()));
        } else if (r.outcome() instanceof EntryOutcome.VmFailValid f) {
            facts.put("error", String.valueOf(f.error()));
            observed = new Observation("vmFail", "VMfailValid, VM-instruction error "
                    + VmxRender.vmInstructionError(f.error()) + ": " + f.reason(), facts);
            Check result = Check.equal("result", expect.result(), observed.result());
            checks.add(result);
            if (result.holds() && expect instanceof VmxStep.EntryExpect.VmFail e && e.error() != null) {
                checks.add(Check.value("error", e.error(), f.error(), x -> VmxRender.vmInstructionError((int) x)));
            }
        } else {
            EntryOutcome.EntryFailed f = (EntryOutcome.EntryFailed) r.outcome();
            facts.put("reason", f.exit().reason().name());
            facts.put("exitReason", Render.hex(f.exit().exitReasonField() & 0xFFFF_FFFFL));
            observed = new Observation("entryFailure", VmxRender.exit(f.exit()) + ": " + f.reason()
                    + "; host state loaded", facts);
            Check result = Check.equal("result", expect.result(), observed.result());
            checks.add(result);
            if (result.holds() && expect instanceof VmxStep.EntryExpect.EntryFailure e && e.reason() != null) {
                ExitReason want = ExitReason.valueOf(e.reason());
                checks.add(new Check("reason", VmxRender.reason(want), VmxRender.reason(f.exit().reason()),
                        want == f.exit().reason()));
            }
        }
        return new StepResult(VmxState.write(s, p), observed, checks);
    }

    // ------------------------------------------------------------------ guest instructions

    /**
     * A guest instruction: {@link NonRoot#execute}. With a {@code cpl} (guestAccess), the guest runs the instruction
     * at that CPL and gets its own CPL back afterwards: in the running guest if it is still running, otherwise in
     * the VMCS guest-state area, where the VM exit saved it.
     */
    static StepResult guest(MachineState s, VmxStep.GuestOp step) {
        VmxProcessor p = VmxState.processor(s);
        int cpl = p.machine().cpu().cpl();
        if (step.cpl() != null) {
            p = p.withMachine(p.machine().withCpu(p.machine().cpu().withCpl(step.cpl())));
        }
        GuestStep r = NonRoot.execute(p, step.instruction());
        VmxProcessor after = r.processor();
        if (step.cpl() != null) {
            if (after.mode() == VmxMode.NON_ROOT) {
                after = after.withMachine(after.machine().withCpu(after.machine().cpu().withCpl(cpl)));
            } else {
                GuestState g = after.vmcs().guest();
                after = after.withVmcs(after.vmcs().withGuest(new GuestState(g.cpu().withCpl(cpl), g.rip())));
            }
        }
        Observation observed = observe(r.outcome(), after);
        List<Check> checks = step.expect() == null ? List.of() : guestChecks(step.expect(), r.outcome(), after);
        return new StepResult(VmxState.write(s, after), observed, checks);
    }

    private static Observation observe(GuestOutcome o, VmxProcessor after) {
        Map<String, String> facts = new LinkedHashMap<>();
        if (o instanceof GuestOutcome.Retired r) {
            facts.put("value", Render.hex(r.value()));
            return new Observation("retired", "retired, value " + Render.hex(r.value()), facts);
        }
        if (o instanceof GuestOutcome.Delivered d) {
            facts.put("vector", String.valueOf(d.vector()));
            if (d.errorCodeValid()) {
                facts.put("errorCode", Render.hex(d.errorCode() & 0xFFFF_FFFFL));
            }
            facts.put("cr2", Render.hex(after.machine().cpu().cr2()));
            return new Observation("delivered", "vector " + VmxRender.vector(d.vector()) + " delivered to the guest"
                    + (d.errorCodeValid() ? ", error code " + VmxRender.errorCode(d.vector(),
                            d.errorCode() & 0xFFFF_FFFFL) : "")
                    + (d.vector() == PageFault.VECTOR ? ", CR2 " + Render.hex(after.machine().cpu().cr2()) : ""),
                    facts);
        }
        ExitInformation e = ((GuestOutcome.Exited) o).exit();
        facts.putAll(exitFacts(e));
        return new Observation("vmExit", VmxRender.exit(e), facts);
    }

    private static Map<String, String> exitFacts(ExitInformation e) {
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("reason", e.reason().name());
        facts.put("reasonNumber", String.valueOf(e.reason().number()));
        facts.put("qualification", Render.hex(e.qualification()));
        facts.put("guestPhysical", Render.hex(e.guestPhysicalAddress()));
        facts.put("guestLinear", Render.hex(e.guestLinearAddress()));
        facts.put("interruption", Render.hex(e.interruption().bits() & 0xFFFF_FFFFL));
        facts.put("interruptionErrorCode", Render.hex(e.interruptionErrorCode() & 0xFFFF_FFFFL));
        return facts;
    }

    private static List<Check> guestChecks(VmxStep.GuestExpect e, GuestOutcome o, VmxProcessor after) {
        List<Check> checks = new ArrayList<>();
        String observedResult = o instanceof GuestOutcome.Retired ? "retired"
                : o instanceof GuestOutcome.Delivered ? "delivered" : "vmExit";
        Check result = Check.equal("result", e.result(), observedResult);
        checks.add(result);
        if (!result.holds()) {
            return checks;
        }
        if (e instanceof VmxStep.GuestExpect.Retired r && o instanceof GuestOutcome.Retired got) {
            Check.value(checks, "value", r.value(), got.value(), Render::hex);
        } else if (e instanceof VmxStep.GuestExpect.Delivered d && o instanceof GuestOutcome.Delivered got) {
            if (d.vector() != null) {
                checks.add(Check.value("vector", d.vector(), got.vector(), v -> VmxRender.vector((int) v)));
            }
            if (d.errorCode() != null) {
                long code = got.errorCode() & 0xFFFF_FFFFL;
                checks.add(new Check("errorCode", VmxRender.errorCode(got.vector(), d.errorCode()),
                        got.errorCodeValid() ? VmxRender.errorCode(got.vector(), code)
                                : "none (vector " + got.vector() + " pushes no error code)",
                        got.errorCodeValid() && code == d.errorCode()));
            }
            Check.value(checks, "cr2", d.cr2(), after.machine().cpu().cr2(), Render::hex);
        } else if (e instanceof VmxStep.GuestExpect.VmExit x && o instanceof GuestOutcome.Exited got) {
            checks.addAll(x.pattern().check(got.exit()));
        }
        return checks;
    }

    // ------------------------------------------------------------------ EPT, INVVPID, INVEPT

    /** {@code ept}: a plain store of the entry; nothing cached is touched. */
    static StepResult ept(MachineState s, VmxStep.Ept step) {
        X86Machine m = s.get(X86Module.MACHINE);
        org.hybridv.ept.EptEntry entry = step.entry().value();
        List<String> notes = new ArrayList<>();
        if (entry.present() && entry.frame() >= m.memory().frameCount()) {
            notes.add("the entry references frame " + Render.hex(entry.frame()) + ", beyond memoryFrames = "
                    + m.memory().frameCount() + ": unbacked memory, which reads as all ones and drops writes");
        }
        X86Machine after = m.withMemory(m.memory().write(step.table(), step.index(), entry.raw()));
        return new StepResult(s.with(X86Module.MACHINE, after), Observation.of("ok", ""), List.of(), notes);
    }

    /** {@code invvpid}: {@link Invvpid#execute}. */
    static StepResult invvpid(MachineState s, VmxStep.Invvpid step) {
        VmxProcessor p = VmxState.processor(s);
        RootStep r = Invvpid.execute(p, step.type().type(), step.vpid() == null ? 0 : step.vpid(),
                step.linear() == null ? 0 : step.linear());
        return rootResult(s, p, r, step.expect());
    }

    /** {@code invept}: {@link Invept#execute}. */
    static StepResult invept(MachineState s, VmxStep.Invept step) {
        VmxProcessor p = VmxState.processor(s);
        RootStep r = Invept.execute(p, step.type().type(), new Eptp(step.eptp() == null ? 0 : step.eptp().value()),
                p.machine().cpu().maxPhysAddr());
        return rootResult(s, p, r, step.expect());
    }

    private static StepResult rootResult(MachineState s, VmxProcessor before, RootStep r, VmxStep.RootExpect e) {
        VmxStep.RootExpect expect = e == null ? new VmxStep.RootExpect.Succeeded() : e;
        Observation observed;
        List<Check> checks = new ArrayList<>();
        if (r.outcome() instanceof RootOutcome.VmFailValid f) {
            observed = new Observation("vmFail", "VMfailValid, VM-instruction error "
                    + VmxRender.vmInstructionError(f.error()) + ": " + f.reason(),
                    Map.of("error", String.valueOf(f.error())));
        } else {
            int n = before.machine().tlb().entries().size() - r.processor().machine().tlb().entries().size();
            observed = new Observation("succeeded", "succeeded: " + n + " TLB " + (n == 1 ? "entry" : "entries")
                    + " invalidated", Map.of("invalidated", String.valueOf(n)));
        }
        Check result = Check.equal("result", expect.result(), observed.result());
        checks.add(result);
        if (result.holds() && expect instanceof VmxStep.RootExpect.VmFail f && f.error() != null
                && r.outcome() instanceof RootOutcome.VmFailValid got) {
            checks.add(Check.value("error", f.error(), got.error(), x -> VmxRender.vmInstructionError((int) x)));
        }
        return new StepResult(VmxState.write(s, r.processor()), observed, checks);
    }

    // ------------------------------------------------------------------ expectVmcs

    /** {@code expectVmcs}: the mode, the launch state, the exit information and the guest-state area. */
    static StepResult expectVmcs(MachineState s, VmxStep.ExpectVmcs step) {
        VmxState v = s.get(VmxModule.VMX);
        List<Check> checks = new ArrayList<>();
        if (step.mode() != null) {
            checks.add(Check.equal("mode", step.mode().word(), mode(v.mode())));
        }
        if (step.launched() != null) {
            checks.add(Check.equal("launched", step.launched(), v.launched()));
        }
        ExitInformation info = v.vmcs().exitInformation();
        if (step.exit() != null) {
            if (info == null) {
                checks.add(new Check("exit", "a VM exit", "none yet", false));
            } else {
                checks.addAll(step.exit().pattern().check(info));
            }
        }
        GuestState g = v.vmcs().guest();
        if (step.guest() != null) {
            VmxStep.GuestFields e = step.guest();
            register(checks, "guest.cr0", e.cr0(), g.cpu().cr0().bits());
            register(checks, "guest.cr3", e.cr3(), g.cpu().cr3().bits());
            register(checks, "guest.cr4", e.cr4(), g.cpu().cr4().bits());
            register(checks, "guest.efer", e.efer(), Render.eferBits(g.cpu()));
            if (e.cpl() != null) {
                checks.add(Check.value("guest.cpl", e.cpl(), g.cpu().cpl(), String::valueOf));
            }
            Check.flag(checks, "guest.ac", e.ac(), g.cpu().ac());
            register(checks, "guest.rip", e.rip(), g.rip());
        }
        String text = mode(v.mode()) + ", " + (v.launched() ? "launched" : "clear") + "; last exit: "
                + (info == null ? "none" : VmxRender.exit(info)) + "; guest-state area: " + registers(g.cpu())
                + ", RIP " + Render.hex(g.rip());
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("mode", mode(v.mode()));
        facts.put("launched", String.valueOf(v.launched()));
        if (info != null) {
            facts.putAll(exitFacts(info));
        }
        return new StepResult(s, new Observation("ok", text, facts), checks);
    }

    private static String mode(VmxMode m) {
        return m == VmxMode.ROOT ? "root" : "nonRoot";
    }

    private static void register(List<Check> checks, String name, Long expected, long observed) {
        Check.value(checks, name, expected, observed, Render::hex);
    }

    // ------------------------------------------------------------------ helpers

    static String registers(CpuState c) {
        return "CR0 " + Render.cr0(c) + ", CR3 " + Render.hex(c.cr3().bits()) + ", CR4 " + Render.cr4(c) + ", EFER "
                + Render.efer(c) + ", CPL " + c.cpl();
    }

    private static String u32(int v) {
        return Render.hex(v & 0xFFFF_FFFFL);
    }

    private static int or(Integer v, int old) {
        return v != null ? v : old;
    }

    private static long or(Long v, long old) {
        return v != null ? v : old;
    }
}
