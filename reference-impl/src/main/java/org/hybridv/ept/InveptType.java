package org.hybridv.ept;

import java.util.Optional;
import org.hybridv.x86.Checks;
import org.hybridv.x86.Hex;

/**
 * The INVEPT types (Intel SDM Vol. 3C ch. 30, "INVEPT— Invalidate Translations Derived from EPT"): "There are two
 * INVEPT types currently defined". The INVEPT descriptor "comprises 128 bits and contains a 64-bit EPTP value in bits
 * 63:0". Mappings are tagged with the EP4TA, bits 51:12 of the EPTP ({@link Eptp#ep4ta()}, SDM 28.3). The
 * invalidation of the TLBs and paging-structure caches themselves belongs to the VMX layer.
 */
public enum InveptType {
    /**
     * Type 1: "Single-context invalidation. If the INVEPT type is 1, the logical processor invalidates all mappings
     * associated with bits 51:12 of the EPT pointer (EPTP) specified in the INVEPT descriptor. It may invalidate other
     * mappings as well."
     */
    SINGLE_CONTEXT(1),
    /**
     * Type 2, which the SDM calls "Global invalidation: If the INVEPT type is 2, the logical processor invalidates
     * mappings associated with all EPTPs."
     */
    ALL_CONTEXT(2);

    private final int number;

    InveptType(int number) {
        this.number = number;
    }

    /** The type's number, the value of the INVEPT register operand. */
    public int number() {
        return number;
    }

    /**
     * The type numbered {@code registerOperand}, or empty for any other value: "If an unsupported INVEPT type is
     * specified, the instruction fails" (VMfail, an outcome for the VMX layer). This reference assumes a processor
     * that supports both types (IA32_VMX_EPT_VPID_CAP bits 25 and 26).
     */
    public static Optional<InveptType> ofNumber(long registerOperand) {
        for (InveptType t : values()) {
            if (t.number == registerOperand) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /**
     * Whether INVEPT of this type with descriptor EPTP {@code descriptor} must invalidate a mapping tagged with EP4TA
     * {@code mappingEp4ta}: single-context, when the EP4TAs are equal (bits 51:12 of the descriptor's EPTP); global,
     * always. "INVEPT invalidates all the specified mappings for the indicated EPTP(s) regardless of the VPID and PCID
     * values with which those mappings may be associated." A processor may invalidate more.
     */
    public boolean mustInvalidate(Eptp descriptor, long mappingEp4ta) {
        Checks.notNull("descriptor EPTP", descriptor);
        if ((mappingEp4ta & ~Eptp.ADDRESS_FIELD) != 0) {
            throw new IllegalArgumentException("mapping EP4TA = " + Hex.of(mappingEp4ta)
                    + " is not an EP4TA: only bits 51:12 may be set (Eptp.ep4ta())");
        }
        return this == ALL_CONTEXT || descriptor.ep4ta() == mappingEp4ta;
    }
}
