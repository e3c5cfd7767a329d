package org.hybridv.x86;

/**
 * A bare x86 processor with its memory: the state every instruction of {@link Processor} maps to a new state.
 *
 * @param memory physical memory (holding the paging structures)
 * @param cpu    the architectural registers
 * @param tlb    the translation lookaside buffer
 * @param tlbTag the current VPID and EP4TA that translations are cached under and invalidations are scoped to
 *               ({@link TlbTag#NATIVE} outside VMX non-root operation; set by VM entries and exits)
 */
public record X86Machine(PhysicalMemory memory, CpuState cpu, Tlb tlb, TlbTag tlbTag) {
    public X86Machine {
        Checks.notNull("memory", memory);
        Checks.notNull("cpu", cpu);
        Checks.notNull("tlb", tlb);
        Checks.notNull("TLB tag", tlbTag);
    }

    /** A machine outside VMX non-root operation ({@link TlbTag#NATIVE}). */
    public X86Machine(PhysicalMemory memory, CpuState cpu, Tlb tlb) {
        this(memory, cpu, tlb, TlbTag.NATIVE);
    }

    /** A machine with {@code frames} zeroed frames, the reset CPU state and an empty TLB of the given policy. */
    public static X86Machine create(int frames, int maxPhysAddr, TlbPolicy policy) {
        return new X86Machine(PhysicalMemory.ofFrames(frames), CpuState.reset(maxPhysAddr), Tlb.empty(policy));
    }

    public X86Machine withMemory(PhysicalMemory m) {
        return new X86Machine(m, cpu, tlb, tlbTag);
    }

    public X86Machine withCpu(CpuState c) {
        return new X86Machine(memory, c, tlb, tlbTag);
    }

    public X86Machine withTlb(Tlb t) {
        return new X86Machine(memory, cpu, t, tlbTag);
    }

    public X86Machine withTlbTag(TlbTag t) {
        return new X86Machine(memory, cpu, tlb, t);
    }

    /** This machine with the paging-structure entry {@code index} of {@code frame} replaced (a plain memory store). */
    public X86Machine withEntry(long frame, int index, Entry entry) {
        Checks.notNull("entry", entry);
        return withMemory(memory.write(frame, index, entry.raw()));
    }

    /** Entry {@code index} of the paging structure in {@code frame}. */
    public Entry entry(long frame, int index) {
        return new Entry(memory.read(frame, index));
    }
}
