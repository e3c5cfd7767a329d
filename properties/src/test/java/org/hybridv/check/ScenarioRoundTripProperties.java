package org.hybridv.check;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.hybridv.gen.HybridCases;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.WholeSystemCases;
import org.hybridv.guest.GuestOp;
import org.hybridv.scenario.NumberedStep;
import org.hybridv.scenario.Observation;
import org.hybridv.scenario.ParseResult;
import org.hybridv.scenario.Replay;
import org.hybridv.scenario.Scenario;
import org.hybridv.scenario.Scenarios;
import org.hybridv.scenario.StepReport;
import org.hybridv.scenario.hybrid.HybridStep;
import org.hybridv.scenario.modules.Modules;
import org.hybridv.scenario.xen.XenModule;
import org.hybridv.scenario.xen.XenStep;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.AccessKind;
import org.hybridv.xen.Faults;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypercalls;

/**
 * The checker writes its runs as scenarios by making each op a step record ({@link XenStep.Guest#of},
 * {@link XenStep.Hypercall#of}, {@link HybridStep.Kernel#of}) and serializing it with the scenario layer's mapper
 * ({@link Capture#step}); reading what it writes gives back the same record and the operation (read(write(op)) = op,
 * for every operation the generators produce), and a run written as a counterexample replays to the observations the
 * run itself made, step for step.
 *
 * <p>"Equals" is the format's: the arguments an mmuext command does not take are not part of the hypercall (Xen
 * never reads them; docs/scenario-format.md, {@code hypercall}), and a kernel read or fetch carries no value.
 */
class ScenarioRoundTripProperties {
    private static final String SEED = org.hybridv.properties.Budget.SEED;
    private final Scenarios scenarios = new Scenarios(Modules.standard());

    @Provide
    Arbitrary<HypervisorCases.Run> hypervisorRuns() {
        return JqwikChoices.arbitrary(HypervisorCases::generate);
    }

    @Provide
    Arbitrary<HybridCases.Run> hybridRuns() {
        return JqwikChoices.arbitrary(HybridCases::generate);
    }

    @Provide
    Arbitrary<WholeSystemCases.Run> wholeSystemRuns() {
        return JqwikChoices.arbitrary(WholeSystemCases::generate);
    }

    @Property(seed = SEED, tries = 150)
    void hypervisorOpsReadBackAsWritten(@ForAll("hypervisorRuns") HypervisorCases.Run run) {
        List<NumberedStep> read = readBack(new HypervisorProperty(), run);
        int j = 0;
        for (int i = 0; i < run.ops().size(); i++) {
            assertVcpuStep(run.ops().get(i), read.get(j++));
            j = afterCompletion(read, j);
        }
        assertThat(read.get(j).step()).isInstanceOf(XenStep.CheckInvariants.class);
    }

    /**
     * The index after the {@code deliverIpi} and {@code continueHypercall} steps from {@code j} on: on several pCPUs
     * an op's hypercall is written with the steps that ran it to its end ({@link Completed}).
     */
    private static int afterCompletion(List<NumberedStep> read, int j) {
        int k = j;
        while (read.get(k).step() instanceof XenStep.DeliverIpi || read.get(k).step()
                instanceof XenStep.ContinueHypercall) {
            k++;
        }
        return k;
    }

    @Property(seed = SEED, tries = 150)
    void kernelOpsReadBackAsWritten(@ForAll("hybridRuns") HybridCases.Run run) {
        List<NumberedStep> read = readBack(new HybridKernelProperty(), run);
        for (int i = 0; i < run.ops().size(); i++) {
            assertKernelStep(run.ops().get(i), read.get(i));
        }
    }

    @Property(seed = SEED, tries = 100)
    void wholeSystemOpsReadBackAsWritten(@ForAll("wholeSystemRuns") WholeSystemCases.Run run) {
        List<NumberedStep> read = readBack(new WholeSystemProperty(), run);
        int j = 0;
        for (int i = 0; i < run.ops().size(); i++) {
            if (run.ops().get(i) instanceof WholeSystemCases.Op.Kernel k) {
                assertKernelStep(k.op(), read.get(j++));
            } else if (run.ops().get(i) instanceof WholeSystemCases.Op.Schedule sc) {
                // a migration of an adversarial vCPU (a run on several pCPUs) reads back as the schedule step
                assertThat(read.get(j++).step()).isEqualTo(new XenStep.Schedule(sc.vcpu().domain(),
                        sc.vcpu().vcpu(), sc.pcpu(), null));
            } else {
                assertVcpuStep(((WholeSystemCases.Op.Vcpu) run.ops().get(i)).op(), read.get(j++));
                j = afterCompletion(read, j);
            }
        }
    }

    /**
     * A hypervisor run written as the checker writes a counterexample (its last step the invariant check) replays to
     * the observations the run made when the property ran it: the same outcome, facts and VM exits at every step.
     */
    @Property(seed = SEED, tries = 100)
    void aWrittenRunReplaysToTheRunsObservations(@ForAll("hypervisorRuns") HypervisorCases.Run run) {
        HypervisorProperty p = new HypervisorProperty();
        List<Observation> observed = new ArrayList<>();
        List<Integer> written = new ArrayList<>();
        p.check(run, Faults.NONE, (pre, op, step) -> {
            // an op whose hypercall waited for flush IPIs or went on entry by entry (several pCPUs) is written with
            // the steps that ran it to its end; its own step then replays as "waiting", so only the others compare
            int n = Completed.run(pre, op).scenario().size();
            written.add(n);
            observed.add(n == 1 ? XenModule.observe(step, op.insn() instanceof GuestInstruction.Vmcall) : null);
        });
        // the run holds (HypervisorProperties), so every op ran: write them all
        assertThat(observed).hasSize(run.ops().size());
        Replay r = scenarios.replay("run.json", bytes(p.scenario(run, Faults.NONE, everyStep()), "run"));
        assertThat(r.error()).as("%s", run).isNull();
        List<StepReport> steps = r.steps();
        assertThat(steps).hasSize(written.stream().mapToInt(Integer::intValue).sum() + 1);
        int at = 0;
        for (int i = 0; i < observed.size(); i++) {
            if (observed.get(i) != null) {
                assertThat(steps.get(at).result().observed()).as("step %d of %s", at + 1, run)
                        .isEqualTo(observed.get(i));
            } else {
                assertThat(steps.get(at).result().observed().result()).as("step %d of %s", at + 1, run)
                        .isEqualTo("waiting");
            }
            at += written.get(i);
        }
    }

    // ------------------------------------------------------------------ helpers

    private static Verdict.Violated everyStep() {
        return new Verdict.Violated("I1", "-", Integer.MAX_VALUE, "-");
    }

    static byte[] bytes(ObjectNode body, String title) {
        ObjectNode doc = JsonNodeFactory.instance.objectNode();
        doc.put("format", Scenario.FORMAT);
        doc.put("title", title);
        doc.set("machine", body.get("machine"));
        doc.set("steps", body.get("steps"));
        return Capture.bytes(doc);
    }

    /** The steps read back from {@code run} written as a counterexample (all its ops, then the invariant check). */
    private <R> List<NumberedStep> readBack(SystemProperty<R> p, R run) {
        ParseResult parsed = scenarios.parser().parse("run.json", bytes(p.scenario(run, Faults.NONE, everyStep()),
                p.name()));
        assertThat(parsed).as("%s", parsed).isInstanceOf(ParseResult.Parsed.class);
        return ((ParseResult.Parsed) parsed).scenario().steps();
    }

    private static void assertVcpuStep(HypervisorCases.Op op, NumberedStep read) {
        assertThat(read.step()).as("%s", op).isEqualTo(HypervisorProperty.step(op));
        if (op.insn() instanceof GuestInstruction.Vmcall) {
            XenStep.Hypercall h = (XenStep.Hypercall) read.step();
            assertThat(List.of(h.domain(), h.vcpu())).isEqualTo(List.of(op.vcpu().domain(), op.vcpu().vcpu()));
            assertThat(h.cpl()).isNull();
            assertThat(h.hypercall()).as("%s", op).isEqualTo(asTheFormatHasIt(op.regs()));
        } else {
            XenStep.Guest g = (XenStep.Guest) read.step();
            assertThat(List.of(g.domain(), g.vcpu())).isEqualTo(List.of(op.vcpu().domain(), op.vcpu().vcpu()));
            assertThat(g.cpl()).isNull();
            assertThat(g.instruction()).as("%s", op).isEqualTo(op.insn());
        }
    }

    private static void assertKernelStep(GuestOp op, NumberedStep read) {
        assertThat(read.step()).as("%s", op).isEqualTo(HybridKernelProperty.step(op));
        assertThat(((HybridStep.Kernel) read.step()).operation()).as("%s", op).isEqualTo(asTheFormatHasIt(op));
    }

    /** An mmuext command without an argument (the TLB flushes) has none in the format: Xen ignores the register. */
    private static Hypercall asTheFormatHasIt(Hypercall h) {
        if (h.number() == Hypercalls.HYPERVISOR_MMUEXT_OP) {
            int cmd = (int) h.arg(0);
            boolean takesOne = cmd <= Hypercalls.MMUEXT_NEW_BASEPTR || cmd == Hypercalls.MMUEXT_INVLPG_LOCAL
                    || cmd == Hypercalls.MMUEXT_INVLPG_ALL || cmd == Hypercalls.MMUEXT_MARK_SUPER
                    || cmd == Hypercalls.MMUEXT_UNMARK_SUPER;
            return takesOne ? h : Hypercall.mmuextOp(cmd, 0);
        }
        return h;
    }

    /** A kernel read or fetch carries no value in the format (only a write stores one). */
    private static GuestOp asTheFormatHasIt(GuestOp op) {
        if (op instanceof GuestOp.OnCpu o) {
            return new GuestOp.OnCpu(o.cpu(), asTheFormatHasIt(o.op())); // the SMP kernel: the same on CPU 1
        }
        if (op instanceof GuestOp.UserAccess a && a.kind() != AccessKind.WRITE) {
            return new GuestOp.UserAccess(a.linear(), a.kind(), 0);
        }
        if (op instanceof GuestOp.KernelAccess a && a.kind() != AccessKind.WRITE) {
            return new GuestOp.KernelAccess(a.linear(), a.kind(), 0);
        }
        return op;
    }
}
