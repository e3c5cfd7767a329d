package org.hybridv.scenario.xen;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;
import org.hybridv.invariants.ExitCorrectness;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.PageTableIntegrity;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.scenario.Check;
import org.hybridv.scenario.MachineState;
import org.hybridv.scenario.Observation;
import org.hybridv.scenario.StepResult;
import org.hybridv.scenario.x86.Render;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Entry;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * Runs the hypervisor steps on the {@link XenMachine} of the state: {@code post = f(pre, step)} through the
 * reference ({@link Hypervisor#run}, {@link Hypervisor#hypercall}, the invariants), then the outcome as facts and the
 * step's expectations compared with them. Nothing here decides a hypervisor question.
 */
final class XenExecutors {
    private XenExecutors() {}

    static XenMachine machine(MachineState s) {
        return s.get(XenModule.XEN).machine();
    }

    /** After a vCPU step: the machine, and the step's I7 result added to the scenario's history. */
    private static MachineState writeVcpuStep(MachineState s, XenMachine m, InvariantResult i7) {
        return s.with(XenModule.XEN, s.get(XenModule.XEN).afterVcpuStep(m, i7.holds() ? null : i7.toString()));
    }

    /** The step's I7 explanation as a note when it was violated (no expectation checks I7 per step). */
    private static List<String> i7Notes(InvariantResult i7) {
        return i7.holds() ? List.of() : List.of("I7 (exit correctness) violated by this step: " + i7);
    }

    private static MachineState write(MachineState s, XenMachine m) {
        return s.with(XenModule.XEN, s.get(XenModule.XEN).withMachine(m));
    }

    // ------------------------------------------------------------------ builder writes

    static StepResult domainPte(MachineState s, XenStep.DomainPte step) {
        XenMachine m = machine(s);
        Entry old = m.paging().entry(step.table(), step.index());
        XenMachine after = m.withPaging(m.paging().write(step.table(), step.index(), step.entry().value()));
        FrameInfo f = m.frames().get(step.table());
        return new StepResult(write(s, after), Observation.of("ok", "was " + Render.entry(old) + "; frame "
                + Render.hex(step.table()) + " is " + f + " (unchecked: no type, reference or TLB change)"),
                List.of());
    }

    static StepResult expectDomainEntry(MachineState s, XenStep.ExpectDomainEntry step) {
        Entry e = machine(s).paging().entry(step.table(), step.index());
        return new StepResult(s, Observation.of("ok", Render.entry(e)), List.of(Check.value("entry",
                step.entry().value().raw(), e.raw(), v -> Render.entry(new Entry(v)))));
    }

    // ------------------------------------------------------------------ vCPU steps

    static StepResult hypercall(MachineState s, XenStep.Hypercall step) {
        VcpuId id = new VcpuId(step.domain(), step.vcpu());
        XenMachine pre = withCpl(machine(s), id, step.cpl());
        HvStep r = Hypervisor.hypercall(pre, id, step.hypercall());
        InvariantResult i7 = ExitCorrectness.check(pre, id, new GuestInstruction.Vmcall(), r);
        XenMachine after = restoreCpl(r.machine(), id, step.cpl(), machine(s));
        Observation o = observeHypercall(r);
        return new StepResult(writeVcpuStep(s, after, i7), o, hypercallChecks(step.expect(), o.result(),
                r.outcome()), i7Notes(i7));
    }

    static StepResult guest(MachineState s, XenStep.Guest step) {
        VcpuId id = new VcpuId(step.domain(), step.vcpu());
        XenMachine pre = withCpl(machine(s), id, step.cpl());
        GuestInstruction insn = step.instruction();
        HvStep r = Hypervisor.run(pre, id, insn);
        InvariantResult i7 = ExitCorrectness.check(pre, id, insn, r);
        XenMachine after = restoreCpl(r.machine(), id, step.cpl(), machine(s));
        Observation o = observe(r.outcome(), r.vmExits());
        return new StepResult(writeVcpuStep(s, after, i7), o, guestChecks(step.expect(), o.result(), r),
                i7Notes(i7));
    }

    /** A hypercall's outcome: ok or refused (errno, rule, RAX), or the vCPU outcome that kept it from running. */
    static Observation observeHypercall(HvStep r) {
        Map<String, String> facts = new LinkedHashMap<>();
        String text;
        VcpuOutcome o = r.outcome();
        if (o instanceof VcpuOutcome.HypercallDone d) {
            facts.put("result", "ok");
            facts.put("rax", Long.toString(d.rax()));
            text = "ok, RAX " + d.rax() + effects(d.effects());
        } else if (o instanceof VcpuOutcome.HypercallRefused x) {
            facts.put("result", "refused");
            facts.put("errno", x.errno().name());
            facts.put("rule", x.rule());
            facts.put("rax", Long.toString(x.rax()));
            text = "refused -" + x.errno() + " (RAX " + x.rax() + ") by " + x.rule() + ": " + x.reason();
        } else {
            Observation g = observe(o, r.vmExits());
            facts.putAll(g.facts());
            text = g.text() + " (the hypercall did not run)";
        }
        facts.put("exits", Integer.toString(r.vmExits()));
        return new Observation(facts.get("result"), text, facts);
    }

    /** The machine with vCPU {@code id} at {@code cpl} (its live registers if it runs, else its VMCS guest state). */
    private static XenMachine withCpl(XenMachine m, VcpuId id, Integer cpl) {
        return cpl == null ? m : setCpl(m, id, cpl);
    }

    private static XenMachine restoreCpl(XenMachine m, VcpuId id, Integer cpl, XenMachine before) {
        return cpl == null ? m : setCpl(m, id, before.guestCpu(id).cpl());
    }

    private static XenMachine setCpl(XenMachine m, VcpuId id, int cpl) {
        return m.withGuestCpl(id, cpl);
    }

    private static String effects(List<?> effects) {
        return effects.isEmpty() ? "" : "; TLB obligations performed: " + effects;
    }

    /** The outcome as a result word, text and facts (numbers in hex; exits: the VM exits the step went through). */
    static Observation observe(VcpuOutcome o, int exits) {
        Map<String, String> f = new LinkedHashMap<>();
        String text;
        if (o instanceof VcpuOutcome.Retired r) {
            f.put("result", "retired");
            f.put("value", Render.hex(r.value()));
            text = "retired in the guest, value " + Render.hex(r.value());
        } else if (o instanceof VcpuOutcome.Delivered d) {
            f.put("result", "delivered");
            f.put("vector", Integer.toString(d.vector()));
            f.put("errorCode", Render.hex(d.errorCode() & 0xFFFF_FFFFL));
            f.put("cr2", Render.hex(d.cr2()));
            text = "vector " + d.vector() + " delivered to the guest without a VM exit, error code "
                    + Render.errorCode(d.errorCode() & 0xFFFF_FFFFL) + ", CR2 " + Render.hex(d.cr2());
        } else if (o instanceof VcpuOutcome.Resumed r) {
            f.put("result", "resumed");
            f.put("reason", r.reason().name());
            f.put("value", Render.hex(r.value()));
            f.put("rule", r.rule());
            text = "VM exit " + r.reason() + " handled (" + r.rule() + "), guest resumed, value "
                    + Render.hex(r.value());
        } else if (o instanceof VcpuOutcome.CpuidResult c) {
            f.put("result", "cpuid");
            f.put("eax", Render.hex(c.eax()));
            f.put("ebx", Render.hex(c.ebx()));
            f.put("ecx", Render.hex(c.ecx()));
            f.put("edx", Render.hex(c.edx()));
            text = "VM exit CPUID handled: EAX " + Render.hex(c.eax()) + " EBX " + Render.hex(c.ebx()) + " ECX "
                    + Render.hex(c.ecx()) + " EDX " + Render.hex(c.edx());
        } else if (o instanceof VcpuOutcome.Emulated e) {
            f.put("result", "emulated");
            f.put("linear", Render.hex(e.linear()));
            f.put("value", Render.hex(e.value()));
            f.put("rule", e.rule());
            text = "#PF exit emulated as a page-table write (" + e.rule() + ") at " + Render.hex(e.linear())
                    + " value " + Render.hex(e.value()) + effects(e.effects());
        } else if (o instanceof VcpuOutcome.Injected i) {
            f.put("result", "injected");
            f.put("reason", i.reason().name());
            f.put("vector", Integer.toString(i.vector()));
            f.put("errorCode", Render.hex(i.errorCode() & 0xFFFF_FFFFL));
            f.put("cr2", Render.hex(i.cr2()));
            f.put("rule", i.rule());
            text = "VM exit " + i.reason() + ": vector " + i.vector() + " injected, error code "
                    + Render.hex(i.errorCode() & 0xFFFF_FFFFL) + ", CR2 " + Render.hex(i.cr2()) + " (" + i.rule()
                    + ": " + i.why() + ")";
        } else if (o instanceof VcpuOutcome.Blocked) {
            f.put("result", "blocked");
            text = "HLT: the vCPU is blocked";
        } else if (o instanceof VcpuOutcome.GuestError g) {
            f.put("result", "guestError");
            f.put("reason", g.reason().name());
            f.put("guestPhysical", Render.hex(g.guestPhysical()));
            f.put("rule", g.rule());
            text = "guest error " + g.reason() + " (" + g.rule() + "): " + g.why();
        } else if (o instanceof VcpuOutcome.NotModelled n) {
            f.put("result", "notModelled");
            f.put("reason", n.reason() == null ? "none" : n.reason().name());
            text = "not modelled: " + n.why();
        } else if (o instanceof VcpuOutcome.EntryFailed e) {
            f.put("result", "entryFailed");
            text = "VM entry failed: " + e.reason();
        } else if (o instanceof VcpuOutcome.HypercallDone d) {
            f.put("result", "hypercallDone");
            text = "hypercall done" + effects(d.effects());
        } else {
            VcpuOutcome.HypercallRefused x = (VcpuOutcome.HypercallRefused) o;
            f.put("result", "hypercallRefused");
            text = "hypercall refused -" + x.errno() + " (" + x.rule() + "): " + x.reason();
        }
        f.put("exits", Integer.toString(exits));
        return new Observation(f.get("result"), text + (exits == 0 ? " [no VM exit]" : exits == 1 ? " [1 VM exit]"
                : " [" + exits + " VM exits]"), f);
    }

    /** The result word first; when it agrees, the refusal's errno and rule, compared as values. */
    private static List<Check> hypercallChecks(XenStep.HypercallExpect expect, String result, VcpuOutcome o) {
        List<Check> out = new ArrayList<>();
        if (expect == null) {
            return out;
        }
        String word = expect instanceof XenStep.HypercallExpect.Ok ? "ok" : "refused";
        out.add(Check.equal("result", word, result));
        if (word.equals(result) && expect instanceof XenStep.HypercallExpect.Refused e
                && o instanceof VcpuOutcome.HypercallRefused x) {
            equal(out, "errno", e.errno(), x.errno());
            equal(out, "rule", e.rule(), x.rule());
        }
        return out;
    }

    /**
     * The result word first; when it agrees, each fact the expectation names (in name order), compared as values
     * with the outcome's.
     */
    private static List<Check> guestChecks(XenStep.GuestExpect expect, String result, HvStep r) {
        List<Check> out = new ArrayList<>();
        if (expect == null) {
            return out;
        }
        out.add(Check.equal("result", expect.result(), result));
        if (!expect.result().equals(result)) {
            return out;
        }
        List<Check> facts = new ArrayList<>();
        number(facts, "exits", expect.exits(), r.vmExits(), Long::toString);
        if (expect instanceof XenStep.GuestExpect.Retired e) {
            Check.value(facts, "value", e.value(), ((VcpuOutcome.Retired) r.outcome()).value(), Render::hex);
        } else if (expect instanceof XenStep.GuestExpect.Delivered e) {
            VcpuOutcome.Delivered d = (VcpuOutcome.Delivered) r.outcome();
            number(facts, "vector", e.vector(), d.vector(), Long::toString);
            Check.value(facts, "errorCode", e.errorCode(), d.errorCode() & 0xFFFF_FFFFL, Render::hex);
            Check.value(facts, "cr2", e.cr2(), d.cr2(), Render::hex);
        } else if (expect instanceof XenStep.GuestExpect.Resumed e) {
            VcpuOutcome.Resumed x = (VcpuOutcome.Resumed) r.outcome();
            equal(facts, "reason", e.reason(), x.reason());
            Check.value(facts, "value", e.value(), x.value(), Render::hex);
            equal(facts, "rule", e.rule(), x.rule());
        } else if (expect instanceof XenStep.GuestExpect.Cpuid e) {
            VcpuOutcome.CpuidResult c = (VcpuOutcome.CpuidResult) r.outcome();
            Check.value(facts, "eax", e.eax(), c.eax(), Render::hex);
            Check.value(facts, "ebx", e.ebx(), c.ebx(), Render::hex);
            Check.value(facts, "ecx", e.ecx(), c.ecx(), Render::hex);
            Check.value(facts, "edx", e.edx(), c.edx(), Render::hex);
        } else if (expect instanceof XenStep.GuestExpect.Emulated e) {
            VcpuOutcome.Emulated x = (VcpuOutcome.Emulated) r.outcome();
            Check.value(facts, "linear", e.linear(), x.linear(), Render::hex);
            Check.value(facts, "value", e.value(), x.value(), Render::hex);
            equal(facts, "rule", e.rule(), x.rule());
        } else if (expect instanceof XenStep.GuestExpect.Injected e) {
            VcpuOutcome.Injected x = (VcpuOutcome.Injected) r.outcome();
            equal(facts, "reason", e.reason(), x.reason());
            number(facts, "vector", e.vector(), x.vector(), Long::toString);
            Check.value(facts, "errorCode", e.errorCode(), x.errorCode() & 0xFFFF_FFFFL, Render::hex);
            Check.value(facts, "cr2", e.cr2(), x.cr2(), Render::hex);
            equal(facts, "rule", e.rule(), x.rule());
        } else if (expect instanceof XenStep.GuestExpect.GuestError e) {
            VcpuOutcome.GuestError x = (VcpuOutcome.GuestError) r.outcome();
            equal(facts, "reason", e.reason(), x.reason());
            Check.value(facts, "guestPhysical", e.guestPhysical(), x.guestPhysical(), Render::hex);
            equal(facts, "rule", e.rule(), x.rule());
        } else if (expect instanceof XenStep.GuestExpect.NotModelled e) {
            ExitReason seen = ((VcpuOutcome.NotModelled) r.outcome()).reason();
            equal(facts, "reason", e.reason(), seen == null ? "none" : seen);
        } // blocked and entryFailed have no facts besides exits
        facts.sort(Comparator.comparing(Check::what));
        out.addAll(facts);
        return out;
    }

    /** A check of a small number when it is expected. */
    private static void number(List<Check> out, String what, Integer expected, long observed, LongFunction<String> r) {
        if (expected != null) {
            out.add(Check.value(what, expected, observed, r));
        }
    }

    /** A check of a value of any type (a name, a rule ID, an enum) when it is expected. */
    private static void equal(List<Check> out, String what, Object expected, Object observed) {
        if (expected != null) {
            out.add(Check.equal(what, expected, observed));
        }
    }

    // ------------------------------------------------------------------ invariants and the frame table

    static StepResult checkInvariants(MachineState s, XenStep.CheckInvariants step) {
        XenMachine m = machine(s);
        InvariantResult i1 = Isolation.check(m);
        InvariantResult i2 = PageTableIntegrity.check(m.paging());
        if (i2.holds()) {
            i2 = TranslationIntegrity.check(m);
        }
        InvariantResult i6 = TlbCoherence.check(m);
        String first = s.get(XenModule.XEN).i7Violation();
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("I1", i1.holds() ? "holds" : "violated");
        facts.put("I2", i2.holds() ? "holds" : "violated");
        facts.put("I6", i6.holds() ? "holds" : "violated");
        facts.put("I7", first == null ? "holds" : "violated");
        String text = "I1 " + i1 + "; I2 " + i2 + "; I6 " + i6 + "; I7 " + (first == null ? "holds over "
                + s.get(XenModule.XEN).vcpuSteps() + " vCPU step(s)" : first);
        List<Check> checks = new ArrayList<>();
        XenStep.XenInvariants e = step.expect();
        if (e != null) {
            equal(checks, "I1", e.I1(), XenStep.InvariantState.of(i1.holds()));
            equal(checks, "I2", e.I2(), XenStep.InvariantState.of(i2.holds()));
            equal(checks, "I6", e.I6(), XenStep.InvariantState.of(i6.holds()));
            equal(checks, "I7", e.I7(), XenStep.InvariantState.of(first == null));
        }
        boolean all = i1.holds() && i2.holds() && i6.holds() && first == null;
        return new StepResult(s, new Observation(all ? "holds" : "violated", text, facts), checks);
    }

    static StepResult expectFrame(MachineState s, XenStep.ExpectFrame step) {
        FrameInfo f = machine(s).frames().get(step.mfn());
        Map<String, String> facts = new LinkedHashMap<>();
        facts.put("owner", f.owner() == FrameInfo.XEN ? "xen" : f.owner() == FrameInfo.FREE ? "free"
                : "d" + f.owner());
        facts.put("type", f.type().name().equals("NONE") ? "none" : f.type().name().equals("WRITABLE") ? "writable"
                : f.type().name());
        facts.put("typeCount", Integer.toString(f.typeCount()));
        facts.put("count", Integer.toString(f.count()));
        facts.put("validated", Boolean.toString(f.validated()));
        facts.put("pinned", Boolean.toString(f.pinned()));
        List<Check> checks = new ArrayList<>();
        if (step.owner() != null) {
            checks.add(Check.equal("owner", step.owner(), new XenStep.Owner(f.owner())));
        }
        equal(checks, "type", step.type(), XenStep.find(XenStep.FrameType.class, t -> t.type, f.type()));
        number(checks, "typeCount", step.typeCount(), f.typeCount(), Long::toString);
        number(checks, "count", step.count(), f.count(), Long::toString);
        Check.flag(checks, "validated", step.validated(), f.validated());
        Check.flag(checks, "pinned", step.pinned(), f.pinned());
        return new StepResult(s, new Observation("ok", f.toString(), facts), checks);
    }
}
