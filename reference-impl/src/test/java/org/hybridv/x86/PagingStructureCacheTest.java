package org.hybridv.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.x86.Mapping.LINEAR;
import static org.hybridv.x86.Mapping.OTHER_PAGE;
import static org.hybridv.x86.Mapping.OTHER_PAGE_DATA;
import static org.hybridv.x86.Mapping.PAGE_DATA;
import static org.hybridv.x86.Mapping.PD;
import static org.hybridv.x86.Mapping.PDPT;
import static org.hybridv.x86.Mapping.PD_INDEX;
import static org.hybridv.x86.Mapping.PML4;
import static org.hybridv.x86.Mapping.PML4_INDEX;
import static org.hybridv.x86.Mapping.PDPT_INDEX;
import static org.hybridv.x86.Mapping.PT;
import static org.hybridv.x86.Mapping.PT_INDEX;
import static org.hybridv.x86.Mapping.cpu;

import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The paging-structure caches, Intel SDM Vol. 3A §4.10.3: what a walk creates (§4.10.3.1), how a walk that misses the
 * TLB uses them (§4.10.3.2), and what each invalidation removes from them (§4.10.4.1). Each expectation is the SDM
 * sentence quoted beside it. The mapping is {@link Mapping}'s: PML4 in frame 1, PDPT 2, PD 3, PT 4, page 9.
 */
class PagingStructureCacheTest {
    /** A second page table (frame 5) whose PTE for {@link Mapping#LINEAR} maps frame 10. */
    private static final long OTHER_PT = 5;
    private static final AccessOutcome OLD = new AccessOutcome.Completed(0x95A8L, PAGE_DATA);
    private static final AccessOutcome NEW = new AccessOutcome.Completed(0xA5A8L, OTHER_PAGE_DATA);

    private static X86Machine retired(InstructionStep step) {
        assertThat(step.outcome()).isEqualTo(InstructionOutcome.RETIRED);
        return step.machine();
    }

    private static AccessStep read(X86Machine m, long linear) {
        return Processor.access(m, Access.read(linear));
    }

    /** The machine after one read of {@link Mapping#LINEAR} (a walk from CR3 that fills the TLB and the caches). */
    private static X86Machine afterOneRead(CpuState cpu) {
        X86Machine m = Mapping.fourKiB().machine(cpu, TlbPolicy.ADVERSARIAL)
                .withEntry(OTHER_PT, PT_INDEX, Entry.table(OTHER_PAGE, true, true));
        AccessStep s = read(m, LINEAR);
        assertThat(s.outcome()).isEqualTo(OLD);
        return s.machine();
    }

    private static X86Machine evictTheTranslation(X86Machine m) {
        TlbEntry t = m.tlb().lookup(m.tlbTag(), m.cpu().currentPcid(), LINEAR);
        assertThat(t).isNotNull();
        return Processor.evict(m, t);
    }

    private static PscEntry psc(Level level, long next) {
        return new PscEntry(TlbTag.NATIVE, 0, level, PscEntry.baseOf(level, LINEAR), next << 12, true, true, false);
    }

    @Test
    @DisplayName("SDM 4.10.3.1: a walk creates a PML4-, a PDPTE- and a PDE-cache entry holding the next table's address"
            + " and the combined rights")
    void aWalkCreatesOneEntryPerReferencingLevel() {
        X86Machine m = afterOneRead(cpu());
        // "The physical address from the PML4E (the address of the page-directory-pointer table)"; the PDPTE cache
        // holds "the physical address from the PDPTE (the address of the page directory)"; the PDE cache "the
        // physical address from the PDE (the address of the page table)". Indexed by bits 47:39, 47:30, 47:21.
        assertThat(m.tlb().pscEntries()).containsExactly(psc(Level.PML4, PDPT), psc(Level.PDPT, PD),
                psc(Level.PD, PT));
        assertThat(m.tlb().pscEntries().get(0).linearBase()).isEqualTo((long) PML4_INDEX << 39);
        assertThat(m.tlb().pscEntries().get(1).linearBase()).isEqualTo(((long) PML4_INDEX << 39)
                | ((long) PDPT_INDEX << 30));
    }

    @Test
    @DisplayName("SDM 4.10.3.1: the PDE-cache entry holds the AND of R/W and U/S and the OR of XD over PML4E, PDPTE, PDE")
    void cachedRightsCombineTheUpperLevels() {
        CpuState nxe = cpu().withEfer(cpu().efer().withNxe(true));
        X86Machine m = Mapping.fourKiB().pdpte(e -> e.withWritable(false)).pml4e(e -> e.withNoExecute(true))
                .pde(e -> e.withUser(false)).machine(nxe, TlbPolicy.ADVERSARIAL);
        m = read(m, LINEAR).machine();
        PscEntry pde = m.tlb().pscEntries().get(2);
        assertThat(pde.level()).isEqualTo(Level.PD);
        // "The logical-AND of the R/W flags in the PML4E, PDPTE, and PDE", likewise U/S; "the logical-OR of
        // the XD flags".
        assertThat(pde.writable()).isFalse();
        assertThat(pde.user()).isFalse();
        assertThat(pde.executeDisable()).isTrue();
        PscEntry pml4e = m.tlb().pscEntries().get(0);
        assertThat(pml4e.writable()).isTrue();
        assertThat(pml4e.user()).isTrue();
        assertThat(pml4e.executeDisable()).isTrue();
    }

    @Test
    @DisplayName("SDM 4.10.3.1: no PDE-cache entry for a PDE that maps a (2-MByte) page")
    void noPdeCacheEntryForATwoMiBPage() {
        X86Machine m = Mapping.fourKiB().pde(e -> e.withFrame(0x200).withPageSize(true))
                .machine(cpu(), TlbPolicy.ADVERSARIAL);
        m = read(m, LINEAR).machine();
        // "(No PDE-cache entry is created for a PDE that maps a page.)"
        assertThat(m.tlb().pscEntries()).extracting(PscEntry::level).containsExactly(Level.PML4, Level.PDPT);
    }

    @Test
    @DisplayName("SDM 4.10.3.1: no cache entry from a walk that ends at a not-present entry")
    void noEntryFromANotPresentPdpte() {
        X86Machine m = Mapping.fourKiB().pdpte(e -> e.withPresent(false)).machine(cpu(), TlbPolicy.ADVERSARIAL);
        AccessStep s = read(m, LINEAR);
        assertThat(s.outcome()).isInstanceOf(PageFault.class);
        // "The processor does not create a PDPTE-cache entry unless the P flag is 1 ... in the PML4E and the PDPTE in
        // memory"; the PML4E was present, but this reference creates entries only for an access that completes
        // (docs/paging.md, choices), so nothing.
        assertThat(s.machine().tlb().pscEntries()).isEmpty();
    }

    @Test
    @DisplayName("SDM 4.10.2: with no caching nothing is put in the paging-structure caches")
    void noneCachesNothing() {
        X86Machine m = Mapping.fourKiB().machine(cpu(), TlbPolicy.NONE);
        assertThat(read(m, LINEAR).machine().tlb().pscEntries()).isEmpty();
    }

    @Test
    @DisplayName("SDM 4.10.3.2: a stale PDE-cache entry is used after the PDE changes and the translation is evicted")
    void stalePdeCacheEntryUsedAfterThePdeChangesAndTheLeafIsEvicted() {
        X86Machine m = evictTheTranslation(afterOneRead(cpu()));
        assertThat(m.tlb().entries()).isEmpty();
        m = m.withEntry(PD, PD_INDEX, Entry.table(OTHER_PT, true, true));
        // "If the processor does not find a TLB entry, it may use the upper bits of the linear address to select an
        // entry from the PDE cache" (§4.10.3.2) — the old one, frame 4, whose PTE maps frame 9; and "If the processor
        // creates a PDE-cache entry, the processor may retain it unmodified even if software subsequently modifies the
        // corresponding" entries in memory (§4.10.3.1).
        AccessStep stale = read(m, LINEAR);
        assertThat(stale.outcome()).isEqualTo(OLD);
        assertThat(stale.tlbHit()).isFalse();
        // INVLPG "also invalidates all entries in all paging-structure caches associated with the current PCID".
        X86Machine flushed = retired(Processor.invlpg(stale.machine(), LINEAR));
        assertThat(read(flushed, LINEAR).outcome()).isEqualTo(NEW);
    }

    @Test
    @DisplayName("SDM 4.10.3.2: the stale PDE-cache entry is used even when the PDE is no longer present")
    void stalePdeCacheEntryUsedAfterThePdeIsMadeNotPresent() {
        X86Machine m = evictTheTranslation(afterOneRead(cpu())).withEntry(PD, PD_INDEX, Entry.NOT_PRESENT);
        assertThat(read(m, LINEAR).outcome()).isEqualTo(OLD);
    }

    @Test
    @DisplayName("SDM 4.8, 4.10.3.2: a walk from a PDE-cache entry sets A in the PTE it reads, not in the upper entries")
    void accessedFlagsOnlyInTheEntriesReadFromMemory() {
        X86Machine m = evictTheTranslation(afterOneRead(cpu()));
        for (Level level : Level.values()) {
            long frame = Mapping.frameOf(level);
            int index = Mapping.indexOf(level);
            m = m.withEntry(frame, index, m.entry(frame, index).withAccessed(false));
        }
        m = read(m, LINEAR).machine();
        // §4.8: "Whenever the processor uses a paging-structure entry as part of linear-address translation, it sets
        // the accessed flag in that entry"; the upper entries are not used from memory — the PDE-cache entry stands in
        // for them.
        assertThat(m.entry(PT, PT_INDEX).accessed()).isTrue();
        assertThat(m.entry(PD, PD_INDEX).accessed()).isFalse();
        assertThat(m.entry(PDPT, PDPT_INDEX).accessed()).isFalse();
        assertThat(m.entry(PML4, PML4_INDEX).accessed()).isFalse();
    }

    @Test
    @DisplayName("SDM 4.10.3.2: with the PDE-cache entry evicted, the walk starts from the (stale) PDPTE-cache entry")
    void theDeepestRemainingCacheEntryIsUsed() {
        X86Machine m = evictTheTranslation(afterOneRead(cpu()));
        m = Processor.evict(m, psc(Level.PD, PT));
        // A second page directory (frame 6) whose PDE references the other page table; the PDPTE in memory now
        // points to it, but the PDPTE-cache entry still holds frame 3.
        m = m.withEntry(6, PD_INDEX, Entry.table(OTHER_PT, true, true))
                .withEntry(PDPT, PDPT_INDEX, Entry.table(6, true, true));
        AccessStep s = read(m, LINEAR);
        // §4.10.3.2: without a TLB entry or a PDE-cache entry for the address, the processor may use a PDPTE-cache
        // entry
        assertThat(s.outcome()).isEqualTo(OLD);
        // the walk re-created the PDE-cache entry from the PDE it read in frame 3
        assertThat(s.machine().tlb().pscEntries()).contains(psc(Level.PD, PT));
    }

    @Test
    @DisplayName("SDM 4.10.4.1: INVLPG of any address removes every paging-structure-cache entry of the current PCID")
    void invlpgRemovesTheCurrentPcidsCacheEntriesForAllAddresses() {
        X86Machine m = afterOneRead(cpu());
        long unrelated = 0x7F00_0000_0000L;
        X86Machine after = retired(Processor.invlpg(m, unrelated));
        // "INVLPG also invalidates all entries in all paging-structure caches associated with the current PCID,
        // regardless of the linear addresses to which they correspond." — the translation of LINEAR is another page's
        assertThat(after.tlb().pscEntries()).isEmpty();
        assertThat(after.tlb().entries()).hasSize(1);
    }

    @Test
    @DisplayName("SDM 4.10.4.1: INVLPG keeps the paging-structure-cache entries of other PCIDs")
    void invlpgKeepsOtherPcidsCacheEntries() {
        CpuState pcide = cpu().withCr4(cpu().cr4().withPcide(true)).withCr3(new Cr3(PML4 << 12, 1));
        X86Machine m = afterOneRead(pcide);
        m = retired(Processor.movToCr3(m, Cr3.NO_FLUSH_BIT | (PML4 << 12) | 2));
        X86Machine after = retired(Processor.invlpg(m, LINEAR));
        assertThat(after.tlb().pscEntries()).hasSize(3).allMatch(e -> e.pcid() == 1);
    }

    @Test
    @DisplayName("SDM 4.10.4.1: MOV to CR3 invalidates the PCID's cache entries; with bit 63 set it keeps them")
    void movToCr3WithAndWithoutNoFlush() {
        CpuState pcide = cpu().withCr4(cpu().cr4().withPcide(true)).withCr3(new Cr3(PML4 << 12, 1));
        X86Machine m = afterOneRead(pcide);
        // "If CR4.PCIDE = 1 and bit 63 of the instruction's source operand is 1, the instruction is not required to
        // invalidate any TLB entries or entries in paging-structure caches."
        X86Machine kept = retired(Processor.movToCr3(m, Cr3.NO_FLUSH_BIT | (PML4 << 12) | 1));
        assertThat(kept.tlb().pscEntries()).hasSize(3);
        // bit 63 clear: "It also invalidates all entries in all paging-structure caches associated with that PCID."
        X86Machine flushed = retired(Processor.movToCr3(m, (PML4 << 12) | 1));
        assertThat(flushed.tlb().pscEntries()).isEmpty();
        X86Machine other = retired(Processor.movToCr3(m, (PML4 << 12) | 2));
        assertThat(other.tlb().pscEntries()).hasSize(3);
    }

    @Test
    @DisplayName("SDM 4.10.4.1: a page fault invalidates the cache entries of the current PCID used for its address only")
    void pageFaultInvalidatesTheEntriesThatWouldBeUsedForItsAddress() {
        X86Machine m = afterOneRead(cpu());
        long sameTableOtherPde = LINEAR + (1L << 21); // PD index 4: not present
        AccessStep s = read(m, sameTableOtherPde);
        assertThat(s.outcome()).isInstanceOf(PageFault.class);
        // "It also invalidates all entries in the paging-structure caches that would be used for that linear address
        // and that are associated with the current PCID." The PML4- and PDPTE-cache entries cover bits 47:30 of the
        // faulting address; the PDE-cache entry (bits 47:21 of LINEAR) does not.
        assertThat(s.machine().tlb().pscEntries()).containsExactly(psc(Level.PD, PT));
    }

    @Test
    @DisplayName("SDM 4.10.4.1: CR4.PGE change and CR0.PG 1 -> 0 invalidate all entries in all paging-structure caches")
    void pgeToggleAndPagingOffFlushTheCaches() {
        X86Machine m = afterOneRead(cpu());
        // "all TLB entries (including global entries) and all entries in all paging-structure caches (for all PCIDs)"
        assertThat(retired(Processor.movToCr4(m, m.cpu().cr4().withPge(true))).tlb().pscEntries()).isEmpty();
        assertThat(retired(Processor.movToCr0(m, m.cpu().cr0().withPg(false))).tlb().pscEntries()).isEmpty();
    }

    @Test
    @DisplayName("SDM 4.10.4.1: setting CR4.SMEP invalidates the current PCID's cache entries; clearing it does not")
    void smepSetFlushesTheCurrentPcid() {
        X86Machine m = afterOneRead(cpu());
        // "all TLB entries and all entries in all paging-structure caches for the current PCID if ... it changes the
        // value of CR4.SMEP from 0 to 1"
        X86Machine set = retired(Processor.movToCr4(m, m.cpu().cr4().withSmep(true)));
        assertThat(set.tlb().pscEntries()).isEmpty();
        X86Machine refilled = read(set, LINEAR).machine();
        X86Machine cleared = retired(Processor.movToCr4(refilled, refilled.cpu().cr4().withSmep(false)));
        assertThat(cleared.tlb().pscEntries()).hasSize(3);
    }

    @Test
    @DisplayName("SDM 4.10.4.1: an eviction removes exactly the named entry")
    void evictionRemovesOnlyTheNamedEntry() {
        X86Machine m = afterOneRead(cpu());
        X86Machine after = Processor.evict(m, psc(Level.PDPT, PD));
        // "The processor is always free to invalidate additional entries in the TLBs and paging-structure caches."
        assertThat(after.tlb().pscEntries()).isEqualTo(List.of(psc(Level.PML4, PDPT), psc(Level.PD, PT)));
        assertThat(after.tlb().entries()).isEqualTo(m.tlb().entries());
        assertThat(Processor.evict(after, psc(Level.PDPT, PD))).isEqualTo(after);
    }
}
