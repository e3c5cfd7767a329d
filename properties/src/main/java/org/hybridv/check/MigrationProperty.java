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
import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.MigrationRules;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.scenario.xen.XenStep;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.Entry;
import org.hybridv.xen.Effect;
import org.hybridv.xen.Faults;
import org.hybridv.xen.FlushIpis;
import org.hybridv.xen.PreemptibleValidation;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * vCPUs of {@link HypervisorCases}' machine on two pCPUs (docs/smp.md): the direct-mode vCPUs K and U and the HAP vCPU
 * H read their pages, the kernel vCPU K remaps its L1 entries with {@code mmu_update} and invalidates them with
 * INVLPG, and the scheduler moves the vCPUs between the pCPUs. I1, I2, I6 over every pCPU after every step, and after
 * every migration its post-conditions (MIG-1, MIG-2: {@link MigrationRules}, reported as I6). Shootdown windows
 * ({@link #shootdownWindow}) put d1's vCPUs on both pCPUs, fill both TLBs and then make the kernel flush the domain
 * (an L2 update) or change a frame's type, so the flush IPIs to the remote pCPU of d1's dirty CPU mask and the
 * TLB-flush clock's filter (TLB-1, TLB-8, TLB-9) are exercised. The flushing hypercall sends its flush IPI and
 * waits (IPI-1, IPI-2); the generator chooses whether the other pCPU's vCPU reads through its stale translation before
 * the IPI is delivered ({@link Op#deliver}) or after, and runs also deliver pending IPIs at random points. One step at
 * a time: no hypercall's entries interleave with another pCPU's steps.
 */
public final class MigrationProperty implements SystemProperty<MigrationProperty.Run> {
    /**
     * One step: {@code vcpu} executes {@code insn} (with {@code regs} for a VMCALL), or is moved to {@code pcpu}, or
     * (no vCPU) pCPU {@code pcpu} takes the flush IPIs pending on it ({@link #deliver}).
     */
    public record Op(VcpuId vcpu, GuestInstruction insn, Hypercall regs, int pcpu) {
        /** pCPU {@code pcpu} handles its pending flush IPIs ({@code FlushIpis.deliverIpi}, IPI-1). */
        public static Op deliver(int pcpu) {
            return new Op(null, null, null, pcpu);
        }

        /** {@code vcpu}'s hypercall in progress takes its next step ({@code PreemptibleValidation}, TYP-8). */
        public static Op continuation(VcpuId vcpu) {
            return new Op(vcpu, null, Hypercall.of(0), 0);
        }

        boolean migration() {
            return insn == null && vcpu != null && regs == null;
        }

        boolean continuation() {
            return insn == null && vcpu != null && regs != null;
        }

        boolean delivery() {
            return vcpu == null;
        }

        @Override
        public String toString() {
            return delivery() ? "deliverIpi pCPU " + pcpu : continuation() ? vcpu + " continues its hypercall"
                    : vcpu + (migration() ? " → pCPU " + pcpu
                    : insn instanceof GuestInstruction.Vmcall ? " VMCALL " + regs : " " + insn);
        }
    }

    /** A run: the ops, on {@link #machine(Faults)}. */
    public record Run(List<Op> ops) {
        @Override
        public String toString() {
            return ops.toString();
        }
    }

    static final int PCPUS = 2;
    private static final long[] PAGES = {0x5000, 0x6000, 0x7000};

    /** {@link HypervisorCases#initialMachine()}'s domains on {@value #PCPUS} pCPUs, every vCPU on pCPU 0. */
    public static XenMachine machine(Faults faults) {
        return HypervisorCases.initialMachine(faults, PCPUS);
    }

    @Override
    public String name() {
        return "migration";
    }

    @Override
    public String description() {
        return "vCPUs on two pCPUs, migrated between reads, remaps and INVLPGs; I1, I2, I6 over every pCPU, MIG-1/2";
    }

    @Override
    public Run generate(Choices c) {
        int n = 1 + c.below(12);
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (c.flag(false, 15)) {
                shootdownWindow(c, ops);
                continue;
            }
            VcpuId v = c.oneOf(HypervisorCases.K, HypervisorCases.U, HypervisorCases.H);
            long page = PAGES[c.below(PAGES.length)];
            if (c.flag(false, 10)) {
                ops.add(Op.deliver(c.below(PCPUS)));
                continue;
            }
            if (c.flag(false, 8)) {
                pinWindow(c, ops);
                continue;
            }
            switch (c.weighted(4, 3, 2, 2)) {
                case 0 -> ops.add(new Op(v, new GuestInstruction.MemoryAccess(c.flag(true, 30) ? Access.read(page)
                        : Access.write(page, c.below(0x100))), null, 0));
                case 1 -> ops.add(new Op(v, null, null, c.below(PCPUS)));
                case 2 -> ops.add(new Op(HypervisorCases.K, new GuestInstruction.Invlpg(page), null, 0));
                default -> {
                    int index = (int) (page >>> 12);
                    long frame = 0x20 + c.below(8);
                    Entry e = Entry.table(frame, c.flag(false, 30), c.flag(true, 30));
                    Hypercall h = Hypercall.mmuUpdate((0x13L << 12) | ((long) index << 3)
                            | Hypercalls.MMU_NORMAL_PT_UPDATE, e.raw());
                    ops.add(new Op(HypervisorCases.K, new GuestInstruction.Vmcall(), h, 0));
                }
            }
        }
        return new Run(ops);
    }

    /**
     * A shootdown window (TLB-1, TLB-3, TLB-8, TLB-9; docs/smp.md): d1's two vCPUs on different pCPUs each access one
     * of the user-accessible pages (filling both pCPUs' TLBs and joining both to d1's dirty CPU mask); then the kernel
     * either repoints L2 0x12[0] (MU-5: a domain-wide flush) or remaps the page's L1 entry elsewhere and pins the frame
     * it mapped as an L1 table (a type change, filtered by the TLB-flush clock); the kernel's hypercall sends its flush
     * IPI to the other pCPU and waits (IPI-1, IPI-2); the vCPU on the other pCPU reads the page through whatever its
     * TLB kept, before or after that pCPU takes the IPI (the generator's choice: the window between send and delivery,
     * IPI-4), and the IPI is delivered.
     */
    private static void shootdownWindow(Choices c, List<Op> ops) {
        int kernelPcpu = c.below(PCPUS);
        ops.add(new Op(HypervisorCases.K, null, null, kernelPcpu));
        ops.add(new Op(HypervisorCases.U, null, null, 1 - kernelPcpu));
        int index = c.flag(true, 70) ? 5 : 6;
        long page = (long) index << 12;
        long frame = index == 5 ? 0x20 : 0x21;
        for (VcpuId v : List.of(HypervisorCases.K, HypervisorCases.U)) {
            ops.add(new Op(v, new GuestInstruction.MemoryAccess(c.flag(true, 50) && index == 5 ? Access.write(page,
                    2L * c.below(0x80)) : Access.read(page)), null, 0));
        }
        if (c.flag(true, 60)) {
            Entry moved = Entry.table(0x23 + c.below(5), c.flag(false, 30), true);
            ops.add(new Op(HypervisorCases.K, new GuestInstruction.Vmcall(), Hypercall.mmuUpdate((0x13L << 12)
                    | ((long) index << 3) | Hypercalls.MMU_NORMAL_PT_UPDATE, moved.raw()), 0));
            ops.add(new Op(HypervisorCases.K, new GuestInstruction.Vmcall(), Hypercall.mmuextOp(
                    Hypercalls.MMUEXT_PIN_L1_TABLE, frame), 0));
        } else {
            long l1 = c.flag(true, 50) ? 0x14 : 0x13;
            ops.add(new Op(HypervisorCases.K, new GuestInstruction.Vmcall(), Hypercall.mmuUpdate((0x12L << 12)
                    | Hypercalls.MMU_NORMAL_PT_UPDATE, Entry.table(l1, true, true).raw()), 0));
        }
        Op read = new Op(HypervisorCases.U, new GuestInstruction.MemoryAccess(c.flag(true, 60) || index != 5
                ? Access.read(page) : Access.write(page, 2L * c.below(0x80))), null, 0);
        if (c.flag(true, 50)) {
            ops.add(read);
            ops.add(Op.deliver(1 - kernelPcpu));
        } else {
            ops.add(Op.deliver(1 - kernelPcpu));
            ops.add(read);
        }
    }

    /**
     * A table-pin window (TYP-8, docs/smp.md): the kernel writes entries of a spare frame (0x24) pointing at its L1
     * 0x13 and pins it as an L2, which on two pCPUs validates one entry per step; between the steps U reads on the other
     * pCPU or the IPIs are delivered; then the pin is continued to its end.
     */
    private static void pinWindow(Choices c, List<Op> ops) {
        int entries = 1 + c.below(2);
        for (int i = 0; i < entries; i++) {
            ops.add(new Op(HypervisorCases.K, new GuestInstruction.Vmcall(), Hypercall.mmuUpdate((0x24L << 12)
                    | ((long) i << 3) | Hypercalls.MMU_NORMAL_PT_UPDATE, Entry.table(0x13, true, true).raw()), 0));
        }
        ops.add(new Op(HypervisorCases.K, new GuestInstruction.Vmcall(), Hypercall.mmuextOp(
                Hypercalls.MMUEXT_PIN_L2_TABLE, 0x24), 0));
        for (int i = 0; i <= entries; i++) {
            if (c.flag(false, 30)) {
                ops.add(new Op(HypervisorCases.U, new GuestInstruction.MemoryAccess(Access.read(0x5000)), null, 0));
            }
            ops.add(Op.continuation(HypervisorCases.K));
        }
    }

    /**
     * The shootdown windows must reach both flushes with the remote pCPU of d1's mask holding d1's translations: an
     * L2 update's domain flush and a type change (calibrated at the CI budget).
     */
    @Override
    public List<Coverage.Floor> floors() {
        return List.of(
                Coverage.Floor.reached("shootdown", "domain flush, remote pCPU in d1's mask, holding d1 entries,"
                        + " flushed"),
                Coverage.Floor.reached("shootdown", "type change, remote pCPU in d1's mask, holding d1 entries,"
                        + " flushed"));
    }

    @Override
    public int length(Run run) {
        return run.ops().size();
    }

    @Override
    public Verdict check(Run run, Faults faults) {
        return check(run, faults, Coverage.Sink.NONE);
    }

    /**
     * Coverage: each op by kind ("op": read, write, INVLPG, mmu_update accepted or refused, migrated, stayed) and,
     * for a migration, whether the vCPU left entries of its VPID on the pCPU it left ("left behind": the entries MIG-2
     * must remove if it comes back) and whether the destination held some before the flush ("to flush").
     */
    @Override
    public Verdict check(Run run, Faults faults, Coverage.Sink coverage) {
        XenMachine m = machine(faults);
        int step = 0;
        String[] waiting = {null, null}; // a hypercall of d1 waiting for its flush: coverage kind, remote pCPU
        for (Op op : run.ops()) {
            step++;
            XenMachine post;
            InvariantResult mig = InvariantResult.HOLDS;
            if (op.delivery()) {
                FlushIpis.Delivery d = FlushIpis.deliverIpi(m, op.pcpu());
                post = d.machine();
                coverage.collect("op", d.handled().isEmpty() ? "deliverIpi, none pending" : "deliverIpi"
                        + (d.completed().isEmpty() ? "" : ", hypercall returned"));
                if (waiting[0] != null && d.completed().stream().anyMatch(x -> x.vcpu().equals(HypervisorCases.K))) {
                    int remote = Integer.parseInt(waiting[1]);
                    coverage.collect("shootdown", waiting[0] + (entries(post, remote, 1) + entries(post, remote, 2)
                            == 0 ? ", flushed" : ", kept"));
                    waiting[0] = null;
                }
            } else if (op.continuation()) {
                HvStep c = PreemptibleValidation.continueHypercall(m, op.vcpu());
                post = c.machine();
                coverage.collect("op", "continue " + c.outcome().getClass().getSimpleName());
            } else if (op.migration()) {
                int from = m.vcpu(op.vcpu()).pcpu();
                int vpid = m.vcpu(op.vcpu()).vpid();
                post = Hypervisor.schedule(m, op.vcpu(), op.pcpu());
                mig = MigrationRules.check(m, post, op.vcpu());
                coverage.collect("op", post.vcpu(op.vcpu()).pcpu() == from ? "stayed" : "migrated");
                if (post.vcpu(op.vcpu()).pcpu() != from) {
                    coverage.collect("migration", (entries(post, from, vpid) > 0 ? "left behind" : "nothing left")
                            + ", " + (entries(m, op.pcpu(), vpid) > 0 ? "to flush" : "nothing to flush"));
                }
            } else {
                HvStep s = Hypervisor.run(m, op.vcpu(), op.insn(), op.regs() == null ? Hypercall.of(0) : op.regs());
                post = s.machine();
                String w = shootdownCoverage(m, op, s, coverage);
                if (w != null) {
                    waiting[0] = w;
                    waiting[1] = Integer.toString(1 - s.machine().active());
                }
                coverage.collect("op", op.insn() instanceof GuestInstruction.Vmcall ? (op.regs().number()
                        == Hypercalls.HYPERVISOR_MMUEXT_OP ? "mmuext_op " : "mmu_update ")
                        + s.outcome().getClass().getSimpleName() : op.insn() instanceof GuestInstruction.Invlpg
                                ? "INVLPG" : ((GuestInstruction.MemoryAccess) op.insn()).access().isWrite() ? "write"
                                        : "read");
            }
            String[] names = {"I6", "I1", "I2", "I6"};
            InvariantResult[] results = {mig, Isolation.check(post), TranslationIntegrity.check(post),
                TlbCoherence.check(post)};
            for (int i = 0; i < results.length; i++) {
                if (results[i] instanceof InvariantResult.Violated v) {
                    return new Verdict.Violated(names[i], v.rule(), step, op + ": " + v.explanation());
                }
            }
            m = post;
        }
        return Verdict.HOLDS;
    }

    /**
     * Coverage of the shootdown windows ("shootdown"): for each accepted hypercall of d1 that owes a domain-wide flush
     * (an L2 update, MU-5; a type change, TLB-1), whether the pCPU that is not the caller's was in d1's dirty CPU mask
     * and held translations of d1 before it (the state a flush IPI is for), and whether it holds any after it returned.
     * A hypercall that waits for its flush IPI (IPI-2) returns in a later delivery: the text so far is returned, and
     * the caller completes it then.
     */
    private static String shootdownCoverage(XenMachine pre, Op op, HvStep s, Coverage.Sink coverage) {
        String kind = null;
        boolean inFlight = s.outcome() instanceof VcpuOutcome.InHypercall && s.vmExits() > 0;
        if (s.outcome() instanceof VcpuOutcome.HypercallDone done) {
            for (Effect e : done.effects()) {
                if (e instanceof Effect.TypeChange) {
                    kind = "type change";
                } else if (e instanceof Effect.FlushDomain f && f.domain() == 1 && kind == null) {
                    kind = "domain flush";
                }
            }
        } else if (inFlight) {
            kind = op.regs().number() == Hypercalls.HYPERVISOR_MMUEXT_OP ? "type change" : "domain flush";
        }
        if (kind == null) {
            return null;
        }
        int remote = 1 - s.machine().active();
        long before = entries(pre, remote, 1) + entries(pre, remote, 2);
        long after = entries(s.machine(), remote, 1) + entries(s.machine(), remote, 2);
        String seen = kind + ", remote pCPU " + (pre.tlbFlush().dirtyCpumask(1).contains(remote)
                ? "in d1's mask" : "outside d1's mask") + (before > 0 ? ", holding d1 entries" : ", holding none");
        if (inFlight && before > 0) {
            return seen;
        }
        coverage.collect("shootdown", seen + (before > 0 ? after == 0 ? ", flushed" : ", kept" : ""));
        return null;
    }

    private static long entries(XenMachine m, int pcpu, int vpid) {
        return m.pcpu(pcpu).tlb().entries().stream().filter(e -> e.tag().vpid() == vpid).count();
    }

    @Override
    public ObjectNode scenario(Run run, Faults faults, Verdict.Violated violation) {
        ObjectNode doc = JsonNodeFactory.instance.objectNode();
        try {
            ObjectNode machine = (ObjectNode) new ObjectMapper().readTree(HypervisorProperty.MACHINE);
            ((ObjectNode) machine.get("hypervisor")).put("pcpus", PCPUS);
            doc.set("machine", machine);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ArrayNode steps = doc.putArray("steps");
        int n = Math.min(run.ops().size(), violation.step());
        for (int i = 0; i < n; i++) {
            Op op = run.ops().get(i);
            steps.add(Capture.step(op.delivery() ? new XenStep.DeliverIpi(op.pcpu(), null) : op.continuation()
                    ? new XenStep.ContinueHypercall(op.vcpu().domain(), op.vcpu().vcpu(), null) : op.migration()
                    ? new XenStep.Schedule(op.vcpu().domain(), op.vcpu().vcpu(),
                    op.pcpu(), null) : op.insn() instanceof GuestInstruction.Vmcall
                            ? XenStep.Hypercall.of(op.vcpu().domain(), op.vcpu().vcpu(), op.regs())
                            : XenStep.Guest.of(op.vcpu().domain(), op.vcpu().vcpu(), op.insn())));
        }
        steps.add(Capture.step(XenStep.CheckInvariants.of(violation.invariant(), XenStep.InvariantState.VIOLATED)));
        return doc;
    }
}
