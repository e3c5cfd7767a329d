package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.Loader;
import org.hybridv.xen.Domains;
import org.hybridv.xen.HvResult;
import org.hybridv.xen.MmuMode;
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
    /** The most operations in a run. */
    public static final int MAX_OPS = 20;

    /** One operation: of the kernel, or one instruction of an adversarial vCPU. */
    public sealed interface Op {
        record Kernel(GuestOp op) implements Op {}

        record Vcpu(HypervisorCases.Op op) implements Op {}
    }

    /**
     * A run: the kernel's starting mode, how many adversarial domains (0: none, 1: d1, 2: d1 and d2), the VPID the
     * toolstack asks for the kernel's vCPU (sometimes one d1 already uses), the operations.
     */
    public record Run(MmuMode kernelMode, int adversaries, int kernelVpid, List<Op> ops) {
        public Run {
            ops = List.copyOf(ops);
        }

        public XenMachine machine(org.hybridv.xen.Faults faults) {
            return WholeSystemCases.machine(kernelMode, adversaries, kernelVpid, faults);
        }
    }

    public static Run generate(Choices c) {
        MmuMode mode = c.weighted(4, 1) == 0 ? MmuMode.SHADOW : MmuMode.HAP;
        int adversaries = c.weighted(3, 2, 2) == 0 ? 2 : c.weighted(1, 1);
        int vpid = c.flag(true, 15) ? KERNEL_VPID : 1;
        List<Op> ops = new ArrayList<>();
        ops.add(new Op.Kernel(new GuestOp.Boot(c.weighted(3, 1) == 0 ? BootStage.DIRECT
                : BootStage.HYPERCALL_PAGE_INSTALLED)));
        int[] processes = {0};
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
        return new Run(mode, adversaries, vpid, ops);
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
        XenMachine m = XenMachine.boot(MEMORY_FRAMES, Domains.range(0x1, 0xf)).withFaults(faults);
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
