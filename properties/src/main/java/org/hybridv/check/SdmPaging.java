package org.hybridv.check;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PhysicalMemory;

/**
 * The IA-32e translation of one access restated from the SDM independently of the reference: the 4-level walk and
 * its reserved bits (Intel SDM Vol. 3A §4.5.4, tables 4-14 to 4-20), the combination of rights over the entries used
 * and the access-rights decision (§4.6.1), and protection keys (§4.6.2). Entries are raw words read from physical
 * memory and every bit position is written out here; none of the reference's {@code PageWalk}, {@code ReservedBits},
 * {@code Rights}, {@code AccessRights}, {@code ProtectionKeys} or {@code Entry} accessors is used. What the paging
 * properties compare the reference's walk, translation and page-fault error code against.
 *
 * <p>The reference's documented readings are the SDM's: 1-GByte pages supported (PS of a PDPTE not reserved), and an
 * implicit supervisor-mode access is a supervisor-mode access at any CPL.
 */
public final class SdmPaging {
    private SdmPaging() {}

    /** How the walk ended (SDM 4.5.4): an entry with P = 0, a present entry with a reserved bit set, or a page. */
    public enum End { NOT_PRESENT, RESERVED_BIT, MAPPED }

    /**
     * The SDM's translation of an access.
     *
     * @param entryAddresses the physical addresses of the entries the walk read, PML4E first
     * @param end            how the walk ended
     * @param pageBytes      the size of the page mapped (0 unless {@link End#MAPPED})
     * @param physical       the physical address of the access (0 unless mapped)
     * @param writable       R/W = 1 in every entry used
     * @param user           U/S = 1 in every entry used: a user-mode address
     * @param executeDisable XD = 1 in some entry used
     * @param key            bits 62:59 of the entry that maps the page
     * @param pageAllows     the page-level protections of §4.6.1 allow the access
     * @param keyDenies      the protection keys of §4.6.2 deny the access
     */
    public record Outcome(List<Long> entryAddresses, End end, long pageBytes, long physical, boolean writable,
            boolean user, boolean executeDisable, int key, boolean pageAllows, boolean keyDenies) {
        /** Whether the access completes: a page mapped, allowed by the page-level protections and the keys. */
        public boolean completes() {
            return end == End.MAPPED && pageAllows && !keyDenies;
        }
    }

    private static final int[] SHIFT = {39, 30, 21, 12};
    private static final long P = 1L, RW = 1L << 1, US = 1L << 2, PS = 1L << 7, XD = 1L << 63;

    /** Bits hi:lo set. */
    static long bits(int hi, int lo) {
        return (hi == 63 ? -1L : (1L << (hi + 1)) - 1) & -(1L << lo);
    }

    /**
     * The translation of {@code access} (IA-32e paging on, canonical address) on {@code memory} with CPU state
     * {@code cpu}:
     * <ol>
     * <li>The PML4 is at CR3[M-1:12]; each entry is at table | linear[top:bottom] × 8 for the level's nine bits
     * (47:39, 38:30, 29:21, 20:12); the next table is at bits M-1:12 of the entry.</li>
     * <li>P = 0 ends the walk. A present entry with a reserved bit ends it too: bits 51:M in every entry, bit 63 when
     * IA32_EFER.NXE = 0, PS in a PML4E, bits 29:13 of a PDPTE with PS = 1, bits 20:13 of a PDE with PS = 1.</li>
     * <li>A PDPTE with PS = 1 maps a 1-GByte page, a PDE with PS = 1 a 2-MByte page, a PTE a 4-KByte page: the physical
     * address is the entry's bits M-1:(page shift) and the linear address's offset bits.</li>
     * </ol>
     */
    public static Outcome translate(PhysicalMemory memory, CpuState cpu, Access access) {
        return walk(memory, cpu, access, 0, cpu.cr3().pml4Base(), true, true, false);
    }

    /**
     * A paging-structure-cache entry as SDM 4.10.3.1 describes it, restated here: the level of the entry it caches
     * (0 PML4E, 1 PDPTE, 2 PDE), the address of the next paging structure it holds, and the AND of R/W and U/S and
     * the OR of XD over the entries from the PML4E down to it.
     */
    public record CachedEntry(int level, long table, boolean writable, boolean user, boolean executeDisable) {}

    /**
     * The paging-structure-cache entries the processor may create for {@code linear} from {@code memory} (SDM
     * 4.10.3.1): one per entry of the walk that has P = 1, no reserved bit set and references another paging
     * structure (a PML4E; a PDPTE or PDE with PS = 0), in walk order, stopping at the first entry that does not.
     * ("The processor does not create a PML4-cache entry unless the P flag is 1 and all reserved bits are 0 in the
     * PML4E in memory"; likewise PDPTE- and PDE-cache entries, with PS = 0.)
     */
    public static List<CachedEntry> creatable(PhysicalMemory memory, CpuState cpu, long linear) {
        int m = cpu.maxPhysAddr();
        long frameBits = bits(m - 1, 12);
        long common = (m == 52 ? 0 : bits(51, m)) | (cpu.efer().nxe() ? 0 : XD);
        long table = cpu.cr3().pml4Base();
        List<CachedEntry> out = new ArrayList<>(3);
        boolean writable = true;
        boolean user = true;
        boolean xd = false;
        for (int level = 0; level < 3; level++) {
            long e = memory.readPhysical(table | (((linear >>> SHIFT[level]) & 511) << 3));
            boolean ps = (e & PS) != 0;
            if ((e & P) == 0 || (e & common) != 0 || (level == 0 && ps) || (level > 0 && ps)) {
                break;
            }
            writable = writable && (e & RW) != 0;
            user = user && (e & US) != 0;
            xd = xd || (e & XD) != 0;
            table = e & frameBits;
            out.add(new CachedEntry(level, table, writable, user, xd));
        }
        return out;
    }

    /**
     * The translation of {@code access} by a walk that starts from the paging-structure-cache entry {@code start}
     * instead of CR3 (SDM 4.10.3.2: "If the processor does not find a TLB entry, it may use the upper bits of the linear
     * address to select an entry from the PDE cache", else one from the PDPTE cache, else the PML4 cache): the entries below the cached one are read from memory at
     * the address the cache entry holds, and the rights combine with the cached ones; the upper entries are not read.
     *
     * <p>Soundness condition for a judge that uses this: the SDM lets the processor start from {@code start} — which
     * may be stale, no longer matching memory — only if the entry was created (by a walk in the same VPID, EP4TA and
     * PCID, from entries that were then present without reserved bits, see {@link #creatable}) and has not been
     * invalidated since (SDM 4.10.4.1 lists what invalidates it; the processor may also drop it at any time). A
     * property calling this must track both itself, never read them from the reference's caches.
     */
    public static Outcome translateFrom(PhysicalMemory memory, CpuState cpu, Access access, CachedEntry start) {
        return walk(memory, cpu, access, start.level() + 1, start.table(), start.writable(), start.user(),
                start.executeDisable());
    }

    private static Outcome walk(PhysicalMemory memory, CpuState cpu, Access access, int first, long firstTable,
            boolean writableSoFar, boolean userSoFar, boolean xdSoFar) {
        int m = cpu.maxPhysAddr();
        long frameBits = bits(m - 1, 12);
        long common = (m == 52 ? 0 : bits(51, m)) | (cpu.efer().nxe() ? 0 : XD);
        long linear = access.linear();
        long table = firstTable;
        List<Long> path = new ArrayList<>(4);
        boolean writable = writableSoFar;
        boolean user = userSoFar;
        boolean xd = xdSoFar;
        for (int level = first; level < 4; level++) {
            long address = table | (((linear >>> SHIFT[level]) & 511) << 3);
            long e = memory.readPhysical(address);
            path.add(address);
            if ((e & P) == 0) {
                return new Outcome(path, End.NOT_PRESENT, 0, 0, false, false, false, 0, false, false);
            }
            boolean ps = (e & PS) != 0;
            long reserved = common;
            if (level == 0) {
                reserved |= PS;
            } else if (level == 1 && ps) {
                reserved |= bits(29, 13);
            } else if (level == 2 && ps) {
                reserved |= bits(20, 13);
            }
            if ((e & reserved) != 0) {
                return new Outcome(path, End.RESERVED_BIT, 0, 0, false, false, false, 0, false, false);
            }
            writable = writable && (e & RW) != 0;
            user = user && (e & US) != 0;
            xd = xd || (e & XD) != 0;
            if (level == 3 || (level > 0 && ps)) {
                long pageBytes = 1L << SHIFT[level];
                long physical = (e & frameBits & -pageBytes) | (linear & (pageBytes - 1));
                int key = (int) ((e >>> 59) & 0xF);
                return new Outcome(path, End.MAPPED, pageBytes, physical, writable, user, xd, key,
                        pageAllows(writable, user, xd, cpu, access), keyDenies(user, key, cpu, access));
            }
            table = e & frameBits;
        }
        throw new AssertionError("a PTE always maps a page");
    }

    /** SDM 4.6: accesses at CPL 3 are user-mode accesses, except implicit supervisor-mode accesses. */
    static boolean userModeAccess(CpuState cpu, Access access) {
        return cpu.cpl() == 3 && !access.implicitSupervisor();
    }

    /**
     * SDM 4.6.1, paragraph by paragraph. User-mode accesses: data reads from user-mode addresses; data writes to
     * user-mode addresses with R/W = 1 everywhere; fetches from user-mode addresses with no XD (if NXE = 1).
     * Supervisor-mode accesses: data reads and writes to user-mode addresses only with CR4.SMAP = 0, or EFLAGS.AC = 1
     * for an explicit access; writes need R/W = 1 everywhere when CR0.WP = 1; fetches never from a user-mode address
     * with CR4.SMEP = 1, and never with XD = 1 somewhere when NXE = 1.
     */
    static boolean pageAllows(boolean writable, boolean user, boolean xd, CpuState cpu, Access access) {
        boolean nxeForbids = cpu.efer().nxe() && xd;
        if (userModeAccess(cpu, access)) {
            return switch (access.kind()) {
                case READ -> user;
                case WRITE -> user && writable;
                case FETCH -> user && !nxeForbids;
            };
        }
        boolean smapForbids = user && cpu.cr4().smap() && (!cpu.ac() || access.implicitSupervisor());
        return switch (access.kind()) {
            case READ -> !smapForbids;
            case WRITE -> !smapForbids && (!cpu.cr0().wp() || writable);
            case FETCH -> !(user && cpu.cr4().smep()) && !nxeForbids;
        };
    }

    /**
     * SDM 4.6.2 and the PK bit of 4.7: with IA32_EFER.LMA = CR4.PKE = 1, a data access to a user-mode address with key
     * i is denied if PKRU.AD_i (bit 2i) = 1, or if PKRU.WD_i (bit 2i+1) = 1 and it is a write that is a user-mode
     * access or happens with CR0.WP = 1. Fetches are not subject to protection keys.
     */
    static boolean keyDenies(boolean user, int key, CpuState cpu, Access access) {
        if (!cpu.ia32eMode() || !cpu.cr4().pke() || access.kind() == AccessKind.FETCH || !user) {
            return false;
        }
        boolean ad = ((cpu.pkru() >>> (2 * key)) & 1) != 0;
        boolean wd = ((cpu.pkru() >>> (2 * key + 1)) & 1) != 0;
        return ad || (wd && access.kind() == AccessKind.WRITE
                && (userModeAccess(cpu, access) || cpu.cr0().wp()));
    }
}
