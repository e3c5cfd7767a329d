package org.hybridv.ept;

import org.hybridv.x86.Hex;

/**
 * What the caller of an EPT translation knows about the linear address behind a guest-physical access: the context
 * that bits 7 and 8 of an EPT-violation exit qualification and the guest-linear-address VM-exit field report
 * (Intel SDM Vol. 3C §27.2.1, table 27-7). The EPT walk cannot know it; the 2-D walk (the guest's page walk with each
 * guest-physical access translated by EPT, SDM 28.2.1) supplies it.
 *
 * <ul>
 * <li>{@link #translationOf(long)}: the access is to the guest-physical address that is the translation of a linear
 * address (bit 7 = 1, bit 8 = 1). Also with guest CR0.PG = 0, where "a linear address is treated as a guest-physical
 * address" (SDM 28.2.3.3).</li>
 * <li>{@link #pagingStructureEntryFor(long)}: the access is to a guest paging-structure entry, "as part of a page walk
 * or the update of an accessed or dirty bit", while translating that linear address (bit 7 = 1, bit 8 = 0).</li>
 * <li>{@link #NOT_VALID}: no linear address; table 27-7: "The guest linear-address field is valid for all EPT
 * violations except those resulting from an attempt to load the guest PDPTEs as part of the execution of the MOV CR
 * instruction" (PAE paging, not modelled by this reference, which keeps the case for completeness).</li>
 * </ul>
 *
 * @param valid            bit 7 of the exit qualification: the guest-linear-address field is valid
 * @param translatedAccess bit 8 (only when {@code valid}): the access is to the translation of the linear address
 *                         rather than to a guest paging-structure entry
 * @param linearAddress    the guest-linear address (0 when not valid)
 */
public record GuestLinear(boolean valid, boolean translatedAccess, long linearAddress) {
    /** No valid guest-linear address (bit 7 = 0; bit 8 is then cleared to 0). */
    public static final GuestLinear NOT_VALID = new GuestLinear(false, false, 0);

    public GuestLinear {
        if (!valid && (translatedAccess || linearAddress != 0)) {
            throw new IllegalArgumentException("GuestLinear(valid = false, translatedAccess = " + translatedAccess
                    + ", linearAddress = " + Hex.of(linearAddress) + "): without a valid linear address bit 8 is"
                    + " cleared and there is no address (SDM table 27-7)");
        }
    }

    /** An access to the guest-physical address that translates {@code linear} (bits 7 and 8 = 1). */
    public static GuestLinear translationOf(long linear) {
        return new GuestLinear(true, true, linear);
    }

    /** An access to a guest paging-structure entry while translating {@code linear} (bit 7 = 1, bit 8 = 0). */
    public static GuestLinear pagingStructureEntryFor(long linear) {
        return new GuestLinear(true, false, linear);
    }

    /** Whether the access is to a guest paging-structure entry during the translation of a linear address. */
    public boolean pagingStructureAccess() {
        return valid && !translatedAccess;
    }

    @Override
    public String toString() {
        if (!valid) {
            return "GuestLinear[not valid]";
        }
        return "GuestLinear[" + Hex.of(linearAddress) + (translatedAccess ? " translation" : " paging-structure entry")
                + "]";
    }
}
