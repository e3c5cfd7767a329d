package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.Loader;
import org.hybridv.xen.Domains;
import org.hybridv.xen.HvResult;
import org.hybridv.xen.MmuMode;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.Entry;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * Whole-system runs: one machine with 1–3 domains — the hybrid kernel (d4, 64 frames, starting in shadow or
 * HAP mode and switching to direct paging when it can) and none, one or two adversarial domains of
 * {@link HypervisorCases}' layout (d1 in direct mode with its tree at 0x10, d2 under HAP) — and a plain list of
 * operations from every layer interleaved: kernel operations ({@link HybridCases}: boot steps, processes, accesses,
 * SWITCH_MMU at any point with unsuitable roots) and the adversarial domains' instructions and hypercalls (foreign,
 * page-table, Xen and out-of-RAM frames, Xen slots, superpages, self-maps, CR3 loads, INVLPG, CPUID, the hypercall
 * MSR). Memory is small (224 frames) so that frame numbers collide across domains.
 *
 * <p>The machine has 1 to {@value #MAX_PCPUS} physical CPUs (docs/smp.md): half the runs one, a quarter two, an
 * eighth three and four. The kernel's vCPU stays on pCPU 0; on more than one pCPU the adversarial vCPUs are moved
 * between them ({@link Op.Schedule}) and each run gets one or two {@linkplain Window windows}: short sequences that
 * put the adversarial domain's vCPUs on different pCPUs around a page-table change and its flush, or around a
 * migration. These are drawn after the rest of the run, so a run on one pCPU is the run this generator made before it
 * had pCPUs.
 */
public final class WholeSystemCases {
    private WholeSystemCases() {}

    /** Machine frames. */
    public static final int MEMORY_FRAMES = 224;
    /** The kernel's domain, its first frame and its size. */
    public static final int KERNEL_DOMAIN = 4;
    public static final long KERNEL_FIRST = 0x60;
    public static final int KERNEL_FRAMES = 64;
    /** The kernel vCPU's VPID. */
    public static final int KERNEL_VPID = 7;
    /** The kernel's vCPU. */
    public static final VcpuId KERNEL = new VcpuId(KERNEL_DOMAIN, 0);
    /** The most operations in a run (besides its windows). */
    public static final int MAX_OPS = 20;
    /** The most physical CPUs of a run's machine. */
    public static final int MAX_PCPUS = 4;

    /**
     * The windows of several pCPUs a run is biased toward (docs/smp.md), each a short sequence of d1's vCPUs — K
     * (kernel, d1v0) and U (user, d1v1) — placed on two different pCPUs a and b. The extension point for windows of
     * interleaved steps (a flush IPI between its send and its handling, a hypercall half done): a new constant here,
     * its operations in {@link #window}, its coverage value in {@code SmpWindows} and a floor.
     */
    public enum Window {
        /**
         * K on a, U on b, both access a page of d1 (both TLBs cache it, both pCPUs join d1's dirty mask, TLB-9); K
         * repoints L2 0x12[0] (MU-5: a domain-wide flush, TLB-3, to every pCPU of the mask); U reads the page again.
         */
        DOMAIN_FLUSH,
        /**
         * The same start; K remaps the page's L1 entry elsewhere and pins the frame it mapped as an L1 table (a type
         * change: TLB-1, filtered by the TLB-flush clock, TLB-8); U reads the page again.
         */
        TYPE_CHANGE,
        /**
         * The same start; K remaps the page's L1 entry (Xen does not flush an L1 change, TLB-7: a remote stale entry
         * is the guest's to flush); U reads the page (through its pCPU's cached translation); K flushes the domain
         * (MMUEXT_TLB_FLUSH_ALL or MMUEXT_INVLPG_ALL: to every pCPU of the mask); U reads the page again.
         */
        L1_CHANGE_THEN_FLUSH,
        /**
         * K reads a page on a, moves to b (MIG-1: VMCLEAR on a), remaps the page's L1 entry and INVLPGs it there (on
         * b only), moves back to a (MIG-2: its VPID flushed there) and reads the page again.
         */
        MIGRATION_ROUND_TRIP
    }

    /** One operation: of the kernel, or one instruction of an adversarial vCPU. */
    public sealed interface Op {
        record Kernel(GuestOp op) implements Op {}

        record Vcpu(HypervisorCases.Op op) implements Op {}

        /** The scheduler moves an adversarial vCPU to {@code pcpu} ({@code Hypervisor.schedule}: MIG-1, MIG-2). */
        record Schedule(VcpuId vcpu, int pcpu) implements Op {}
    }

    /**
     * A run: the kernel's starting mode, how many adversarial domains (0: none, 1: d1, 2: d1 and d2), the VPID the
     * toolstack asks for the kernel's vCPU (sometimes one d1 already uses), the machine's pCPUs, the operations.
     */
    public record Run(MmuMode kernelMode, int adversaries, int kernelVpid, int pcpus, List<Op> ops) {
        public Run {
            ops = List.copyOf(ops);
            if (pcpus < 1 || pcpus > MAX_PCPUS) {
                throw new IllegalArgumentException("pcpus " + pcpus + " outside 1.." + MAX_PCPUS);
            }
        }

        /** A run on one pCPU. */
        public Run(MmuMode kernelMode, int adversaries, int kernelVpid, List<Op> ops) {
            this(kernelMode, adversaries, kernelVpid, 1, ops);
        }

        public XenMachine machine(org.hybridv.xen.Faults faults) {
            return WholeSystemCases.machine(kernelMode, adversaries, kernelVpid, pcpus, faults);
        }
    }

    public static Run generate(Choices c) {
        MmuMode mode = c.weighted(4, 1) == 0 ? MmuMode.SHADOW : MmuMode.HAP;
        int adversaries = c.weighted(3, 2, 2) == 0 ? 2 : c.weighted(1, 1);
        int vpid = c.flag(true, 15) ? KERNEL_VPID : 1;
        List<Op> ops = new ArrayList<>();
        ops.add(new Op.Kernel(new GuestOp.Boot(c.weighted(3, 1) == 0 ? BootStage.DIRECT
                : BootStage.HYPERCALL_PAGE_INSTALLED)));
        int[] processes = {0, 0};
        if (c.flag(true, 25)) {
            ops.add(new Op.Kernel(new GuestOp.NewProcess()));
            ops.add(new Op.Kernel(new GuestOp.SwitchTo(1)));
            processes[0] = 1;
        }
        int n = ops.size() + 2 + c.below(MAX_OPS - ops.size() - 1);
        while (ops.size() < n) {
            if (adversaries > 0 && c.flag(false, 40)) {
                if (c.flag(false, 15)) {
                    for (HypervisorCases.Op x : HypervisorCases.fragment(c)) {
                        if (x.vcpu().domain() <= adversaries) {
                            ops.add(new Op.Vcpu(x));
                        }
                    }
                } else {
                    ops.add(new Op.Vcpu(adversarial(c, adversaries)));
                }
            } else {
                ops.add(new Op.Kernel(HybridCases.op(c, KERNEL_FRAMES, processes, KERNEL_FIRST, MEMORY_FRAMES)));
            }
        }
        // Drawn last, so that the run above is the same on any number of pCPUs.
        int pcpus = 1 + c.weighted(4, 2, 1, 1);
        if (pcpus > 1 && adversaries > 0) {
            int windows = 1 + c.below(2);
            for (int w = 0; w < windows; w++) {
                Window kind = Window.values()[c.weighted(2, 3, 2, 2)]; // type changes a little more often
                ops.addAll(1 + c.below(ops.size()), window(c, kind, pcpus));
            }
            if (c.flag(false, 50)) {
                VcpuId v = c.oneOf(HypervisorCases.K, HypervisorCases.U, HypervisorCases.H, HypervisorCases.HU);
                if (v.domain() > adversaries) {
                    v = new VcpuId(1, v.vcpu());
                }
                ops.add(1 + c.below(ops.size()), new Op.Schedule(v, c.below(pcpus)));
            }
        }
        return new Run(mode, adversaries, vpid, pcpus, ops);
    }

    /** The operations of a window of kind {@code kind} on a machine of {@code pcpus} (≥ 2) pCPUs. */
    public static List<Op> window(Choices c, Window kind, int pcpus) {
        int a = c.below(pcpus);
        int b = (a + 1 + c.below(pcpus - 1)) % pcpus;
        int index = c.flag(true, 30) ? 5 : 6; // 0x5000 → 0x20 (user, writable), 0x6000 → 0x21 (user, read-only)
        long page = (long) index << 12;
        VcpuId k = HypervisorCases.K;
        VcpuId u = HypervisorCases.U;
        List<Op> ops = new ArrayList<>();
        if (kind == Window.MIGRATION_ROUND_TRIP) {
            Entry moved = Entry.table(0x23 + c.below(5), c.flag(false, 30), true);
            Hypercall remap = Hypercall.mmuUpdate((0x13L << 12) | ((long) index << 3)
                    | Hypercalls.MMU_NORMAL_PT_UPDATE, moved.raw());
            ops.add(new Op.Schedule(k, a));
            ops.add(vcpu(k, new GuestInstruction.MemoryAccess(Access.read(page))));
            ops.add(new Op.Schedule(k, b));
            ops.add(call(k, remap));
            ops.add(vcpu(k, new GuestInstruction.Invlpg(page)));
            ops.add(new Op.Schedule(k, a));
            ops.add(vcpu(k, new GuestInstruction.MemoryAccess(Access.read(page))));
            return ops;
        }
        ops.add(new Op.Schedule(k, a));
        ops.add(new Op.Schedule(u, b));
        for (HypervisorCases.Op x : sharedPage(c, kind, index)) {
            ops.add(new Op.Vcpu(x));
        }
        return ops;
    }

    /**
     * The vCPU operations of a window of kind {@code kind} other than {@link Window#MIGRATION_ROUND_TRIP}, with K and
     * U already on different pCPUs, on page {@code index} of d1 (5: 0x5000, 6: 0x6000): K writes a non-zero value to
     * the page when it is writable (so a stale translation reads something else than a fresh one) or reads it, U
     * accesses it (both TLBs cache it), then the page-table change, its flush, and U's reads.
     */
    public static List<HypervisorCases.Op> sharedPage(Choices c, Window kind, int index) {
        long page = (long) index << 12;
        long frame = index == 5 ? 0x20 : 0x21;
        VcpuId k = HypervisorCases.K;
        VcpuId u = HypervisorCases.U;
        Entry moved = Entry.table(0x23 + c.below(5), c.flag(false, 30), true);
        Hypercall remap = Hypercall.mmuUpdate((0x13L << 12) | ((long) index << 3) | Hypercalls.MMU_NORMAL_PT_UPDATE,
                moved.raw());
        List<Op> ops = new ArrayList<>();
        ops.add(vcpu(k, new GuestInstruction.MemoryAccess(index == 5 ? Access.write(page, 1 + c.below(0xff))
                : Access.read(page))));
        ops.add(vcpu(u, new GuestInstruction.MemoryAccess(c.flag(true, 50) && index == 5
                ? Access.write(page, 1 + c.below(0xff)) : Access.read(page))));
        GuestInstruction.MemoryAccess reread = new GuestInstruction.MemoryAccess(Access.read(page));
        switch (kind) {
            case DOMAIN_FLUSH -> ops.add(call(k, Hypercall.mmuUpdate((0x12L << 12) | Hypercalls.MMU_NORMAL_PT_UPDATE,
                    Entry.table(c.flag(true, 50) ? 0x14 : 0x13, true, true).raw())));
            case TYPE_CHANGE -> {
                ops.add(call(k, remap));
                ops.add(call(k, Hypercall.mmuextOp(Hypercalls.MMUEXT_PIN_L1_TABLE, frame)));
            }
            default -> {
                ops.add(call(k, remap));
                ops.add(vcpu(u, reread));
                ops.add(call(k, c.flag(true, 50) ? Hypercall.mmuextOp(Hypercalls.MMUEXT_TLB_FLUSH_ALL, 0)
                        : Hypercall.mmuextOp(Hypercalls.MMUEXT_INVLPG_ALL, page)));
            }
        }
        ops.add(vcpu(u, reread));
        return ops.stream().map(o -> ((Op.Vcpu) o).op()).toList();
    }

    private static Op vcpu(VcpuId v, GuestInstruction insn) {
        return new Op.Vcpu(new HypervisorCases.Op(v, insn, Hypercall.of(0)));
    }

    private static Op call(VcpuId v, Hypercall h) {
        return new Op.Vcpu(new HypervisorCases.Op(v, new GuestInstruction.Vmcall(), h));
    }

    /** An op of {@link HypervisorCases} on a vCPU of a domain the machine has (d1: K, U; d2: H, HU). */
    static HypervisorCases.Op adversarial(Choices c, int adversaries) {
        HypervisorCases.Op op = HypervisorCases.op(c);
        VcpuId v = op.vcpu();
        if (v.domain() > adversaries) {
            v = new VcpuId(1, v.vcpu());
        }
        return new HypervisorCases.Op(v, op.insn(), op.regs());
    }

    /** The machine: Xen frames 1–15, d1 (direct) and d2 (HAP) as in {@link HypervisorCases}, the kernel's d4. */
    public static XenMachine machine(MmuMode kernelMode, int adversaries) {
        return machine(kernelMode, adversaries, KERNEL_VPID, org.hybridv.xen.Faults.NONE);
    }

    /**
     * {@link #machine(MmuMode, int)} with the seeded {@code faults} injected before any domain is built, the kernel's
     * vCPU asking for VPID {@code vpid}: when the hypervisor refuses it (another vCPU has it, VPID rule), the
     * toolstack falls back to {@link #KERNEL_VPID}.
     */
    public static XenMachine machine(MmuMode kernelMode, int adversaries, int vpid, org.hybridv.xen.Faults faults) {
        return machine(kernelMode, adversaries, vpid, 1, faults);
    }

    /** {@link #machine(MmuMode, int, int, org.hybridv.xen.Faults)} on {@code pcpus} pCPUs, every vCPU on pCPU 0. */
    public static XenMachine machine(MmuMode kernelMode, int adversaries, int vpid, int pcpus,
            org.hybridv.xen.Faults faults) {
        XenMachine booted = XenMachine.boot(MEMORY_FRAMES, Domains.range(0x1, 0xf));
        XenMachine m = (pcpus == 1 ? booted : booted.withPcpus(pcpus)).withFaults(faults);
        if (adversaries >= 1) {
            m = HypervisorCases.withD1(m);
        }
        if (adversaries >= 2) {
            m = HypervisorCases.withD2(m);
        }
        long[] frames = Domains.range(KERNEL_FIRST, KERNEL_FIRST + KERNEL_FRAMES - 1);
        HvResult asked = Loader.build(m, KERNEL_DOMAIN, kernelMode, frames, vpid);
        return asked instanceof HvResult.Done d ? d.machine()
                : Loader.addDomain(m, KERNEL_DOMAIN, kernelMode, frames, KERNEL_VPID);
    }
}
