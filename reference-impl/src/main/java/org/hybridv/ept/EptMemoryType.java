package org.hybridv.ept;

import org.hybridv.x86.Checks;

/**
 * The EPT memory types (Intel SDM Vol. 3C §28.2.6.1): "The EPT memory type is specified in bits 5:3 of the last EPT
 * paging-structure entry: 0 = UC; 1 = WC; 4 = WT; 5 = WP; and 6 = WB. Other values are reserved and cause EPT
 * misconfigurations (see Section 28.2.3)." The same encoding names the EPT paging-structure memory type in bits 2:0
 * of the EPTP, where only UC and WB are defined (SDM table 24-8).
 *
 * <p>This reference records the memory type of a translation; it does not model caches, so the effective memory
 * type (the combination with the guest PAT, SDM 28.2.6.2) is not computed.
 */
public enum EptMemoryType {
    /** Uncacheable, encoding 0. */
    UC(0),
    /** Write combining, encoding 1. */
    WC(1),
    /** Write through, encoding 4. */
    WT(4),
    /** Write protected, encoding 5. */
    WP(5),
    /** Write back, encoding 6. */
    WB(6);

    private final int encoding;

    EptMemoryType(int encoding) {
        this.encoding = encoding;
    }

    /** The 3-bit encoding used in EPT entries (bits 5:3) and in the EPTP (bits 2:0). */
    public int encoding() {
        return encoding;
    }

    /**
     * Whether {@code encoding} (0..7) is a reserved EPT memory type: 2, 3 or 7 (SDM 28.2.3.1, 28.2.6.1). A leaf with a
     * reserved memory type causes an EPT misconfiguration.
     */
    public static boolean isReserved(int encoding) {
        Checks.inRange("EPT memory type encoding", encoding, 0, 7);
        return encoding == 2 || encoding == 3 || encoding == 7;
    }

    /** The memory type encoded as {@code encoding}; a reserved encoding (2, 3, 7) is API misuse here. */
    public static EptMemoryType of(int encoding) {
        if (isReserved(encoding)) {
            throw new IllegalArgumentException("EPT memory type encoding = " + encoding
                    + " is reserved (SDM 28.2.6.1: only 0, 1, 4, 5, 6 are defined)");
        }
        for (EptMemoryType t : values()) {
            if (t.encoding == encoding) {
                return t;
            }
        }
        throw new AssertionError("unreachable: every non-reserved encoding 0..7 is a constant");
    }
}
