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
import org.hybridv.invariants.FlushIpiRules;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.MigrationRules;
import org.hybridv.invariants.ShootdownRules;
import org.hybridv.invariants.TlbClockRules;
import org.hybridv.invariants.TlbFilterRules;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.scenario.xen.XenStep;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.Entry;
import org.hybridv.x86.PageWalk;
import org.hybridv.xen.Effect;
import org.hybridv.xen.Faults;
import org.hybridv.xen.FlushIpis;
import org.hybridv.xen.MmuBatch;
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
 * a time; a pin window ({@link #pinWindow}) and a batch window ({@link #batchWindow}) let the other pCPU step between
 * two entries of an L2 pin's validation (TYP-8) or two requests of a batched {@code mmu_update} (MU-7), and preempt
 * the batch and re-issue its continuation (MU-8). After each batch returns, MU-7's property ({@link BatchRecord}):
 * the tables are those of its first {@code *pdone} requests applied in order (reported as I7). A clock window
 * ({@link #clockWindow}) retypes a frame stamped before the mask's pCPUs flushed again. After every step, besides the
 * invariants: the TLB-flush clock ({@link TlbClockRules}), its filter — none skipped, none over-flushed
 * ({@link TlbFilterRules}) — and the flush-IPI protocol ({@link FlushIpiRules}: IPI-1, IPI-2, IPI-5), each reported as
 * I6. Coverage floors require the dangerous windows and each outcome of the filter ({@link #floors}).
 */
public final class MigrationProperty implements SystemProperty<MigrationProperty.Run> {
    /**
     * One step: {@code vcpu} executes {@code insn} (with {@code regs} for a VMCALL), or is moved to {@code pcpu}, or
     * (no vCPU) pCPU {@code pcpu} takes the flush IPIs pending on it ({@link #deliver}).
     */
    public record Op(VcpuId vcpu, GuestInstruction insn, Hypercall regs, int pcpu, Kind kind) {
        /**
         * The op kinds beyond a vCPU's instruction, a migration, a delivery and a continuation: a batched
         * {@code mmu_update}'s preemption ({@code MmuBatch.preempt}, MU-8) and the re-execution of its VMCALL with the
         * continuation's registers (known from the preemption's outcome when the run is checked).
         */
        public enum Kind { STEP, PREEMPT, REISSUE }

        public Op(VcpuId vcpu, GuestInstruction insn, Hypercall regs, int pcpu) {
            this(vcpu, insn, regs, pcpu, Kind.STEP);
        }

        /** pCPU {@code pcpu} handles its pending flush IPIs ({@code FlushIpis.deliverIpi}, IPI-1). */
        public static Op deliver(int pcpu) {
            return new Op(null, null, null, pcpu);
        }

        /** {@code vcpu}'s hypercall in progress takes its next step ({@code PreemptibleValidation}, TYP-8, MU-7). */
        public static Op continuation(VcpuId vcpu) {
            return new Op(vcpu, null, Hypercall.of(0), 0);
        }

        /** {@code vcpu}'s batched {@code mmu_update} is preempted between two requests (MU-8). */
        public static Op preempt(VcpuId vcpu) {
            return new Op(vcpu, null, null, 0, Kind.PREEMPT);
        }

        /** {@code vcpu} re-executes its VMCALL with its last preempted batch's continuation (MU-8). */
        public static Op reissue(VcpuId vcpu) {
            return new Op(vcpu, new GuestInstruction.Vmcall(), null, 0, Kind.REISSUE);
        }

        boolean migration() {
            return kind == Kind.STEP && insn == null && vcpu != null && regs == null;
        }

        boolean continuation() {
            return kind == Kind.STEP && insn == null && vcpu != null && regs != null;
        }

        boolean delivery() {
            return vcpu == null;
        }

        @Override
        public String toString() {
            return kind == Kind.PREEMPT ? vcpu + " preempted in its hypercall" : kind == Kind.REISSUE ? vcpu
                    + " VMCALL again with its continuation" : delivery() ? "deliverIpi pCPU " + pcpu
                    : continuation() ? vcpu + " continues its hypercall" : vcpu + (migration() ? " → pCPU " + pcpu
                    : insn instanceof GuestInstruction.Vmcall ? " VMCALL " + regs : " " + insn);
        }
    }

    /**
     * A run: the ops, on {@link #machine(Faults, long)} with Xen's 32-bit TLB-flush clock at {@code clockStart}: 1
     * (the boot value) or, in about a third of the runs, 2^32 − 2 or 2^32 − 1, a machine whose clock has run a long
     * time, so that its first or second flush wraps it (Xen rule TLB-8; a generated run never flushes 2^32 times).
     */
    public record Run(long clockStart, List<Op> ops) {
        /** A run on a freshly booted clock. */
        public Run(List<Op> ops) {
            this(1, ops);
        }

        @Override
        public String toString() {
            return (clockStart == 1 ? "" : "clock at " + clockStart + ": ") + ops;
        }
    }

    static final int PCPUS = 2;
    private static final long[] PAGES = {0x5000, 0x6000, 0x7000};

    /** {@link HypervisorCases#initialMachine()}'s domains on {@value #PCPUS} pCPUs, every vCPU on pCPU 0. */
    public static XenMachine machine(Faults faults) {
        return HypervisorCases.initialMachine(faults, PCPUS);
    }

    /**
     * {@link #machine(Faults)} with its TLB-flush clock's counter at {@code clockStart}, every pCPU's time 0 (Xen rule
     * TLB-8).
     */
    public static XenMachine machine(Faults faults, long clockStart) {
        return clockStart == 1 ? machine(faults) : HypervisorCases.initialMachine(faults, PCPUS, clockStart);
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
        long clockStart = c.flag(false, 35) ? 0xFFFF_FFFFL - c.below(2) : 1;
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
            if (c.flag(false, 8)) {
                batchWindow(c, ops);
                continue;
            }
            if (c.flag(false, 8)) {
                clockWindow(c, ops);
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
        return new Run(clockStart, ops);
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
     * A clock window (TLB-2, TLB-8; docs/smp.md): the frame the kernel retypes was stamped before the pCPUs of d1's
     * mask flushed again, so the TLB-flush clock's filter clears some or all of them. K and U are placed on one pCPU
     * or on both and read; 0x20 is made K's writable data page again (unpinned if an earlier window pinned it, L1 0x13
     * slot 5 pointing at it); then, in an order the generator picks, 0x20's use ends (slot 5 remapped read-only
     * elsewhere: stamped, TLB-2) and 0x22's use ends and it is pinned as an L1 (slot 7 remapped, a type change that
     * flushes the mask), and 0x22 is unpinned and mapped writable again at slot 7 (another type change, flushing the
     * mask as it stands then); U may move and reads, joining its pCPU to the mask; and 0x20 is pinned as an L1,
     * whose flush the clock filters against the stamp. Each flushing hypercall's IPI is delivered to the other pCPU.
     * Half the windows end with the guest's own shootdown of the remapped page ({@code MMUEXT_INVLPG_ALL} of 0x5000 or
     * {@code MMUEXT_TLB_FLUSH_ALL}: IPI-1 to the other pCPU of d1's mask).
     */
    private static void clockWindow(Choices c, List<Op> ops) {
        int kernelPcpu = c.below(PCPUS);
        ops.add(new Op(HypervisorCases.K, null, null, kernelPcpu));
        ops.add(new Op(HypervisorCases.U, null, null, c.flag(true, 50) ? kernelPcpu : 1 - kernelPcpu));
        ops.add(new Op(HypervisorCases.U, new GuestInstruction.MemoryAccess(Access.read(0x6000)), null, 0));
        ops.add(vmcall(Hypercall.mmuextOp(Hypercalls.MMUEXT_UNPIN_TABLE, 0x20)));
        ops.add(vmcall(slot(5, Entry.table(0x20, true, true))));
        ops.add(new Op(HypervisorCases.K, new GuestInstruction.MemoryAccess(Access.read(0x5000)), null, 0));
        int stampAt = c.below(3); // 0x20's use ends before the first flush, between the two, or after both
        List<Op> endUse = List.of(vmcall(slot(5, Entry.table(0x23 + c.below(5), false, true))));
        if (stampAt == 0) {
            ops.addAll(endUse);
        }
        ops.add(vmcall(slot(7, Entry.table(0x23 + c.below(5), false, false))));
        ops.add(vmcall(Hypercall.mmuextOp(Hypercalls.MMUEXT_PIN_L1_TABLE, 0x22)));
        ops.add(Op.deliver(1 - kernelPcpu));
        if (stampAt == 1) {
            ops.addAll(endUse);
        }
        ops.add(vmcall(Hypercall.mmuextOp(Hypercalls.MMUEXT_UNPIN_TABLE, 0x22)));
        ops.add(vmcall(slot(7, Entry.table(0x22, true, false))));
        ops.add(Op.deliver(1 - kernelPcpu));
        if (stampAt == 2) {
            ops.addAll(endUse);
        }
        if (c.flag(true, 50)) {
            ops.add(new Op(HypervisorCases.U, null, null, c.below(PCPUS)));
        }
        ops.add(new Op(HypervisorCases.U, new GuestInstruction.MemoryAccess(Access.read(0x6000)), null, 0));
        ops.add(vmcall(Hypercall.mmuextOp(Hypercalls.MMUEXT_PIN_L1_TABLE, 0x20)));
        ops.add(Op.deliver(1 - kernelPcpu));
        if (c.flag(true, 50)) {
            // the guest's own shootdown of the remapped page: one address, or the whole domain, on every pCPU of d1's mask
            ops.add(vmcall(c.flag(true, 50) ? Hypercall.mmuextOp(Hypercalls.MMUEXT_INVLPG_ALL, 0x5000)
                    : Hypercall.mmuextOp(Hypercalls.MMUEXT_TLB_FLUSH_ALL, 0)));
            ops.add(Op.deliver(1 - kernelPcpu));
        }
    }

    /** K's VMCALL with {@code h}. */
    private static Op vmcall(Hypercall h) {
        return new Op(HypervisorCases.K, new GuestInstruction.Vmcall(), h, 0);
    }

    /** {@code mmu_update} of slot {@code index} of d1's L1 0x13 to {@code e}. */
    private static Hypercall slot(int index, Entry e) {
        return Hypercall.mmuUpdate((0x13L << 12) | ((long) index << 3) | Hypercalls.MMU_NORMAL_PT_UPDATE, e.raw());
    }

    /** Where the batch window's guest keeps its request list and {@code *pdone}: VA 0x7000 maps d1's frame 0x22. */
    static final long BATCH_LIST = 0x7400;
    static final long BATCH_PDONE = 0x77F8;

    /**
     * A batch window (MU-7, MU-8; docs/smp.md): d1's vCPUs on different pCPUs; the kernel writes a list of one to three
     * {@code mmu_update_t} requests (slots 9–11 of its L1 0x13 to frames 0x23–0x27, sometimes a frame of d2, which
     * L1-2 refuses) at {@link #BATCH_LIST}, clears {@code *pdone} and issues the batched {@code mmu_update}, which on
     * two pCPUs applies one request per step; meanwhile U reads on the other pCPU, IPIs are delivered, the batch is
     * continued, and once it may be preempted and its VMCALL re-executed with the continuation; then it is run to its
     * end.
     */
    private static void batchWindow(Choices c, List<Op> ops) {
        int kernelPcpu = c.below(PCPUS);
        ops.add(new Op(HypervisorCases.K, null, null, kernelPcpu));
        ops.add(new Op(HypervisorCases.U, null, null, 1 - kernelPcpu));
        int n = 1 + c.below(3);
        for (int j = 0; j < n; j++) {
            long frame = c.flag(false, 10) ? 0x30 : 0x23 + c.below(5);
            Entry e = Entry.table(frame, c.flag(true, 60), true);
            long ptr = (0x13L << 12) | ((long) (9 + j) << 3) | Hypercalls.MMU_NORMAL_PT_UPDATE;
            ops.add(new Op(HypervisorCases.K, new GuestInstruction.MemoryAccess(Access.write(BATCH_LIST + 16L * j,
                    ptr)), null, 0));
            ops.add(new Op(HypervisorCases.K, new GuestInstruction.MemoryAccess(Access.write(BATCH_LIST + 16L * j
                    + 8, e.raw())), null, 0));
        }
        ops.add(new Op(HypervisorCases.K, new GuestInstruction.MemoryAccess(Access.write(BATCH_PDONE, 0)), null, 0));
        ops.add(new Op(HypervisorCases.K, new GuestInstruction.Vmcall(), MmuBatch.batch(BATCH_LIST, n, BATCH_PDONE),
                0));
        boolean preempted = n > 1 && c.flag(false, 40);
        if (preempted) {
            // preempted after its first request: the other pCPU steps before the continuation is re-issued
            ops.add(Op.preempt(HypervisorCases.K));
            ops.add(new Op(HypervisorCases.U, new GuestInstruction.MemoryAccess(Access.read(0x5000)), null, 0));
            ops.add(Op.reissue(HypervisorCases.K));
        }
        int between = c.below(6);
        for (int i = 0; i < between; i++) {
            switch (c.weighted(3, 2, 3, preempted ? 0 : 2)) {
                case 0 -> ops.add(new Op(HypervisorCases.U, new GuestInstruction.MemoryAccess(Access.read(0x5000)),
                        null, 0));
                case 1 -> ops.add(Op.deliver(c.below(PCPUS)));
                case 2 -> ops.add(Op.continuation(HypervisorCases.K));
                default -> {
                    preempted = true;
                    ops.add(Op.preempt(HypervisorCases.K));
                    if (c.flag(true, 80)) {
                        ops.add(new Op(HypervisorCases.U, new GuestInstruction.MemoryAccess(Access.read(0x5000)),
                                null, 0));
                    }
                    ops.add(Op.reissue(HypervisorCases.K));
                }
            }
        }
        for (int j = 0; j <= n; j++) {
            ops.add(Op.deliver(1 - kernelPcpu));
            ops.add(Op.continuation(HypervisorCases.K));
        }
    }

    /**
     * The shootdown windows must reach both flushes with the remote pCPU of d1's mask holding d1's translations: an
     * L2 update's domain flush and a type change (calibrated at the CI budget).
     */
    /**
     * The dangerous windows too ("window", "batch"), measured at the CI budget (100 tries of seed 20261123: 157 window
     * events — 36 accesses through a stale entry between an IPI's send and its handling, 57 accesses after a handled
     * IPI, 21 steps of the other pCPU between two entries of a pin, 10 between two requests of a batch, 9 while a batch
     * is preempted; 10 preempted and re-issued batches with the other pCPU in between, 2 batches stopped by a refused
     * request): each floor about half its measured share, the batch outcomes at least once. The clock windows' filter
     * outcomes ("filter": 8 stamped type changes with every pCPU of the mask cleared, 17 with one cleared and one
     * flushed, 12 with both flushed) and a guest instruction on a pCPU another vCPU's hypercall occupies ("spin", 5)
     * at least once each.
     */
    @Override
    public List<Coverage.Floor> floors() {
        return List.of(
                Coverage.Floor.atLeast("window", "access between an IPI's send and its handling, stale entry used",
                        10),
                Coverage.Floor.atLeast("window", "access after the IPI was handled", 15),
                Coverage.Floor.reached("clock", "the TLB-flush clock wrapped and a new period began"),
                Coverage.Floor.atLeast("window", "another pCPU between two entries of a pin validation", 5),
                Coverage.Floor.atLeast("window", "another pCPU between two requests of a batch", 3),
                Coverage.Floor.atLeast("window", "another pCPU while a batch is preempted", 2),
                Coverage.Floor.reached("batch", "completed, preempted and re-issued, another pCPU stepped in between"),
                new Coverage.Floor("batch", "stopped at a refused request.*", 0, true),
                Coverage.Floor.reached("shootdown", "domain flush, remote pCPU in d1's mask, holding d1 entries,"
                        + " flushed"),
                Coverage.Floor.reached("shootdown", "type change, remote pCPU in d1's mask, holding d1 entries,"
                        + " flushed"),
                Coverage.Floor.reached("filter", "stamped type change, every pCPU of the mask cleared by the clock"),
                Coverage.Floor.reached("filter", "stamped type change, one pCPU of the mask cleared, another flushed"),
                Coverage.Floor.reached("filter", "stamped type change, every pCPU of the mask flushed"),
                Coverage.Floor.reached("spin", "instruction of another vCPU on the occupied pCPU"));
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
        return check(run, faults, coverage, new ArrayList<>());
    }

    /** {@link #check(Run, Faults, Coverage.Sink)}, adding the registers of each re-executed VMCALL to {@code regs}. */
    private Verdict check(Run run, Faults faults, Coverage.Sink coverage, List<Hypercall> reissued) {
        XenMachine m = machine(faults, run.clockStart());
        boolean wrapped = false; // a new period of the TLB-flush clock began (TLB-8)
        int step = 0;
        String[] waiting = {null, null}; // a hypercall of d1 waiting for its flush: coverage kind, remote pCPU
        boolean[] handled = new boolean[PCPUS]; // a flush IPI was handled on the pCPU since its last guest access
        Hypercall continuation = null; // K's preempted batch's continuation, not re-issued yet
        BatchRecord batch = null; // K's batch in progress (MU-7's property)
        for (Op op : run.ops()) {
            step++;
            XenMachine post;
            InvariantResult mig = InvariantResult.HOLDS;
            windowCoverage(m, op, continuation != null, handled, coverage);
            if (op.kind() == Op.Kind.PREEMPT) {
                HvStep p = MmuBatch.preempt(m, op.vcpu());
                post = p.machine();
                coverage.collect("op", "preempt " + p.outcome().getClass().getSimpleName());
                if (p.outcome() instanceof VcpuOutcome.HypercallPreempted x) {
                    continuation = x.continuation();
                    if (batch != null) {
                        batch = batch.preempted();
                    }
                }
            } else if (op.kind() == Op.Kind.REISSUE) {
                if (continuation == null) {
                    coverage.collect("op", "re-issue, nothing preempted");
                    reissued.add(Hypercall.of(0));
                    post = m;
                } else {
                    reissued.add(continuation);
                    HvStep s = Hypervisor.run(m, op.vcpu(), op.insn(), continuation);
                    post = s.machine();
                    continuation = null;
                    coverage.collect("op", "re-issue " + s.outcome().getClass().getSimpleName());
                }
            } else if (op.delivery()) {
                FlushIpis.Delivery d = FlushIpis.deliverIpi(m, op.pcpu());
                post = d.machine();
                handled[op.pcpu()] |= !d.handled().isEmpty();
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
                if (op.regs() != null && MmuBatch.isBatch(op.regs()) && m.tlbFlush().inFlight(op.vcpu()).isEmpty()) {
                    batch = BatchRecord.at(m, op.vcpu(), op.regs());
                }
                if (op.insn() instanceof GuestInstruction.MemoryAccess) {
                    handled[m.vcpu(op.vcpu()).pcpu()] = false;
                }
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
            if (batch != null && continuation == null && post.tlbFlush().inFlight(batch.vcpu()).isEmpty()) {
                // the batch has returned (done or refused): MU-7's property over the tables and *pdone
                String wrong = batch.wrong(post);
                coverage.collect("batch", batch.describe(post));
                batch = null;
                if (wrong != null) {
                    return new Verdict.Violated("I7", "MU-7", step, op + ": " + wrong);
                }
            } else if (batch != null && !op.delivery() && op.vcpu() != null && !op.vcpu().equals(batch.vcpu())) {
                batch = batch.interleaved();
            }
            // the step rules a scenario checks too (one definition: ShootdownRules): TLB-8's clock and filter first,
            // then, after IPI-5 (which needs the operation), IPI-1 and IPI-2
            InvariantResult shootdown = ShootdownRules.check(m, post);
            if (shootdown instanceof InvariantResult.Violated v && v.rule().equals("TLB-8")) {
                return new Verdict.Violated("I6", v.rule(), step, op + ": " + v.explanation());
            }
            wrapped |= TlbClockRules.newPeriod(m, post);
            TlbFilterRules.coverage(m, post, coverage::collect);
            String ipi = op.kind() != Op.Kind.STEP || op.vcpu() == null || op.continuation() ? null
                    : FlushIpiRules.spin(m, post, op.vcpu(), op.migration() ? op.pcpu() : -1, coverage::collect);
            if (ipi != null) {
                return new Verdict.Violated("I6", "IPI-5", step, op + ": " + ipi);
            }
            if (shootdown instanceof InvariantResult.Violated v) {
                return new Verdict.Violated("I6", v.rule(), step, op + ": " + v.explanation());
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
        coverage.collect("clock", wrapped ? "the TLB-flush clock wrapped and a new period began"
                : run.clockStart() == 1 ? "no wrap (a fresh clock)" : "no wrap (clock started near its top)");
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

    /**
     * Coverage of the dangerous windows ("window"), from the state before op: a guest access on a pCPU that has a
     * flush IPI pending for a hypercall still waiting (between the IPI's send and its handling, IPI-4; "stale entry
     * used" when that pCPU's TLB holds a translation of the page for the vCPU), a guest access on a pCPU after it
     * handled a flush IPI, and a step of another pCPU (a guest access or an IPI delivery) while the kernel is between
     * two entries of a pin validation (TYP-8), between two requests of a batch (MU-7), or preempted out of a batch
     * whose continuation is not re-issued yet (MU-8).
     */
    private static void windowCoverage(XenMachine m, Op op, boolean preempted, boolean[] handled,
            Coverage.Sink coverage) {
        boolean other = op.delivery() || (op.vcpu() != null && !op.vcpu().equals(HypervisorCases.K)
                && op.kind() == Op.Kind.STEP);
        if (op.kind() == Op.Kind.STEP && op.insn() instanceof GuestInstruction.MemoryAccess a) {
            int q = m.vcpu(op.vcpu()).pcpu();
            boolean awaited = m.tlbFlush().inFlight().values().stream().anyMatch(h -> h.awaiting().contains(q));
            if (awaited && !m.tlbFlush().pendingFlushes(q).isEmpty()) {
                int vpid = m.vcpu(op.vcpu()).vpid();
                long page = a.access().linear() & ~0xFFFL;
                boolean held = m.pcpu(q).tlb().entries().stream().anyMatch(e -> e.tag().vpid() == vpid
                        && e.linearBase() == page);
                coverage.collect("window", "access between an IPI's send and its handling"
                        + (held ? ", stale entry used" : ""));
            } else if (handled[q]) {
                coverage.collect("window", "access after the IPI was handled");
            }
        }
        if (!other) {
            return;
        }
        java.util.Optional<org.hybridv.xen.HypercallInFlight> k = m.tlbFlush().inFlight(HypervisorCases.K);
        if (k.isPresent() && k.get().nextEntry() >= 0) {
            coverage.collect("window", MmuBatch.isBatch(k.get().call()) ? "another pCPU between two requests of a batch"
                    : "another pCPU between two entries of a pin validation");
        } else if (preempted) {
            coverage.collect("window", "another pCPU while a batch is preempted");
        }
    }

    /**
     * MU-7's property of one batch of vCPU {@code vcpu}, stated over the tables: the request list as the guest's own
     * translation reads it when the batch is issued (Intel SDM Vol. 3A §4.5, {@link PageWalk}), the slots it targets
     * before, and whether it was preempted or had another pCPU step between two requests.
     */
    record BatchRecord(VcpuId vcpu, long count, List<long[]> requests, java.util.Map<Long, Long> before,
            boolean plausible, boolean wasPreempted, boolean wasInterleaved) {
        static BatchRecord at(XenMachine m, VcpuId v, Hypercall call) {
            org.hybridv.x86.CpuState cpu = m.guestCpu(v);
            long n = MmuBatch.count(call);
            List<long[]> requests = new ArrayList<>();
            java.util.Map<Long, Long> before = new java.util.TreeMap<>();
            boolean plausible = true;
            for (long j = 0; j < n; j++) {
                Long ptr = read(m, cpu, call.arg(0) + 16 * j);
                Long val = read(m, cpu, call.arg(0) + 16 * j + 8);
                if (ptr == null || val == null) {
                    plausible = false;
                    break;
                }
                requests.add(new long[] {ptr, val});
                long slot = ptr >>> 3;
                plausible &= (ptr & 7) == 0 && (ptr >>> 12) == 0x13 && !before.containsKey(slot);
                before.put(slot, m.paging().memory().read(ptr >>> 12, (int) ((ptr & 0xFFF) >>> 3)));
            }
            plausible &= write(m, cpu, call.arg(2));
            return new BatchRecord(v, n, requests, before, plausible, false, false);
        }

        BatchRecord preempted() {
            return new BatchRecord(vcpu, count, requests, before, plausible, true, wasInterleaved);
        }

        BatchRecord interleaved() {
            return new BatchRecord(vcpu, count, requests, before, plausible, wasPreempted, true);
        }

        /**
         * What is wrong once the batch returned, or null: {@code *pdone} = d must be at most the count, and the
         * targeted slots must be those of the first d requests applied in order and the others untouched (a refused
         * request stops the batch with *pdone = the requests before it; a batch that returned 0 did them all, d = n).
         * Checked only for a list of distinct slots of L1 0x13 read and a {@code *pdone} written through the guest's
         * translation (the generator's batches; a list a remap made unreadable is refused and its slots untouched).
         */
        String wrong(XenMachine post) {
            if (!plausible) {
                return null;
            }
            Long done = read(post, post.guestCpu(vcpu), BATCH_PDONE);
            if (done == null || done < 0 || done > count) {
                return "*pdone " + done + " after a batch of " + count + " requests (MU-7)";
            }
            java.util.Map<Long, Long> expected = new java.util.TreeMap<>(before);
            for (int j = 0; j < done; j++) {
                expected.put(requests.get(j)[0] >>> 3, requests.get(j)[1]);
            }
            for (java.util.Map.Entry<Long, Long> e : expected.entrySet()) {
                long mfn = e.getKey() >>> 9;
                int index = (int) (e.getKey() & 511);
                long seen = post.paging().memory().read(mfn, index);
                if (seen != e.getValue()) {
                    return "after a batch of " + count + " requests with *pdone = " + done + ", slot "
                            + org.hybridv.x86.Hex.of(mfn) + "[" + index + "] holds "
                            + org.hybridv.x86.Hex.of(seen) + ", not " + org.hybridv.x86.Hex.of(e.getValue())
                            + " (MU-7: the first *pdone requests applied in order, the others not)";
                }
            }
            return null;
        }

        String describe(XenMachine post) {
            Long done = plausible ? read(post, post.guestCpu(vcpu), BATCH_PDONE) : null;
            return (done == null ? "returned" : done == count ? "completed" : "stopped at a refused request")
                    + (wasPreempted ? ", preempted and re-issued" : "")
                    + (wasInterleaved ? ", another pCPU stepped in between" : "");
        }

        /** The word at guest-linear {@code linear} through {@code cpu}'s translation (a read), or null. */
        static Long read(XenMachine m, org.hybridv.x86.CpuState cpu, long linear) {
            org.hybridv.x86.Translation t = PageWalk.translate(m.paging().memory(), cpu, Access.read(linear));
            return t instanceof org.hybridv.x86.Translated x ? m.paging().memory().readPhysical(x.physicalAddress())
                    : null;
        }

        /** Whether {@code linear} is writable through {@code cpu}'s translation. */
        static boolean write(XenMachine m, org.hybridv.x86.CpuState cpu, long linear) {
            return PageWalk.translate(m.paging().memory(), cpu, Access.write(linear, 0))
                    instanceof org.hybridv.x86.Translated;
        }
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
            if (run.clockStart() != 1) {
                ((ObjectNode) machine.get("hypervisor")).put("tlbClockStart", run.clockStart());
            }
            doc.set("machine", machine);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ArrayNode steps = doc.putArray("steps");
        int n = Math.min(run.ops().size(), violation.step());
        List<Hypercall> reissued = new ArrayList<>();
        check(run, faults, Coverage.Sink.NONE, reissued);
        java.util.Iterator<Hypercall> again = reissued.iterator();
        for (int i = 0; i < n; i++) {
            Op op = run.ops().get(i);
            if (op.kind() == Op.Kind.PREEMPT) {
                steps.add(Capture.step(new XenStep.PreemptHypercall(op.vcpu().domain(), op.vcpu().vcpu(), null)));
                continue;
            }
            if (op.kind() == Op.Kind.REISSUE) {
                Hypercall h = again.hasNext() ? again.next() : Hypercall.of(0);
                if (MmuBatch.isBatch(h)) {
                    steps.add(Capture.step(new XenStep.MmuUpdateBatch(op.vcpu().domain(), op.vcpu().vcpu(), h.arg(0),
                            MmuBatch.count(h), h.arg(2), (h.arg(1) & MmuBatch.MMU_UPDATE_PREEMPTED) != 0, null)));
                }
                continue;
            }
            if (op.regs() != null && MmuBatch.isBatch(op.regs())) {
                Hypercall h = op.regs();
                steps.add(Capture.step(new XenStep.MmuUpdateBatch(op.vcpu().domain(), op.vcpu().vcpu(), h.arg(0),
                        MmuBatch.count(h), h.arg(2), null, null)));
                continue;
            }
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
