package org.hybridv.x86;

/**
 * The CR4 bits this reference models (Intel SDM Vol. 3A §2.5).
 *
 * @param pse   page size extensions (bit 4); ignored by IA-32e paging, which always allows PS (SDM 4.5)
 * @param pae   physical address extension (bit 5); required for IA-32e paging
 * @param pge   page global enable (bit 7): G=1 leaves become global translations (SDM 4.10.2.4)
 * @param pcide process-context identifiers (bit 17), IA-32e mode only (SDM 4.10.1)
 * @param smep  supervisor-mode execution prevention (bit 20), SDM 4.6.1
 * @param smap  supervisor-mode access prevention (bit 21), SDM 4.6.1
 * @param pke   protection keys for user-mode pages (bit 22), SDM 4.6.2
 */
public record Cr4(boolean pse, boolean pae, boolean pge, boolean pcide, boolean smep, boolean smap, boolean pke) {
    public static final int PSE_BIT = 4;
    public static final int PAE_BIT = 5;
    public static final int PGE_BIT = 7;
    public static final int PCIDE_BIT = 17;
    public static final int SMEP_BIT = 20;
    public static final int SMAP_BIT = 21;
    public static final int PKE_BIT = 22;

    public static final Cr4 RESET = new Cr4(false, false, false, false, false, false, false);

    public Cr4 withPse(boolean v) {
        return new Cr4(v, pae, pge, pcide, smep, smap, pke);
    }

    public Cr4 withPae(boolean v) {
        return new Cr4(pse, v, pge, pcide, smep, smap, pke);
    }

    public Cr4 withPge(boolean v) {
        return new Cr4(pse, pae, v, pcide, smep, smap, pke);
    }

    public Cr4 withPcide(boolean v) {
        return new Cr4(pse, pae, pge, v, smep, smap, pke);
    }

    public Cr4 withSmep(boolean v) {
        return new Cr4(pse, pae, pge, pcide, v, smap, pke);
    }

    public Cr4 withSmap(boolean v) {
        return new Cr4(pse, pae, pge, pcide, smep, v, pke);
    }

    public Cr4 withPke(boolean v) {
        return new Cr4(pse, pae, pge, pcide, smep, smap, v);
    }

    /** The modelled bits of a 64-bit CR4 value (the inverse of {@link #bits()}; other bits are not modelled). */
    public static Cr4 ofBits(long v) {
        return new Cr4(bit(v, PSE_BIT), bit(v, PAE_BIT), bit(v, PGE_BIT), bit(v, PCIDE_BIT), bit(v, SMEP_BIT),
                bit(v, SMAP_BIT), bit(v, PKE_BIT));
    }

    private static boolean bit(long value, int n) {
        return ((value >>> n) & 1) != 0;
    }

    public long bits() {
        return (pse ? 1L << PSE_BIT : 0) | (pae ? 1L << PAE_BIT : 0) | (pge ? 1L << PGE_BIT : 0)
                | (pcide ? 1L << PCIDE_BIT : 0) | (smep ? 1L << SMEP_BIT : 0) | (smap ? 1L << SMAP_BIT : 0)
                | (pke ? 1L << PKE_BIT : 0);
    }
}
