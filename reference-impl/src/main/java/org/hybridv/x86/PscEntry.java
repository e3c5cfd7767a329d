package org.hybridv.x86;

/**
 * An entry of a paging-structure cache (Intel SDM Vol. 3A §4.10.3.1, IA-32e paging): a PML4-cache entry
 * ({@code level} = {@link Level#PML4}, indexed by linear-address bits 47:39), a PDPTE-cache entry ({@link Level#PDPT},
 * bits 47:30) or a PDE-cache entry ({@link Level#PD}, bits 47:21). What it holds is what §4.10.3.1 lists: "the
 * physical address from the PML4E (the address of the page-directory-pointer table)" (resp. from the PDPTE: the page
 * directory; from the PDE: the page table), "the logical-AND of the R/W flags", "the logical-AND of the U/S flags" and
 * "the logical-OR of the XD flags" of the entries from the PML4E down to the cached one. (PCD and PWT are not
 * interpreted by this reference, see docs/paging.md "Scope".) The entry is associated with the PCID current when it
 * was created and, in VMX non-root operation, with the VPID and EP4TA (SDM Vol. 3C §28.3.1: linear and combined
 * paging-structure-cache entries). It is never global: global translations exist only in the TLB (§4.10.2.4).
 *
 * @param tag            the VPID and EP4TA it was cached for ({@link TlbTag#NATIVE} outside VMX)
 * @param pcid           the PCID it was cached for
 * @param level          the level of the cached entry: PML4, PDPT or PD
 * @param linearBase     a linear address it is used for, with the bits below the level's index cleared
 * @param nextTable      the physical address of the paging structure the cached entry references
 * @param writable       the AND of R/W over the PML4E .. cached entry
 * @param user           the AND of U/S over the PML4E .. cached entry
 * @param executeDisable the OR of XD over the PML4E .. cached entry
 */
public record PscEntry(TlbTag tag, int pcid, Level level, long linearBase, long nextTable, boolean writable,
        boolean user, boolean executeDisable) implements CachedMapping {
    public PscEntry {
        Checks.notNull("TLB tag", tag);
        Checks.inRange("PCID", pcid, 0, 0xFFF);
        Checks.notNull("level", level);
        if (level == Level.PT) {
            throw new IllegalArgumentException("there is no paging-structure cache for PTEs (SDM 4.10.3.1): a PTE"
                    + " maps a page, which the TLB caches");
        }
        if ((linearBase & ~indexMask(level)) != 0) {
            throw new IllegalArgumentException("PSC entry linear base " + Hex.of(linearBase) + " has bits outside 47:"
                    + level.shift());
        }
        Checks.aligned("next table", nextTable, PhysicalMemory.FRAME_SIZE);
    }

    /** Bits 47:shift of a linear address: what a cache entry of {@code level} is indexed by (SDM 4.10.3.1). */
    public static long indexMask(Level level) {
        return ((1L << 48) - 1) & -(1L << level.shift());
    }

    /** The indexing bits of {@code linear} for a cache entry of {@code level}. */
    public static long baseOf(Level level, long linear) {
        return linear & indexMask(level);
    }

    @Override
    public boolean global() {
        return false;
    }

    /**
     * Whether this entry is the one for {@code linear}: "each PDE-cache entry is referenced by a 27-bit value and is
     * used for linear addresses for which bits 47:21 have that value" (SDM 4.10.3.1; 9 bits 47:39 for the PML4 cache,
     * 18 bits 47:30 for the PDPTE cache).
     */
    @Override
    public boolean covers(long linear) {
        return baseOf(level, linear) == linearBase;
    }

    /**
     * Whether the processor may use this entry while {@code current} is the context and {@code currentPcid} the PCID:
     * the same VPID, EP4TA and PCID (SDM 4.10.3.2 with 4.10.1; Vol. 3C §28.3.2). There is no global exception.
     */
    public boolean usableIn(TlbTag current, int currentPcid) {
        return tag.equals(current) && pcid == currentPcid;
    }

    /** The rights combined so far, for the walk to continue from (the protection key comes from the leaf). */
    public Rights rights() {
        return new Rights(writable, user, executeDisable, 0);
    }
}
