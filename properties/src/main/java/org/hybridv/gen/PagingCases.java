package org.hybridv.gen;

import org.hybridv.x86.Access;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Canonical;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Efer;
import org.hybridv.x86.Entry;
import org.hybridv.x86.Level;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.X86Machine;

/**
 * Generates {@link PagingCase}s that reach the interesting corners of IA-32e paging often: a walk path is built for
 * the access's own linear address (so most walks reach a leaf), in a small memory (so tables alias and self-maps
 * occur), with entry flags and CPU controls biased so that every outcome class — success, not-present, reserved bit,
 * each protection violation, protection keys, non-canonical #GP — makes up a real share of the cases.
 *
 * <p>Choice 0 everywhere gives the simplest case: a present, writable, user 4-KByte mapping of address 0, read at
 * CPL 0 with every optional protection off.
 */
public final class PagingCases {
    /** Frames of memory in a generated case: small, so that tables collide. */
    public static final int FRAMES = 16;
    /** The frame CR3 points at. */
    public static final int PML4_FRAME = 1;

    private PagingCases() {}

    /** A case with an empty TLB of the given policy. */
    public static PagingCase generate(Choices c, TlbPolicy policy) {
        int maxPhysAddr = c.oneOf(39, 36, 46, 52);
        CpuState cpu = cpuState(c, maxPhysAddr);
        long linear = linearAddress(c);
        PhysicalMemory memory = PhysicalMemory.ofFrames(FRAMES);
        memory = pathFor(c, memory, cpu, linear);
        memory = noise(c, memory);
        Access access = access(c, linear);
        return new PagingCase(new X86Machine(memory, cpu, Tlb.empty(policy)), access);
    }

    /** A case with no TLB caching. */
    public static PagingCase generate(Choices c) {
        return generate(c, TlbPolicy.NONE);
    }

    /** IA-32e paging with each optional control (WP, NXE, SMEP, SMAP, AC, PKE, PGE) and CPL drawn independently. */
    static CpuState cpuState(Choices c, int maxPhysAddr) {
        boolean wp = c.flag(false, 50);
        boolean nxe = c.flag(false, 60);
        Cr4 cr4 = Cr4.RESET.withPae(true).withSmep(c.flag(false, 35)).withSmap(c.flag(false, 35))
                .withPke(c.flag(false, 50)).withPge(c.flag(false, 40));
        int pkru = c.weighted(40, 60) == 0 ? 0 : c.next() ^ (c.next() << 16);
        CpuState cpu = CpuState.longMode(PML4_FRAME, maxPhysAddr)
                .withCr0(new Cr0(true, wp, true))
                .withCr4(cr4)
                .withEfer(new Efer(true, nxe))
                .withAc(c.flag(false, 40))
                .withPkru(pkru)
                .withCpl(c.flag(false, 50) ? 0 : 3);
        return cpu;
    }

    /** A quadword-aligned linear address whose table indices come mostly from {0, 1, 511} so that paths share tables. */
    static long linearAddress(Choices c) {
        long linear = tableIndices(c);
        linear |= (long) c.oneOf(0, 8, 0xFF8, c.below(512) * 8);
        linear = Canonical.canonicalize(linear);
        if (c.flag(false, 4)) {
            linear ^= 1L << (48 + c.below(16));
        }
        return linear;
    }

    /**
     * Bits 47:12 of a linear address: the four table indices, each 0 (40 %), 1, 511 (20 % each) or any (20 %), so that
     * generated paths share tables.
     */
    public static long tableIndices(Choices c) {
        long linear = 0;
        for (Level level : Level.values()) {
            int index = switch (c.weighted(40, 20, 20, 20)) {
                case 0 -> 0;
                case 1 -> 1;
                case 2 -> 511;
                default -> c.below(512);
            };
            linear |= (long) index << level.shift();
        }
        return linear;
    }

    /**
     * Writes one entry per level on the way to {@code linear}: each in the table the previous entry points at,
     * pointing at a table frame drawn from the small memory (so a frame can be a table at several levels, or the
     * PML4 itself).
     */
    static PhysicalMemory pathFor(Choices c, PhysicalMemory memory, CpuState cpu, long linear) {
        long table = PML4_FRAME;
        PhysicalMemory m = memory;
        for (Level level = Level.PML4; level != null; level = level.next()) {
            long nextFrame = 2 + c.below(FRAMES - 2);
            if (c.flag(false, 5)) {
                nextFrame = c.below(FRAMES);
            }
            Entry e = entry(c, level, nextFrame, cpu);
            m = m.write(table, level.index(linear), e.raw());
            if (!e.present() || (level != Level.PML4 && level != Level.PT && e.pageSize())) {
                break;
            }
            table = nextFrame;
        }
        return m;
    }

    /** One entry: mostly present and permissive, sometimes restrictive, large, global, keyed, or with a reserved bit. */
    static Entry entry(Choices c, Level level, long frame, CpuState cpu) {
        Entry e = Entry.table(frame, true, true)
                .withPresent(c.flag(true, 7))
                .withWritable(c.flag(true, 20))
                .withUser(c.flag(true, 20))
                .withNoExecute(c.flag(false, 15))
                .withAccessed(c.flag(false, 50));
        boolean large = switch (level) {
            case PDPT -> c.flag(false, 10);
            case PD -> c.flag(false, 15);
            default -> false;
        };
        boolean leaf = level == Level.PT || large;
        if (large) {
            e = e.withPageSize(true).withFrame(frame & ~((1L << (level.shift() - 12)) - 1));
        }
        if (leaf) {
            e = e.withDirty(c.flag(false, 50)).withGlobal(c.flag(false, 30))
                    .withProtectionKey(c.weighted(50, 50) == 0 ? 0 : c.below(16));
        }
        if (c.flag(false, 4)) {
            e = withReservedBit(c, level, e, cpu);
        }
        return e;
    }

    /** The entry with one bit set that SDM 4.5.4 reserves at this level for this CPU. */
    static Entry withReservedBit(Choices c, Level level, Entry e, CpuState cpu) {
        long candidates = sdmReserved(level, e, cpu.maxPhysAddr());
        if (candidates == 0) {
            return e.withNoExecute(true);
        }
        int count = Long.bitCount(candidates);
        int pick = c.below(count);
        long bit = candidates;
        for (int i = 0; i < pick; i++) {
            bit &= bit - 1;
        }
        return new Entry(e.raw() | Long.lowestOneBit(bit));
    }

    /**
     * The bits Intel SDM Vol. 3A §4.5.4 (tables 4-15 to 4-20) reserves in an entry of {@code level}, XD aside (drawn
     * as "XD without NXE" elsewhere), restated here rather than taken from the reference's {@code ReservedBits}: a
     * generator that drew from the code under test could never produce the bit a slip there forgets. Bits
     * 51:MAXPHYADDR of every entry; PS (bit 7) of a PML4E; bits 29:13 of a PDPTE that maps 1 GByte; bits 20:13 of a
     * PDE that maps 2 MBytes.
     */
    static long sdmReserved(Level level, Entry e, int maxPhysAddr) {
        long m = maxPhysAddr >= 52 ? 0 : ((1L << 52) - 1) & ~((1L << maxPhysAddr) - 1);
        switch (level) {
            case PML4 -> m |= 1L << 7;
            case PDPT -> m |= e.pageSize() ? ((1L << 30) - 1) & ~((1L << 13) - 1) : 0;
            case PD -> m |= e.pageSize() ? ((1L << 21) - 1) & ~((1L << 13) - 1) : 0;
            default -> { }
        }
        return m;
    }

    /** A few random words written at random places: memory the walk should not depend on unless it reads it. */
    static PhysicalMemory noise(Choices c, PhysicalMemory memory) {
        PhysicalMemory m = memory;
        int n = c.below(4);
        for (int i = 0; i < n; i++) {
            m = m.write(c.below(FRAMES), c.below(PhysicalMemory.WORDS_PER_FRAME), c.bits64());
        }
        return m;
    }

    /** Read, write or fetch; data accesses are sometimes implicit supervisor-mode accesses. */
    static Access access(Choices c, long linear) {
        AccessKind kind = c.oneOf(AccessKind.READ, AccessKind.WRITE, AccessKind.FETCH);
        long value = kind == AccessKind.WRITE ? c.bits64() : 0;
        boolean implicit = kind != AccessKind.FETCH && c.flag(false, 10);
        return new Access(linear, kind, implicit, value);
    }
}
