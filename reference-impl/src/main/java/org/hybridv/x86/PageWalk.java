package org.hybridv.x86;

import java.util.List;

/**
 * Linear-address translation with IA-32e 4-level paging (Intel SDM Vol. 3A §4.5, figure 4-8 to 4-10), and the
 * decision whether an access through that translation faults (§4.6, §4.7). Pure functions of memory, CPU state and
 * the access: no TLB, no accessed/dirty updates (those are {@link Tlb}, {@link AccessedDirty} and
 * {@link Processor}).
 */
public final class PageWalk {
    private PageWalk() {}

    /**
     * The walk for {@code linear} (canonical) under IA-32e paging (SDM 4.5.4). Step by step:
     * <ol>
     * <li>"A 4-KByte naturally aligned PML4 table is located at the physical address specified in bits 51:12 of CR3";
     * the PML4E is at CR3[M-1:12] | linear[47:39] × 8.</li>
     * <li>Each next entry is at the address held in bits M-1:12 of the previous entry, indexed by the next nine
     * linear-address bits (PDPTE: 38:30, PDE: 29:21, PTE: 20:12).</li>
     * <li>The walk stops at the first entry with P = 0, or with P = 1 and a reserved bit set ({@link ReservedBits}).</li>
     * <li>A PDPTE with PS = 1 maps a 1-GByte page (physical = PDPTE[M-1:30] | linear[29:0]); a PDE with PS = 1 maps a
     * 2-MByte page (PDE[M-1:21] | linear[20:0]); otherwise the PTE maps a 4-KByte page (PTE[M-1:12] |
     * linear[11:0]).</li>
     * </ol>
     */
    public static Walk walk(PhysicalMemory memory, CpuState cpu, long linear) {
        Checks.notNull("memory", memory);
        return walk(EntryReader.of(memory), cpu, linear);
    }

    /**
     * The same walk reading entries through {@code reader}: under EPT the table addresses are guest-physical and each
     * read may be refused (SDM Vol. 3C §28.2.1), which ends the walk with {@link Walk.End#READ_REFUSED}.
     */
    public static Walk walk(EntryReader reader, CpuState cpu, long linear) {
        Checks.notNull("entry reader", reader);
        Checks.notNull("cpu", cpu);
        if (!cpu.pagingEnabled()) {
            throw new IllegalArgumentException("no page walk with CR0.PG = 0: linear addresses are physical"
                    + " (SDM 4.1.1); use translate()");
        }
        if (!Canonical.isCanonical(linear)) {
            throw new IllegalArgumentException("linear address " + Hex.of(linear) + " is not canonical; the"
                    + " processor raises #GP before any walk (use translate())");
        }
        return walkFrom(reader, cpu, linear, Level.PML4, cpu.cr3().pml4Base(), Rights.UNRESTRICTED.writable(),
                Rights.UNRESTRICTED.user(), Rights.UNRESTRICTED.executeDisable());
    }

    /**
     * The walk for {@code linear} continued from a paging-structure-cache entry (Intel SDM Vol. 3A §4.10.3.2): "If
     * the processor does not find a TLB entry, it may use the upper bits of the linear address to select an entry from
     * the PDE cache" and take the page table's address from it (§4.10.3.1: "it may use that entry when translating
     * the linear address (instead of the PML4E, the PDPTE, and the PDE in memory)"), and likewise a PDPTE-cache entry
     * to locate the page directory and a PML4-cache entry to locate the page-directory-pointer table. The walk reads only the
     * entries below the cached one, starting from the physical address the cache entry holds, and combines their
     * rights with the cached R/W, U/S and XD. The upper entries are not read, so their reserved bits are not checked
     * again and their accessed flags are not set by the access (the path holds only the entries read; §4.10.3.1: the
     * processor set them before it created the cache entry).
     */
    public static Walk walkFrom(EntryReader reader, CpuState cpu, long linear, PscEntry start) {
        Checks.notNull("entry reader", reader);
        Checks.notNull("cpu", cpu);
        Checks.notNull("paging-structure-cache entry", start);
        if (!cpu.pagingEnabled() || !Canonical.isCanonical(linear) || !start.covers(linear)) {
            throw new IllegalArgumentException("no walk of " + Hex.of(linear) + " from " + start);
        }
        return walkFrom(reader, cpu, linear, start.level().next(), start.nextTable(), start.writable(),
                start.user(), start.executeDisable());
    }

    private static Walk walkFrom(EntryReader reader, CpuState cpu, long linear, Level first, long firstTable,
            boolean writableSoFar, boolean userSoFar, boolean executeDisableSoFar) {
        // Allocation-lean on purpose (hybridv bench, docs/benchmarks.md): the visited entries go into an array that
        // becomes the immutable path once, the rights are combined as flags (R/W and U/S ANDed, XD ORed, as
        // Rights.narrowedBy) and the reserved-bit mask common to all levels is computed once.
        VisitedEntry[] path = new VisitedEntry[4];
        int n = 0;
        boolean writable = writableSoFar;
        boolean user = userSoFar;
        boolean executeDisable = executeDisableSoFar;
        long tableBase = firstTable;
        long addressMask = addressMask(cpu.maxPhysAddr());
        long reserved = ReservedBits.common(cpu);
        for (Level level = first; level != null; level = level.next()) {
            long entryAddress = tableBase | ((long) level.index(linear) << 3);
            long raw = reader.read(entryAddress);
            if (reader.refused()) {
                return new Walk(pathOf(path, n), Walk.End.READ_REFUSED, null, 0, null);
            }
            Entry entry = new Entry(raw);
            path[n++] = new VisitedEntry(level, entryAddress, entry);
            if (!entry.present()) {
                return new Walk(pathOf(path, n), Walk.End.NOT_PRESENT, null, 0, null);
            }
            if ((raw & ReservedBits.mask(level, entry, reserved)) != 0) {
                return new Walk(pathOf(path, n), Walk.End.RESERVED_BIT, null, 0, null);
            }
            writable &= entry.writable();
            user &= entry.user();
            executeDisable |= entry.noExecute();
            if (mapsPage(level, entry)) {
                PageSize size = level.leafSize();
                long base = entry.raw() & addressMask & ~size.offsetMask();
                return new Walk(pathOf(path, n), Walk.End.MAPPED, size, base | (linear & size.offsetMask()),
                        new Rights(writable, user, executeDisable, entry.protectionKey()));
            }
            tableBase = entry.raw() & addressMask;
        }
        throw new AssertionError("unreachable: the PT level always maps a page");
    }

    /** The first {@code n} visited entries as an immutable list (which {@link Walk} keeps without copying). */
    private static List<VisitedEntry> pathOf(VisitedEntry[] path, int n) {
        switch (n) {
            case 0:
                return List.of();
            case 1:
                return List.of(path[0]);
            case 2:
                return List.of(path[0], path[1]);
            case 3:
                return List.of(path[0], path[1], path[2]);
            default:
                return List.of(path[0], path[1], path[2], path[3]);
        }
    }

    /**
     * Whether an entry at {@code level} maps a page rather than referencing another paging structure (SDM 4.5.4):
     * always for a PTE, when PS = 1 for a PDPTE or PDE, never for a PML4E (whose PS is reserved).
     */
    public static boolean mapsPage(Level level, Entry entry) {
        return switch (level) {
            case PML4 -> false;
            case PDPT, PD -> entry.pageSize();
            case PT -> true;
        };
    }

    /** Bits M-1:12, the address field of an entry for MAXPHYADDR = M (SDM 4.5.4). */
    public static long addressMask(int maxPhysAddr) {
        return ((1L << maxPhysAddr) - 1) & ~0xFFFL;
    }

    /**
     * The translation of one access (SDM 4.5–4.7) without TLB: #GP for a non-canonical address (SDM Vol. 1
     * §3.3.7.1); the walk; a #PF if the walk stops at a not-present or reserved entry, or if the access rights
     * ({@link AccessRights}) or protection keys ({@link ProtectionKeys}) deny the access; otherwise the physical
     * address. With CR0.PG = 0 the linear address is the physical address and no page-level protection applies
     * (SDM 4.1.1); the result is then reported as an unrestricted 4-KByte identity translation.
     */
    public static Translation translate(PhysicalMemory memory, CpuState cpu, Access access) {
        Checks.notNull("memory", memory);
        Checks.notNull("cpu", cpu);
        Checks.notNull("access", access);
        if (!cpu.pagingEnabled()) {
            return new Translated(access.linear(), PageSize.SIZE_4K, Rights.UNRESTRICTED);
        }
        if (!Canonical.isCanonical(access.linear())) {
            return nonCanonical(access.linear());
        }
        return decide(walk(memory, cpu, access.linear()), cpu, access);
    }

    /** #GP(0) for a non-canonical linear address. */
    static GeneralProtection nonCanonical(long linear) {
        return new GeneralProtection("non-canonical linear address " + Hex.of(linear)
                + " (bits 63:47 not all equal; SDM Vol. 1 §3.3.7.1)");
    }

    /** The outcome of {@code access} given the walk for its address (SDM 4.6, 4.7). */
    public static Translation decide(Walk walk, CpuState cpu, Access access) {
        Checks.notNull("walk", walk);
        Checks.notNull("cpu", cpu);
        Checks.notNull("access", access);
        return switch (walk.end()) {
            case NOT_PRESENT -> new PageFault(ErrorCode.of(false, false, false, access, cpu), access.linear());
            case RESERVED_BIT -> new PageFault(ErrorCode.of(true, true, false, access, cpu), access.linear());
            case MAPPED -> checkRights(walk.physical(), walk.pageSize(), walk.rights(), cpu, access);
            case READ_REFUSED -> throw new IllegalArgumentException("a walk whose entry read was refused has no"
                    + " paging outcome; the reader holds the reason");
        };
    }

    /**
     * The access-rights decision for a present translation (SDM 4.6): a #PF with P = 1 if either the page-level
     * protections or the protection keys deny the access; the PK bit records the latter (SDM 4.7).
     */
    public static Translation checkRights(long physical, PageSize size, Rights rights, CpuState cpu,
            Access access) {
        Checks.notNull("page size", size);
        Checks.notNull("rights", rights);
        Checks.notNull("cpu", cpu);
        Checks.notNull("access", access);
        boolean allowed = AccessRights.permits(rights, cpu, access);
        boolean pk = ProtectionKeys.violation(rights, cpu, access);
        if (allowed && !pk) {
            return new Translated(physical, size, rights);
        }
        return new PageFault(ErrorCode.of(true, false, pk, access, cpu), access.linear());
    }
}
