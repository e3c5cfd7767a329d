package org.hybridv.gen;

import org.hybridv.x86.ErrorCode;

/**
 * Generates exception-bitmap / PFEC_MASK / PFEC_MATCH settings and #PF error codes so that both branches of the SDM
 * rule (Intel SDM Vol. 3C §24.6.3: the equality (PFEC AND PFEC_MASK) = PFEC_MATCH holds or not) meet both values of
 * bit 14 often: masks and matches are mostly drawn from the six error-code bits the reference produces (P, W/R, U/S,
 * RSVD, I/D, PK), matches are often the masked error code itself, and sometimes any 32-bit value is used.
 *
 * <p>Choice 0 everywhere gives bitmap 0, mask 0, match 0 and error code 0.
 */
public final class PageFaultFilters {
    private PageFaultFilters() {}

    /** A filter; its match is drawn without regard to any particular error code. */
    public static PageFaultFilter generate(Choices c) {
        return generate(c, c.below(64));
    }

    /** A filter for a fault with error code {@code errorCode}: a third of the matches equal the masked error code. */
    public static PageFaultFilter generate(Choices c, int errorCode) {
        int bitmap = c.flag(false, 50) ? PageFaultFilter.BIT14 : 0;
        if (c.flag(false, 40)) {
            bitmap |= int32(c) & ~PageFaultFilter.BIT14;
        }
        int mask = switch (c.weighted(45, 35, 20)) {
            case 0 -> c.below(64);
            case 1 -> c.oneOf(0, ErrorCode.US, ErrorCode.P, ErrorCode.WR, ErrorCode.P | ErrorCode.US,
                    ErrorCode.WR | ErrorCode.US, ErrorCode.RSVD, ErrorCode.ID, ErrorCode.PK);
            default -> int32(c);
        };
        int match = switch (c.weighted(40, 35, 15, 10)) {
            case 0 -> c.below(64) & mask;
            case 1 -> errorCode & mask;
            case 2 -> c.below(64);
            default -> int32(c);
        };
        return new PageFaultFilter(bitmap, mask, match);
    }

    /** A #PF error code: mostly the six modelled bits, sometimes any 32-bit value (PFEC is 32 bits wide). */
    public static int errorCode(Choices c) {
        return c.weighted(85, 15) == 0 ? c.below(64) : int32(c);
    }

    /** Any 32-bit value, all bit patterns possible. */
    static int int32(Choices c) {
        return c.next() ^ (c.next() << 16);
    }
}
