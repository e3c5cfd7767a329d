package org.hybridv.guest;

import java.util.List;

/**
 * The para-virtual operations the hybrid kernel uses, per stage: one small table. The seed's point ("reduce paravirt
 * operations (76 of them for x86 today) significantly") is that a kernel that boots native under VMX needs the PV
 * interface only for the MMU (once direct paging is on) and for I/O, timer, idle and interrupt controllers; CPU
 * operations (CR accesses, CPUID, ring transitions, segment and descriptor-table loads, IRQ flags) stay native
 * because VMX virtualizes them.
 *
 * <p>The kernel model executes the MMU rows, the timer, idle and interrupt-controller rows ({@link KernelTimer},
 * BOOT-8..BOOT-10: from the hypercall page on, {@code VCPUOP_set_singleshot_timer}, the event upcall and
 * {@code SCHEDOP_block}; otherwise the x2APIC timer, its EOI and HLT — see {@link #pvTimer}) and the block I/O row
 * ({@link BlockFront}); the hypervisor executes the interfaces (docs/pv-interfaces.md).
 */
public final class PvOps {
    private PvOps() {}

    /** How page-table entries are written. */
    public enum PteWrite {
        /** A plain store through the direct map (native; shadow: trapped and emulated by the hypervisor, SH-4). */
        STORE,
        /** {@code HYPERVISOR_mmu_update} with the entry's machine address (direct paging: MU-*, L1-*, LN-*). */
        MMU_UPDATE
    }

    /**
     * One row of the table.
     *
     * @param operation the Linux {@code pv_ops} member it corresponds to
     * @param nativeOp  what the kernel does natively, in shadow mode and under HAP
     * @param directOp  what it does once SWITCH_MMU was accepted
     */
    public record Row(String operation, String nativeOp, String directOp) {}

    /** Whether {@code stage} uses the direct-paging MMU operations. */
    public static boolean direct(BootStage stage) {
        return stage == BootStage.DIRECT;
    }

    /** How {@code stage} writes a page-table entry. */
    public static PteWrite pteWrite(BootStage stage) {
        return direct(stage) ? PteWrite.MMU_UPDATE : PteWrite.STORE;
    }

    /**
     * How {@code stage} writes a page-table entry on {@code platform}: {@link #pteWrite(BootStage)}, except that a
     * hypervisor carrying the seeded fault {@code set-pte-trapped-not-hypercall} (BUD-4) has the kernel store the
     * entry even in direct mode — the write traps and is emulated.
     */
    public static PteWrite pteWrite(BootStage stage, Platform platform) {
        if (platform instanceof PvPlatform) {
            return PteWrite.MMU_UPDATE; // XenLinux PV: xen_set_pte from start of day
        }
        if (platform instanceof XenPlatform x
                && x.machine().faults().breaks(org.hybridv.xen.Fault.SET_PTE_TRAPPED_NOT_HYPERCALL)) {
            return PteWrite.STORE;
        }
        return pteWrite(stage);
    }

    /** How an unmap reaches the other CPUs that have the address space loaded ({@code flush_tlb_multi}). */
    public enum FlushOthers {
        /** A flush IPI to each; its handler executes INVLPG there (native; shadow and HAP: what VMX makes of it). */
        IPI_INVLPG,
        /** One {@code mmuext_op MMUEXT_INVLPG_MULTI} with the vCPU mask (direct paging; Xen rule MX-7). */
        INVLPG_MULTI
    }

    /** How {@code stage} flushes an address on the other CPUs of an address space (Linux {@code flush_tlb_multi}). */
    public static FlushOthers flushMulti(BootStage stage) {
        return direct(stage) ? FlushOthers.INVLPG_MULTI : FlushOthers.IPI_INVLPG;
    }

    /**
     * Whether a new page-table page must be made read-only in the direct map and pinned before use ({@code alloc_pt}
     * / {@code pgd_alloc}; Xen rules L1-3 and TYP-1: a frame in use as a page table has no writable mapping).
     */
    public static boolean pinPageTables(BootStage stage) {
        return direct(stage);
    }

    /**
     * {@link #pinPageTables(BootStage)} on {@code platform}: on the software-only PV platform always (XenLinux's
     * {@code xen_alloc_pt} and {@code xen_pgd_pin} are bound at start of day by {@code xen_start_kernel}).
     */
    public static boolean pinPageTables(BootStage stage, Platform platform) {
        return platform instanceof PvPlatform || pinPageTables(stage);
    }

    /** The table, in the order of Linux's {@code pv_mmu_ops}, then the non-MMU rows. */
    public static final List<Row> TABLE = List.of(
            new Row("set_pte / set_pmd / set_pud / set_pgd", "store through the direct map",
                    "HYPERVISOR_mmu_update (MMU_NORMAL_PT_UPDATE)"),
            new Row("pte_clear", "store 0 through the direct map", "HYPERVISOR_mmu_update with 0"),
            new Row("alloc_pt / alloc_pgd", "nothing",
                    "update_va_mapping: direct-map PTE read-only; mmuext_op MMUEXT_PIN_L4_TABLE"),
            new Row("write_cr3", "MOV to CR3", "MOV to CR3 (exits; validated as MMUEXT_NEW_BASEPTR, MX-3)"),
            new Row("flush_tlb_single", "INVLPG", "INVLPG (not intercepted in direct mode)"),
            new Row("flush_tlb_multi (SMP kernel: the other CPUs of an address space)",
                    "a flush IPI, its handler INVLPGs", "mmuext_op MMUEXT_INVLPG_MULTI with the vCPU mask (MX-7)"),
            new Row("read_cr2 / write_cr0 / cpuid / irq flags / iret / syscall", "native", "native (VMX)"),
            new Row("SWITCH_MMU", "—", "HYPERVISOR_switch_mmu (once, PRE-1..3, POST-1..3 of docs/rules/hybrid.md)"),
            new Row("p2m lookup", "—", "HYPERVISOR_memory_op XENMEM_translate_gpfn_list (before SWITCH_MMU)"),
            new Row("idle (safe_halt)", "HLT", "sched_op SCHEDOP_block from the hypercall page on (TIME-3, BOOT-10)"),
            new Row("I/O devices", "port I/O", "split drivers over grant tables and event channels (the block"
                    + " driver is modelled: the next row)"),
            new Row("block I/O: one sector (BlockFront; the split driver from the hypercall page on, shadow mode too)",
                    "ATA PIO: task-file OUTs, a status IN, 128 data-port INs or OUTs (each an I/O exit under a"
                    + " hypervisor, EMU-7)", "xen-blkfront: grant the buffer (GNT-1), the request on the blkif ring"
                    + " and req_prod pushed (BLK-1, BLK-2), EVTCHNOP_send (EVT-5); the back-end serves it (BLK-3..5);"
                    + " the response read, the grant ended (BLK-6)"),
            new Row("timer (set_next_event)", "x2APIC initial count",
                    "VCPUOP_set_singleshot_timer, VIRQ_TIMER (TIME-1, TIME-2, BOOT-9)"),
            new Row("interrupt controller", "APIC vector, EOI (KVM: PV EOI)",
                    "event upcall injected at VM entry, no EOI (EVT-9, EVT-10)"));

    /**
     * BOOT-9: whether the kernel takes the PV timer, idle and event upcall rather than the x2APIC timer and HLT: under
     * Xen once it has bound {@code VIRQ_TIMER} (BOOT-8: from the hypercall page on, in shadow, HAP and direct mode
     * alike), unless configured not to ({@code wanted} false). {@code timerPort}: the port it bound, 0 if none.
     */
    public static boolean pvTimer(Platform platform, long timerPort, boolean wanted) {
        return wanted && timerPort > 0 && platform instanceof XenPlatform;
    }
}
