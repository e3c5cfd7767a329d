package org.hybridv.ept;

import org.hybridv.x86.Checks;
import org.hybridv.x86.Level;

/**
 * Reserved bits of EPT paging-structure entries (Intel SDM Vol. 3C §28.2.2, tables 28-1 to 28-6). A present entry
 * that sets a reserved bit causes an EPT misconfiguration (SDM 28.2.3.1: "A reserved bit is set. This includes the
 * setting of a bit in the range 51:12 that is beyond the logical processor's physical-address width").
 *
 * <p>Bits the tables call "Ignored" (11:8 or 11:9/11:10, 63:52, bit 7 of a PTE, and A/D when EPTP bit 6 = 0) are not
 * reserved. This reference assumes a processor that allows bit 7 = 1 in an EPT PDPTE (1-GByte pages,
 * IA32_VMX_EPT_VPID_CAP bit 17), so bit 7 of a PDPTE is not reserved.
 */
public final class EptReservedBits {
    private EptReservedBits() {}

    /** Bits 7:3 of an EPT PML4E: "Reserved (must be 0)" (SDM table 28-1). */
    public static final long PML4E = Checks.mask(7, 3);
    /**
     * Bits 7:3 of an EPT PDPTE that references an EPT page directory and of an EPT PDE that references an EPT page
     * table: "Reserved (must be 0)" (SDM tables 28-3 and 28-5). Bit 7 is 0 in such an entry by definition.
     */
    public static final long NON_LEAF_PDPTE_PDE = Checks.mask(7, 3);
    /** Bits 29:12 of an EPT PDPTE that maps a 1-GByte page: "Reserved (must be 0)" (SDM table 28-2). */
    public static final long PDPTE_1G = Checks.mask(29, 12);
    /** Bits 20:12 of an EPT PDE that maps a 2-MByte page: "Reserved (must be 0)" (SDM table 28-4). */
    public static final long PDE_2M = Checks.mask(20, 12);

    /**
     * Bits 51:N of every EPT entry: "Reserved (must be 0)" for N = MAXPHYADDR &lt; 52 (SDM tables 28-1..28-6);
     * no bits when N = 52.
     */
    public static long aboveMaxPhysAddr(int maxPhysAddr) {
        Checks.inRange("maxPhysAddr", maxPhysAddr, 36, 52);
        return maxPhysAddr == 52 ? 0 : Checks.mask(51, maxPhysAddr);
    }

    /**
     * The reserved-bit mask of {@code entry} used at {@code level} for physical-address width {@code maxPhysAddr}.
     * Bit 7 decides which table of the SDM applies at the PDPT and PD levels.
     */
    public static long mask(Level level, EptEntry entry, int maxPhysAddr) {
        Checks.notNull("level", level);
        Checks.notNull("entry", entry);
        long m = aboveMaxPhysAddr(maxPhysAddr);
        return m | switch (level) {
            case PML4 -> PML4E;
            case PDPT -> entry.largePage() ? PDPTE_1G : NON_LEAF_PDPTE_PDE;
            case PD -> entry.largePage() ? PDE_2M : NON_LEAF_PDPTE_PDE;
            case PT -> 0L;
        };
    }

    /** The reserved bits that {@code entry} sets at {@code level} (0 if none). */
    public static long set(Level level, EptEntry entry, int maxPhysAddr) {
        return entry.raw() & mask(level, entry, maxPhysAddr);
    }

    /** Whether {@code entry} sets a reserved bit at {@code level} (SDM 28.2.2, 28.2.3.1). */
    public static boolean anySet(Level level, EptEntry entry, int maxPhysAddr) {
        return set(level, entry, maxPhysAddr) != 0;
    }
}
