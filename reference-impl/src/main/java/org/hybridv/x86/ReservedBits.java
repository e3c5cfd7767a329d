package org.hybridv.x86;

/**
 * Reserved bits of IA-32e paging-structure entries (Intel SDM Vol. 3A §4.5.4, tables 4-14 to 4-20, and §4.7 for the
 * resulting RSVD error-code bit). An entry whose P flag is 1 and that sets a reserved bit ends the walk with a page
 * fault (SDM 4.5.4: "If the P flag … is 1 … and a reserved bit is set, the translation causes a page-fault exception").
 *
 * <p>This reference assumes a processor that supports 1-GByte pages (CPUID.80000001H:EDX.Page1GB = 1), so PS in a
 * PDPTE is not reserved.
 */
public final class ReservedBits {
    private ReservedBits() {}

    /**
     * Bits 51:M of every entry: "Reserved (must be 0)" for M &lt; 52 (SDM 4.5.4, tables 4-15..4-20, M =
     * MAXPHYADDR).
     */
    public static long aboveMaxPhysAddr(int maxPhysAddr) {
        Checks.inRange("maxPhysAddr", maxPhysAddr, CpuState.MIN_MAXPHYADDR, CpuState.MAX_MAXPHYADDR);
        return maxPhysAddr == 52 ? 0 : ((1L << 52) - 1) & ~((1L << maxPhysAddr) - 1);
    }

    /** Bit 63 (XD) is reserved when IA32_EFER.NXE = 0 (SDM 4.5.4: "If IA32_EFER.NXE = 0 … otherwise reserved"). */
    public static long executeDisable(Efer efer) {
        return efer.nxe() ? 0 : 1L << Entry.XD;
    }

    /** PS (bit 7) of a PML4E is reserved (SDM table 4-15: "Reserved (must be 0)"). */
    public static final long PML4E_PS = 1L << Entry.PS;
    /** Bits 29:13 of a PDPTE that maps a 1-GByte page are reserved (SDM table 4-16). */
    public static final long PDPTE_1G_LOW = Checks.mask(29, 13);
    /** Bits 20:13 of a PDE that maps a 2-MByte page are reserved (SDM table 4-18). */
    public static final long PDE_2M_LOW = Checks.mask(20, 13);

    /**
     * The reserved-bit mask of {@code entry} used at {@code level}, for the CPU state {@code cpu}. PS decides which
     * table of the SDM applies at the PDPT and PD levels.
     */
    public static long mask(Level level, Entry entry, CpuState cpu) {
        return mask(level, entry, common(cpu));
    }

    /** The part of the mask that is the same at every level: bits above MAXPHYADDR, and XD when EFER.NXE = 0. */
    public static long common(CpuState cpu) {
        return aboveMaxPhysAddr(cpu.maxPhysAddr()) | executeDisable(cpu.efer());
    }

    /** {@link #mask(Level, Entry, CpuState)} given {@link #common} of the CPU state (computed once per walk). */
    public static long mask(Level level, Entry entry, long common) {
        long m = common;
        switch (level) {
            case PML4 -> m |= PML4E_PS;
            case PDPT -> m |= entry.pageSize() ? PDPTE_1G_LOW : 0;
            case PD -> m |= entry.pageSize() ? PDE_2M_LOW : 0;
            case PT -> { }
        }
        return m;
    }

    /** Whether {@code entry} sets a reserved bit at {@code level} (SDM 4.5.4). */
    public static boolean anySet(Level level, Entry entry, CpuState cpu) {
        return (entry.raw() & mask(level, entry, cpu)) != 0;
    }

}
