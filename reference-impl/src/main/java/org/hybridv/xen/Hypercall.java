package org.hybridv.xen;

import java.util.List;
import org.hybridv.x86.Checks;
import org.hybridv.x86.Hex;

/**
 * A hypercall as the guest issues it through VMCALL: the number in RAX and the arguments in RDI, RSI, RDX, R10, R8
 * (the 64-bit HVM ABI, Xen {@code hvm_hypercall}). Argument meanings in this model (request structures are passed by
 * value instead of through guest memory, except the batched {@code mmu_update}):
 * <ul>
 * <li>{@code mmu_update} (1): {@code (ptr, val)} — one {@code mmu_update_t} by value; or, with R10 (the fourth
 * argument, Xen's {@code foreigndom}) = {@code DOMID_SELF} (0x7FF0), the batched form as in Xen,
 * {@code (req, count, pdone, DOMID_SELF)}: {@code count} 16-byte {@code mmu_update_t} at guest-linear {@code req},
 * the count done written to guest-linear {@code pdone} (0: none), {@code count} with bit 31
 * ({@code MMU_UPDATE_PREEMPTED}) in a continuation ({@link MmuBatch}, MU-7, MU-8);</li>
 * <li>{@code update_va_mapping} (14): {@code (va, val, flags)} — as in Xen;</li>
 * <li>{@code mmuext_op} (26): {@code (cmd, arg1, vcpumask)} — one {@code mmuext_op_t}; {@code vcpumask} (its
 * {@code arg2}) only for TLB_FLUSH_MULTI and INVLPG_MULTI, the bitmap's value instead of a pointer to it;</li>
 * <li>{@code memory_op} (12): {@code (XENMEM_translate_gpfn_list = 8, gfn)} — one gfn, the mfn returned in RAX;</li>
 * <li>SWITCH_MMU (48, this project's): {@code (rootMfn)} — the machine frame of the new L4.</li>
 * </ul>
 */
public record Hypercall(long number, List<Long> args) {
    public Hypercall {
        Checks.notNull("args", args);
        args = List.copyOf(args);
        if (args.size() > 5) {
            throw new IllegalArgumentException("a hypercall has at most 5 arguments, not " + args.size());
        }
    }

    public static Hypercall of(long number, long... args) {
        return new Hypercall(number, java.util.Arrays.stream(args).boxed().toList());
    }

    /** Argument {@code i}, 0 if not given (the register holds whatever it holds; 0 here). */
    public long arg(int i) {
        return i < args.size() ? args.get(i) : 0;
    }

    public static Hypercall mmuUpdate(long ptr, long val) {
        return of(Hypercalls.HYPERVISOR_MMU_UPDATE, ptr, val);
    }

    public static Hypercall updateVaMapping(long va, long val, long flags) {
        return of(Hypercalls.HYPERVISOR_UPDATE_VA_MAPPING, va, val, flags);
    }

    public static Hypercall mmuextOp(int cmd, long arg1) {
        return of(Hypercalls.HYPERVISOR_MMUEXT_OP, cmd, arg1);
    }

    /** {@code mmuext_op} with a vCPU mask: {@code MMUEXT_TLB_FLUSH_MULTI} or {@code MMUEXT_INVLPG_MULTI} (MX-7). */
    public static Hypercall mmuextMulti(int cmd, long linear, long vcpumask) {
        return of(Hypercalls.HYPERVISOR_MMUEXT_OP, cmd, linear, vcpumask);
    }

    /** {@code memory_op(XENMEM_translate_gpfn_list, gfn)}: RAX = the machine frame of {@code gfn}. */
    public static Hypercall translateGpfn(long gfn) {
        return of(Hypercalls.HYPERVISOR_MEMORY_OP, Hypercalls.XENMEM_TRANSLATE_GPFN_LIST, gfn);
    }

    /** SWITCH_MMU with RDI = the machine frame of the new L4 ({@link SwitchMmu}). */
    public static Hypercall switchMmu(long rootMfn) {
        return of(Hypercalls.HYPERVISOR_SWITCH_MMU, rootMfn);
    }

    @Override
    public String toString() {
        return "hypercall " + number + args.stream().map(Hex::of).toList();
    }
}
