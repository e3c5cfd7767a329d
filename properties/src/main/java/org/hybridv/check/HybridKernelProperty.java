package org.hybridv.check;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.hybridv.gen.Choices;
import org.hybridv.gen.HybridCases;
import org.hybridv.guest.Executed;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.KernelResult;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.Observed;
import org.hybridv.guest.XenPlatform;
import org.hybridv.invariants.HybridInvariants;
import org.hybridv.x86.ErrorCode;
import org.hybridv.xen.CpuidIdentity;
import org.hybridv.xen.Faults;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.scenario.hybrid.HybridStep;
import org.hybridv.scenario.xen.XenStep;

/**
 * The hybrid kernel in a shadow-mode or HAP domain, in lockstep with its native twin, through random boot /
 * workload / SWITCH_MMU sequences ({@link HybridCases}); I1–I8 after every operation ({@link HybridInvariants}), then
 * the event budgets BUD-1..BUD-10, BUD-12 ({@link EventBudgets}), then the workload contract KRN-1..KRN-8
 * ({@link KernelContract}: what each operation returns, judged against a model of the processes' pages, which I3's
 * twin cannot give since it runs the same kernel). About one run in four is of the SMP kernel (two vCPUs on
 * two pCPUs and a two-processor twin, {@link HybridCases#smp}); floors require a SWITCH_MMU with the sibling running
 * on another pCPU (PRE-3) and each form of an unmap's cross-CPU flush (a flush IPI in shadow mode and under HAP,
 * {@code MMUEXT_INVLPG_MULTI} in direct mode, MX-7). Its counterexamples are {@code kernel} scenarios.
 */
public final class HybridKernelProperty implements SystemProperty<HybridCases.Run> {
    @Override
    public String name() {
        return "hybrid-kernel";
    }

    @Override
    public String description() {
        return "hybrid kernel vs its native twin through boot, workload and SWITCH_MMU; I1-I8, the event budgets"
                + " and the workload contract after every operation";
    }

    @Override
    public HybridCases.Run generate(Choices c) {
        return HybridCases.generate(c);
    }

    @Override
    public int length(HybridCases.Run run) {
        return run.ops().size();
    }

    @Override
    public Verdict check(HybridCases.Run run, Faults faults) {
        return check(run, faults, s -> { });
    }

    @Override
    public Verdict check(HybridCases.Run run, Faults faults, Coverage.Sink coverage) {
        return check(run, faults, s -> classify(s, coverage));
    }

    /**
     * The coverage of one lockstep step: the boot stage reached, the kernel's result, each SWITCH_MMU's outcome (the
     * refusing rule), each user #PF by MMU mode and whether it cost a VM exit, and each oops.
     */
    static void classify(Lockstep.LockstepStep s, Coverage.Sink coverage) {
        coverage.collect("stage", s.guest().post().kernel().stage().name());
        if (s.pre().guest().kernel().stage().compareTo(org.hybridv.guest.BootStage.LONG) <= 0
                && s.guest().post().kernel().stage().compareTo(org.hybridv.guest.BootStage.LONG) > 0
                && s.guest().post().platform() instanceof XenPlatform x) {
            // BOOT-2: which answer the boot's CPUID scan got, and where it went
            org.hybridv.xen.CpuidIdentity id = x.machine().domain(x.vcpu().domain()).identity();
            coverage.collect("detect", (id.signature().equals(org.hybridv.xen.CpuidIdentity.XEN_SIGNATURE)
                    ? "Xen" : id.signature().equals(org.hybridv.xen.CpuidIdentity.KVM_SIGNATURE) ? "KVM" : "other")
                    + " at " + Long.toHexString(id.base()) + " → " + s.guest().post().kernel().stage());
        }
        coverage.collect("result", s.guest().result().getClass().getSimpleName());
        for (Executed e : s.guest().trace()) {
            if (e.isHypercall(Hypercalls.HYPERVISOR_SWITCH_MMU) && e.hv().isPresent()) {
                VcpuOutcome o = e.hv().get().outcome();
                coverage.collect("switch", o instanceof VcpuOutcome.HypercallRefused r ? "refused " + r.rule()
                        : "accepted");
                if (o instanceof VcpuOutcome.HypercallDone) {
                    // POST-3 for every address space: the root is a process's, the kernel's tables pinned beside it
                    coverage.collect("switch root", s.pre().guest().kernel().current() != 0
                            ? "a process's tables (the kernel's pinned)" : "the kernel's tables");
                    org.hybridv.guest.KernelState k = s.pre().guest().kernel();
                    if (k.onlineCpus().stream().anyMatch(c -> c != 0 && k.current(c) != k.current())) {
                        coverage.collect(SMP_LABEL, "SWITCH_MMU accepted with the AP on another address space");
                    }
                }
                if (o instanceof VcpuOutcome.HypercallDone && e.pre() instanceof XenPlatform before
                        && siblingRunningElsewhere(before.machine(), before.vcpu())) {
                    coverage.collect(SMP_LABEL, "SWITCH_MMU accepted with the sibling running on another pCPU");
                }
            }
            if (e.isHypercall(Hypercalls.HYPERVISOR_MMUEXT_OP) && e.regs().arg(0) == Hypercalls.MMUEXT_INVLPG_MULTI) {
                coverage.collect(SMP_LABEL, "unmap flushed on another vCPU: INVLPG_MULTI");
            }
            if (e.instruction() instanceof org.hybridv.vmx.GuestInstruction.Invlpg
                    && e.pre().cpu() != opCpu(s.guest().op())) {
                coverage.collect(SMP_LABEL, "unmap flushed on another CPU: flush IPI, " + e.pre().name());
            }
            if (e.platform() instanceof XenPlatform x && e.observed() instanceof Observed.Fault f && f.isPageFault()
                    && (f.errorCode() & ErrorCode.US) != 0) {
                coverage.collect("user #PF", x.mode() + (e.exits().total() == 0 ? ", 0 exits" : ", exits"));
            }
        }
        if (s.pre().guest().platform() instanceof XenPlatform x) {
            coverage.collect(BUDGET_LABEL, budgetRow(s.guest().op(), x.mode()));
        }
        GuestOp inner = s.guest().op() instanceof GuestOp.OnCpu o ? o.op() : s.guest().op();
        if (inner instanceof GuestOp.TimerTick || inner instanceof GuestOp.Idle i && i.ticks() > 0) {
            // BOOT-9, BOOT-10: which timer and idle the kernel used, and how its interrupt came
            boolean pvTimer = s.guest().trace().stream().anyMatch(e -> e.isHypercall(
                    org.hybridv.xen.PvHypercalls.HYPERVISOR_VCPU_OP));
            coverage.collect(TIMER_LABEL, s.guest().post().platform().name() + (pvTimer ? ", PV timer and upcall"
                    : ", x2APIC timer") + " → " + s.guest().result().getClass().getSimpleName());
        }
        if (inner instanceof GuestOp.BlockRead || inner instanceof GuestOp.BlockWrite) {
            // BLK-6, EMU-7: which block path the kernel took, on which platform, and what it returned
            boolean split = s.guest().trace().stream().anyMatch(e -> e.isHypercall(
                    org.hybridv.xen.PvHypercalls.HYPERVISOR_EVENT_CHANNEL_OP));
            boolean ports = s.guest().trace().stream().anyMatch(e -> e.instruction()
                    instanceof org.hybridv.vmx.GuestInstruction.Io);
            coverage.collect(BLOCK_LABEL, s.guest().post().platform().name() + (split ? ", split driver"
                    : ports ? ", ATA" : ", no request") + " → " + s.guest().result().getClass().getSimpleName());
        }
        if (s.guest().result() instanceof KernelResult.Oops o) {
            coverage.collect("oops", o.what().replaceAll(" 0x[0-9a-f]+", " N"));
        }
        contract(inner, s.guest().result(), coverage);
    }

    /** The coverage label of the cases where the workload contract (KRN-4, KRN-5, KRN-7, KRN-8) has most to say. */
    static final String CONTRACT_LABEL = "contract";

    private static void contract(GuestOp op, KernelResult result, Coverage.Sink coverage) {
        if (op instanceof GuestOp.UserAccess a) {
            if (result instanceof KernelResult.Killed k && k.why() instanceof Observed.Fault f && f.isPageFault()
                    && f.errorCode() == 7) {
                coverage.collect(CONTRACT_LABEL, "user write to a read-only user page kills");
            }
            if (a.kind() != org.hybridv.x86.AccessKind.WRITE && result instanceof KernelResult.Read r
                    && r.value() != 0) {
                coverage.collect(CONTRACT_LABEL, "user read of a word written before");
            }
        }
        if (op instanceof GuestOp.KernelAccess a && org.hybridv.guest.Layout.userPageOf(a.linear()) >= 0) {
            coverage.collect(CONTRACT_LABEL, "kernel access to a user page: "
                    + (result instanceof KernelResult.Oops ? "oops" : "completes"));
        }
    }

    /** The coverage label of the kernel's block requests (BLK-6, EMU-7). */
    static final String BLOCK_LABEL = "block";

    /** The coverage label of the kernel's timer paths (BOOT-9, BOOT-10). */
    static final String TIMER_LABEL = "timer";

    /** The coverage label of the SMP kernel's cross-CPU events. */
    static final String SMP_LABEL = "smp";

    /** The CPU an operation runs on ({@link GuestOp.OnCpu}; the boot CPU otherwise). */
    static int opCpu(GuestOp op) {
        return op instanceof GuestOp.OnCpu o ? o.cpu() : 0;
    }

    /** Whether another vCPU of {@code caller}'s domain runs in non-root operation on another pCPU of {@code m}. */
    static boolean siblingRunningElsewhere(org.hybridv.xen.XenMachine m, org.hybridv.xen.VcpuId caller) {
        for (org.hybridv.xen.Vcpu v : m.domain(caller.domain()).vcpus()) {
            if (!v.id().equals(caller) && v.pcpu() != m.vcpu(caller).pcpu() && m.running(v.id())) {
                return true;
            }
        }
        return false;
    }

    /** The coverage label of the event-budget rows an operation exercised. */
    static final String BUDGET_LABEL = "budget row";

    /** The row of docs/rules/hybrid.md's budget table an operation in {@code mode} falls under ("BUD-4 DIRECT"). */
    static String budgetRow(GuestOp op, MmuMode mode) {
        if (op instanceof GuestOp.OnCpu o) {
            op = o.op();
        }
        String rule = op instanceof GuestOp.Boot || op instanceof GuestOp.SwitchMmu || op instanceof GuestOp.StartAp
                ? "BUD-10"
                : op instanceof GuestOp.Syscall ? "BUD-2"
                : op instanceof GuestOp.Map || op instanceof GuestOp.Unmap ? "BUD-4"
                : op instanceof GuestOp.UserAccess ? "BUD-5"
                : op instanceof GuestOp.SwitchTo ? "BUD-6"
                : op instanceof GuestOp.NewProcess ? "BUD-7"
                : op instanceof GuestOp.KernelAccess ? "BUD-8"
                : op instanceof GuestOp.TimerTick || op instanceof GuestOp.Idle i && i.ticks() > 0 ? "BUD-12"
                : "BUD-9";
        return rule + " " + mode;
    }

    /** Calibrated at the CI budget (300 tries, seed 20261123). */
    private static final List<Coverage.Floor> FLOORS = floorList();

    private static List<Coverage.Floor> floorList() {
        List<Coverage.Floor> f = new ArrayList<>();
        f.add(Coverage.Floor.atLeast("switch", "accepted", 5));
        f.add(Coverage.Floor.reached("switch root", "a process's tables (the kernel's pinned)"));
        f.add(Coverage.Floor.reached("switch root", "the kernel's tables"));
        for (String rule : List.of("PRE-1", "XSA-76", "SP-1", "L1-3", "L1-2", "SLOT-1", "LIN-1")) {
            f.add(Coverage.Floor.atLeast("switch", "refused " + rule, 0.5));
        }
        f.addAll(List.of(Coverage.Floor.atLeast("user #PF", "DIRECT, 0 exits", 5),
                Coverage.Floor.atLeast("user #PF", "SHADOW, exits", 5),
                Coverage.Floor.atLeast("user #PF", "HAP, 0 exits", 2),
                Coverage.Floor.atLeast("stage", "DIRECT", 15),
                Coverage.Floor.atLeast("stage", "HYPERCALL_PAGE_INSTALLED", 10),
                Coverage.Floor.atLeast("result", "Read", 10),
                Coverage.Floor.atLeast("result", "Killed", 2),
                Coverage.Floor.atLeast("result", "Created", 3),
                Coverage.Floor.reached("stage", "KVM"),
                Coverage.Floor.reached(TIMER_LABEL, "direct, PV timer and upcall → Ticked"),
                Coverage.Floor.reached(TIMER_LABEL, "shadow, x2APIC timer → Ticked"),
                Coverage.Floor.reached(TIMER_LABEL, "HAP, PV timer and upcall → Idled"),
                Coverage.Floor.reached("detect", "Xen at 40000100 → HYPERCALL_PAGE_INSTALLED"),
                Coverage.Floor.reached("detect", "other at 40000000 → NATIVE"),
                Coverage.Floor.reached(BLOCK_LABEL, "direct, split driver → Sector"),
                Coverage.Floor.reached(BLOCK_LABEL, "shadow, split driver → Done"),
                Coverage.Floor.reached(BLOCK_LABEL, "HAP, ATA → Sector")));
        // the workload contract's corners (docs/rules/hybrid.md KRN-5, KRN-7, KRN-8)
        for (String what : List.of("user write to a read-only user page kills", "user read of a word written before",
                "kernel access to a user page: oops", "kernel access to a user page: completes")) {
            f.add(Coverage.Floor.reached(CONTRACT_LABEL, what));
        }
        // the SMP kernel: a switch with the sibling running on another pCPU (PRE-3), and an unmap's cross-CPU flush
        // in every form (docs/smp.md, "The SMP hybrid kernel")
        for (String what : List.of("SWITCH_MMU accepted with the sibling running on another pCPU",
                "SWITCH_MMU accepted with the AP on another address space",
                "unmap flushed on another CPU: flush IPI, shadow", "unmap flushed on another CPU: flush IPI, HAP",
                "unmap flushed on another vCPU: INVLPG_MULTI")) {
            f.add(Coverage.Floor.reached(SMP_LABEL, what));
        }
        // every row of the event-budget table (docs/rules/hybrid.md BUD-2..BUD-10) in every VMX mode
        for (String rule : List.of("BUD-2", "BUD-4", "BUD-5", "BUD-6", "BUD-7", "BUD-8", "BUD-9", "BUD-10")) {
            for (MmuMode m : MmuMode.values()) {
                f.add(Coverage.Floor.reached(BUDGET_LABEL, rule + " " + m));
            }
        }
        return List.copyOf(f);
    }

    @Override
    public List<Coverage.Floor> floors() {
        return FLOORS;
    }

    /** {@link #check(HybridCases.Run, Faults)}, showing each lockstep step to {@code observer} (statistics). */
    public Verdict check(HybridCases.Run run, Faults faults, Consumer<Lockstep.LockstepStep> observer) {
        Lockstep l = run.start(faults);
        KernelContract contract = new KernelContract();
        int step = 0;
        for (GuestOp op : run.ops()) {
            step++;
            Lockstep.LockstepStep s = l.step(op);
            observer.accept(s);
            List<HybridInvariants.Violation> v = HybridInvariants.check(s);
            if (!v.isEmpty()) {
                HybridInvariants.Violation first = v.get(0);
                return new Verdict.Violated(first.invariant(), first.violation().rule(), step, op + " (guest "
                        + s.guest().result() + ", natively " + s.twin().result() + "): "
                        + first.violation().explanation());
            }
            java.util.Optional<EventBudgets.Violation> b = EventBudgets.check(s);
            if (b.isPresent()) {
                return new Verdict.Violated(EventBudgets.NAME, b.get().rule(), step, op + ": "
                        + b.get().explanation());
            }
            java.util.Optional<KernelContract.Violation> k = contract.step(s);
            if (k.isPresent()) {
                return new Verdict.Violated(KernelContract.NAME, k.get().rule(), step, op + ": "
                        + k.get().explanation());
            }
            l = s.post();
        }
        return Verdict.HOLDS;
    }

    @Override
    public ObjectNode scenario(HybridCases.Run run, Faults faults, Verdict.Violated violation) {
        if (violation.invariant().equals(EventBudgets.NAME)) {
            // No scenario step checks a budget (a scenario's "violates" is I1-I8): nothing to write that replays it.
            return null;
        }
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode doc = f.objectNode();
        ObjectNode machine = doc.putObject("machine");
        machine.put("memoryFrames", 1);
        machine.put("maxPhysAddr", 40);
        ObjectNode kernel = machine.putObject("kernel");
        kernel.put("platform", run.mode() == MmuMode.HAP ? "hap" : "shadow");
        kernel.put("frames", run.frames());
        kernel.put("xenFrames", HybridCases.XEN_FRAMES);
        if (run.cpus() > 1) {
            kernel.put("cpus", run.cpus());
        }
        if (run.blockBackEnd()) {
            kernel.put("blockBackEnd", true);
        }
        if (!run.identity().equals(CpuidIdentity.XEN)) {
            ObjectNode cpuid = kernel.putObject("cpuid");
            CpuidIdentity id = run.identity();
            cpuid.put("hypervisor", id.personality() == CpuidIdentity.Personality.KVM ? "kvm" : "xen");
            cpuid.put("base", "0x" + Long.toHexString(id.base()));
            cpuid.put("signature", id.signature());
            cpuid.put("leaves", id.leaves());
            cpuid.put("hypervisorBit", id.hypervisorBit());
        }
        ArrayNode steps = doc.putArray("steps");
        int n = Math.min(run.ops().size(), violation.step());
        if (violation.invariant().equals(KernelContract.NAME)) {
            // the workload contract: the operations, the last one expecting what the contract requires — a
            // regression that fails at its last step until the kernel is fixed (no "violates": it is no invariant)
            KernelResult expected = contractExpectation(run, faults, n);
            if (expected == null) {
                return null;
            }
            for (int i = 0; i < n - 1; i++) {
                steps.add(Capture.step(step(run.ops().get(i))));
            }
            steps.add(Capture.step(HybridStep.Kernel.of(run.ops().get(n - 1)).withExpect(HybridStep.KernelExpect.of(
                    expected))));
            return doc;
        }
        for (int i = 0; i < n; i++) {
            steps.add(Capture.step(step(run.ops().get(i))));
        }
        steps.add(Capture.step(HybridStep.CheckHybrid.of(violation.invariant(), XenStep.InvariantState.VIOLATED)));
        return doc;
    }

    /** The result the workload contract requires of operation {@code n} (1-based) of {@code run}, or null. */
    static KernelResult contractExpectation(HybridCases.Run run, Faults faults, int n) {
        Lockstep l = run.start(faults);
        KernelContract contract = new KernelContract();
        for (int i = 0; i < n; i++) {
            Lockstep.LockstepStep s = l.step(run.ops().get(i));
            java.util.Optional<KernelContract.Violation> v = contract.step(s);
            if (i == n - 1) {
                return v.map(KernelContract.Violation::expected).orElse(null);
            }
            l = s.post();
        }
        return null;
    }

    /** One kernel operation as a {@code kernel} step record (written as the scenario layer reads it). */
    static HybridStep step(GuestOp op) {
        return HybridStep.Kernel.of(op);
    }
}
