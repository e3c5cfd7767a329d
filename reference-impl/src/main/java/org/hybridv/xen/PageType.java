package org.hybridv.xen;

import org.hybridv.x86.Level;

/**
 * The page types of a machine frame that direct paging needs (Xen {@code PGT_none}, {@code PGT_writable_page},
 * {@code PGT_l1_page_table} … {@code PGT_l4_page_table}; {@code xen/arch/x86/include/asm/mm.h}). The types form a
 * flat set: a frame is in one type at a time (TYP-1). {@code seg_desc} and {@code shared} are not modelled.
 */
public enum PageType {
    /** {@code PGT_none}: no type has ever been taken, or the frame was never typed. */
    NONE,
    /** {@code PGT_writable_page}: the frame may be mapped writable (L1-3); never validated, never a page table. */
    WRITABLE,
    /** {@code PGT_l1_page_table}: a page table (PT, level 1). */
    L1,
    /** {@code PGT_l2_page_table}: a page directory (PD, level 2). */
    L2,
    /** {@code PGT_l3_page_table}: a page-directory-pointer table (PDPT, level 3). */
    L3,
    /** {@code PGT_l4_page_table}: a PML4 (level 4), the root a vCPU's CR3 points at ({@code PGT_root_page_table}). */
    L4;

    /** Whether this is a page-table type (L1..L4), which is validated on its first reference (TYP-3). */
    public boolean isPageTable() {
        return this == L1 || this == L2 || this == L3 || this == L4;
    }

    /** The x86 level of a page-table type (L4 = PML4 … L1 = PT); API misuse for NONE and WRITABLE. */
    public Level level() {
        return switch (this) {
            case L4 -> Level.PML4;
            case L3 -> Level.PDPT;
            case L2 -> Level.PD;
            case L1 -> Level.PT;
            case NONE, WRITABLE -> throw new IllegalArgumentException("page type " + this + " is not a page table");
        };
    }

    /** The type an entry of an L2..L4 table needs of the frame it references (LN-2): L4 → L3 → L2 → L1. */
    public PageType child() {
        return switch (this) {
            case L4 -> L3;
            case L3 -> L2;
            case L2 -> L1;
            case L1, NONE, WRITABLE -> throw new IllegalArgumentException("page type " + this
                    + " has no page-table children (LN-2 is for L2..L4)");
        };
    }

    /** The page-table type of x86 level {@code level}. */
    public static PageType of(Level level) {
        return switch (level) {
            case PML4 -> L4;
            case PDPT -> L3;
            case PD -> L2;
            case PT -> L1;
        };
    }
}
