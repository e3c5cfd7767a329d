package org.hybridv.scenario.xen;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hybridv.invariants.ExitCorrectness;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.MigrationRules;
import org.hybridv.invariants.PageTableIntegrity;
import org.hybridv.invariants.ShootdownRules;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.scenario.Check;
import org.hybridv.scenario.MachineState;
import org.hybridv.scenario.Observation;
import org.hybridv.scenario.StepResult;
import org.hybridv.scenario.x86.Render;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Entry;
import org.hybridv.xen.FlushIpis;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.PreemptibleValidation;
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

    /**
     * After a vCPU step: the machine, and the step's I7 result and its I6 post-conditions ({@link ShootdownRules})
     * added to the scenario's history.
     */
    private static MachineState writeVcpuStep(MachineState s, XenMachine m, InvariantResult i7) {
        XenState x = s.get(XenModule.XEN);
        return s.with(XenModule.XEN, x.afterVcpuStep(m, i7.holds() ? null : i7.toString())
                .afterStepRules(stepRules(x.machine(), m)));
    }

    /** The step's I6 post-conditions over {@code pre} → {@code post}: TLB-8, IPI-1, IPI-2. */
    private static InvariantResult stepRules(XenMachine pre, XenMachine post) {
        return pre == post ? InvariantResult.HOLDS : ShootdownRules.check(pre, post);
    }

    /** The step's I7 explanation as a note when it was violated (no expectation checks I7 per step). */
    private static List<String> i7Notes(InvariantResult i7) {
        return i7.holds() ? List.of() : List.of("I7 (exit correctness) violated by this step: " + i7);
    }

    /** After a step that is not a vCPU's: the machine, and the step's I6 post-conditions added to the history. */
    private static MachineState write(MachineState s, XenMachine m) {
        XenState x = s.get(XenModule.XEN);
        return s.with(XenModule.XEN, x.withMachine(m).afterStepRules(stepRules(x.machine(), m)));
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

    static StepResult mmuextMulti(MachineState s, XenStep.MmuextMulti step) {
        VcpuId id = new VcpuId(step.domain(), step.vcpu());
        XenMachine pre = machine(s);
        HvStep r = Hypervisor.hypercall(pre, id, step.hypercall());
        InvariantResult i7 = ExitCorrectness.check(pre, id, new GuestInstruction.Vmcall(), r);
        Observation o = observeHypercall(r);
        return new StepResult(writeVcpuStep(s, r.machine(), i7), o, hypercallChecks(step.expect(), o.result(),
                r.outcome()), i7Notes(i7));
    }

    /** {@code mmuUpdateBatch}: the batched {@code mmu_update} as a VMCALL (MU-7), observed as a hypercall step. */
    static StepResult mmuUpdateBatch(MachineState s, XenStep.MmuUpdateBatch step) {
        VcpuId id = new VcpuId(step.domain(), step.vcpu());
        XenMachine pre = machine(s);
        HvStep r = Hypervisor.hypercall(pre, id, step.hypercall());
        InvariantResult i7 = ExitCorrectness.check(pre, id, new GuestInstruction.Vmcall(), r);
        Observation o = observeHypercall(r);
        if (r.outcome() instanceof VcpuOutcome.InHypercall w && w.awaiting().isEmpty()) {
            o = new Observation(o.result(), "accepted, the first request applied; inside the hypervisor with requests"
                    + " left (MU-7)", o.facts());
        }
        return new StepResult(writeVcpuStep(s, r.machine(), i7), o, hypercallChecks(step.expect(), o.result(),
                r.outcome()), i7Notes(i7));
    }

    /** {@code preemptHypercall}: {@link org.hybridv.xen.MmuBatch#preempt} (MU-8), observed as a hypercall step. */
    static StepResult preemptHypercall(MachineState s, XenStep.PreemptHypercall step) {
        VcpuId id = new VcpuId(step.domain(), step.vcpu());
        HvStep r = org.hybridv.xen.MmuBatch.preempt(machine(s), id);
        Observation o = observeHypercall(r);
        Map<String, String> facts = new LinkedHashMap<>(o.facts());
        facts.remove("exits");
        return new StepResult(write(s, r.machine()), new Observation(o.result(), o.text(), facts),
                hypercallChecks(step.expect(), o.result(), r.outcome()));
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
        } else if (o instanceof VcpuOutcome.InHypercall w && r.vmExits() > 0) {
            facts.put("result", "waiting");
            facts.put("awaiting", w.awaiting().toString());
            text = "accepted, waiting inside the hypervisor for the flush IPI acknowledgements of pCPU"
                    + (w.awaiting().size() == 1 ? " " : "s ") + w.awaiting() + " (IPI-1, IPI-2)";
        } else if (o instanceof VcpuOutcome.HypercallPreempted p) {
            facts.put("result", "preempted");
            facts.put("done", Long.toString(p.done()));
            facts.put("req", Render.hex(p.continuation().arg(0)));
            facts.put("count", Long.toString(org.hybridv.xen.MmuBatch.count(p.continuation())));
            text = "preempted after " + p.done() + " request" + (p.done() == 1 ? "" : "s") + " in all (MU-8): the"
                    + " VMCALL is re-executed with req " + Render.hex(p.continuation().arg(0)) + ", count "
                    + org.hybridv.xen.MmuBatch.count(p.continuation()) + " | MMU_UPDATE_PREEMPTED" + effects(p.effects());
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
        XenStep.GuestExpect seen = seen(o, exits);
        String text;
        if (o instanceof VcpuOutcome.Retired r) {
            text = "retired in the guest, value " + Render.hex(r.value());
        } else if (o instanceof VcpuOutcome.Delivered d) {
            text = "vector " + d.vector() + " delivered to the guest without a VM exit, error code "
                    + Render.errorCode(d.errorCode() & 0xFFFF_FFFFL) + ", CR2 " + Render.hex(d.cr2());
        } else if (o instanceof VcpuOutcome.Resumed r) {
            text = "VM exit " + r.reason() + " handled (" + r.rule() + "), guest resumed, value "
                    + Render.hex(r.value());
        } else if (o instanceof VcpuOutcome.CpuidResult c) {
            text = "VM exit CPUID handled: EAX " + Render.hex(c.eax()) + " EBX " + Render.hex(c.ebx()) + " ECX "
                    + Render.hex(c.ecx()) + " EDX " + Render.hex(c.edx());
        } else if (o instanceof VcpuOutcome.Emulated e) {
            text = "#PF exit emulated as a page-table write (" + e.rule() + ") at " + Render.hex(e.linear())
                    + " value " + Render.hex(e.value()) + effects(e.effects());
        } else if (o instanceof VcpuOutcome.Injected i) {
            text = "VM exit " + i.reason() + ": vector " + i.vector() + " injected, error code "
                    + Render.hex(i.errorCode() & 0xFFFF_FFFFL) + ", CR2 " + Render.hex(i.cr2()) + " (" + i.rule()
                    + ": " + i.why() + ")";
        } else if (o instanceof VcpuOutcome.Blocked) {
            text = "HLT: the vCPU is blocked";
        } else if (o instanceof VcpuOutcome.GuestError g) {
            text = "guest error " + g.reason() + " (" + g.rule() + "): " + g.why();
        } else if (o instanceof VcpuOutcome.NotModelled n) {
            text = "not modelled: " + n.why();
        } else if (o instanceof VcpuOutcome.EntryFailed e) {
            text = "VM entry failed: " + e.reason();
        } else if (o instanceof VcpuOutcome.InHypercall w) {
            text = "nothing ran: the pCPU is inside " + w.vcpu() + "'s hypercall, waiting for the flush IPI"
                    + " acknowledgements of pCPUs " + w.awaiting() + " (IPI-5)";
        } else if (o instanceof VcpuOutcome.HypercallDone d) {
            text = "hypercall done" + effects(d.effects());
        } else {
            VcpuOutcome.HypercallRefused x = (VcpuOutcome.HypercallRefused) o;
            text = "hypercall refused -" + x.errno() + " (" + x.rule() + "): " + x.reason();
        }
        Map<String, String> f = new LinkedHashMap<>();
        f.put("result", seen != null ? seen.result() : o instanceof VcpuOutcome.HypercallDone ? "hypercallDone"
                : "hypercallRefused");
        f.putAll(seen != null ? Facts.of(seen) : Map.of("exits", Integer.toString(exits)));
        return new Observation(f.get("result"), text + (exits == 0 ? " [no VM exit]" : exits == 1 ? " [1 VM exit]"
                : " [" + exits + " VM exits]"), f);
    }

    /** The outcome's facts as the expectation record of its result word (null for a hypercall's outcome). */
    private static XenStep.GuestExpect seen(VcpuOutcome o, int exits) {
        if (o instanceof VcpuOutcome.Retired r) {
            return new XenStep.GuestExpect.Retired(r.value(), exits);
        } else if (o instanceof VcpuOutcome.Delivered d) {
            return new XenStep.GuestExpect.Delivered(d.vector(), d.errorCode() & 0xFFFF_FFFFL, d.cr2(), exits);
        } else if (o instanceof VcpuOutcome.Resumed r) {
            return new XenStep.GuestExpect.Resumed(r.reason(), r.value(), r.rule(), exits);
        } else if (o instanceof VcpuOutcome.CpuidResult c) {
            return new XenStep.GuestExpect.Cpuid(c.eax(), c.ebx(), c.ecx(), c.edx(), exits);
        } else if (o instanceof VcpuOutcome.Emulated e) {
            return new XenStep.GuestExpect.Emulated(e.linear(), e.value(), e.rule(), exits);
        } else if (o instanceof VcpuOutcome.Injected i) {
            return new XenStep.GuestExpect.Injected(i.reason(), i.vector(), i.errorCode() & 0xFFFF_FFFFL, i.cr2(),
                    i.rule(), exits);
        } else if (o instanceof VcpuOutcome.Blocked) {
            return new XenStep.GuestExpect.Blocked(exits);
        } else if (o instanceof VcpuOutcome.GuestError g) {
            return new XenStep.GuestExpect.GuestError(g.reason(), g.guestPhysical(), g.rule(), exits);
        } else if (o instanceof VcpuOutcome.NotModelled n) {
            return new XenStep.GuestExpect.NotModelled(n.reason(), exits);
        }
        if (o instanceof VcpuOutcome.InHypercall w) {
            return new XenStep.GuestExpect.InHypercall(w.vcpu().toString(), exits);
        }
        return o instanceof VcpuOutcome.EntryFailed ? new XenStep.GuestExpect.EntryFailed(exits) : null;
    }

    /** The result word first; when it agrees, the refusal's errno and rule, compared as values. */
    private static List<Check> hypercallChecks(XenStep.HypercallExpect expect, String result, VcpuOutcome o) {
        List<Check> out = new ArrayList<>();
        if (expect == null) {
            return out;
        }
        String word = expect instanceof XenStep.HypercallExpect.Ok ? "ok"
                : expect instanceof XenStep.HypercallExpect.Waiting ? "waiting"
                : expect instanceof XenStep.HypercallExpect.Preempted ? "preempted" : "refused";
        out.add(Check.equal("result", word, result));
        if (word.equals(result) && expect instanceof XenStep.HypercallExpect.Waiting w && w.awaiting() != null
                && o instanceof VcpuOutcome.InHypercall h) {
            out.add(Check.equal("awaiting", w.awaiting().toString(), h.awaiting().toString()));
        }
        if (word.equals(result) && expect instanceof XenStep.HypercallExpect.Preempted e
                && o instanceof VcpuOutcome.HypercallPreempted p) {
            out.addAll(Facts.compare(e, new XenStep.HypercallExpect.Preempted(p.done(), p.continuation().arg(0),
                    org.hybridv.xen.MmuBatch.count(p.continuation()))));
        }
        if (word.equals(result) && expect instanceof XenStep.HypercallExpect.Refused e
                && o instanceof VcpuOutcome.HypercallRefused x) {
            out.addAll(Facts.compare(e, new XenStep.HypercallExpect.Refused(x.errno(), x.rule())));
        }
        return out;
    }

    /** The result word first; when it agrees, each fact the expectation names (in name order), as values. */
    private static List<Check> guestChecks(XenStep.GuestExpect expect, String result, HvStep r) {
        List<Check> out = new ArrayList<>();
        if (expect != null) {
            out.add(Check.equal("result", expect.result(), result));
            if (expect.result().equals(result)) {
                List<Check> facts = new ArrayList<>(Facts.compare(expect, seen(r.outcome(), r.vmExits())));
                facts.sort(Comparator.comparing(Check::what));
                out.addAll(facts);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ pCPUs

    /**
     * {@code schedule}: {@link Hypervisor#schedule}, then the step's post-conditions ({@link MigrationRules}) as a
     * fact and, when violated, a note and the scenario's history (I6 of later {@code checkInvariants}).
     */
    static StepResult schedule(MachineState s, XenStep.Schedule step) {
        VcpuId id = new VcpuId(step.domain(), step.vcpu());
        XenMachine pre = machine(s);
        XenMachine post = Hypervisor.schedule(pre, id, step.pcpu());
        InvariantResult rules = MigrationRules.check(pre, post, id);
        int from = pre.vcpu(id).pcpu();
        int vpid = post.vcpu(id).vpid();
        int entries = (int) post.pcpu(step.pcpu()).tlb().entries().stream().filter(e -> e.tag().vpid() == vpid)
                .count();
        boolean launched = post.vcpu(id).launched();
        XenStep.ScheduleExpect seen = new XenStep.ScheduleExpect(from, launched, entries,
                XenStep.InvariantState.of(rules.holds()));
        boolean moved = post.vcpu(id).pcpu() != from;
        String text = (!moved ? id + (from == step.pcpu() ? " already on pCPU " + from + ": nothing to do"
                : " stays on pCPU " + from + ": it is inside a hypercall waiting for flush acknowledgements (IPI-5)")
                : id + " moved from pCPU " + from + " to pCPU " + step.pcpu() + ", launch state "
                        + (launched ? "launched" : "clear") + ", " + entries + " TLB entr"
                        + (entries == 1 ? "y" : "ies")
                        + " of VPID " + vpid + " left on pCPU " + step.pcpu()) + "; MIG-1/MIG-2 " + rules;
        List<Check> checks = step.expect() == null ? List.of() : Facts.compare(step.expect(), seen);
        MachineState after = s.with(XenModule.XEN, s.get(XenModule.XEN).withMachine(post).afterStepRules(
                rules instanceof InvariantResult.Violated v ? new InvariantResult.Violated(v.rule(), "schedule " + id
                        + " → pCPU " + step.pcpu() + ": " + v.explanation()) : stepRules(pre, post)));
        return new StepResult(after, new Observation(moved ? "migrated" : "stayed", text,
                Facts.of(seen)), checks, rules.holds() ? List.of() : List.of("I6 over the migration violated: "
                        + rules));
    }

    /**
     * {@code expectPcpu}: pCPU {@code pcpu}'s current vCPU, TLB entry count, clock time and the domains whose dirty
     * CPU mask holds it, compared as values.
     */
    static StepResult expectPcpu(MachineState s, XenStep.ExpectPcpu step) {
        XenMachine m = machine(s);
        org.hybridv.xen.Pcpu p = m.pcpu(step.pcpu());
        String current = p.current().map(Object::toString).orElse("none");
        Integer vpid = step.vpid();
        int entries = (int) p.tlb().entries().stream().filter(e -> vpid == null || e.tag().vpid() == vpid).count();
        // the clock time and the masks are reported when the step asks for them (older steps observe as before)
        Long clockTime = step.clockTime() == null ? null : m.tlbFlush().clock().cpuTime().get(step.pcpu());
        List<Integer> dirtyFor = null;
        if (step.dirtyFor() != null) {
            dirtyFor = new ArrayList<>();
            for (int d : m.domains().keySet()) {
                if (m.tlbFlush().dirtyCpumask(d).contains(step.pcpu())) {
                    dirtyFor.add(d);
                }
            }
        }
        Integer pending = step.pendingIpis() == null ? null : m.tlbFlush().pendingFlushes(step.pcpu()).size();
        String inHypercall = step.inHypercall() == null ? null
                : FlushIpis.occupying(m, step.pcpu()).map(Object::toString).orElse("none");
        XenStep.ExpectPcpu seen = new XenStep.ExpectPcpu(step.pcpu(), current, vpid, entries, clockTime, dirtyFor,
                pending, inHypercall);
        List<Check> checks = new ArrayList<>(Facts.compare(step, seen));
        checks.removeIf(c -> c.what().equals("pcpu") || c.what().equals("vpid"));
        return new StepResult(s, new Observation("ok", "pCPU " + step.pcpu() + ": " + p.mode() + ", current "
                + current + ", " + entries + " TLB entr" + (entries == 1 ? "y" : "ies") + (vpid == null ? ""
                        : " of VPID " + vpid) + " of " + p.tlb().entries().size(), Facts.of(seen)), checks);
    }

    /**
     * {@code continueHypercall}: {@link PreemptibleValidation#continueHypercall}, observed as a hypercall step
     * ({@code waiting} while entries remain).
     */
    static StepResult continueHypercall(MachineState s, XenStep.ContinueHypercall step) {
        VcpuId id = new VcpuId(step.domain(), step.vcpu());
        HvStep r = PreemptibleValidation.continueHypercall(machine(s), id);
        HvStep seen = new HvStep(r.outcome(), r.machine(), r.outcome() instanceof VcpuOutcome.InHypercall ? 1 : 0);
        Observation o = observeHypercall(seen);
        Map<String, String> facts = new LinkedHashMap<>(o.facts());
        facts.remove("exits");
        return new StepResult(write(s, r.machine()), new Observation(o.result(), o.text().replace("accepted, waiting",
                "entries remain, or waiting"), facts), hypercallChecks(step.expect(), o.result(), r.outcome()));
    }

    /**
     * {@code deliverIpi}: {@link FlushIpis#deliverIpi} on the step's pCPU; the requests handled and the hypercalls the
     * acknowledgement completed, with their results, as facts.
     */
    static StepResult deliverIpi(MachineState s, XenStep.DeliverIpi step) {
        FlushIpis.Delivery d = FlushIpis.deliverIpi(machine(s), step.pcpu());
        List<String> completed = new ArrayList<>();
        List<String> results = new ArrayList<>();
        StringBuilder text = new StringBuilder(d.handled().isEmpty() ? "no flush IPI pending on pCPU " + step.pcpu()
                : "pCPU " + step.pcpu() + " handled " + d.handled());
        for (FlushIpis.Completion c : d.completed()) {
            completed.add(c.vcpu().toString());
            Observation o = observeHypercall(new HvStep(c.outcome(), d.machine(), c.outcome()
                    instanceof VcpuOutcome.InHypercall ? 1 : 0));
            results.add(o.result());
            text.append("; ").append(c.vcpu()).append("'s hypercall: ").append(o.text());
        }
        XenStep.DeliverExpect seen = new XenStep.DeliverExpect(d.handled().size(), completed, results);
        List<Check> checks = step.expect() == null ? List.of() : Facts.compare(step.expect(), seen);
        return new StepResult(write(s, d.machine()), new Observation(d.handled().isEmpty() ? "none" : "handled",
                text.toString(), Facts.of(seen)), checks);
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
        InvariantResult.Violated stepRule = s.get(XenModule.XEN).stepViolation();
        if (i6.holds() && stepRule != null) {
            i6 = stepRule; // I6 over the steps so far: MIG-1/2 (docs/smp.md), TLB-8, IPI-1/2 (ShootdownRules)
        }
        String first = s.get(XenModule.XEN).i7Violation();
        XenStep.XenInvariants seen = new XenStep.XenInvariants(XenStep.InvariantState.of(i1.holds()),
                XenStep.InvariantState.of(i2.holds()), XenStep.InvariantState.of(i6.holds()),
                XenStep.InvariantState.of(first == null));
        String text = "I1 " + i1 + "; I2 " + i2 + "; I6 " + i6 + "; I7 " + (first == null ? "holds over "
                + s.get(XenModule.XEN).vcpuSteps() + " vCPU step(s)" : first);
        List<Check> checks = step.expect() == null ? List.of() : Facts.compare(step.expect(), seen);
        boolean all = i1.holds() && i2.holds() && i6.holds() && first == null;
        return new StepResult(s, new Observation(all ? "holds" : "violated", text, Facts.of(seen)), checks);
    }

    static StepResult expectFrame(MachineState s, XenStep.ExpectFrame step) {
        FrameInfo f = machine(s).frames().get(step.mfn());
        XenStep.ExpectFrame seen = new XenStep.ExpectFrame(step.mfn(), new XenStep.Owner(f.owner()),
                XenStep.find(XenStep.FrameType.class, t -> t.type, f.type()), f.typeCount(), f.count(),
                f.validated(), f.pinned());
        Map<String, String> facts = Facts.of(seen);
        facts.remove("mfn");
        List<Check> checks = Facts.compare(step, seen);
        checks.removeIf(c -> c.what().equals("mfn"));
        return new StepResult(s, new Observation("ok", f.toString(), facts), checks);
    }
}
