package org.hybridv.x86;

import java.util.ArrayList;
import java.util.List;

/**
 * The creation rules of the paging-structure caches for IA-32e paging (Intel SDM Vol. 3A §4.10.3.1): which PML4-,
 * PDPTE- and PDE-cache entries a walk may create, and what each holds. The caches themselves, their lookup and their
 * invalidation are in {@link Tlb}; the walk that starts from a cache entry is {@link PageWalk#walkFrom}.
 */
public final class PagingStructureCaches {
    private PagingStructureCaches() {}

    /**
     * The paging-structure-cache entries created from a walk that mapped a page and whose access completed, in walk
     * order: one for each entry read that references another paging structure (a PML4E; a PDPTE or PDE with
     * PS = 0). The rules of SDM 4.10.3.1, one per branch:
     * <ul>
     * <li>"The processor does not create a PML4-cache entry unless the P flag is 1 and all reserved bits are 0 in the
     * PML4E in memory" (and likewise, with PS = 0 in the cached entry, for
     * PDPTE- and PDE-cache entries): only a walk that {@link Walk.End#MAPPED mapped a page} is used, and every entry
     * on its path is present without reserved bits.</li>
     * <li>"(No PDE-cache entry is created for a PDE that maps a page.)", and likewise for a PDPTE that maps a 1-GByte
     * page ("The paging-structure caches contain information only from paging-structure entries that reference other
     * paging structures (and not those that map pages)"): the leaf creates no entry.</li>
     * <li>"The processor does not create a PML4-cache entry unless the accessed flag is 1 in the PML4E in memory;
     * before caching a translation, the processor sets the accessed flag if it is not already 1": this reference
     * creates entries only for an access that completes, after {@link AccessedDirty#update} has set A in every entry
     * read (choice: no paging-structure-cache entry from a faulting walk, as no accessed flag is set by one).</li>
     * <li>Contents: "the physical address from the PML4E (the address of the page-directory-pointer table)", "the
     * logical-AND of the R/W flags", "the logical-AND of the U/S flags", "the logical-OR of the XD flags" of the
     * entries from the PML4E down; for a walk that started from a cache entry ({@code start} non-null), the rights
     * combined so far are the start entry's.</li>
     * </ul>
     *
     * @param start the cache entry the walk started from, or null for a walk from CR3
     */
    public static List<PscEntry> createdBy(Walk walk, PscEntry start, TlbTag tag, int pcid, long linear,
            int maxPhysAddr) {
        Checks.notNull("walk", walk);
        Checks.notNull("TLB tag", tag);
        if (walk.end() != Walk.End.MAPPED) {
            return List.of();
        }
        boolean writable = start == null || start.writable();
        boolean user = start == null || start.user();
        boolean executeDisable = start != null && start.executeDisable();
        long addressMask = PageWalk.addressMask(maxPhysAddr);
        List<PscEntry> created = new ArrayList<>(3);
        for (VisitedEntry v : walk.path()) {
            if (PageWalk.mapsPage(v.level(), v.entry())) {
                break;
            }
            writable &= v.entry().writable();
            user &= v.entry().user();
            executeDisable |= v.entry().noExecute();
            created.add(new PscEntry(tag, pcid, v.level(), PscEntry.baseOf(v.level(), linear),
                    v.entry().raw() & addressMask, writable, user, executeDisable));
        }
        return created;
    }

    /** {@code tlb} after creating every entry of {@link #createdBy}, in walk order. */
    public static Tlb fill(Tlb tlb, Walk walk, PscEntry start, TlbTag tag, int pcid, long linear, int maxPhysAddr) {
        return tlb.fillPsc(createdBy(walk, start, tag, pcid, linear, maxPhysAddr));
    }
}
