package org.hybridv.ept;

import java.util.List;
import org.hybridv.x86.Checks;
import org.hybridv.x86.Hex;

/**
 * An EPT violation (Intel SDM Vol. 3C §28.2.3.2): the translation met a not-present EPT entry, or its combined
 * permissions do not allow the access. It causes a VM exit with basic exit reason 48 (EPT violation) that saves
 * {@link #qualification()} as the exit qualification (SDM table 27-7), {@link #guestPhysical()} as the guest-physical
 * address and, when {@code qualification().linearValid()}, {@link #guestLinearAddress()} as the guest-linear address
 * (SDM 27.2.1).
 *
 * @param guestPhysical the guest-physical address whose access caused the violation
 * @param qualification the exit qualification
 * @param linear        the linear-address context the caller supplied
 * @param path          the EPT entries read, in order; for {@link Cause#NOT_PRESENT} the last is the not-present one
 * @param cause         which bullet of SDM 28.2.3.2 applies
 */
public record EptViolation(long guestPhysical, EptViolationQualification qualification, GuestLinear linear,
        List<EptVisitedEntry> path, Cause cause) implements EptTranslation {
    /** The situations of SDM 28.2.3.2. */
    public enum Cause {
        /** "Translation of the guest-physical address encounters an EPT paging-structure entry that is not present." */
        NOT_PRESENT,
        /**
         * The access is a data read (write, instruction fetch) "and bit 0 (1, 2) was clear in any of the EPT
         * paging-structure entries used to translate the guest-physical address".
         */
        NOT_PERMITTED
    }

    public EptViolation {
        Checks.notNull("qualification", qualification);
        Checks.notNull("linear", linear);
        Checks.notNull("path", path);
        Checks.notNull("cause", cause);
        if (path.isEmpty()) {
            throw new IllegalArgumentException("path = [] : an EPT violation follows at least one entry read");
        }
        path = List.copyOf(path);
    }

    /** The guest-linear address VM-exit field; meaningful only when {@code qualification().linearValid()}. */
    public long guestLinearAddress() {
        return linear.linearAddress();
    }

    /** The last EPT entry read (the not-present one, or the leaf). */
    public EptVisitedEntry lastEntry() {
        return path.get(path.size() - 1);
    }

    @Override
    public String toString() {
        return "EptViolation[" + Hex.of(guestPhysical) + " " + cause + " at " + lastEntry().name() + " "
                + qualification + (linear.valid() ? " linear " + Hex.of(linear.linearAddress()) : "") + "]";
    }
}
