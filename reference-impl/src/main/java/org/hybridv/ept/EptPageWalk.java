package org.hybridv.ept;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Checks;
import org.hybridv.x86.Level;
import org.hybridv.x86.PageSize;
import org.hybridv.x86.PhysicalMemory;

/**
 * Guest-physical-address translation with EPT (Intel SDM Vol. 3C §28.2.2) and the decision whether an access through
 * it causes an EPT violation or an EPT misconfiguration (§28.2.3), with EPT accessed/dirty flags (§28.2.4).
 *
 * <p><b>Order of the checks.</b> SDM 28.2.3.3 ("Prioritization of EPT Misconfigurations and EPT Violations") sets it:
 * "For an access to a guest-physical address, determination of whether an EPT misconfiguration or an EPT violation
 * occurs is based on an iterative process:
 * <ol>
 * <li>An EPT paging-structure entry is read (initially, this is an EPT PML4 entry):
 * a. If the entry is not present (bits 2:0 are all 0), an EPT violation occurs.
 * b. If the entry is present but its contents are not configured properly (see Section 28.2.3.1), an EPT
 * misconfiguration occurs.
 * c. If the entry is present and its contents are configured properly, operation depends on whether the entry
 * references another EPT paging structure ...: i) If the entry does reference another EPT paging structure, an entry
 * from that structure is accessed; step 1 is executed for that other entry. ii) Otherwise, the entry is used to
 * produce the ultimate physical address ...; step 2 is executed.</li>
 * <li>Once the ultimate physical address is determined, the privileges determined by the EPT paging-structure entries
 * are evaluated: a. If the access to the guest-physical address is not allowed by these privileges (see Section
 * 28.2.3.2), an EPT violation occurs. b. If the access to the guest-physical address is allowed by these privileges,
 * memory is accessed using the ultimate physical address."</li>
 * </ol>
 * {@link #walk} is step 1, {@link #decide} step 2. Consequences, all following from that text: a permission missing
 * in an upper entry does not stop the walk (the privileges are evaluated only in step 2), so a lower misconfigured or
 * not-present entry wins over it; a not-present entry at a higher level wins over a misconfiguration at a lower one;
 * a misconfiguration is reported whatever the access. This agrees with SDM 28.2.3: "An EPT violation occurs when there
 * is no EPT misconfiguration but the EPT paging-structure entries disallow an access".
 *
 * <p><b>Within step 1b</b> the SDM does not order the misconfiguration rules of 28.2.3.1 (the architecture reports
 * only "EPT misconfiguration"); {@link EptMisconfiguration#reasons()} lists every rule the entry breaks.
 */
public final class EptPageWalk {
    private EptPageWalk() {}

    /**
     * Step 1 of SDM 28.2.3.3 for {@code guestPhysical}: the EPT walk (SDM 28.2.2).
     * <ol>
     * <li>"A 4-KByte naturally aligned EPT PML4 table is located at the physical address specified in bits 51:12 of
     * the extended-page-table pointer (EPTP)"; the EPT PML4E is at EPTP[51:12] | GPA[47:39] × 8.</li>
     * <li>Each next entry is at bits 51:12 of the previous entry, indexed by the next nine guest-physical-address bits
     * (EPT PDPTE: 38:30, PDE: 29:21, PTE: 20:12).</li>
     * <li>Stop at an entry that is not present (bits 2:0 = 000b) or misconfigured ({@link EptMisconfigurations}).</li>
     * <li>An EPT PDPTE with bit 7 = 1 maps a 1-GByte page (PDPTE[51:30] | GPA[29:0]); an EPT PDE with bit 7 = 1 a
     * 2-MByte page (PDE[51:21] | GPA[20:0]); otherwise the EPT PTE maps a 4-KByte page (PTE[51:12] | GPA[11:0]).</li>
     * </ol>
     * Host memory is read with {@link PhysicalMemory#readPhysical}: an entry in unbacked memory reads as all ones.
     *
     * @throws IllegalArgumentException if {@code eptp} would fail the VM-entry checks for {@code support} (no walk
     *                                  happens without a successful VM entry, SDM 26.2.1.1), or if
     *                                  {@code guestPhysical} sets bits 63:48 ({@link GuestPhysical})
     */
    public static EptWalk walk(PhysicalMemory host, Eptp eptp, EptSupport support, long guestPhysical) {
        Checks.notNull("host memory", host);
        Checks.notNull("eptp", eptp);
        Checks.notNull("support", support);
        String bad = eptp.vmEntryCheck(support);
        if (bad != null) {
            throw new IllegalArgumentException("no EPT walk with " + eptp + ": VM entry would have failed: " + bad);
        }
        GuestPhysical.check(guestPhysical);
        List<EptVisitedEntry> path = new ArrayList<>(4);
        EptPermissions permissions = EptPermissions.ALL;
        long tableBase = eptp.pml4Address();
        for (Level level = Level.PML4; level != null; level = level.next()) {
            long entryAddress = entryAddress(tableBase, level, guestPhysical);
            EptEntry entry = new EptEntry(host.readPhysical(entryAddress));
            path.add(new EptVisitedEntry(level, entryAddress, entry));
            permissions = permissions.and(entry);
            if (!entry.present()) {
                return new EptWalk(guestPhysical, path, EptWalk.End.NOT_PRESENT, Set.of(), null, 0, permissions);
            }
            Set<EptMisconfiguration.Reason> reasons = EptMisconfigurations.reasons(level, entry, support);
            if (!reasons.isEmpty()) {
                return new EptWalk(guestPhysical, path, EptWalk.End.MISCONFIGURED, reasons, null, 0, permissions);
            }
            if (mapsPage(level, entry)) {
                PageSize size = level.leafSize();
                long base = entry.address() & ~size.offsetMask();
                return new EptWalk(guestPhysical, path, EptWalk.End.MAPPED, Set.of(), size,
                        base | (guestPhysical & size.offsetMask()), permissions);
            }
            tableBase = entry.address();
        }
        throw new AssertionError("unreachable: an EPT PTE always maps a page");
    }

    /**
     * The host-physical address of the entry that {@code level} selects in the EPT paging structure at
     * {@code tableBase}: "Bits 51:12 are from" the EPTP or the previous entry, "Bits 11:3 are bits" 47:39, 38:30,
     * 29:21 or 20:12 "of the guest-physical address", "Bits 2:0 are all 0" (SDM 28.2.2).
     */
    public static long entryAddress(long tableBase, Level level, long guestPhysical) {
        return tableBase | ((long) level.index(guestPhysical) << 3);
    }

    /**
     * Whether an entry at {@code level} maps a page rather than referencing another EPT paging structure (SDM
     * 28.2.2): always for an EPT PTE, when bit 7 = 1 for an EPT PDPTE or PDE, never for an EPT PML4E (whose bit 7 is
     * reserved).
     */
    public static boolean mapsPage(Level level, EptEntry entry) {
        Checks.notNull("level", level);
        Checks.notNull("entry", entry);
        return switch (level) {
            case PML4 -> false;
            case PDPT, PD -> entry.largePage();
            case PT -> true;
        };
    }

    /**
     * Step 2 of SDM 28.2.3.3 and the outcome of the whole translation for one access, given the walk (step 1):
     * <ul>
     * <li>not present → EPT violation ({@link EptViolation.Cause#NOT_PRESENT}), bits 5:3 of the qualification all 0;</li>
     * <li>misconfigured → EPT misconfiguration, whatever the access;</li>
     * <li>mapped, and the combined permissions do not allow the access → EPT violation
     * ({@link EptViolation.Cause#NOT_PERMITTED}). "The access is a data read and bit 0 was clear in any of the EPT
     * paging-structure entries used to translate the guest-physical address", likewise bit 1 for a data write and bit
     * 2 for an instruction fetch (SDM 28.2.3.2); with EPT A/D enabled an access to a guest paging-structure entry is
     * checked as a write ({@link EptAccessedDirty#treatedAsWrite});</li>
     * <li>otherwise success, with the EPT accessed/dirty updates of SDM 28.2.4 applied to {@code host}.</li>
     * </ul>
     */
    public static EptTranslation decide(EptWalk walk, PhysicalMemory host, Eptp eptp, AccessKind access,
            GuestLinear linear) {
        Checks.notNull("walk", walk);
        Checks.notNull("host memory", host);
        checkAccess(eptp, access, linear);
        boolean asWrite = EptAccessedDirty.treatedAsWrite(eptp, linear);
        AccessKind effective = EptAccessedDirty.effectiveAccess(access, eptp, linear);
        return switch (walk.end()) {
            case NOT_PRESENT -> new EptViolation(walk.guestPhysical(),
                    EptViolationQualification.of(access, asWrite, walk.permissions(), linear), linear, walk.path(),
                    EptViolation.Cause.NOT_PRESENT);
            case MISCONFIGURED -> new EptMisconfiguration(walk.guestPhysical(), walk.path(), walk.reasons());
            case MAPPED -> walk.permissions().permits(effective)
                    ? new EptTranslated(walk.guestPhysical(), walk.hostPhysical(), walk.pageSize(),
                            walk.permissions(), EptMemoryType.of(walk.leaf().entry().memoryType()),
                            walk.leaf().entry().ignorePat(), walk.path(),
                            EptAccessedDirty.update(host, eptp, walk, effective == AccessKind.WRITE))
                    : new EptViolation(walk.guestPhysical(),
                            EptViolationQualification.of(access, asWrite, walk.permissions(), linear), linear,
                            walk.path(), EptViolation.Cause.NOT_PERMITTED);
        };
    }

    /**
     * The translation of one access to {@code guestPhysical} with EPT: {@link #walk} then {@link #decide}.
     *
     * @param host          host-physical memory holding the EPT paging structures
     * @param eptp          the EPTP of the current VMCS (must pass the VM-entry checks for {@code support})
     * @param support       the processor's MAXPHYADDR and EPT capabilities
     * @param guestPhysical the guest-physical address (bits 63:48 clear, {@link GuestPhysical})
     * @param access        the access as the guest makes it: a data read (including a read of a guest
     *                      paging-structure entry, SDM 28.2.3.2), a data write (including an update of a guest
     *                      entry's accessed/dirty flags), or an instruction fetch (only with a translated-access
     *                      {@code linear}); the A/D "treated as write" rule is applied here
     * @param linear        the linear-address context (bits 7 and 8 of the qualification; the guest-linear field)
     */
    public static EptTranslation translate(PhysicalMemory host, Eptp eptp, EptSupport support, long guestPhysical,
            AccessKind access, GuestLinear linear) {
        return decide(walk(host, eptp, support, guestPhysical), host, eptp, access, linear);
    }

    /**
     * API checks on an access: the guest's accesses to its paging structures are data accesses ("Reads by the logical
     * processor of guest paging structures to translate a linear address are considered to be data reads", SDM
     * 28.2.3.2), so an instruction fetch must be the translated access itself.
     */
    private static void checkAccess(Eptp eptp, AccessKind access, GuestLinear linear) {
        Checks.notNull("eptp", eptp);
        Checks.notNull("access", access);
        Checks.notNull("linear", linear);
        if (access == AccessKind.FETCH && !linear.translatedAccess()) {
            throw new IllegalArgumentException("access = FETCH with " + linear + ": an instruction fetch is an access"
                    + " to the translation of a linear address; guest paging-structure accesses are data accesses"
                    + " (SDM 28.2.3.2)");
        }
    }
}
