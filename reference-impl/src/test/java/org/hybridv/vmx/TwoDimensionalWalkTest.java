package org.hybridv.vmx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.vmx.VmxFixture.*;

import java.util.List;
import java.util.Map;
import org.hybridv.ept.Eptp;
import org.hybridv.ept.InveptType;
import org.hybridv.x86.Access;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PageSize;
import org.hybridv.x86.Rights;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.TlbTag;
import org.hybridv.x86.X86Machine;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The guest's memory accesses with EPT (Intel SDM Vol. 3C §28.2.1: every guest paging-structure access and the final
 * access are guest-physical accesses translated by EPT), the EPT-violation exit qualification (table 27-7), EPT
 * misconfigurations (§28.2.3.1), the order of guest #PF and EPT checks, combined mappings (§28.3.1) and INVEPT
 * (§28.3.3.3 and the INVEPT instruction reference). The machine is {@link VmxFixture}'s EPT layout: guest frame g in
 * host frame 0x20 + g, EPTP 0x6401E.
 *
 * <p>Qualification bits (table 27-7): 0 read, 1 write, 2 fetch, 3 readable, 4 writable, 5 executable (3–5: the AND
 * over the EPT entries used), 7 guest-linear address valid, 8 access to the translation (1) or to a guest
 * paging-structure entry (0).
 */
class TwoDimensionalWalkTest {
    private static final long BIT7 = 1L << 7;
    private static final long BIT8 = 1L << 8;

    private static VmxProcessor guestWith(Map<Long, Long> words, ExecutionControls c, CpuState g) {
        return launched(words, c, g, TlbPolicy.ADVERSARIAL);
    }

    private static VmxProcessor guestWith(Map<Long, Long> words) {
        return guestWith(words, ept(EPTP), guest());
    }

    private static Map<Long, Long> eptWith(long address, long value) {
        Map<Long, Long> w = eptWords();
        w.put(address, value);
        return w;
    }

    @Test
    @DisplayName("SDM 28.2.1: a guest read walks the guest tables through EPT and returns host memory at the final host address")
    void guestReadThroughEpt() {
        GuestStep s = read(guestWith(eptWords()), LINEAR);
        assertThat(retired(s)).as("host 0x295A8").isEqualTo(PAGE_DATA);
        GuestStep w = write(s.processor(), LINEAR, 0x5EED);
        assertThat(retired(w)).isEqualTo(0x5EED);
        assertThat(w.processor().machine().memory().readPhysical(HOST_DATA_AT)).as("written at host 0x295A8")
                .isEqualTo(0x5EED);
        assertThat(w.processor().machine().memory().readPhysical(DATA_AT))
                .as("guest-physical 0x95A8 is not host-physical 0x95A8").isZero();
    }

    @Test
    @DisplayName("SDM 28.2.3.3, table 27-7: an EPT-not-present guest PD frame → EPT violation, read, bit 7 = 1, bit 8 = 0, GPA of the guest PDE")
    void eptViolationOnAGuestPagingStructureRead() {
        ExitInformation e = exited(read(guestWith(eptWith(EPT_PTE3_AT, 0)), LINEAR));
        assertThat(e.reason()).isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat(e.reason().number()).isEqualTo(48);
        // read (bit 0), bits 5:3 = 0 (the not-present EPT PTE is among the entries used), bit 7 = 1, bit 8 = 0
        assertThat(e.qualification()).isEqualTo(0x1L | BIT7);
        assertThat(e.guestPhysicalAddress()).as("the guest PDE at 0x3000 + 3*8").isEqualTo(PDE_AT);
        assertThat(e.guestLinearAddress()).isEqualTo(LINEAR);
    }

    @Test
    @DisplayName("Table 27-7: even a guest write reports a paging-structure read (bit 0, not bit 1) when the walk is refused")
    void theWalkReadsAreReadsWhateverTheAccess() {
        ExitInformation e = exited(write(guestWith(eptWith(EPT_PTE2_AT, 0)), LINEAR, 1));
        assertThat(e.qualification()).isEqualTo(0x1L | BIT7);
        assertThat(e.guestPhysicalAddress()).as("the guest PDPTE at 0x2000 + 2*8").isEqualTo(PDPTE_AT);
    }

    @Test
    @DisplayName("SDM 28.2.3.2, table 27-7: a guest write to an EPT read-only page → EPT violation 0x18A (write, readable, bits 7 and 8)")
    void eptViolationOnTheTranslatedAccess() {
        // EPT PTE for GPA frame 9: R only (bits 2:0 = 001b), WB → 0x29031
        GuestStep s = write(guestWith(eptWith(EPT_PTE9_AT, 0x29031L)), LINEAR, 0xBAD);
        ExitInformation e = exited(s);
        assertThat(e.reason()).isEqualTo(ExitReason.EPT_VIOLATION);
        // write 0x2 | readable 0x8 (1 AND 1 AND 1 AND 1) | writable 0 | executable 0 | bit 7 0x80 | bit 8 0x100
        assertThat(e.qualification()).isEqualTo(0x18AL);
        assertThat(e.guestPhysicalAddress()).as("GPA 0x9000 | 0x5A8").isEqualTo(DATA_AT);
        assertThat(e.guestLinearAddress()).isEqualTo(LINEAR);
        assertThat(s.processor().machine().memory().readPhysical(HOST_DATA_AT)).as("nothing written")
                .isEqualTo(PAGE_DATA);
        assertThat(retired(read(guestWith(eptWith(EPT_PTE9_AT, 0x29031L)), LINEAR))).as("reads are permitted")
                .isEqualTo(PAGE_DATA);
    }

    @Test
    @DisplayName("SDM 28.2.3.2: an instruction fetch from an EPT page without X → EPT violation with bit 2 and readable/writable bits")
    void eptViolationOnAFetch() {
        // EPT PTE 9 = R|W (011b) → 0x29033
        ExitInformation e = exited(run(guestWith(eptWith(EPT_PTE9_AT, 0x29033L)),
                new GuestInstruction.MemoryAccess(Access.fetch(LINEAR))));
        // fetch 0x4 | readable 0x8 | writable 0x10 | bit 7 | bit 8
        assertThat(e.qualification()).isEqualTo(0x19CL);
        assertThat(e.guestPhysicalAddress()).isEqualTo(DATA_AT);
    }

    @Test
    @DisplayName("SDM 28.2.1 order: a guest #PF (not-present guest PTE) is decided before the final EPT translation, even with no EPT entry for the page")
    void guestPageFaultBeforeTheFinalEptTranslation() {
        Map<Long, Long> words = eptWith(EPT_PTE9_AT, 0);
        words.put(HOST_PTE_AT, 0x9006L); // guest PTE with P = 0
        GuestStep s = read(guestWith(words), LINEAR);
        assertThat(s.outcome()).as("the guest's #PF, error code 0 (not present, read, supervisor)")
                .isEqualTo(new GuestOutcome.Delivered(14, 0, true, LINEAR));
        assertThat(s.processor().machine().cpu().cr2()).isEqualTo(LINEAR);
    }

    @Test
    @DisplayName("SDM 28.2.1 order: a guest protection #PF (WP = 1, read-only PTE) comes before the EPT violation of a missing data page")
    void guestProtectionFaultBeforeTheFinalEptTranslation() {
        Map<Long, Long> words = eptWith(EPT_PTE9_AT, 0);
        words.put(HOST_PTE_AT, 0x9005L); // guest PTE: P | U/S, read-only
        CpuState wp = guest().withCr0(new Cr0(true, true, true));
        GuestStep s = write(guestWith(words, ept(EPTP), wp), LINEAR, 1);
        assertThat(s.outcome()).isEqualTo(new GuestOutcome.Delivered(14, 3, true, LINEAR));
        // and with the #PF filtered to exit, it is still the #PF that exits, not an EPT violation
        GuestStep x = write(guestWith(words, ept(EPTP).withExceptionControls(1 << 14, 0, 0), wp), LINEAR, 1);
        ExitInformation e = exited(x);
        assertThat(e.reason()).isEqualTo(ExitReason.EXCEPTION_OR_NMI);
        assertThat(e.interruptionErrorCode()).isEqualTo(3);
    }

    @Test
    @DisplayName("SDM 28.2.3.1: an EPT entry with W and not R (010b) is a misconfiguration: EPT_MISCONFIG (49) with the GPA, whatever the access")
    void eptMisconfigurationOnTheDataPage() {
        // EPT PTE 9 = write-only (010b), WB → 0x29032
        Map<Long, Long> words = eptWith(EPT_PTE9_AT, 0x29032L);
        for (GuestInstruction insn : List.of(new GuestInstruction.MemoryAccess(Access.read(LINEAR)),
                new GuestInstruction.MemoryAccess(Access.write(LINEAR, 1)),
                new GuestInstruction.MemoryAccess(Access.fetch(LINEAR)))) {
            ExitInformation e = exited(run(guestWith(words), insn));
            assertThat(e.reason()).as("%s", insn).isEqualTo(ExitReason.EPT_MISCONFIG);
            assertThat(e.reason().number()).isEqualTo(49);
            assertThat(e.guestPhysicalAddress()).isEqualTo(DATA_AT);
            assertThat(e.qualification()).as("no qualification for EPT misconfigurations").isZero();
        }
    }

    @Test
    @DisplayName("SDM 28.2.3.1: a misconfigured EPT entry for a guest page-table frame (WX without R, 110b) → EPT_MISCONFIG with the guest entry's GPA")
    void eptMisconfigurationOnAGuestPagingStructure() {
        ExitInformation e = exited(read(guestWith(eptWith(EPT_PTE4_AT, 0x24036L)), LINEAR));
        assertThat(e.reason()).isEqualTo(ExitReason.EPT_MISCONFIG);
        assertThat(e.guestPhysicalAddress()).as("the guest PTE at 0x4000 + 4*8").isEqualTo(PTE_AT);
    }

    @Test
    @DisplayName("SDM 28.2.3.1: a reserved EPT memory type (2) in the data page's leaf → EPT_MISCONFIG")
    void reservedMemoryTypeIsAMisconfiguration() {
        // memory type 2 in bits 5:3 → 0x10; 0x29000 | 0x10 | 7
        ExitInformation e = exited(read(guestWith(eptWith(EPT_PTE9_AT, 0x29017L)), LINEAR));
        assertThat(e.reason()).isEqualTo(ExitReason.EPT_MISCONFIG);
        assertThat(e.guestPhysicalAddress()).isEqualTo(DATA_AT);
    }

    @Test
    @DisplayName("SDM 28.2.1, 27.2.1: setting the guest PTE's accessed flag is a write that EPT must permit: R-only frame → violation, write, bit 8 = 0")
    void guestAccessedFlagUpdateNeedsEptWrite() {
        // guest PT frame (GPA frame 4) mapped EPT read-only: 0x24031; guest PTE 0x9007 has A = 0
        GuestStep s = read(guestWith(eptWith(EPT_PTE4_AT, 0x24031L)), LINEAR);
        ExitInformation e = exited(s);
        assertThat(e.reason()).isEqualTo(ExitReason.EPT_VIOLATION);
        long q = e.qualification();
        assertThat(q & 0x2).as("bit 1: a data write").isNotZero();
        assertThat(q & 0x4).as("bit 2: not a fetch").isZero();
        assertThat(q & 0x8).as("bit 3: readable").isNotZero();
        assertThat(q & 0x10).as("bit 4: not writable").isZero();
        assertThat(q & BIT7).as("bit 7: guest-linear address valid").isNotZero();
        assertThat(q & BIT8).as("bit 8 = 0: an access to a guest paging-structure entry").isZero();
        assertThat(e.guestPhysicalAddress()).isEqualTo(PTE_AT);
        assertThat(e.guestLinearAddress()).isEqualTo(LINEAR);

        // With A already set in the guest PTE (0x9027) no write is needed: the read succeeds.
        Map<Long, Long> words = eptWith(EPT_PTE4_AT, 0x24031L);
        words.put(HOST_PTE_AT, 0x9027L);
        assertThat(retired(read(guestWith(words), LINEAR))).isEqualTo(PAGE_DATA);
        // A guest write needs D in the guest PTE: a write again, again refused.
        ExitInformation d = exited(write(guestWith(words), LINEAR, 1));
        assertThat(d.qualification() & (0x2 | BIT8)).as("write, bit 8 = 0").isEqualTo(0x2L);
        assertThat(d.guestPhysicalAddress()).isEqualTo(PTE_AT);
    }

    @Test
    @DisplayName("SDM 28.2.3.2, table 27-7 note: with EPT A/D enabled, a guest paging-structure read is a write; violation sets bits 0 and 1")
    void eptAccessedDirtyTreatsGuestPagingStructureReadsAsWrites() {
        Map<Long, Long> words = eptWith(EPT_PTE4_AT, 0x24031L);
        words.put(HOST_PTE_AT, 0x9027L); // A = 1: no A/D update needed, only the read
        ExitInformation e = exited(read(guestWith(words, ept(EPTP_AD), guest()), LINEAR));
        // read 0x1 | write 0x2 | readable 0x8 | bit 7 0x80; bit 8 = 0
        assertThat(e.qualification()).isEqualTo(0x8BL);
        assertThat(e.guestPhysicalAddress()).isEqualTo(PTE_AT);
    }

    // ---- combined mappings and INVEPT ----

    @Test
    @DisplayName("SDM 28.3.1: a completed access caches a combined mapping tagged with the EP4TA and VPID; it survives exit and re-entry")
    void combinedMappingsAreCachedUnderTheEp4ta() {
        VmxProcessor in = guestWith(eptWords(), eptAndVpid(EPTP, 1), guest());
        GuestStep r = read(in, LINEAR);
        assertThat(retired(r)).isEqualTo(PAGE_DATA);
        List<TlbEntry> cached = r.processor().machine().tlb().entries();
        assertThat(cached).hasSize(1);
        TlbEntry e = cached.get(0);
        assertThat(e.tag()).isEqualTo(new TlbTag(1, EP4TA));
        assertThat(e.linearBase()).isEqualTo(LINEAR_PAGE);
        assertThat(e.physicalBase()).as("the host-physical page 0x29000").isEqualTo(0x29000L);
        assertThat(e.stage2()).as("EPT permissions RWX").isEqualTo(7);

        // The hypervisor remaps GPA frame 9 to host frame 0x2A in the EPT; the combined mapping is now stale.
        VmxProcessor out = exitByCpuid(r.processor());
        X86Machine m = out.machine();
        VmxProcessor remapped = out.withMachine(m.withMemory(m.memory().writePhysical(EPT_PTE9_AT, 0x2A037L)));
        assertThat(retired(read(enter(remapped, true), LINEAR))).as("still served by the combined mapping")
                .isEqualTo(PAGE_DATA);

        RootStep inv = Invept.execute(remapped, InveptType.SINGLE_CONTEXT, new Eptp(EPTP), MAXPHYADDR);
        assertThat(inv.outcome()).isEqualTo(new RootOutcome.Succeeded());
        assertThat(inv.processor().machine().tlb().entries()).isEmpty();
        assertThat(retired(read(enter(inv.processor(), true), LINEAR))).as("after INVEPT: host 0x2A5A8")
                .isEqualTo(OTHER_PAGE_DATA);
    }

    // ---- the invalidation an EPT violation performs (SDM 28.3.3.1) ----

    private static TlbEntry mapping(TlbTag tag, int pcid, boolean global, long linearBase, int stage2) {
        return new TlbEntry(tag, pcid, global, linearBase, PageSize.SIZE_4K, 0x29000L, Rights.UNRESTRICTED, true,
                stage2);
    }

    /** The guest's TLB with {@code extra} filled after what it holds. */
    private static VmxProcessor withAlsoCached(VmxProcessor p, TlbEntry... extra) {
        Tlb tlb = p.machine().tlb();
        for (TlbEntry e : extra) {
            tlb = tlb.fill(e);
        }
        return p.withMachine(p.machine().withTlb(tlb));
    }

    @Test
    @DisplayName("SDM 28.3.3.1: an EPT violation on the translation of a linear address invalidates the combined mappings"
            + " of that address for the current PCID, VPID and EP4TA, and nothing else")
    void eptViolationInvalidatesTheCombinedMappingsOfItsLinearAddress() {
        // EPT PTE for GPA frame 9 readable only: the read caches a combined mapping with EPT permissions R
        VmxProcessor in = guestWith(eptWith(EPT_PTE9_AT, 0x29031L), eptAndVpid(EPTP, 1), guest());
        GuestStep r = read(in, LINEAR);
        assertThat(retired(r)).isEqualTo(PAGE_DATA);
        TlbTag current = new TlbTag(1, EP4TA);
        TlbEntry filled = r.processor().machine().tlb().entries().get(0);
        assertThat(filled.tag()).isEqualTo(current);
        assertThat(filled.pcid()).as("PCIDE = 0: PCID 000H").isZero();
        assertThat(filled.stage2()).as("EPT R only").isEqualTo(1);

        TlbEntry otherEp4ta = mapping(new TlbTag(1, OTHER_EP4TA), 0, false, LINEAR_PAGE, 7);
        TlbEntry otherVpid = mapping(new TlbTag(2, EP4TA), 0, false, LINEAR_PAGE, 7);
        TlbEntry linearMapping = mapping(new TlbTag(1, TlbTag.NO_EPT), 0, false, LINEAR_PAGE, 7);
        TlbEntry otherPage = mapping(current, 0, false, LINEAR_PAGE + 0x1000, 7);
        // global, cached under PCID 3: usable now, but associated with PCID 3, not the current PCID; EPT R only, so
        // the write below cannot use it either
        TlbEntry globalOtherPcid = mapping(current, 3, true, LINEAR_PAGE, 1);
        VmxProcessor before = withAlsoCached(r.processor(), otherEp4ta, otherVpid, linearMapping, otherPage,
                globalOtherPcid);
        assertThat(before.machine().tlb().entries()).hasSize(6);

        GuestStep w = write(before, LINEAR, 0xBAD);
        ExitInformation e = exited(w);
        assertThat(e.reason()).isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat(e.qualification() & BIT8).as("the access was to the translation of LINEAR").isEqualTo(BIT8);
        assertThat(w.processor().machine().tlb().entries()).as("only the current context's mapping of LINEAR goes")
                .containsExactly(otherEp4ta, otherVpid, linearMapping, otherPage, globalOtherPcid);
    }

    @Test
    @DisplayName("SDM 28.3.3.1: an EPT violation on a guest paging-structure entry (bit 8 = 0) invalidates no combined"
            + " mapping; nor does an EPT misconfiguration")
    void eptViolationOnAPagingStructureEntryAndMisconfigurationInvalidateNothing() {
        TlbTag current = new TlbTag(1, EP4TA);
        // EPT permissions none: the cached mapping cannot serve the read, which walks again
        TlbEntry unusable = mapping(current, 0, false, LINEAR_PAGE, 0);
        VmxProcessor notPresentPd = withAlsoCached(guestWith(eptWith(EPT_PTE3_AT, 0), eptAndVpid(EPTP, 1), guest()),
                unusable);
        GuestStep s = read(notPresentPd, LINEAR);
        assertThat(exited(s).reason()).isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat(exited(s).qualification() & BIT8).as("a guest paging-structure access").isZero();
        assertThat(s.processor().machine().tlb().entries()).containsExactly(unusable);

        VmxProcessor misconfigured = withAlsoCached(guestWith(eptWith(EPT_PTE9_AT, 0x29032L), eptAndVpid(EPTP, 1),
                guest()), unusable);
        GuestStep m = read(misconfigured, LINEAR);
        assertThat(exited(m).reason()).isEqualTo(ExitReason.EPT_MISCONFIG);
        assertThat(m.processor().machine().tlb().entries()).containsExactly(unusable);
    }

    private static final long OTHER_EP4TA = 0x70000L;
    private static final TlbEntry COMBINED_1 = combined(1, EP4TA);
    private static final TlbEntry COMBINED_2 = combined(2, EP4TA);
    private static final TlbEntry COMBINED_OTHER = combined(1, OTHER_EP4TA);
    private static final TlbEntry LINEAR_ONLY = TlbEntry.linear(new TlbTag(1, TlbTag.NO_EPT), 0, false, LINEAR_PAGE,
            PageSize.SIZE_4K, 0x9000L, Rights.UNRESTRICTED, true);

    private static TlbEntry combined(int vpid, long ep4ta) {
        return new TlbEntry(new TlbTag(vpid, ep4ta), 0, false, LINEAR_PAGE, PageSize.SIZE_4K, 0x29000L,
                Rights.UNRESTRICTED, true, 7);
    }

    private static VmxProcessor rootWithCombinedMappings() {
        Tlb tlb = Tlb.empty(TlbPolicy.ADVERSARIAL).fill(COMBINED_1).fill(COMBINED_2).fill(COMBINED_OTHER)
                .fill(LINEAR_ONLY);
        VmxProcessor p = root(eptWords(), vmcs(ept(EPTP), guest()), TlbPolicy.ADVERSARIAL, 0);
        return p.withMachine(p.machine().withTlb(tlb));
    }

    @Test
    @DisplayName("SDM INVEPT type 1: single-context removes the mappings of EPTP bits 51:12 for every VPID, and only those")
    void inveptSingleContext() {
        VmxProcessor p = rootWithCombinedMappings();
        assertThat(p.machine().tlb().entries()).hasSize(4);
        // 0x6405E (A/D) and 0x64018 (UC) differ from 0x6401E only in bits 11:0: the same EP4TA 0x64000
        for (long eptp : new long[] {EPTP, EPTP_AD, 0x64018L}) {
            RootStep s = Invept.execute(p, InveptType.SINGLE_CONTEXT, new Eptp(eptp), MAXPHYADDR);
            assertThat(s.outcome()).isEqualTo(new RootOutcome.Succeeded());
            assertThat(s.processor().machine().tlb().entries()).as("EPTP 0x%x", eptp)
                    .containsExactly(COMBINED_OTHER, LINEAR_ONLY);
        }
    }

    @Test
    @DisplayName("SDM INVEPT type 2: all-context removes the combined mappings of every EP4TA; linear mappings are not EPT-derived")
    void inveptAllContext() {
        RootStep s = Invept.execute(rootWithCombinedMappings(), InveptType.ALL_CONTEXT, new Eptp(EPTP), MAXPHYADDR);
        assertThat(s.outcome()).isEqualTo(new RootOutcome.Succeeded());
        assertThat(s.processor().machine().tlb().entries()).containsExactly(LINEAR_ONLY);
        RootStep anyDescriptor = Invept.execute(rootWithCombinedMappings(), InveptType.ALL_CONTEXT,
                new Eptp(0x64016L), MAXPHYADDR);
        assertThat(anyDescriptor.outcome()).as("the descriptor is not checked for type 2")
                .isEqualTo(new RootOutcome.Succeeded());
    }

    @Test
    @DisplayName("SDM INVEPT: single-context with an EPTP that fails the VM-entry checks → VMfailValid 28, nothing invalidated")
    void inveptSingleContextWithAnInvalidEptp() {
        VmxProcessor p = rootWithCombinedMappings();
        for (long bad : new long[] {0x64016L /* walk length 3 */, 0x64019L /* memory type 1 */,
            0x6409EL /* bit 7 */, 0x10_0006_401EL /* bit 36, MAXPHYADDR 36 */}) {
            RootStep s = Invept.execute(p, InveptType.SINGLE_CONTEXT, new Eptp(bad), MAXPHYADDR);
            assertThat(s.outcome()).as("EPTP 0x%x", bad).isInstanceOf(RootOutcome.VmFailValid.class);
            assertThat(((RootOutcome.VmFailValid) s.outcome()).error()).isEqualTo(28);
            assertThat(s.processor()).isEqualTo(p);
        }
    }
}
