package org.hybridv.check;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.hybridv.gen.Choices;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.gen.WholeSystemCases;
import org.hybridv.guest.Executed;
import org.hybridv.guest.GuestSystem;
import org.hybridv.guest.KernelState;
import org.hybridv.guest.Loader;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.Observed;
import org.hybridv.guest.XenPlatform;
import org.hybridv.invariants.HybridInvariants;
import org.hybridv.x86.ErrorCode;
import org.hybridv.xen.Effect;
import org.hybridv.xen.Faults;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * The whole system: the hybrid kernel (in lockstep with its native twin) and up to two adversarial
 * domains on one machine of 1 to 4 pCPUs, operations of every layer interleaved, adversarial vCPUs migrated and the
 * windows of several pCPUs ({@link WholeSystemCases.Window}, coverage {@link SmpWindows}); after every operation
 * I1, I2, I6 on the machine, I7 on every instruction, and I3, I4, I5, I8 and the event budgets BUD-1..BUD-10, BUD-12
 * ({@link EventBudgets}) and the workload contract KRN-1..KRN-8 ({@link KernelContract}) on every kernel operation. Its
 * counterexamples are scenarios with a {@code hypervisor} section whose domain 4 runs the kernel.
 */
public final class WholeSystemProperty implements SystemProperty<WholeSystemCases.Run> {
    @Override
    public String name() {
        return "whole-system";
    }

    @Override
    public String description() {
        return "the hybrid kernel beside adversarial direct and HAP domains on one machine of 1-4 pCPUs, adversarial"
                + " vCPUs migrated; I1-I8 after every operation, and the event budgets after every kernel operation";
    }

    @Override
    public WholeSystemCases.Run generate(Choices c) {
        return WholeSystemCases.generate(c);
    }

    @Override
    public int length(WholeSystemCases.Run run) {
        return run.ops().size();
    }

    @Override
    public Verdict check(WholeSystemCases.Run run, Faults faults) {
        return check(run, faults, new Observer() { });
    }

    @Override
    public Verdict check(WholeSystemCases.Run run, Faults faults, Coverage.Sink coverage) {
        coverage.collect("domains", (1 + run.adversaries()) + " domains, kernel in " + run.kernelMode());
        long kernelOps = run.ops().stream().filter(o -> o instanceof WholeSystemCases.Op.Kernel).count();
        coverage.collect("ops", kernelOps == run.ops().size() ? "kernel only" : "interleaved");
        vcpus(run, coverage);
        coverage.collect("pCPUs", Integer.toString(run.pcpus()));
        SmpWindows windows = new SmpWindows(coverage);
        return check(run, faults, new Observer() {
            @Override
            public void schedule(XenMachine pre, org.hybridv.xen.VcpuId v, int pcpu, XenMachine post) {
                windows.schedule(pre, v, pcpu, post);
            }

            @Override
            public void kernel(Lockstep.LockstepStep s) {
                for (Executed e : s.guest().trace()) {
                    if (e.platform() instanceof XenPlatform x) {
                        pageFault(coverage, x.mode(), e.observed(), e.exits().total());
                        e.hv().ifPresent(h -> effects(coverage, h.outcome()));
                    }
                }
                if (s.pre().guest().platform() instanceof XenPlatform x) {
                    coverage.collect(HybridKernelProperty.BUDGET_LABEL, HybridKernelProperty.budgetRow(s.guest().op(),
                            x.mode()));
                }
            }

            @Override
            public void vcpu(XenMachine pre, HypervisorCases.Op op, HvStep s) {
                MmuMode mode = pre.domain(op.vcpu().domain()).mode();
                pageFault(coverage, mode, XenPlatform.observed(s.outcome()), s.vmExits());
                effects(coverage, s.outcome());
                TlbUse.classify(pre, op, s).ifPresent(u -> coverage.collect(TlbUse.LABEL, u));
                HypervisorProperty.exitDecision(mode.toString(), op.insn(), s.outcome(), coverage, "#PF filter");
                windows.vcpu(pre, op, s);
            }
        });
    }

    /**
     * Per domain that ran an operation, how many of its vCPUs ran one: the kernel's domain has one vCPU, d1 and d2
     * two each (so a run shows domains with one vCPU and with several, and whether both of a domain's vCPUs ran).
     */
    static void vcpus(WholeSystemCases.Run run, Coverage.Sink coverage) {
        java.util.Map<Integer, java.util.Set<Integer>> ran = new java.util.TreeMap<>();
        for (WholeSystemCases.Op op : run.ops()) {
            if (op instanceof WholeSystemCases.Op.Kernel) {
                ran.computeIfAbsent(WholeSystemCases.KERNEL_DOMAIN, k -> new java.util.TreeSet<>()).add(0);
            } else if (op instanceof WholeSystemCases.Op.Vcpu v) {
                ran.computeIfAbsent(v.op().vcpu().domain(), k -> new java.util.TreeSet<>()).add(v.op().vcpu().vcpu());
            }
            // a migration runs nothing
        }
        ran.forEach((d, vs) -> coverage.collect("vCPUs", d == WholeSystemCases.KERNEL_DOMAIN ? "1 of 1 (kernel)"
                : vs.size() + " of 2 (d" + d + ")"));
    }

    /** A #PF by MMU mode, user or supervisor, and whether it cost a VM exit. */
    private static void pageFault(Coverage.Sink coverage, MmuMode mode, Observed o, int exits) {
        if (o instanceof Observed.Fault f && f.isPageFault()) {
            coverage.collect("#PF", mode + ((f.errorCode() & ErrorCode.US) != 0 ? " user" : " supervisor")
                    + (exits == 0 ? ", no exit" : ", exit"));
        }
    }

    /** The hypervisor's effects of an outcome (a page-type change above all). */
    private static void effects(Coverage.Sink coverage, VcpuOutcome o) {
        List<Effect> es = o instanceof VcpuOutcome.HypercallDone d ? d.effects()
                : o instanceof VcpuOutcome.Emulated e ? e.effects() : List.of();
        for (Effect e : es) {
            coverage.collect("effects", e instanceof Effect.TypeChange ? "type change" : e.getClass().getSimpleName());
        }
    }

    /** Calibrated at the CI budget (200 tries, seed 20261123). */
    private static final List<Coverage.Floor> FLOORS = List.of(
            Coverage.Floor.matchingAtLeast("domains", "1 domains.*", 10),
            Coverage.Floor.matchingAtLeast("domains", "2 domains.*", 10),
            Coverage.Floor.matchingAtLeast("domains", "3 domains.*", 10),
            Coverage.Floor.matchingAtLeast("domains", ".*HAP", 5),
            Coverage.Floor.atLeast("ops", "interleaved", 30),
            Coverage.Floor.reached("#PF", "DIRECT user, no exit"),
            Coverage.Floor.reached("#PF", "SHADOW user, exit"),
            Coverage.Floor.reached("#PF", "HAP user, no exit"),
            Coverage.Floor.reached("#PF", "DIRECT supervisor, no exit"),
            Coverage.Floor.reached("#PF", "SHADOW supervisor, exit"),
            Coverage.Floor.reached("effects", "type change"),
            Coverage.Floor.reached(TlbUse.LABEL, "DIRECT hit, current"),
            Coverage.Floor.reached(TlbUse.LABEL, "DIRECT hit, stale"),
            Coverage.Floor.reached(TlbUse.LABEL, "HAP hit, stale"),
            // domains with one vCPU (the kernel's) and with two, both of which ran, in the same runs
            Coverage.Floor.matchingAtLeast("vCPUs", "1 of 1 .*", 20),
            Coverage.Floor.matchingAtLeast("vCPUs", "2 of 2 .*", 5),
            // the adversaries' exit decisions beside the kernel: the MSR bitmap and the direct-mode #PF filter
            Coverage.Floor.reached("WRMSR", "DIRECT low, no exit"),
            Coverage.Floor.reached("WRMSR", "DIRECT outside both ranges, exit"),
            Coverage.Floor.reached("MOV to CR0", "DIRECT WP 1 PG 1, exit"),
            Coverage.Floor.reached("#PF filter", "DIRECT P|W|S, exit"),
            Coverage.Floor.reached("#PF filter", "DIRECT P|W|U, no exit"),
            // the direct-mode rows of the event-budget table beside the adversaries (BUD-2, BUD-4..BUD-10)
            Coverage.Floor.reached(HybridKernelProperty.BUDGET_LABEL, "BUD-2 DIRECT"),
            Coverage.Floor.reached(HybridKernelProperty.BUDGET_LABEL, "BUD-4 DIRECT"),
            Coverage.Floor.reached(HybridKernelProperty.BUDGET_LABEL, "BUD-5 DIRECT"),
            Coverage.Floor.reached(HybridKernelProperty.BUDGET_LABEL, "BUD-6 DIRECT"),
            Coverage.Floor.reached(HybridKernelProperty.BUDGET_LABEL, "BUD-7 DIRECT"),
            Coverage.Floor.reached(HybridKernelProperty.BUDGET_LABEL, "BUD-8 DIRECT"),
            Coverage.Floor.reached(HybridKernelProperty.BUDGET_LABEL, "BUD-9 DIRECT"),
            Coverage.Floor.reached(HybridKernelProperty.BUDGET_LABEL, "BUD-10 SHADOW"));

    /**
     * The pCPU counts and the windows of several pCPUs ({@link SmpWindows}), each reached (calibrated at the CI budget:
     * 200 tries, seed 20261123).
     */
    private static final List<Coverage.Floor> SMP_FLOORS = smpFloors();

    private static List<Coverage.Floor> smpFloors() {
        List<Coverage.Floor> l = new java.util.ArrayList<>(List.of(
                Coverage.Floor.atLeast("pCPUs", "1", 30),
                Coverage.Floor.atLeast("pCPUs", "2", 10),
                Coverage.Floor.reached("pCPUs", "3"),
                Coverage.Floor.reached("pCPUs", "4")));
        SmpWindows.VALUES.forEach(w -> l.add(Coverage.Floor.reached(SmpWindows.LABEL, w)));
        return List.copyOf(l);
    }

    @Override
    public List<Coverage.Floor> floors() {
        List<Coverage.Floor> l = new java.util.ArrayList<>(FLOORS);
        l.addAll(SMP_FLOORS);
        return l;
    }

    /** Sees each operation (statistics of the jqwik property). */
    public interface Observer {
        default void kernel(Lockstep.LockstepStep step) { }

        default void vcpu(XenMachine pre, org.hybridv.gen.HypervisorCases.Op op, HvStep step) { }

        /** The scheduler moved {@code v} to {@code pcpu}. */
        default void schedule(XenMachine pre, org.hybridv.xen.VcpuId v, int pcpu, XenMachine post) { }
    }

    /** {@link #check(WholeSystemCases.Run, Faults)}, showing each operation to {@code observer}. */
    public Verdict check(WholeSystemCases.Run run, Faults faults, Observer observer) {
        XenMachine m = run.machine(faults);
        KernelState kernel = KernelState.initial(WholeSystemCases.KERNEL_FRAMES);
        Lockstep l = new Lockstep(new GuestSystem(kernel, new XenPlatform(m, WholeSystemCases.KERNEL)),
                Loader.onBareMetal(WholeSystemCases.KERNEL_FRAMES), false);
        KernelContract contract = new KernelContract();
        int step = 0;
        for (WholeSystemCases.Op op : run.ops()) {
            step++;
            if (op instanceof WholeSystemCases.Op.Kernel k) {
                Lockstep.LockstepStep s = l.step(k.op());
                observer.kernel(s);
                List<HybridInvariants.Violation> v = HybridInvariants.check(s);
                if (!v.isEmpty()) {
                    return new Verdict.Violated(v.get(0).invariant(), v.get(0).violation().rule(), step, k.op()
                            + " (guest " + s.guest().result() + ", natively " + s.twin().result() + "): "
                            + v.get(0).violation().explanation());
                }
                java.util.Optional<EventBudgets.Violation> b = EventBudgets.check(s);
                if (b.isPresent()) {
                    return new Verdict.Violated(EventBudgets.NAME, b.get().rule(), step, k.op() + ": "
                            + b.get().explanation());
                }
                java.util.Optional<KernelContract.Violation> kv = contract.step(s);
                if (kv.isPresent()) {
                    return new Verdict.Violated(KernelContract.NAME, kv.get().rule(), step, k.op() + ": "
                            + kv.get().explanation());
                }
                l = s.post();
                continue;
            }
            if (op instanceof WholeSystemCases.Op.Schedule sc) {
                XenMachine pre = ((XenPlatform) l.guest().platform()).machine();
                XenMachine post = Hypervisor.schedule(pre, sc.vcpu(), sc.pcpu());
                observer.schedule(pre, sc.vcpu(), sc.pcpu(), post);
                // the migration's post-conditions (MIG-1, MIG-2, reported as I6), then I1, I2, I6 over every pCPU
                String[] names = {"I6", "I1", "I2", "I6"};
                org.hybridv.invariants.InvariantResult[] results = {
                    org.hybridv.invariants.MigrationRules.check(pre, post, sc.vcpu()),
                    org.hybridv.invariants.Isolation.check(post), org.hybridv.invariants.TranslationIntegrity.check(post),
                    org.hybridv.invariants.TlbCoherence.check(post)};
                for (int i = 0; i < results.length; i++) {
                    if (results[i] instanceof org.hybridv.invariants.InvariantResult.Violated v) {
                        return new Verdict.Violated(names[i], v.rule(), step, sc.vcpu() + " → pCPU " + sc.pcpu()
                                + ": " + v.explanation());
                    }
                }
                l = new Lockstep(new GuestSystem(l.guest().kernel(), new XenPlatform(post, WholeSystemCases.KERNEL)),
                        l.twin(), l.diverged());
                continue;
            }
            org.hybridv.gen.HypervisorCases.Op x = ((WholeSystemCases.Op.Vcpu) op).op();
            XenMachine pre = ((XenPlatform) l.guest().platform()).machine();
            HvStep s = Completed.run(pre, x).step();
            observer.vcpu(pre, x, s);
            Verdict v = HypervisorProperty.checkStep(step, pre, x, s);
            if (!v.holds()) {
                return v;
            }
            XenMachine post = s.machine();
            l = new Lockstep(new GuestSystem(l.guest().kernel(), new XenPlatform(post, WholeSystemCases.KERNEL)),
                    l.twin(), l.diverged());
        }
        return Verdict.HOLDS;
    }

    /** The scenario machine of a run: the hypervisor section with the adversaries and the kernel's domain. */
    static ObjectNode machine(MmuMode mode, int adversaries, int kernelVpid) {
        ObjectNode adversarial;
        try {
            adversarial = (ObjectNode) new ObjectMapper().readTree(HypervisorProperty.MACHINE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ObjectNode machine = JsonNodeFactory.instance.objectNode();
        machine.put("memoryFrames", WholeSystemCases.MEMORY_FRAMES);
        machine.put("maxPhysAddr", 40);
        ObjectNode hv = machine.putObject("hypervisor");
        hv.set("xenFrames", adversarial.get("hypervisor").get("xenFrames"));
        ArrayNode domains = hv.putArray("domains");
        for (int i = 0; i < adversaries; i++) {
            domains.add(adversarial.get("hypervisor").get("domains").get(i));
        }
        ObjectNode k = domains.addObject();
        k.put("id", WholeSystemCases.KERNEL_DOMAIN);
        k.put("mode", mode == MmuMode.HAP ? "hap" : "shadow");
        k.putArray("frames").addObject().put("from", WholeSystemCases.KERNEL_FIRST).put("to",
                WholeSystemCases.KERNEL_FIRST + WholeSystemCases.KERNEL_FRAMES - 1);
        k.putObject("kernel").put("vpid", kernelVpid);
        machine.putObject("kernel").put("domain", WholeSystemCases.KERNEL_DOMAIN);
        return machine;
    }

    @Override
    public ObjectNode scenario(WholeSystemCases.Run run, Faults faults, Verdict.Violated violation) {
        if (violation.invariant().equals(EventBudgets.NAME)) {
            // No scenario step checks a budget (a scenario's "violates" is I1-I8): nothing to write that replays it.
            return null;
        }
        boolean contractFinding = violation.invariant().equals(KernelContract.NAME);
        ObjectNode doc = JsonNodeFactory.instance.objectNode();
        // The VPID the kernel's vCPU got: the one asked for, or the fallback if this hypervisor refused it.
        int vpid = run.machine(faults).vcpu(WholeSystemCases.KERNEL).vpid();
        doc.set("machine", machine(run.kernelMode(), run.adversaries(), vpid));
        if (run.pcpus() > 1) {
            ((ObjectNode) doc.get("machine").get("hypervisor")).put("pcpus", run.pcpus());
        }
        ArrayNode steps = doc.putArray("steps");
        int n = Math.min(run.ops().size(), violation.step());
        // each vCPU op's scenario steps: the op, then the deliveries and continuations that ran it to its end
        // (Completed), from the pre-states the check itself met
        List<List<org.hybridv.scenario.xen.XenStep>> vcpuSteps = new ArrayList<>();
        // a workload-contract finding: the result the contract requires of the kernel operation it names
        KernelContract contract = new KernelContract();
        org.hybridv.guest.KernelResult[] expected = new org.hybridv.guest.KernelResult[1];
        int[] index = {0};
        check(run, faults, new Observer() {
            @Override
            public void vcpu(XenMachine pre, org.hybridv.gen.HypervisorCases.Op op, HvStep step) {
                vcpuSteps.add(Completed.run(pre, op).scenario());
                index[0]++;
            }

            @Override
            public void kernel(Lockstep.LockstepStep s) {
                java.util.Optional<KernelContract.Violation> v = contract.step(s);
                if (++index[0] == n && v.isPresent()) {
                    expected[0] = v.get().expected();
                }
            }

            @Override
            public void schedule(XenMachine pre, org.hybridv.xen.VcpuId v, int pcpu, XenMachine post) {
                index[0]++;
            }
        });
        if (contractFinding && expected[0] == null) {
            return null;
        }
        int k = 0;
        for (int i = 0; i < n; i++) {
            WholeSystemCases.Op op = run.ops().get(i);
            if (op instanceof WholeSystemCases.Op.Vcpu) {
                for (org.hybridv.scenario.xen.XenStep x : vcpuSteps.get(k++)) {
                    steps.add(Capture.step(x));
                }
                continue;
            }
            if (contractFinding && i == n - 1) {
                // the regression form (no "violates", see HybridKernelProperty): the kernel step expects the result
                steps.add(Capture.step(org.hybridv.scenario.hybrid.HybridStep.Kernel.of(((WholeSystemCases.Op.Kernel)
                        op).op()).withExpect(org.hybridv.scenario.hybrid.HybridStep.KernelExpect.of(expected[0]))));
                return doc;
            }
            steps.add(Capture.step(op instanceof WholeSystemCases.Op.Kernel kop ? HybridKernelProperty.step(kop.op())
                    : new org.hybridv.scenario.xen.XenStep.Schedule(((WholeSystemCases.Op.Schedule) op).vcpu()
                            .domain(), ((WholeSystemCases.Op.Schedule) op).vcpu().vcpu(),
                            ((WholeSystemCases.Op.Schedule) op).pcpu(), null)));
        }
        boolean kernelStep = n > 0 && run.ops().get(n - 1) instanceof WholeSystemCases.Op.Kernel;
        steps.add(Capture.step(kernelStep ? org.hybridv.scenario.hybrid.HybridStep.CheckHybrid.of(
                violation.invariant(), org.hybridv.scenario.xen.XenStep.InvariantState.VIOLATED)
                : org.hybridv.scenario.xen.XenStep.CheckInvariants.of(violation.invariant(),
                        org.hybridv.scenario.xen.XenStep.InvariantState.VIOLATED)));
        return doc;
    }
}
