package org.hybridv.x86;

/**
 * A cached translation (Intel SDM Vol. 3A §4.10.2.2 "Caching Translations in TLBs"): for a page number, the physical
 * address of the page frame, the access rights (the AND of R/W and U/S, the OR of XD over the entries used), the dirty
 * flag of the leaf, and the protection key.
 *
 * @param pcid         the PCID it was cached for (SDM 4.10.2.1: entries are associated with the current PCID)
 * @param global       whether it is a global translation: G = 1 in the leaf while CR4.PGE = 1 (SDM 4.10.2.4);
 *                     a global translation may be used with any PCID
 * @param linearBase   the linear address of the page's first byte
 * @param pageSize     the page size of the translation
 * @param physicalBase the physical address of the page frame
 * @param rights       the rights the walk combined
 * @param dirty        the leaf's D flag as the walk left it
 */
public record TlbEntry(int pcid, boolean global, long linearBase, PageSize pageSize, long physicalBase,
        Rights rights, boolean dirty) {
    public TlbEntry {
        Checks.inRange("PCID", pcid, 0, 0xFFF);
        Checks.notNull("page size", pageSize);
        Checks.notNull("rights", rights);
        if ((linearBase & pageSize.offsetMask()) != 0 || (physicalBase & pageSize.offsetMask()) != 0) {
            throw new IllegalArgumentException("TLB entry bases " + Hex.of(linearBase) + " → " + Hex.of(physicalBase)
                    + " are not aligned to " + pageSize);
        }
    }

    /** Whether this entry translates {@code linear}. */
    public boolean covers(long linear) {
        return pageSize.base(linear) == linearBase;
    }

    /** Whether this entry may be used while {@code pcid} is the current PCID (SDM 4.10.2.4). */
    public boolean usableWith(int currentPcid) {
        return global || pcid == currentPcid;
    }

    /** The physical address of {@code linear} through this entry. */
    public long translate(long linear) {
        return physicalBase | (linear & pageSize.offsetMask());
    }
}
