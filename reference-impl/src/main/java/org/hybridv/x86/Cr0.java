package org.hybridv.x86;

/**
 * The CR0 bits this reference models (Intel SDM Vol. 3A §2.5).
 *
 * @param pe protection enable (bit 0)
 * @param wp write protect (bit 16): when set, supervisor-mode writes honour R/W (SDM 4.6.1)
 * @param pg paging (bit 31): when clear, linear addresses are physical addresses (SDM 4.1.1)
 */
public record Cr0(boolean pe, boolean wp, boolean pg) {
    public static final int PE_BIT = 0;
    public static final int WP_BIT = 16;
    public static final int PG_BIT = 31;

    /** The value after reset (SDM 9.1.1, ignoring CD/NW/ET): everything clear. */
    public static final Cr0 RESET = new Cr0(false, false, false);

    public Cr0 withPe(boolean v) {
        return new Cr0(v, wp, pg);
    }

    public Cr0 withWp(boolean v) {
        return new Cr0(pe, v, pg);
    }

    public Cr0 withPg(boolean v) {
        return new Cr0(pe, wp, v);
    }

    /** The modelled bits of a 64-bit CR0 value (the inverse of {@link #bits()}; other bits are not modelled). */
    public static Cr0 ofBits(long value) {
        return new Cr0(bit(value, PE_BIT), bit(value, WP_BIT), bit(value, PG_BIT));
    }

    private static boolean bit(long value, int n) {
        return ((value >>> n) & 1) != 0;
    }

    /** The register value with the modelled bits placed at their SDM positions. */
    public long bits() {
        return (pe ? 1L << PE_BIT : 0) | (wp ? 1L << WP_BIT : 0) | (pg ? 1L << PG_BIT : 0);
    }
}
