package org.hybridv.x86;

/**
 * A cached translation (Intel SDM Vol. 3A §4.10.2.2 "Caching Translations in TLBs"): for a page number, the physical
 * address of the page frame, the access rights (the AND of R/W and U/S, the OR of XD over the entries used), the dirty
 * flag of the leaf, and the protection key.
 *
 * @param tag          the VPID and EP4TA it was cached for (SDM Vol. 3C §28.3.1; {@link TlbTag#NATIVE} outside VMX)
 * @param pcid         the PCID it was cached for (SDM 4.10.2.1: entries are associated with the current PCID)
 * @param global       whether it is a global translation: G = 1 in the leaf while CR4.PGE = 1 (SDM 4.10.2.4);
 *                     a global translation may be used with any PCID
 * @param linearBase   the linear address of the page's first byte
 * @param pageSize     the page size of the translation
 * @param physicalBase the physical address of the page frame
 * @param rights       the rights the walk combined
 * @param dirty        the leaf's D flag as the walk left it
 * @param stage2       for a combined mapping, the EPT permissions of the guest-physical page as a 3-bit value (bit 0
 *                     read, bit 1 write, bit 2 execute: the AND over the EPT entries, SDM Vol. 3C §28.3.1); for a linear
 *                     mapping {@link #NO_STAGE2} (everything allowed)
 */
public record TlbEntry(TlbTag tag, int pcid, boolean global, long linearBase, PageSize pageSize, long physicalBase,
        Rights rights, boolean dirty, int stage2) implements CachedMapping {
    /** The stage-2 permissions of a linear mapping: read, write and execute allowed (no EPT). */
    public static final int NO_STAGE2 = 7;

    public TlbEntry {
        Checks.notNull("TLB tag", tag);
        Checks.inRange("PCID", pcid, 0, 0xFFF);
        Checks.inRange("stage-2 permissions", stage2, 0, 7);
        Checks.notNull("page size", pageSize);
        Checks.notNull("rights", rights);
        if ((linearBase & pageSize.offsetMask()) != 0 || (physicalBase & pageSize.offsetMask()) != 0) {
            throw new IllegalArgumentException("TLB entry bases " + Hex.of(linearBase) + " → " + Hex.of(physicalBase)
                    + " are not aligned to " + pageSize);
        }
    }

    /** A linear mapping (no EPT) for the given tag. */
    public static TlbEntry linear(TlbTag tag, int pcid, boolean global, long linearBase, PageSize pageSize,
            long physicalBase, Rights rights, boolean dirty) {
        return new TlbEntry(tag, pcid, global, linearBase, pageSize, physicalBase, rights, dirty, NO_STAGE2);
    }

    /** Whether this entry translates {@code linear}. */
    @Override
    public boolean covers(long linear) {
        return pageSize.base(linear) == linearBase;
    }

    /** Whether this entry may be used while {@code pcid} is the current PCID (SDM 4.10.2.4). */
    public boolean usableWith(int currentPcid) {
        return global || pcid == currentPcid;
    }

    /** Whether this entry may be used in the context {@code tag} with {@code pcid} current (SDM Vol. 3C §28.3.2). */
    public boolean usableIn(TlbTag current, int currentPcid) {
        return tag.equals(current) && usableWith(currentPcid);
    }

    /** The physical address of {@code linear} through this entry. */
    public long translate(long linear) {
        return physicalBase | (linear & pageSize.offsetMask());
    }
}
