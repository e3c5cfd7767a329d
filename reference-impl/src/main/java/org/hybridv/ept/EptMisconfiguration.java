package org.hybridv.ept;

import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.hybridv.x86.Checks;
import org.hybridv.x86.Hex;

/**
 * An EPT misconfiguration (Intel SDM Vol. 3C §28.2.3.1): the walk read a present EPT entry "that contains an
 * unsupported value" (SDM 28.2.3). It causes a VM exit with basic exit reason 49 (EPT misconfiguration); the VM exit
 * saves the guest-physical address (SDM 27.2.1) but no description of what is wrong — {@link #reasons()} is this
 * reference's explanation, naming every rule of {@link EptMisconfigurations} that the entry breaks.
 *
 * @param guestPhysical the guest-physical address whose translation met the entry
 * @param path          the EPT entries read, in order; the last is the misconfigured one
 * @param reasons       the rules of SDM 28.2.3.1 that the last entry breaks (at least one)
 */
public record EptMisconfiguration(long guestPhysical, List<EptVisitedEntry> path, Set<Reason> reasons)
        implements EptTranslation {
    /** The bullets of SDM 28.2.3.1, in its order. */
    public enum Reason {
        /** Bits 2:0 = 010b (write-only) or 110b (write/execute). */
        WRITE_WITHOUT_READ,
        /** Bits 2:0 = 100b (execute-only) and execute-only translations are not supported. */
        EXECUTE_ONLY_NOT_SUPPORTED,
        /** A present entry sets a reserved bit (incl. bits 51:N above MAXPHYADDR). */
        RESERVED_BIT,
        /** A present leaf has EPT memory type 2, 3 or 7. */
        RESERVED_MEMORY_TYPE
    }

    public EptMisconfiguration {
        Checks.notNull("path", path);
        Checks.notNull("reasons", reasons);
        if (path.isEmpty()) {
            throw new IllegalArgumentException("path = [] : a misconfiguration is met at some entry");
        }
        if (reasons.isEmpty()) {
            throw new IllegalArgumentException("reasons = [] : a misconfiguration has at least one reason");
        }
        path = List.copyOf(path);
        reasons = Collections.unmodifiableSet(EnumSet.copyOf(reasons));
    }

    /** The misconfigured entry (the last one read). */
    public EptVisitedEntry entry() {
        return path.get(path.size() - 1);
    }

    @Override
    public String toString() {
        return "EptMisconfiguration[" + Hex.of(guestPhysical) + " at " + entry().name() + " " + entry().entry()
                + " " + reasons + "]";
    }
}
