package org.hybridv.x86;

/**
 * Canonical addresses with 48-bit linear addresses (Intel SDM Vol. 1 §3.3.7.1 "Canonical Addressing"; Vol. 3A
 * §4.5: IA-32e paging translates 48-bit linear addresses). "A linear address is in canonical form if bits 63 through
 * 47 are all zeroes or all ones"; a memory reference with a non-canonical address raises #GP(0) (Vol. 3A §6.15,
 * Interrupt 13; #SS for stack references, which this reference does not distinguish), not #PF.
 */
public final class Canonical {
    /** The number of implemented linear-address bits with 4-level paging. */
    public static final int LINEAR_ADDRESS_WIDTH = 48;

    private Canonical() {}

    /** Whether bits 63:47 of {@code linear} are all equal. */
    public static boolean isCanonical(long linear) {
        return (linear << (64 - LINEAR_ADDRESS_WIDTH)) >> (64 - LINEAR_ADDRESS_WIDTH) == linear;
    }

    /** The canonical address whose bits 47:0 are those of {@code linear} (bit 47 copied into bits 63:48). */
    public static long canonicalize(long linear) {
        return (linear << (64 - LINEAR_ADDRESS_WIDTH)) >> (64 - LINEAR_ADDRESS_WIDTH);
    }
}
