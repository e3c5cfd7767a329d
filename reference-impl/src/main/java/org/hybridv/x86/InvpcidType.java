package org.hybridv.x86;

/** The four INVPCID types (Intel SDM Vol. 2A INVPCID), by their register-operand value. */
public enum InvpcidType {
    /** Type 0: "Individual-address invalidation". */
    INDIVIDUAL_ADDRESS,
    /** Type 1: "Single-context invalidation". */
    SINGLE_CONTEXT,
    /** Type 2: "All-context invalidation, including global translations". */
    ALL_CONTEXT_INCLUDING_GLOBALS,
    /** Type 3: "All-context invalidation" (except global translations). */
    ALL_CONTEXT;

    /** The register-operand value of this type (0..3). */
    public int value() {
        return ordinal();
    }

    /** The type with register-operand value {@code value}, or null when the value names none (&gt; 3). */
    public static InvpcidType ofValue(long value) {
        return value >= 0 && value < values().length ? values()[(int) value] : null;
    }
}
