package org.hybridv.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.KernelResult;
import org.hybridv.guest.KernelStep;
import org.hybridv.guest.Layout;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.Observed;
import org.hybridv.x86.AccessKind;
import org.hybridv.xen.MmuMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The workload contract (KRN-1..KRN-8 of docs/rules/hybrid.md) against the reference kernel, and each of its rules
 * against a kernel result that breaks it. The expected results are the rules' (a fresh page reads zero, a write to a
 * read-only user page is a #PF with error code P|W|U = 7 and CR2 the address, SDM Vol. 3A §4.7, §6.15), written here
 * by hand, not read from the kernel.
 */
class KernelContractTest {
    private static final long PAGE0 = Layout.userPage(0);
    private static final long PAGE1 = Layout.userPage(1);

    /** The steps of {@code ops} on a kernel in {@code mode} (two CPUs when asked), in lockstep with its twin. */
    private static List<Lockstep.LockstepStep> run(MmuMode mode, int cpus, GuestOp... ops) {
        Lockstep l = Lockstep.start(mode, 64, org.hybridv.gen.HybridCases.XEN_FRAMES, org.hybridv.xen.Faults.NONE, cpus);
        List<Lockstep.LockstepStep> out = new ArrayList<>();
        for (GuestOp op : ops) {
            Lockstep.LockstepStep s = l.step(op);
            out.add(s);
            l = s.post();
        }
        return out;
    }

    /** The contract's verdict on each step, in order (empty: the result is the one it allows). */
    private static List<Optional<KernelContract.Violation>> judged(List<Lockstep.LockstepStep> steps) {
        KernelContract c = new KernelContract();
        return steps.stream().map(c::step).toList();
    }

    /** The step {@code s} with the guest's result replaced by {@code result} (a kernel that broke a rule). */
    private static Lockstep.LockstepStep returning(Lockstep.LockstepStep s, KernelResult result) {
        KernelStep g = s.guest();
        return new Lockstep.LockstepStep(s.pre(), new KernelStep(g.op(), g.post(), result, g.trace()), s.twin(),
                s.post());
    }

    /** The first violation when the last step's result is replaced by {@code result}. */
    private static Optional<KernelContract.Violation> lastReturning(List<Lockstep.LockstepStep> steps,
            KernelResult result) {
        KernelContract c = new KernelContract();
        for (int i = 0; i < steps.size() - 1; i++) {
            assertThat(c.step(steps.get(i))).as("step " + (i + 1) + " " + steps.get(i).guest().op()).isEmpty();
        }
        return c.step(returning(steps.get(steps.size() - 1), result));
    }

    private static List<Lockstep.LockstepStep> workload(MmuMode mode) {
        return run(mode, 1, new GuestOp.Boot(BootStage.DIRECT), new GuestOp.NewProcess(), new GuestOp.SwitchTo(1),
                new GuestOp.Map(0, false), new GuestOp.UserAccess(PAGE0 + 8, AccessKind.READ, 0),
                new GuestOp.UserAccess(PAGE1 + 16, AccessKind.WRITE, 0x3333),
                new GuestOp.UserAccess(PAGE1 + 16, AccessKind.READ, 0),
                new GuestOp.KernelAccess(PAGE1 + 16, AccessKind.WRITE, 0x22),
                new GuestOp.UserAccess(PAGE1 + 16, AccessKind.FETCH, 0), new GuestOp.Syscall(),
                new GuestOp.KernelAccess(PAGE0, AccessKind.WRITE, 0x22), new GuestOp.Unmap(1),
                new GuestOp.UserAccess(PAGE1 + 16, AccessKind.READ, 0),
                new GuestOp.UserAccess(PAGE0, AccessKind.WRITE, 5));
    }

    @Test
    void theReferenceKernelKeepsTheContractInEveryMode() {
        for (MmuMode mode : List.of(MmuMode.SHADOW, MmuMode.HAP)) {
            List<Lockstep.LockstepStep> steps = workload(mode);
            assertThat(judged(steps)).as(mode.name()).allSatisfy(v -> assertThat(v).isEmpty());
            // what the rules say each step returns
            assertThat(steps.get(1).guest().result()).isEqualTo(new KernelResult.Created(1));
            assertThat(steps.get(4).guest().result()).isEqualTo(new KernelResult.Read(0)); // KRN-4: zeros
            assertThat(steps.get(5).guest().result()).isEqualTo(new KernelResult.Read(0x3333)); // demand-paged
            assertThat(steps.get(6).guest().result()).isEqualTo(new KernelResult.Read(0x3333)); // KRN-8
            assertThat(steps.get(8).guest().result()).isEqualTo(new KernelResult.Read(0x22)); // the kernel's write
            assertThat(steps.get(9).guest().result()).isEqualTo(new KernelResult.Read(1)); // getpid
            assertThat(steps.get(10).guest().result()).isInstanceOf(KernelResult.Oops.class); // CR0.WP
            assertThat(steps.get(12).guest().result()).isEqualTo(new KernelResult.Read(0)); // unmapped: new zeros
            assertThat(steps.get(13).guest().result())
                    .isEqualTo(new KernelResult.Killed(1, new Observed.Fault(14, 7, PAGE0))); // KRN-5
        }
    }

    @Test
    void aStaleWordAfterAnUnmapBreaksKrn8() {
        List<Lockstep.LockstepStep> steps = workload(MmuMode.SHADOW).subList(0, 13);
        Optional<KernelContract.Violation> v = lastReturning(steps, new KernelResult.Read(0x22));
        assertThat(v).get().extracting(KernelContract.Violation::rule).isEqualTo("KRN-5");
        assertThat(v.get().explanation()).contains("KRN-8").contains("Read[0x0]");
    }

    @Test
    void aWriteToAReadOnlyPageThatCompletesBreaksKrn5() {
        List<Lockstep.LockstepStep> steps = workload(MmuMode.HAP);
        assertThat(lastReturning(steps, new KernelResult.Read(5))).get()
                .extracting(KernelContract.Violation::rule).isEqualTo("KRN-5");
        // the right kill with the wrong error code (I/D is 0: EFER.NXE = 0 and CR4.SMEP = 0) is a violation too
        assertThat(lastReturning(steps, new KernelResult.Killed(1, new Observed.Fault(14, 0x17, PAGE0)))).isPresent();
    }

    @Test
    void eachOperationsResultIsJudgedByItsRule() {
        List<Lockstep.LockstepStep> steps = workload(MmuMode.SHADOW);
        assertThat(lastReturning(steps.subList(0, 2), new KernelResult.Created(2))).get()
                .extracting(KernelContract.Violation::rule).isEqualTo("KRN-2");
        assertThat(lastReturning(steps.subList(0, 3), new KernelResult.NotApplicable("no"))).get()
                .extracting(KernelContract.Violation::rule).isEqualTo("KRN-3");
        assertThat(lastReturning(steps.subList(0, 4), new KernelResult.NotApplicable("no"))).get()
                .extracting(KernelContract.Violation::rule).isEqualTo("KRN-4");
        assertThat(lastReturning(steps.subList(0, 10), new KernelResult.Read(0))).get()
                .extracting(KernelContract.Violation::rule).isEqualTo("KRN-6");
        assertThat(lastReturning(steps.subList(0, 11), new KernelResult.Read(0x22))).get()
                .extracting(KernelContract.Violation::rule).isEqualTo("KRN-7");
        assertThat(lastReturning(steps.subList(0, 12), new KernelResult.NotApplicable("no"))).get()
                .extracting(KernelContract.Violation::rule).isEqualTo("KRN-4");
    }

    @Test
    void beforePagingIsOnNothingAppliesKrn1() {
        List<Lockstep.LockstepStep> steps = run(MmuMode.SHADOW, 1, new GuestOp.NewProcess());
        assertThat(judged(steps)).containsExactly(Optional.empty());
        assertThat(lastReturning(steps, new KernelResult.Created(1))).get()
                .extracting(KernelContract.Violation::rule).isEqualTo("KRN-1");
    }

    @Test
    void aKillMovesEveryCpuOfTheProcessToTheKernelsTables() {
        List<Lockstep.LockstepStep> steps = run(MmuMode.HAP, 2, new GuestOp.Boot(BootStage.DIRECT),
                new GuestOp.StartAp(1), new GuestOp.NewProcess(), new GuestOp.SwitchTo(1),
                new GuestOp.OnCpu(1, new GuestOp.SwitchTo(1)),
                new GuestOp.OnCpu(1, new GuestOp.UserAccess(Layout.CURRENT_VAR, AccessKind.READ, 0)),
                new GuestOp.Syscall(), new GuestOp.OnCpu(1, new GuestOp.Syscall()),
                new GuestOp.UserAccess(PAGE0, AccessKind.READ, 0));
        assertThat(judged(steps)).allSatisfy(v -> assertThat(v).isEmpty());
        // a user read of the kernel's data: present, supervisor: #PF P|U = 5 (KRN-5)
        assertThat(steps.get(5).guest().result())
                .isEqualTo(new KernelResult.Killed(1, new Observed.Fault(14, 5, Layout.CURRENT_VAR)));
        assertThat(steps.get(6).guest().result()).isEqualTo(new KernelResult.Read(0)); // CPU 0 left pid 1 too
        assertThat(steps.get(8).guest().result()).isInstanceOf(KernelResult.NotApplicable.class);
        // a kernel that left CPU 0 on the dead process's tables would still answer getpid with 1
        assertThat(lastReturning(steps.subList(0, 7), new KernelResult.Read(1))).get()
                .extracting(KernelContract.Violation::rule).isEqualTo("KRN-6");
    }

    /**
     * A workload-contract finding is written as the run's kernel steps with the last one expecting the result the
     * contract requires ({@code HybridStep.KernelExpect.of}): on a kernel that returns it the file replays, on one
     * that does not it fails at that step. Shown here on the reference with the expectation the contract states and
     * with another one.
     */
    @Test
    void aContractExpectationReplaysOnAKernelThatKeepsItAndFailsOnOneThatDoesNot(@TempDir java.nio.file.Path dir)
            throws Exception {
        List<GuestOp> ops = List.of(new GuestOp.Boot(BootStage.DIRECT), new GuestOp.NewProcess(),
                new GuestOp.SwitchTo(1), new GuestOp.UserAccess(PAGE1 + 16, AccessKind.WRITE, 0x3333),
                new GuestOp.Unmap(1), new GuestOp.UserAccess(PAGE1 + 16, AccessKind.READ, 0),
                new GuestOp.UserAccess(Layout.CURRENT_VAR, AccessKind.WRITE, 5));
        org.hybridv.gen.HybridCases.Run run = new org.hybridv.gen.HybridCases.Run(MmuMode.SHADOW, 64, ops);
        for (int n : new int[] {6, 7}) {
            // KRN-8: a fresh page after the unmap reads zero; KRN-5: a user write to the kernel's data kills with
            // #PF error code P|W|U = 7
            KernelResult contract = n == 6 ? new KernelResult.Read(0)
                    : new KernelResult.Killed(1, new Observed.Fault(14, 7, Layout.CURRENT_VAR));
            assertThat(replay(dir, run, n, contract).exit()).as("step " + n).isZero();
            KernelResult other = n == 6 ? new KernelResult.Read(0x3333)
                    : new KernelResult.Killed(1, new Observed.Fault(14, 6, Layout.CURRENT_VAR));
            org.hybridv.cli.Cli.Result bad = replay(dir, run, n, other);
            assertThat(bad.exit()).as(bad.all()).isEqualTo(1);
            assertThat(bad.all()).contains("step " + n);
        }
    }

    /** Replays {@code run}'s first {@code n} operations, the last one expecting {@code expected}. */
    private static org.hybridv.cli.Cli.Result replay(java.nio.file.Path dir, org.hybridv.gen.HybridCases.Run run,
            int n, KernelResult expected) throws Exception {
        com.fasterxml.jackson.databind.node.ObjectNode body = new HybridKernelProperty().scenario(run,
                org.hybridv.xen.Faults.NONE, new Verdict.Violated("I3", "I3-result", n, "a fixture"));
        com.fasterxml.jackson.databind.node.ArrayNode steps = (com.fasterxml.jackson.databind.node.ArrayNode) body
                .get("steps");
        steps.remove(steps.size() - 1); // the checkHybrid step
        steps.remove(steps.size() - 1);
        steps.add(Capture.step(org.hybridv.scenario.hybrid.HybridStep.Kernel.of(run.ops().get(n - 1)).withExpect(
                org.hybridv.scenario.hybrid.HybridStep.KernelExpect.of(expected))));
        com.fasterxml.jackson.databind.node.ObjectNode doc = com.fasterxml.jackson.databind.node.JsonNodeFactory
                .instance.objectNode();
        doc.put("format", "hybridv-scenario/1");
        doc.put("title", "workload contract fixture");
        doc.set("machine", body.get("machine"));
        doc.set("steps", steps);
        java.nio.file.Path f = dir.resolve("krn-" + n + "-" + expected.getClass().getSimpleName() + "-"
                + Integer.toHexString(expected.hashCode()) + ".json");
        java.nio.file.Files.write(f, Capture.bytes(doc));
        return org.hybridv.cli.Cli.run("replay", "-q", f.toString());
    }
}
