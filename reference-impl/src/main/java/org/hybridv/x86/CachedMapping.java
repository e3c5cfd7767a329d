package org.hybridv.x86;

/**
 * What the processor caches about translation (Intel SDM Vol. 3A §4.10): a translation in the TLB ({@link TlbEntry},
 * §4.10.2) or an entry of a paging-structure cache ({@link PscEntry}, §4.10.3). Both are "mappings" in the sense of
 * SDM Vol. 3C §28.3.1, tagged by VPID, EP4TA (combined mappings only) and PCID, and the VMX invalidations (INVVPID,
 * INVEPT, VM transitions) select them by these fields alone.
 */
public sealed interface CachedMapping permits TlbEntry, PscEntry {
    /** The VPID and EP4TA it was cached for. */
    TlbTag tag();

    /** The PCID it was cached for. */
    int pcid();

    /** Whether it is a global translation (never for a paging-structure-cache entry). */
    boolean global();

    /**
     * Whether it would be used to translate {@code linear}: its page number, or the upper bits a paging-structure-cache
     * entry is indexed by.
     */
    boolean covers(long linear);
}
