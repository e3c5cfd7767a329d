package org.hybridv.ept;

import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.hybridv.x86.Checks;
import org.hybridv.x86.PageSize;

/**
 * What the EPT walk found for a guest-physical address, independent of the access (Intel SDM Vol. 3C §28.2.2,
 * §28.2.3.3 step 1): the entries it read, and either the page it reached or the entry that stopped it.
 *
 * @param guestPhysical the guest-physical address walked
 * @param path          the EPT entries read, in order (1 to 4)
 * @param end           how the walk ended
 * @param reasons       the misconfiguration reasons of the last entry ({@link End#MISCONFIGURED} only, else empty)
 * @param pageSize      the size of the page mapped ({@link End#MAPPED} only, else null)
 * @param hostPhysical  the translation ({@link End#MAPPED} only, else 0)
 * @param permissions   bits 0, 1, 2 each ANDed over every entry in {@code path}; for a walk that stopped at a
 *                      not-present entry this includes that entry, so all three are false (SDM table 27-7 bits
 *                      5:3)
 */
public record EptWalk(long guestPhysical, List<EptVisitedEntry> path, End end,
        Set<EptMisconfiguration.Reason> reasons, PageSize pageSize, long hostPhysical, EptPermissions permissions) {
    /** How an EPT walk ends (SDM 28.2.3.3 step 1). */
    public enum End {
        /** Step 1c ii: a present, properly configured entry maps a page; step 2 (permissions) follows. */
        MAPPED,
        /** Step 1a: "If the entry is not present (bits 2:0 are all 0), an EPT violation occurs." */
        NOT_PRESENT,
        /** Step 1b: "If the entry is present but its contents are not configured properly ..., an EPT misconfiguration occurs." */
        MISCONFIGURED
    }

    public EptWalk {
        Checks.notNull("path", path);
        Checks.notNull("end", end);
        Checks.notNull("reasons", reasons);
        Checks.notNull("permissions", permissions);
        path = List.copyOf(path);
        reasons = reasons.isEmpty() ? Collections.emptySet()
                : Collections.unmodifiableSet(EnumSet.copyOf(reasons));
        if (path.isEmpty()) {
            throw new IllegalArgumentException("path = [] : every EPT walk reads at least the EPT PML4E");
        }
        if ((end == End.MISCONFIGURED) == reasons.isEmpty()) {
            throw new IllegalArgumentException("end = " + end + " with reasons = " + reasons
                    + ": exactly a misconfigured walk has reasons");
        }
        if ((end == End.MAPPED) == (pageSize == null)) {
            throw new IllegalArgumentException("end = " + end + " with pageSize = " + pageSize
                    + ": exactly a mapped walk has a page size");
        }
    }

    /** The last entry read: the leaf of a mapped walk, the entry that stopped any other. */
    public EptVisitedEntry leaf() {
        return path.get(path.size() - 1);
    }
}
