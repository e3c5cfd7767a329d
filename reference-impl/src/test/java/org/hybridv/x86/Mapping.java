package org.hybridv.x86;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumMap;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Test helper: one 4-level IA-32e mapping of {@link #LINEAR} (Intel SDM Vol. 3A §4.5, figure 4-8), with the PML4
 * in frame 1, the PDPT in frame 2, the PD in frame 3, the PT in frame 4 and the 4-KByte page in frame 9. Every entry
 * starts present, writable and user (R/W = U/S = 1), every other bit clear; a test changes only the entry its rule
 * is about.
 *
 * <p>The linear address uses a different index at each level (PML4 1, PDPT 2, PD 3, PT 4) so that an entry read
 * from the wrong slot cannot go unnoticed.
 */
final class Mapping {
    static final int FRAMES = 16;
    static final long PML4 = 1;
    static final long PDPT = 2;
    static final long PD = 3;
    static final long PT = 4;
    static final long PAGE = 9;
    /** A second data page, for tests that remap {@link #LINEAR}. */
    static final long OTHER_PAGE = 10;

    static final int PML4_INDEX = 1;
    static final int PDPT_INDEX = 2;
    static final int PD_INDEX = 3;
    static final int PT_INDEX = 4;
    /** Byte offset of {@link #LINEAR} within its 4-KByte page (8-byte aligned). */
    static final long OFFSET = 0x5A8;

    /** Linear bits 47:39 = 1, 38:30 = 2, 29:21 = 3, 20:12 = 4, 11:0 = 0x5A8 (SDM figure 4-8). */
    static final long LINEAR = (1L << 39) | (2L << 30) | (3L << 21) | (4L << 12) | OFFSET;

    /** The word index of {@link #OFFSET} within a frame. */
    static final int WORD = (int) (OFFSET / 8);
    /** What {@link #machine} stores at {@link #LINEAR}'s word in frame 9 and in frame 10. */
    static final long PAGE_DATA = 0x1111_1111L;
    static final long OTHER_PAGE_DATA = 0x2222_2222L;

    private final Map<Level, Entry> entries = new EnumMap<>(Level.class);

    Mapping() {
        entries.put(Level.PML4, Entry.table(PDPT, true, true));
        entries.put(Level.PDPT, Entry.table(PD, true, true));
        entries.put(Level.PD, Entry.table(PT, true, true));
        entries.put(Level.PT, Entry.table(PAGE, true, true));
    }

    static Mapping fourKiB() {
        return new Mapping();
    }

    /** The entry at {@code level} replaced by {@code f} applied to it. */
    Mapping at(Level level, UnaryOperator<Entry> f) {
        entries.put(level, f.apply(entries.get(level)));
        return this;
    }

    Mapping pml4e(UnaryOperator<Entry> f) {
        return at(Level.PML4, f);
    }

    Mapping pdpte(UnaryOperator<Entry> f) {
        return at(Level.PDPT, f);
    }

    Mapping pde(UnaryOperator<Entry> f) {
        return at(Level.PD, f);
    }

    Mapping pte(UnaryOperator<Entry> f) {
        return at(Level.PT, f);
    }

    Entry entry(Level level) {
        return entries.get(level);
    }

    /** The paging structures in a fresh memory of {@link #FRAMES} frames. */
    PhysicalMemory memory() {
        return PhysicalMemory.ofFrames(FRAMES)
                .write(PML4, PML4_INDEX, entries.get(Level.PML4).raw())
                .write(PDPT, PDPT_INDEX, entries.get(Level.PDPT).raw())
                .write(PD, PD_INDEX, entries.get(Level.PD).raw())
                .write(PT, PT_INDEX, entries.get(Level.PT).raw());
    }

    /** {@link #memory()} plus {@link #PAGE_DATA} and {@link #OTHER_PAGE_DATA} at {@link #LINEAR}'s word of pages 9 and 10. */
    X86Machine machine(CpuState cpu, TlbPolicy policy) {
        PhysicalMemory m = memory().write(PAGE, WORD, PAGE_DATA).write(OTHER_PAGE, WORD, OTHER_PAGE_DATA);
        return new X86Machine(m, cpu, Tlb.empty(policy));
    }

    /** IA-32e paging with the PML4 in frame 1, MAXPHYADDR 36, every optional protection off, CPL 0. */
    static CpuState cpu() {
        return CpuState.longMode(PML4, 36);
    }

    /** The 4 entry frames and indices in walk order, for checking A/D flags. */
    static long frameOf(Level level) {
        return switch (level) {
            case PML4 -> PML4;
            case PDPT -> PDPT;
            case PD -> PD;
            case PT -> PT;
        };
    }

    static int indexOf(Level level) {
        return switch (level) {
            case PML4 -> PML4_INDEX;
            case PDPT -> PDPT_INDEX;
            case PD -> PD_INDEX;
            case PT -> PT_INDEX;
        };
    }

    // ---- small assertion helpers ----

    static PageFault pageFault(int errorBits, long linear) {
        return new PageFault(new ErrorCode(errorBits), linear);
    }

    /** The physical address of a translation that must have succeeded. */
    static long physical(Translation t) {
        assertThat(t).isInstanceOf(Translated.class);
        return ((Translated) t).physicalAddress();
    }

    static Translation translate(PhysicalMemory memory, CpuState cpu, Access access) {
        return PageWalk.translate(memory, cpu, access);
    }
}
