package org.hybridv.ept;

import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Checks;
import org.hybridv.x86.PhysicalMemory;

/**
 * Accessed and dirty flags for EPT (Intel SDM Vol. 3C §28.2.4), enabled by EPTP bit 6.
 *
 * <p>"For any EPT paging-structure entry that is used during guest-physical-address translation, bit 8 is the
 * accessed flag. For a EPT paging-structure entry that maps a page (as opposed to referencing another EPT paging
 * structure), bit 9 is the dirty flag." The processor sets the accessed flag in every EPT entry it uses to translate a
 * guest-physical address and, for a write to a guest-physical address, the dirty flag in the EPT entry that
 * identifies the final physical address (an EPT PTE, or an EPT PDPTE/PDE with bit 7 = 1); the flags are sticky (SDM
 * 28.2.4).
 *
 * <p><b>Choice.</b> As in the x86 layer ({@link org.hybridv.x86.AccessedDirty}), flags are set only for a translation
 * that completes: an access that ends in an EPT violation or misconfiguration changes no flag. SDM 28.2.4 does not say
 * whether entries used by a walk that then faults get their accessed flag; choosing "no" keeps an EPT-induced VM exit
 * free of side effects, so the access can be re-executed after the hypervisor fixes the EPT.
 */
public final class EptAccessedDirty {
    private EptAccessedDirty() {}

    /**
     * Whether EPT treats this access as a write: with EPTP bit 6 = 1, an access to a guest paging-structure entry
     * during the translation of a linear address. SDM 28.2.4: "setting this flag causes processor accesses to guest
     * paging-structure entries to be treated as writes (see below and Section 28.2.3.2)"; SDM 28.2.3.2: "If bit 6 of
     * the EPT pointer (EPTP) is 1 (enabling accessed and dirty flags for EPT), processor accesses to guest
     * paging-structure entries are treated as writes with regard to EPT violations. Thus, if bit 1 is clear in any of
     * the EPT paging-structure entries used to translate the guest-physical address of a guest paging-structure entry,
     * an attempt to use that entry to translate a linear address causes an EPT violation." Being a write, such an
     * access also sets the dirty flag of the EPT leaf that maps the guest paging structure (SDM 28.2.4).
     *
     * <p>"(This does not apply to loads of the PDPTE registers by the MOV to CR instruction for PAE paging ... Those
     * loads of guest PDPTEs are treated as reads ...)": such loads have no valid guest-linear address
     * ({@link GuestLinear#NOT_VALID}), so they are not treated as writes here.
     *
     * <p>{@link EptPageWalk#translate} applies this rule itself: its caller passes the access as the guest walk makes
     * it (a read of a guest paging-structure entry, or a write that updates its accessed/dirty flags).
     */
    public static boolean treatedAsWrite(Eptp eptp, GuestLinear linear) {
        Checks.notNull("eptp", eptp);
        Checks.notNull("linear", linear);
        return eptp.accessedDirtyEnabled() && linear.pagingStructureAccess();
    }

    /** The access kind EPT checks permissions for: WRITE when {@link #treatedAsWrite}, else {@code access}. */
    public static AccessKind effectiveAccess(AccessKind access, Eptp eptp, GuestLinear linear) {
        Checks.notNull("access", access);
        return treatedAsWrite(eptp, linear) ? AccessKind.WRITE : access;
    }

    /**
     * Host memory after a completed translation through {@code walk} (which must have mapped a page): if EPTP bit 6
     * = 1, "Whenever the processor uses an EPT paging-structure entry as part of guest-physical-address translation,
     * it sets the accessed flag in that entry (if it is not already set)" — A in every entry of the path — and, if
     * {@code write}, D in the leaf (SDM 28.2.4). With EPTP bit 6 = 0, bits 8 and 9 are ignored and nothing is
     * written.
     */
    public static PhysicalMemory update(PhysicalMemory memory, Eptp eptp, EptWalk walk, boolean write) {
        Checks.notNull("memory", memory);
        Checks.notNull("eptp", eptp);
        Checks.notNull("walk", walk);
        if (walk.end() != EptWalk.End.MAPPED) {
            throw new IllegalArgumentException("EPT accessed/dirty flags are set only for a walk that mapped a page,"
                    + " not for one that ended " + walk.end());
        }
        if (!eptp.accessedDirtyEnabled()) {
            return memory;
        }
        PhysicalMemory m = memory;
        for (EptVisitedEntry v : walk.path()) {
            m = setFlag(m, v, EptEntry.A);
        }
        return write ? setFlag(m, walk.leaf(), EptEntry.D) : m;
    }

    /** Sets {@code bit} (8 = A, 9 = D) in the entry at {@code v.address()}, if not already set. */
    static PhysicalMemory setFlag(PhysicalMemory memory, EptVisitedEntry v, int bit) {
        long current = memory.readPhysical(v.address());
        return (current & (1L << bit)) != 0 ? memory : memory.writePhysical(v.address(), current | (1L << bit));
    }
}
