package org.hybridv.guest;

/**
 * The four page-table frames of one address space, as the kernel numbers its frames (pfns): the root (PML4) and the
 * one PDPT, PD and PT on the path to the region it maps (the direct map for the kernel's tables, the user region for
 * a process's).
 */
public record Tables(long l4, long l3, long l2, long l1) {
    public java.util.List<Long> frames() {
        return java.util.List.of(l4, l3, l2, l1);
    }
}
