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
import org.hybridv.invariants.ExitCorrectness;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.ErrorCode;
import org.hybridv.x86.PageFault;
import org.hybridv.xen.Faults;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;
import org.hybridv.scenario.xen.XenStep;

/**
 * Adversarial guests of a direct-mode, a HAP and a shadow-mode domain ({@link HypervisorCases}: hypercalls with
 * foreign, page-table, Xen and out-of-RAM frames, Xen slots, superpages, self-maps; page-table writes; CR3 loads;
 * INVLPG; CPUID; the hypercall MSR) through {@code Hypervisor.run}; I1, I2, I6 on every post-state and I7 on every
 * step. On 1 to 4 pCPUs (drawn last: a run on one pCPU is the run of before), the vCPUs placed on them before the
 * run and often a window of several pCPUs at its end ({@code WholeSystemCases.sharedPage}); coverage of the windows
 * reached ({@link SmpWindows}) with floors. Its counterexamples are {@code hypervisor} scenarios with {@code guest}
 * and {@code hypercall} steps (and {@code pcpus}, each vCPU's {@code pcpu}, on several pCPUs).
 */
public final class HypervisorProperty implements SystemProperty<HypervisorCases.Run> {
    @Override
    public String name() {
        return "hypervisor";
    }

    @Override
    public String description() {
        return "adversarial guests of a direct, a HAP and a shadow domain on 1-4 pCPUs; I1, I2, I6, I7 after every"
                + " step";
    }

    @Override
    public HypervisorCases.Run generate(Choices c) {
        return HypervisorCases.generate(c);
    }

    @Override
    public int length(HypervisorCases.Run run) {
        return run.ops().size();
    }

    @Override
    public Verdict check(HypervisorCases.Run run, Faults faults) {
        return check(run, faults, (pre, op, s) -> { });
    }

    @Override
    public Verdict check(HypervisorCases.Run run, Faults faults, Coverage.Sink coverage) {
        coverage.collect("pCPUs", Integer.toString(run.pcpus()));
        SmpWindows windows = new SmpWindows(coverage);
        return check(run, faults, (pre, op, s) -> {
            classify(pre, op, s, coverage);
            windows.vcpu(pre, op, s);
        });
    }

    /**
     * The coverage of one step: the vCPU's MMU mode, whether it exited, its outcome (the refusing rule of a refused
     * hypercall), its TLB use, and for the shadow domain its outcome with the injecting rule.
     */
    static void classify(XenMachine pre, HypervisorCases.Op op, HvStep s, Coverage.Sink coverage) {
        coverage.collect("mode", pre.domain(op.vcpu().domain()).mode().toString());
        coverage.collect("exit", s.outcome().exited() ? "exit" : "no exit");
        coverage.collect("outcome", describe(s.outcome(), op));
        TlbUse.classify(pre, op, s).ifPresent(u -> coverage.collect(TlbUse.LABEL, u));
        if (op.vcpu().domain() == HypervisorCases.S.domain()) {
            coverage.collect("shadow", s.outcome() instanceof VcpuOutcome.Injected i ? "Injected " + i.rule()
                    + " vector " + i.vector() : describe(s.outcome(), op));
        }
        exitDecision(pre.domain(op.vcpu().domain()).mode().toString(), op.insn(), s.outcome(), coverage, "#PF");
        if (op.insn() instanceof GuestInstruction.Rdpkru && s.outcome() instanceof VcpuOutcome.Retired) {
            // CTX-1: the guest reads its PKRU back after its pCPU ran another vCPU (or none was current there)
            java.util.Optional<org.hybridv.xen.VcpuId> before = pre.pcpu(pre.vcpu(op.vcpu()).pcpu()).current();
            coverage.collect("PKRU", before.isPresent() && before.get().equals(op.vcpu()) ? "RDPKRU, same vCPU"
                    : "RDPKRU after a switch");
        }
    }

    /**
     * The exit decisions a step exercised, each with the mode and whether it exited: WRMSR by MSR-bitmap region,
     * MOV to CR0 by the bits it changes against the guest's CR0, and every #PF by its error code (P, W/R, U/S, RSVD,
     * I/D against the PFEC filter of the mode; RSVD: an entry with a bit above MAXPHYADDR), under
     * {@code pageFaultLabel}.
     */
    static void exitDecision(String mode, GuestInstruction insn, VcpuOutcome o, Coverage.Sink coverage,
            String pageFaultLabel) {
        String exit = o.exited() ? "exit" : "no exit";
        if (insn instanceof GuestInstruction.Wrmsr w) {
            coverage.collect("WRMSR", mode + " " + HypervisorCases.msrRegion(w.msr()) + ", " + exit);
        } else if (insn instanceof GuestInstruction.MovToCr m && m.cr() == 0) {
            coverage.collect("MOV to CR0", mode + " WP " + ((m.value() >>> Cr0.WP_BIT) & 1) + " PG "
                    + ((m.value() >>> Cr0.PG_BIT) & 1) + ", " + exit);
        }
        int vector = -1;
        int code = 0;
        if (o instanceof VcpuOutcome.Delivered d) {
            vector = d.vector();
            code = d.errorCode();
        } else if (o instanceof VcpuOutcome.Injected i) {
            vector = i.vector();
            code = i.errorCode();
        }
        if (vector == PageFault.VECTOR) {
            coverage.collect(pageFaultLabel, mode + " " + pfec(code) + ", " + exit);
        }
    }

    /** An error code as "P" or "NP", "W" or "R", "U" or "S", then "RSVD" and "I" if set: "P|W|S", "NP|R|U|I". */
    static String pfec(int code) {
        StringBuilder b = new StringBuilder((code & ErrorCode.P) != 0 ? "P" : "NP");
        b.append((code & ErrorCode.WR) != 0 ? "|W" : "|R");
        b.append((code & ErrorCode.US) != 0 ? "|U" : "|S");
        if ((code & ErrorCode.RSVD) != 0) {
            b.append("|RSVD");
        }
        if ((code & ErrorCode.ID) != 0) {
            b.append("|I");
        }
        return b.toString();
    }

    /** An outcome as the "outcome" coverage names it: its kind, with the hypercall, rule, reason or vector. */
    static String describe(VcpuOutcome o, HypervisorCases.Op op) {
        if (o instanceof VcpuOutcome.HypercallDone) {
            return "HypercallDone " + op.regs().number();
        }
        if (o instanceof VcpuOutcome.HypercallRefused r) {
            return "HypercallRefused " + r.rule();
        }
        if (o instanceof VcpuOutcome.Injected i) {
            return "Injected " + i.reason() + " vector " + i.vector();
        }
        if (o instanceof VcpuOutcome.Resumed r) {
            return "Resumed " + r.reason();
        }
        String insn = op.insn() instanceof GuestInstruction.MemoryAccess ? " access" : "";
        return o.getClass().getSimpleName() + insn;
    }

    /** Calibrated at the CI budget (200 tries, seed 20261123): each mode, each shadow path, stale TLB hits in the
     * direct and HAP domains, a refusal by each direct-paging rule the generator aims at, and each exit decision of
     * the hypervisor's controls in each mode (WRMSR, MOV to CR0, #PF). */
    private static final List<Coverage.Floor> FLOORS = floorList();

    private static List<Coverage.Floor> floorList() {
        List<Coverage.Floor> f = new ArrayList<>(List.of(
                Coverage.Floor.atLeast("mode", "DIRECT", 40),
                Coverage.Floor.atLeast("mode", "HAP", 15),
                Coverage.Floor.atLeast("mode", "SHADOW", 12),
                Coverage.Floor.matchingAtLeast("shadow", "Injected SH-3.*", 3),
                Coverage.Floor.atLeast("shadow", "Retired access", 3),
                Coverage.Floor.atLeast("shadow", "Emulated access", 2),
                Coverage.Floor.atLeast("shadow", "Resumed INVLPG", 1),
                Coverage.Floor.atLeast("shadow", "Resumed CR_ACCESS", 0.5),
                Coverage.Floor.reached(TlbUse.LABEL, "DIRECT hit, stale"),
                Coverage.Floor.reached(TlbUse.LABEL, "HAP hit, stale"),
                Coverage.Floor.atLeast("exit", "exit", 30),
                Coverage.Floor.atLeast("exit", "no exit", 5),
                Coverage.Floor.matchingAtLeast("outcome", "HypercallDone.*", 5),
                Coverage.Floor.matchingAtLeast("outcome", "HypercallRefused.*", 10),
                Coverage.Floor.matchingAtLeast("outcome", "HypercallRefused XSA-76.*", 1),
                Coverage.Floor.matchingAtLeast("outcome", "HypercallRefused MU-1.*", 1)));
        // mmu_update / mmuext_op / update_va_mapping refused by each direct-paging rule the CI run reaches
        for (String rule : List.of("L1-1", "L1-2", "L1-3", "L1-4", "LN-1", "LN-2", "LN-3", "LIN-1", "LIN-4", "TYP-1",
                "TYP-2", "SP-1", "SLOT-2", "MX-1", "MX-2", "MX-3", "UVA-1")) {
            f.add(Coverage.Floor.reached("outcome", "HypercallRefused " + rule));
        }
        // each exit decision of the hypervisor's controls, in each mode where it differs (exitDecision): the MSR
        // bitmap's regions, the CR0 guest/host mask (WP host-owned in direct and shadow mode), the #PF filter
        // (direct: only P|W|S exits; HAP: none; shadow: all) and reserved bits above MAXPHYADDR
        for (String mode : List.of("DIRECT", "HAP", "SHADOW")) {
            for (String region : List.of("low, no exit", "high, no exit", "outside both ranges, exit",
                    "hypercall MSR, exit")) {
                f.add(Coverage.Floor.reached("WRMSR", mode + " " + region));
            }
        }
        for (String cr0 : List.of("DIRECT WP 1 PG 1, exit", "DIRECT WP 0 PG 1, no exit", "SHADOW WP 1 PG 1, exit",
                "SHADOW WP 0 PG 1, no exit", "HAP WP 1 PG 1, no exit", "HAP WP 0 PG 1, no exit")) {
            f.add(Coverage.Floor.reached("MOV to CR0", cr0));
        }
        f.add(Coverage.Floor.atLeast("#PF", "DIRECT P|W|S, exit", 5));
        for (String pf : List.of("DIRECT P|W|U, no exit", "DIRECT NP|W|S, no exit", "DIRECT NP|R|U, no exit",
                "DIRECT P|R|U, no exit", "HAP P|W|U, no exit", "HAP NP|W|S, no exit", "SHADOW P|W|U, exit",
                "SHADOW NP|R|S, exit")) {
            f.add(Coverage.Floor.reached("#PF", pf));
        }
        f.add(Coverage.Floor.matchingAtLeast("#PF", "HAP .*\\|RSVD.*, no exit", 0.3));
        f.add(Coverage.Floor.matchingAtLeast("#PF", "SHADOW .*\\|RSVD.*, exit", 0.3));
        f.addAll(List.of(Coverage.Floor.matchingAtLeast("outcome", "Emulated.*", 1),
                Coverage.Floor.matchingAtLeast("outcome", "Injected.*", 1),
                Coverage.Floor.matchingAtLeast("outcome", "Retired.*", 1),
                Coverage.Floor.matchingAtLeast("outcome", "Delivered.*", 1)));
        f.add(Coverage.Floor.reached("PKRU", "RDPKRU after a switch"));
        return List.copyOf(f);
    }

    /**
     * The pCPU counts, and the windows of several pCPUs this property reaches without migrations ({@link SmpWindows}):
     * calibrated at the CI budget (200 tries, seed 20261123).
     */
    private static final List<Coverage.Floor> SMP_FLOORS = List.of(
            Coverage.Floor.atLeast("pCPUs", "1", 30),
            Coverage.Floor.atLeast("pCPUs", "2", 10),
            Coverage.Floor.reached("pCPUs", "3"),
            Coverage.Floor.reached("pCPUs", "4"),
            Coverage.Floor.reached(SmpWindows.LABEL, SmpWindows.STALE_BEFORE_FLUSH),
            Coverage.Floor.reached(SmpWindows.LABEL, SmpWindows.DOMAIN_FLUSH_REMOTE),
            Coverage.Floor.reached(SmpWindows.LABEL, SmpWindows.TYPE_CHANGE_REMOTE),
            Coverage.Floor.reached(SmpWindows.LABEL, SmpWindows.READ_AFTER_FLUSH));

    @Override
    public List<Coverage.Floor> floors() {
        List<Coverage.Floor> l = new java.util.ArrayList<>(FLOORS);
        l.addAll(SMP_FLOORS);
        return l;
    }

    /** Sees each step (statistics of the jqwik property). */
    public interface Observer {
        void step(XenMachine pre, HypervisorCases.Op op, HvStep step);
    }

    /** {@link #check(HypervisorCases.Run, Faults)}, showing each step to {@code observer}. */
    public Verdict check(HypervisorCases.Run run, Faults faults, Observer observer) {
        XenMachine m = run.machine(faults);
        int step = 0;
        for (HypervisorCases.Op op : run.ops()) {
            step++;
            HvStep s = Completed.run(m, op).step();
            observer.step(m, op, s);
            Verdict v = checkStep(step, m, op, s);
            if (!v.holds()) {
                return v;
            }
            m = s.machine();
        }
        return Verdict.HOLDS;
    }

    /** I1, I2, I6 on the post-state and I7 on the step ({@code step}: its 1-based index, for the verdict). */
    public static Verdict checkStep(int step, XenMachine pre, HypervisorCases.Op op, HvStep s) {
        XenMachine post = s.machine();
        return first(step, op, s, new String[] {"I1", "I2", "I6", "I7"},
                Isolation.check(post), TranslationIntegrity.check(post), TlbCoherence.check(post),
                ExitCorrectness.check(pre, op.vcpu(), op.insn(), s));
    }

    private static Verdict first(int step, HypervisorCases.Op op, HvStep s, String[] names,
            InvariantResult... results) {
        for (int i = 0; i < results.length; i++) {
            if (results[i] instanceof InvariantResult.Violated v) {
                return new Verdict.Violated(names[i], v.rule(), step, op + " → " + s.outcome() + ": "
                        + v.explanation());
            }
        }
        return Verdict.HOLDS;
    }

    /**
     * The {@code hypervisor} section that builds {@link HypervisorCases#initialMachine()} — the same domains, p2m,
     * builder writes and vCPUs, in the same order (pinned by a test that parses it and compares the machines).
     */
    static final String MACHINE = """
            {"memoryFrames": 96, "maxPhysAddr": 40, "hypervisor": {
              "xenFrames": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
              "domains": [
                {"id": 1, "mode": "direct", "frames": [{"from": 16, "to": 47}],
                 "memory": [
                   {"table": 16, "index": 0, "entry": {"present": true, "writable": true, "user": true, "frame": 17}},
                   {"table": 17, "index": 0, "entry": {"present": true, "writable": true, "user": true, "frame": 18}},
                   {"table": 18, "index": 0, "entry": {"present": true, "writable": true, "user": true, "frame": 19}},
                   {"table": 19, "index": 5, "entry": {"present": true, "writable": true, "user": true, "frame": 32}},
                   {"table": 19, "index": 6, "entry": {"present": true, "user": true, "frame": 33}},
                   {"table": 19, "index": 7, "entry": {"present": true, "writable": true, "frame": 34}},
                   {"table": 19, "index": 8, "entry": {"present": true, "frame": 19}}],
                 "vcpus": [{"vpid": 1, "cr3": 16}, {"vpid": 2, "cr3": 16, "cpl": 3}]},
                {"id": 2, "mode": "hap", "frames": [{"from": 48, "to": 55}],
                 "memory": [
                   {"table": 48, "index": 0, "entry": {"present": true, "writable": true, "user": true, "frame": 1}},
                   {"table": 49, "index": 0, "entry": {"present": true, "writable": true, "user": true, "frame": 2}},
                   {"table": 50, "index": 0, "entry": {"present": true, "writable": true, "user": true, "frame": 3}},
                   {"table": 51, "index": 4, "entry": {"present": true, "writable": true, "user": true, "frame": 4}},
                   {"table": 51, "index": 5, "entry": {"present": true, "writable": true, "user": true, "frame": 256}},
                   {"table": 51, "index": 8, "entry": {"present": true, "writable": true, "frame": 3}}],
                 "vcpus": [{"vpid": 3, "cr3": 0}, {"vpid": 4, "cr3": 0, "cpl": 3}]},
                {"id": 3, "mode": "shadow", "frames": [{"from": 64, "to": 71}],
                 "memory": [
                   {"table": 64, "index": 0, "entry": {"present": true, "writable": true, "user": true, "frame": 1}},
                   {"table": 65, "index": 0, "entry": {"present": true, "writable": true, "user": true, "frame": 2}},
                   {"table": 66, "index": 0, "entry": {"present": true, "writable": true, "user": true, "frame": 3}},
                   {"table": 67, "index": 4, "entry": {"present": true, "writable": true, "user": true, "frame": 4}},
                   {"table": 67, "index": 5, "entry": {"present": true, "writable": true, "user": true, "frame": 5}},
                   {"table": 67, "index": 6, "entry": {"present": true, "user": true, "frame": 6}},
                   {"table": 67, "index": 7, "entry": {"present": true, "writable": true, "frame": 7}},
                   {"table": 67, "index": 8, "entry": {"present": true, "writable": true, "frame": 3}},
                   {"table": 67, "index": 9, "entry": {"present": true, "writable": true, "user": true, "frame": 256}}],
                 "vcpus": [{"vpid": 5, "cr3": 0}, {"vpid": 6, "cr3": 0, "cpl": 3}]}
              ]}}
            """;

    @Override
    public ObjectNode scenario(HypervisorCases.Run run, Faults faults, Verdict.Violated violation) {
        ObjectNode doc = JsonNodeFactory.instance.objectNode();
        try {
            doc.set("machine", new ObjectMapper().readTree(MACHINE));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (run.pcpus() > 1) {
            ObjectNode hv = (ObjectNode) doc.get("machine").get("hypervisor");
            hv.put("pcpus", run.pcpus());
            // each vCPU's initial placement ("pcpu"), in the order of HypervisorCases.VCPUS
            for (int i = 0; i < run.placement().size(); i++) {
                org.hybridv.xen.VcpuId v = HypervisorCases.VCPUS.get(i);
                for (com.fasterxml.jackson.databind.JsonNode d : hv.get("domains")) {
                    if (d.get("id").asInt() == v.domain()) {
                        ((ObjectNode) d.get("vcpus").get(v.vcpu())).put("pcpu", run.placement().get(i));
                    }
                }
            }
        }
        ArrayNode steps = doc.putArray("steps");
        int n = Math.min(run.ops().size(), violation.step());
        XenMachine m = run.machine(faults);
        for (int i = 0; i < n; i++) {
            // the op, then the deliverIpi / continueHypercall steps that ran its hypercall to its end (Completed)
            Completed c = Completed.run(m, run.ops().get(i));
            for (XenStep x : c.scenario()) {
                steps.add(Capture.step(x));
            }
            m = c.step().machine();
        }
        steps.add(Capture.step(XenStep.CheckInvariants.of(violation.invariant(), XenStep.InvariantState.VIOLATED)));
        return doc;
    }

    /** One op as a {@code guest} or {@code hypercall} step record (written as the scenario layer reads it). */
    static XenStep step(HypervisorCases.Op op) {
        return op.insn() instanceof GuestInstruction.Vmcall
                ? XenStep.Hypercall.of(op.vcpu().domain(), op.vcpu().vcpu(), op.regs())
                : XenStep.Guest.of(op.vcpu().domain(), op.vcpu().vcpu(), op.insn());
    }
}
