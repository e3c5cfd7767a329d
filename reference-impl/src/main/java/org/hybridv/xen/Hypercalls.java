package org.hybridv.xen;

/**
 * Hypercall and command numbers from Xen's public ABI, {@code xen/include/public/xen.h}: the values a guest puts in
 * RAX and in the argument structures. Only those of the direct-paging core are listed, plus {@code memory_op}'s
 * {@code XENMEM_translate_gpfn_list} and this project's {@link #HYPERVISOR_SWITCH_MMU}.
 */
public final class Hypercalls {
    private Hypercalls() {}

    /** {@code __HYPERVISOR_mmu_update}. */
    public static final int HYPERVISOR_MMU_UPDATE = 1;
    /** {@code __HYPERVISOR_update_va_mapping}. */
    public static final int HYPERVISOR_UPDATE_VA_MAPPING = 14;
    /** {@code __HYPERVISOR_mmuext_op}. */
    public static final int HYPERVISOR_MMUEXT_OP = 26;
    /** {@code __HYPERVISOR_memory_op}. */
    public static final int HYPERVISOR_MEMORY_OP = 12;
    /**
     * {@code XENMEM_translate_gpfn_list} ({@code memory_op} command 8 in Xen 3.x {@code xen/include/public/memory.h};
     * removed later): guest frame → machine frame through the domain's p2m. Here one gfn per call, the machine frame
     * returned in RAX: how the hybrid kernel reads its p2m before SWITCH_MMU (POST-3).
     */
    public static final int XENMEM_TRANSLATE_GPFN_LIST = 8;
    /**
     * SWITCH_MMU (docs/rules/hybrid.md). The number is {@code __HYPERVISOR_arch_0} (48), the first architecture-specific
     * hypercall number of {@code xen.h}: the 2007 prototype's interface was never published (docs/rules/hybrid.md), so
     * this project defines it. Today's x86 Xen gives {@code __HYPERVISOR_arch_0} to {@code __HYPERVISOR_mca}
     * ({@code xen/include/public/arch-x86/xen-mca.h}, the machine-check interface); this model has no mca hypercall,
     * so 48 is free here, and a real Xen would need another number. Argument 0 (RDI) is the machine frame of the new
     * L4.
     */
    public static final int HYPERVISOR_SWITCH_MMU = 48;

    /** {@code mmu_update} commands, in the low bits of {@code ptr} ({@code ptr & 7}; {@code do_mmu_update}). */
    public static final int MMU_NORMAL_PT_UPDATE = 0;
    public static final int MMU_MACHPHYS_UPDATE = 1;
    public static final int MMU_PT_UPDATE_PRESERVE_AD = 2;
    public static final int MMU_PT_UPDATE_NO_TRANSLATE = 3;

    /** {@code mmuext_op} commands. */
    public static final int MMUEXT_PIN_L1_TABLE = 0;
    public static final int MMUEXT_PIN_L2_TABLE = 1;
    public static final int MMUEXT_PIN_L3_TABLE = 2;
    public static final int MMUEXT_PIN_L4_TABLE = 3;
    public static final int MMUEXT_UNPIN_TABLE = 4;
    public static final int MMUEXT_NEW_BASEPTR = 5;
    public static final int MMUEXT_TLB_FLUSH_LOCAL = 6;
    public static final int MMUEXT_INVLPG_LOCAL = 7;
    public static final int MMUEXT_TLB_FLUSH_MULTI = 8;
    public static final int MMUEXT_INVLPG_MULTI = 9;
    public static final int MMUEXT_TLB_FLUSH_ALL = 10;
    public static final int MMUEXT_INVLPG_ALL = 11;
    public static final int MMUEXT_FLUSH_CACHE = 12;
    public static final int MMUEXT_SET_LDT = 13;
    public static final int MMUEXT_NEW_USER_BASEPTR = 15;
    public static final int MMUEXT_CLEAR_PAGE = 16;
    public static final int MMUEXT_COPY_PAGE = 17;
    public static final int MMUEXT_FLUSH_CACHE_GLOBAL = 18;
    public static final int MMUEXT_MARK_SUPER = 19;
    public static final int MMUEXT_UNMARK_SUPER = 20;

    /** {@code update_va_mapping} flags: flush type in bits 1:0, scope in the rest. */
    public static final long UVMF_NONE = 0;
    public static final long UVMF_TLB_FLUSH = 1;
    public static final long UVMF_INVLPG = 2;
    public static final long UVMF_FLUSHTYPE_MASK = 3;
    public static final long UVMF_LOCAL = 0;
    public static final long UVMF_ALL = 1L << 2;
}
