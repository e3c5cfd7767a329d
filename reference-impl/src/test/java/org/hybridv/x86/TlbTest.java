package org.hybridv.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.x86.Mapping.LINEAR;
import static org.hybridv.x86.Mapping.OTHER_PAGE;
import static org.hybridv.x86.Mapping.OTHER_PAGE_DATA;
import static org.hybridv.x86.Mapping.PAGE_DATA;
import static org.hybridv.x86.Mapping.PT;
import static org.hybridv.x86.Mapping.PT_INDEX;
import static org.hybridv.x86.Mapping.cpu;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The TLB, Intel SDM Vol. 3A §4.10: caching (§4.10.2), PCIDs (§4.10.1), global pages (§4.10.2.4) and the
 * operations that invalidate (§4.10.4.1). The adversarial TLB keeps every translation until the SDM requires it gone,
 * so each test changes a PTE in memory and checks whether the stale translation is still used.
 */
class TlbTest {
    private static final long PML4_BASE = Mapping.PML4 << 12;
    private static final AccessOutcome OLD = new AccessOutcome.Completed(0x95A8L, PAGE_DATA);
    private static final AccessOutcome NEW = new AccessOutcome.Completed(0xA5A8L, OTHER_PAGE_DATA);

    /** The machine with {@link Mapping#LINEAR}'s PTE pointing at page 10 instead of 9 (a plain store, no flush). */
    private static X86Machine remapToOtherPage(X86Machine m, Entry pteTemplate) {
        return m.withEntry(PT, PT_INDEX, pteTemplate.withFrame(OTHER_PAGE));
    }

    private static X86Machine remapToOtherPage(X86Machine m) {
        return remapToOtherPage(m, Entry.table(OTHER_PAGE, true, true));
    }

    private static X86Machine retired(InstructionStep step) {
        assertThat(step.outcome()).isEqualTo(InstructionOutcome.RETIRED);
        return step.machine();
    }

    private static AccessStep read(X86Machine m) {
        return Processor.access(m, Access.read(LINEAR));
    }

    @Test
    @DisplayName("SDM 4.10.2, 4.10.4.1: a stale translation is used after the PTE changes, until INVLPG")
    void staleEntryUsedUntilInvlpg() {
        X86Machine m = Mapping.fourKiB().machine(cpu(), TlbPolicy.ADVERSARIAL);
        AccessStep first = read(m);
        assertThat(first.outcome()).isEqualTo(OLD);
        assertThat(first.tlbHit()).isFalse();
        assertThat(first.machine().tlb().entries()).hasSize(1);

        X86Machine remapped = remapToOtherPage(first.machine());
        AccessStep stale = read(remapped);
        assertThat(stale.outcome()).isEqualTo(OLD);
        assertThat(stale.tlbHit()).isTrue();

        X86Machine flushed = retired(Processor.invlpg(stale.machine(), LINEAR));
        assertThat(flushed.tlb().lookup(0, LINEAR)).isNull();
        AccessStep fresh = read(flushed);
        assertThat(fresh.outcome()).isEqualTo(NEW);
        assertThat(fresh.tlbHit()).isFalse();
    }

    @Test
    @DisplayName("SDM 4.10.4.1: INVLPG invalidates only the page of its operand")
    void invlpgOfAnotherPageKeepsTheEntry() {
        X86Machine m = read(Mapping.fourKiB().machine(cpu(), TlbPolicy.ADVERSARIAL)).machine();
        X86Machine after = retired(Processor.invlpg(remapToOtherPage(m), LINEAR + 0x1000));
        assertThat(read(after).outcome()).isEqualTo(OLD);
    }

    @Test
    @DisplayName("SDM 4.10.2.4, 4.10.4.1: a global translation (G = 1, CR4.PGE = 1) survives MOV to CR3")
    void globalEntrySurvivesMovToCr3() {
        CpuState pge = cpu().withCr4(cpu().cr4().withPge(true));
        X86Machine m = Mapping.fourKiB().pte(e -> e.withGlobal(true)).machine(pge, TlbPolicy.ADVERSARIAL);
        m = read(m).machine();
        assertThat(m.tlb().entries()).singleElement().extracting(TlbEntry::global).isEqualTo(true);
        m = retired(Processor.movToCr3(remapToOtherPage(m), PML4_BASE));
        AccessStep step = read(m);
        assertThat(step.outcome()).isEqualTo(OLD);
        assertThat(step.tlbHit()).isTrue();
        // INVLPG does remove a global entry (SDM 4.10.4.1)
        assertThat(read(retired(Processor.invlpg(step.machine(), LINEAR))).outcome()).isEqualTo(NEW);
    }

    @Test
    @DisplayName("SDM 4.10.4.1: MOV to CR3 invalidates non-global translations")
    void nonGlobalEntryDoesNotSurviveMovToCr3() {
        X86Machine m = read(Mapping.fourKiB().machine(cpu(), TlbPolicy.ADVERSARIAL)).machine();
        m = retired(Processor.movToCr3(remapToOtherPage(m), PML4_BASE));
        assertThat(m.tlb().entries()).isEmpty();
        assertThat(read(m).outcome()).isEqualTo(NEW);
    }

    @Test
    @DisplayName("SDM 4.10.2.4: G = 1 makes a translation global only while CR4.PGE = 1")
    void globalBitWithoutPgeIsNotGlobal() {
        X86Machine m = Mapping.fourKiB().pte(e -> e.withGlobal(true)).machine(cpu(), TlbPolicy.ADVERSARIAL);
        m = read(m).machine();
        m = retired(Processor.movToCr3(remapToOtherPage(m, Entry.table(0, true, true).withGlobal(true)), PML4_BASE));
        assertThat(read(m).outcome()).isEqualTo(NEW);
    }

    @Test
    @DisplayName("SDM 4.10.1, 4.10.2.4: with CR4.PCIDE = 1 a translation cached under PCID 1 is not used under PCID 2;"
            + " MOV to CR3 with bit 63 set keeps the entries")
    void entriesAreTaggedByPcid() {
        X86Machine m = Mapping.fourKiB().machine(cpu(), TlbPolicy.ADVERSARIAL);
        m = retired(Processor.movToCr4(m, m.cpu().cr4().withPcide(true)));
        m = retired(Processor.movToCr3(m, PML4_BASE | 1));
        assertThat(m.cpu().currentPcid()).isEqualTo(1);
        m = read(m).machine(); // cached for PCID 1 -> page 9
        m = remapToOtherPage(m);

        m = retired(Processor.movToCr3(m, PML4_BASE | 2));
        AccessStep underPcid2 = read(m);
        assertThat(underPcid2.tlbHit()).isFalse();
        assertThat(underPcid2.outcome()).isEqualTo(NEW);
        m = underPcid2.machine();
        assertThat(m.tlb().entries()).extracting(TlbEntry::pcid).containsExactlyInAnyOrder(1, 2);

        // back to PCID 1 without flush (bit 63): the stale PCID-1 translation is used again
        m = retired(Processor.movToCr3(m, PML4_BASE | 1 | Cr3.NO_FLUSH_BIT));
        assertThat(m.cpu().cr3().bits()).isEqualTo(PML4_BASE | 1); // bit 63 is not stored
        AccessStep underPcid1 = read(m);
        assertThat(underPcid1.tlbHit()).isTrue();
        assertThat(underPcid1.outcome()).isEqualTo(OLD);

        // MOV to CR3 with bit 63 clear invalidates the new PCID's (non-global) entries only
        m = retired(Processor.movToCr3(underPcid1.machine(), PML4_BASE | 1));
        assertThat(m.tlb().entries()).extracting(TlbEntry::pcid).containsExactly(2);
        assertThat(read(m).outcome()).isEqualTo(NEW);
    }

    @Test
    @DisplayName("SDM 4.10.2.4, 4.10.4.1: a global translation is used under any PCID, and INVLPG removes it"
            + " regardless of the PCID it was filled under")
    void globalEntryIsUsedUnderAnyPcidAndInvlpgRemovesItRegardlessOfPcid() {
        CpuState pge = cpu().withCr4(cpu().cr4().withPge(true));
        X86Machine m = Mapping.fourKiB().pte(e -> e.withGlobal(true)).machine(pge, TlbPolicy.ADVERSARIAL);
        m = retired(Processor.movToCr4(m, m.cpu().cr4().withPcide(true)));
        m = retired(Processor.movToCr3(m, PML4_BASE | 1));
        m = read(m).machine(); // global translation filled under PCID 1
        m = retired(Processor.movToCr3(remapToOtherPage(m), PML4_BASE | 2));
        AccessStep underPcid2 = read(m);
        assertThat(underPcid2.tlbHit()).isTrue();
        assertThat(underPcid2.outcome()).isEqualTo(OLD);

        X86Machine flushed = retired(Processor.invlpg(underPcid2.machine(), LINEAR)); // current PCID is 2
        assertThat(flushed.tlb().entries()).isEmpty();
        assertThat(read(flushed).outcome()).isEqualTo(NEW);
    }

    @Test
    @DisplayName("SDM 4.10.4.1: MOV to CR3 with bit 63 set (PCIDE = 1) keeps even the current PCID's entries")
    void movToCr3NoFlushKeepsEntries() {
        X86Machine m = Mapping.fourKiB().machine(cpu(), TlbPolicy.ADVERSARIAL);
        m = retired(Processor.movToCr4(m, m.cpu().cr4().withPcide(true)));
        m = read(m).machine();
        m = retired(Processor.movToCr3(remapToOtherPage(m), PML4_BASE | Cr3.NO_FLUSH_BIT));
        assertThat(read(m).outcome()).isEqualTo(OLD);
        m = retired(Processor.movToCr3(m, PML4_BASE));
        assertThat(read(m).outcome()).isEqualTo(NEW);
    }

    @Test
    @DisplayName("SDM 4.10.4.1: a MOV to CR4 that changes PGE invalidates everything, global entries included")
    void togglingPgeFlushesEverythingIncludingGlobal() {
        CpuState pge = cpu().withCr4(cpu().cr4().withPge(true));
        X86Machine m = Mapping.fourKiB().pte(e -> e.withGlobal(true)).machine(pge, TlbPolicy.ADVERSARIAL);
        m = read(m).machine();
        X86Machine off = retired(Processor.movToCr4(remapToOtherPage(m), pge.cr4().withPge(false)));
        assertThat(off.tlb().entries()).isEmpty();
        assertThat(read(off).outcome()).isEqualTo(NEW);

        // 0 -> 1 flushes too
        X86Machine filled = read(Mapping.fourKiB().machine(cpu(), TlbPolicy.ADVERSARIAL)).machine();
        X86Machine on = retired(Processor.movToCr4(remapToOtherPage(filled), cpu().cr4().withPge(true)));
        assertThat(read(on).outcome()).isEqualTo(NEW);
    }

    @Test
    @DisplayName("SDM 4.10.4.1 and 4.10.4.3: a #PF invalidates the faulting page's entry, so the spurious fault after"
            + " R/W 0 -> 1 without INVLPG happens once")
    void pageFaultInvalidatesFaultingPageSoSpuriousFaultOccursOnce() {
        // D = 1 already, so a write may use the cached translation (no re-walk to set D)
        CpuState user = cpu().withCpl(3);
        X86Machine m = Mapping.fourKiB().pte(e -> e.withWritable(false).withDirty(true)).machine(user,
                TlbPolicy.ADVERSARIAL);
        m = read(m).machine();
        assertThat(m.tlb().lookup(0, LINEAR).rights().writable()).isFalse();
        m = m.withEntry(PT, PT_INDEX, Entry.table(Mapping.PAGE, true, true).withDirty(true)); // R/W 0 -> 1

        AccessStep spurious = Processor.access(m, Access.write(LINEAR, 7));
        assertThat(spurious.tlbHit()).isTrue();
        assertThat(spurious.outcome())
                .isEqualTo(Mapping.pageFault(ErrorCode.P | ErrorCode.WR | ErrorCode.US, LINEAR));
        assertThat(spurious.machine().tlb().lookup(0, LINEAR)).isNull();

        AccessStep retry = Processor.access(spurious.machine(), Access.write(LINEAR, 7));
        assertThat(retry.tlbHit()).isFalse();
        assertThat(retry.outcome()).isEqualTo(new AccessOutcome.Completed(0x95A8L, 7));
    }

    @Test
    @DisplayName("SDM 4.10.2: with TlbPolicy.NONE nothing is cached and every access walks memory")
    void noneCachesNothing() {
        X86Machine m = Mapping.fourKiB().machine(cpu(), TlbPolicy.NONE);
        AccessStep first = read(m);
        assertThat(first.tlbHit()).isFalse();
        assertThat(first.machine().tlb().entries()).isEmpty();
        AccessStep second = read(first.machine());
        assertThat(second.tlbHit()).isFalse();
        AccessStep afterRemap = read(remapToOtherPage(second.machine()));
        assertThat(afterRemap.outcome()).isEqualTo(NEW);
        assertThat(afterRemap.tlbHit()).isFalse();
    }

    @Test
    @DisplayName("SDM 4.8, 4.10.2.2: a write through a cached translation whose dirty flag is 0 walks again")
    void writeThroughCleanCachedTranslationRewalks() {
        X86Machine m = read(Mapping.fourKiB().machine(cpu(), TlbPolicy.ADVERSARIAL)).machine();
        assertThat(m.tlb().lookup(0, LINEAR).dirty()).isFalse();
        m = remapToOtherPage(m);
        assertThat(read(m).outcome()).isEqualTo(OLD); // reads still use the stale entry

        AccessStep write = Processor.access(m, Access.write(LINEAR, 9));
        assertThat(write.tlbHit()).isFalse();
        assertThat(write.outcome()).isEqualTo(new AccessOutcome.Completed(0xA5A8L, 9));
        assertThat(write.machine().entry(PT, PT_INDEX).dirty()).isTrue();
        // the walk replaced the stale entry with a dirty one, which later writes use
        TlbEntry cached = write.machine().tlb().lookup(0, LINEAR);
        assertThat(cached.dirty()).isTrue();
        assertThat(cached.physicalBase()).isEqualTo(OTHER_PAGE << 12);
        assertThat(Processor.access(write.machine(), Access.write(LINEAR, 10)).tlbHit()).isTrue();
    }

    @Test
    @DisplayName("SDM 4.10.2.2: the TLB caches rights, not the decision: CR0.WP changes apply to cached entries")
    void cachedRightsAreCheckedAgainstCurrentControlRegisters() {
        X86Machine m = Mapping.fourKiB().pte(e -> e.withWritable(false).withDirty(true)).machine(cpu(),
                TlbPolicy.ADVERSARIAL);
        AccessStep w = Processor.access(m, Access.write(LINEAR, 1)); // WP = 0: allowed, cached
        assertThat(w.outcome()).isInstanceOf(AccessOutcome.Completed.class);
        X86Machine wp = retired(Processor.movToCr0(w.machine(), w.machine().cpu().cr0().withWp(true)));
        AccessStep denied = Processor.access(wp, Access.write(LINEAR, 2));
        assertThat(denied.tlbHit()).isTrue();
        assertThat(denied.outcome()).isEqualTo(Mapping.pageFault(ErrorCode.P | ErrorCode.WR, LINEAR));
    }

    @Test
    @DisplayName("SDM 4.10.4.1: clearing CR0.PG invalidates all TLB entries, global ones included")
    void disablingPagingFlushesEverything() {
        CpuState pge = cpu().withCr4(cpu().cr4().withPge(true));
        X86Machine m = read(Mapping.fourKiB().pte(e -> e.withGlobal(true)).machine(pge, TlbPolicy.ADVERSARIAL))
                .machine();
        X86Machine off = retired(Processor.movToCr0(m, m.cpu().cr0().withPg(false)));
        assertThat(off.tlb().entries()).isEmpty();
    }

    @Test
    @DisplayName("SDM 4.10.4.1: a MOV to CR4 that sets SMEP invalidates the current PCID's entries")
    void settingSmepFlushesCurrentPcid() {
        X86Machine m = read(Mapping.fourKiB().machine(cpu(), TlbPolicy.ADVERSARIAL)).machine();
        X86Machine smep = retired(Processor.movToCr4(remapToOtherPage(m), cpu().cr4().withSmep(true)));
        assertThat(read(smep).outcome()).isEqualTo(NEW);
    }

    /** A hand-made 4-KByte linear mapping of {@code linear} (page {@code frame}) for {@code pcid}. */
    private static TlbEntry cached(TlbTag tag, int pcid, boolean global, long linear, long frame) {
        return TlbEntry.linear(tag, pcid, global, linear, PageSize.SIZE_4K, frame << 12, Rights.UNRESTRICTED, true);
    }

    /** The machine with CR4.PGE = 1, CR4.PCIDE = 1 and PCID 1 current, holding exactly {@code entries}. */
    private static X86Machine underPcid1With(TlbEntry... entries) {
        CpuState pge = cpu().withCr4(cpu().cr4().withPge(true));
        X86Machine m = Mapping.fourKiB().machine(pge, TlbPolicy.ADVERSARIAL);
        m = retired(Processor.movToCr4(m, m.cpu().cr4().withPcide(true)));
        m = retired(Processor.movToCr3(m, PML4_BASE | 1));
        Tlb tlb = Tlb.empty(TlbPolicy.ADVERSARIAL);
        for (TlbEntry e : entries) {
            tlb = tlb.fill(e);
        }
        assertThat(tlb.entries()).containsExactly(entries);
        return m.withTlb(tlb);
    }

    @Test
    @DisplayName("SDM 4.10.4.1: MOV to CR4 setting SMEP invalidates all entries of the current PCID, global ones too;"
            + " other PCIDs and other VPIDs keep theirs")
    void settingSmepInvalidatesTheCurrentPcidsGlobalEntriesToo() {
        TlbTag otherVpid = new TlbTag(5, TlbTag.NO_EPT);
        TlbEntry globalPcid1 = cached(TlbTag.NATIVE, 1, true, 0x1000, 11);
        TlbEntry plainPcid1 = cached(TlbTag.NATIVE, 1, false, 0x2000, 12);
        TlbEntry globalPcid2 = cached(TlbTag.NATIVE, 2, true, 0x3000, 13);
        TlbEntry plainPcid2 = cached(TlbTag.NATIVE, 2, false, 0x4000, 14);
        TlbEntry otherVpidPcid1 = cached(otherVpid, 1, true, 0x5000, 15);
        X86Machine m = underPcid1With(globalPcid1, plainPcid1, globalPcid2, plainPcid2, otherVpidPcid1);
        assertThat(m.cpu().currentPcid()).isEqualTo(1);

        X86Machine smep = retired(Processor.movToCr4(m, m.cpu().cr4().withSmep(true)));
        // "all TLB entries ... for the current PCID" (no exception for global pages): both PCID-1 entries go; a
        // global entry cached under PCID 2 is associated with PCID 2 and stays; VPID 5 is not current (Vol. 3C
        // §28.3.3.1)
        assertThat(smep.tlb().entries()).containsExactly(globalPcid2, plainPcid2, otherVpidPcid1);
        assertThat(smep.tlb().lookup(1, 0x1000)).as("the global translation of PCID 1").isNull();
    }

    @Test
    @DisplayName("SDM 4.10.4.1: MOV to CR4 changing PAE invalidates all entries of the current PCID, global ones too")
    void changingPaeInvalidatesTheCurrentPcidsGlobalEntriesToo() {
        // PAE may change only outside IA-32e mode (SDM 9.8.5): paging off, PCIDE = 0, so PCID 000H is current
        CpuState legacy = cpu().withCr4(cpu().cr4().withPge(true)).withCr0(cpu().cr0().withPg(false));
        assertThat(legacy.ia32eMode()).isFalse();
        TlbEntry globalPcid0 = cached(TlbTag.NATIVE, 0, true, 0x1000, 11);
        TlbEntry plainPcid0 = cached(TlbTag.NATIVE, 0, false, 0x2000, 12);
        TlbEntry otherVpid = cached(new TlbTag(5, TlbTag.NO_EPT), 0, true, 0x3000, 13);
        X86Machine m = Mapping.fourKiB().machine(legacy, TlbPolicy.ADVERSARIAL)
                .withTlb(Tlb.empty(TlbPolicy.ADVERSARIAL).fill(globalPcid0).fill(plainPcid0).fill(otherVpid));

        X86Machine noPae = retired(Processor.movToCr4(m, legacy.cr4().withPae(false)));
        assertThat(noPae.tlb().entries()).containsExactly(otherVpid);
        X86Machine pae = retired(Processor.movToCr4(m.withCpu(legacy.withCr4(legacy.cr4().withPae(false))),
                legacy.cr4()));
        assertThat(pae.tlb().entries()).containsExactly(otherVpid);
    }

    @Test
    @DisplayName("SDM 4.10.4.1: a #PF removes the faulting page's entries associated with the current PCID, global or"
            + " not; the page's entries of other PCIDs, global ones too, and other pages stay")
    void pageFaultRemovesThePageEntriesOfTheCurrentPcidOnly() {
        // LINEAR's PT entry is made not present below, so the access walks and faults; the cached entries for
        // LINEAR's page are given rights that make the cached read fail (supervisor page at CPL 3) or are unusable
        long page = LINEAR & ~0xFFFL;
        Rights supervisorOnly = new Rights(true, false, false, 0);
        TlbEntry globalPcid2 = TlbEntry.linear(TlbTag.NATIVE, 2, true, page, PageSize.SIZE_4K, 0x9000,
                supervisorOnly, true);
        TlbEntry plainPcid3 = cached(TlbTag.NATIVE, 3, false, page, 9);
        TlbEntry otherPage = cached(TlbTag.NATIVE, 1, false, 0x2000, 12);
        X86Machine m = underPcid1With(plainPcid3, globalPcid2, otherPage);
        m = m.withEntry(PT, PT_INDEX, Entry.table(Mapping.PAGE, true, true).withPresent(false)).withCpu(
                m.cpu().withCpl(3));
        AccessStep fault = read(m);
        assertThat(fault.outcome()).isInstanceOf(PageFault.class);
        assertThat(fault.tlbHit()).as("the global entry of PCID 2 decided the user access").isTrue();
        // "entries ... associated with the current PCID" (PCID 1, which has none for the page here; the test above
        // shows one going): the global entry cached under PCID 2, although it produced the fault, and PCID 3's entry
        // are not named, and an adversarial TLB keeps what it may
        assertThat(fault.machine().tlb().entries()).containsExactly(plainPcid3, globalPcid2, otherPage);
    }

    @Test
    @DisplayName("SDM 4.10.4.1: MOV to CR4 clearing SMEP (1 -> 0) is not one of the invalidating changes")
    void clearingSmepKeepsEntries() {
        TlbEntry globalPcid1 = cached(TlbTag.NATIVE, 1, true, 0x1000, 11);
        TlbEntry plainPcid1 = cached(TlbTag.NATIVE, 1, false, 0x2000, 12);
        X86Machine m = underPcid1With(globalPcid1, plainPcid1);
        m = m.withCpu(m.cpu().withCr4(m.cpu().cr4().withSmep(true)));
        X86Machine off = retired(Processor.movToCr4(m, m.cpu().cr4().withSmep(false)));
        assertThat(off.tlb().entries()).containsExactly(globalPcid1, plainPcid1);
    }

    @Test
    @DisplayName("SDM 4.10.2.3: a 2-MByte translation is cached and serves every address of its page")
    void largePageEntryCoversTheWholePage() {
        X86Machine m = Mapping.fourKiB().pde(e -> e.withFrame(0x400).withPageSize(true))
                .machine(cpu(), TlbPolicy.ADVERSARIAL);
        m = read(m).machine();
        TlbEntry e = m.tlb().entries().get(0);
        assertThat(e.pageSize()).isEqualTo(PageSize.SIZE_2M);
        assertThat(e.linearBase()).isEqualTo((1L << 39) | (2L << 30) | (3L << 21));
        long elsewhere = (1L << 39) | (2L << 30) | (3L << 21) | 0x1F_F000;
        AccessStep other = Processor.access(m, Access.read(elsewhere));
        assertThat(other.tlbHit()).isTrue();
        assertThat(((AccessOutcome.Completed) other.outcome()).physicalAddress()).isEqualTo(0x40_0000L | 0x1F_F000L);
    }

    private static PscEntry psc(TlbTag tag, int pcid, Level level, long linear, long table) {
        return new PscEntry(tag, pcid, level, PscEntry.baseOf(level, linear), table, true, true, false);
    }

    @Test
    @DisplayName("SDM 4.10.3.2: a walk may use a PDE-cache entry, else a PDPTE-cache entry, else a PML4-cache entry")
    void lookupPscPrefersTheDeepestUsableEntry() {
        Tlb t = Tlb.empty(TlbPolicy.ADVERSARIAL)
                .fillPsc(psc(TlbTag.NATIVE, 0, Level.PD, LINEAR, 0x4000))
                .fillPsc(psc(TlbTag.NATIVE, 0, Level.PML4, LINEAR, 0x2000))
                .fillPsc(psc(TlbTag.NATIVE, 1, Level.PD, LINEAR, 0x5000));
        // "If the processor does not find a TLB entry, it may use the upper bits of the linear address to select an
        // entry from the PDE cache" (else the PDPTE cache, else the PML4 cache) — the one of the current
        // PCID: paging-structure-cache entries are associated with a PCID and are never global
        assertThat(t.lookupPsc(TlbTag.NATIVE, 0, LINEAR).nextTable()).isEqualTo(0x4000);
        assertThat(t.lookupPsc(TlbTag.NATIVE, 1, LINEAR).nextTable()).isEqualTo(0x5000);
        assertThat(t.lookupPsc(TlbTag.NATIVE, 2, LINEAR)).isNull();
        assertThat(t.lookupPsc(new TlbTag(1, TlbTag.NO_EPT), 0, LINEAR)).isNull();
        // an address that shares bits 47:39 but not 47:21 finds only the PML4-cache entry
        assertThat(t.lookupPsc(TlbTag.NATIVE, 0, LINEAR ^ (1L << 30)).level()).isEqualTo(Level.PML4);
    }

    @Test
    @DisplayName("SDM Vol. 3C 28.3.1: the VMX primitive invalidateWhere selects translations and cache entries alike")
    void invalidateWhereActsOnBothCaches() {
        TlbTag vpid1 = new TlbTag(1, TlbTag.NO_EPT);
        TlbEntry translation = TlbEntry.linear(vpid1, 0, false, 0, PageSize.SIZE_4K, 0x9000,
                new Rights(true, true, false, 0), true);
        PscEntry pde = psc(vpid1, 0, Level.PD, 0, 0x4000);
        PscEntry otherVpid = psc(TlbTag.NATIVE, 0, Level.PD, 0, 0x4000);
        Tlb t = Tlb.empty(TlbPolicy.ADVERSARIAL).fill(translation).fillPsc(pde).fillPsc(otherVpid);
        // "linear mappings" of a VPID include its paging-structure-cache entries
        Tlb after = t.invalidateWhere(e -> e.tag().vpid() == 1);
        assertThat(after.entries()).isEmpty();
        assertThat(after.pscEntries()).containsExactly(otherVpid);
    }

    @Test
    @DisplayName("SDM 4.10.3.1: a new cache entry for the same bits, context and PCID replaces the old one")
    void fillPscReplacesTheEntryOfTheSameIndex() {
        Tlb t = Tlb.empty(TlbPolicy.ADVERSARIAL).fillPsc(psc(TlbTag.NATIVE, 0, Level.PD, LINEAR, 0x4000))
                .fillPsc(psc(TlbTag.NATIVE, 0, Level.PD, LINEAR, 0x5000));
        assertThat(t.pscEntries()).singleElement().extracting(PscEntry::nextTable).isEqualTo(0x5000L);
        assertThat(Tlb.empty(TlbPolicy.NONE).fillPsc(psc(TlbTag.NATIVE, 0, Level.PD, LINEAR, 0x4000)).pscEntries())
                .isEmpty();
    }
}
