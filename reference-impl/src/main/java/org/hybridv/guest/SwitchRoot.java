package org.hybridv.guest;

/**
 * The root the kernel passes to SWITCH_MMU: the one it builds correctly (PRE-2), or that root with
 * one defect, each of which some direct-paging rule refuses.
 */
public enum SwitchRoot {
    /** 4-KByte pages only, machine frames, every page-table frame read-only in the direct map. */
    KERNEL_BUILT,
    /** A 2-MByte page in the kernel's PD (Xen rule SP-1: no superpages in direct paging). */
    SUPERPAGE,
    /** The direct map keeps one of the new page-table frames writable (L1-3, TYP-1). */
    WRITABLE_PAGE_TABLE,
    /** A PTE maps a frame that is not the domain's (L1-2). */
    FOREIGN_FRAME,
    /** An entry in PML4 slot 256, one of Xen's (SLOT-1). */
    XEN_SLOT,
    /** A writable self-map in the PML4 (LIN-*: linear page tables must be read-only). */
    WRITABLE_SELF_MAP,
    /** A root given by machine frame number, as is. */
    EXPLICIT
}
