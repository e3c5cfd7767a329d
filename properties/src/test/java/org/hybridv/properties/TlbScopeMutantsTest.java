package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.hybridv.check.TlbScopes;
import org.hybridv.gen.TlbScopeCase;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.InvpcidType;
import org.hybridv.x86.Level;
import org.hybridv.x86.PageSize;
import org.hybridv.x86.PscEntry;
import org.hybridv.x86.Rights;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbTag;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Mutants of the reference's TLB invalidations against the judge of {@link TlbScopeProperties} ({@link TlbScopes}).
 * Each test builds a TLB by hand, applies the mutant — the reference's behaviour before branch i13-tlb-scopes, or a
 * plausible wrong scope for INVPCID and the paging-structure caches, restated here as a filter over the entries — and
 * shows that the judge reports it, while the reference's own step on the same TLB ({@link TlbScopeProperties#run},
 * {@link TlbScopeProperties#runTlb}) holds.
 */
class TlbScopeMutantsTest {
    private static final TlbTag VPID_1_EPT = new TlbTag(1, 0x64000L);

    private static TlbEntry entry(TlbTag tag, int pcid, boolean global, long linear, int stage2) {
        return new TlbEntry(tag, pcid, global, linear, PageSize.SIZE_4K, 0x9000L,
                new Rights(true, false, false, 0), true, stage2);
    }

    @Test
    @DisplayName("mutant 'MOV to CR4 setting SMEP keeps the current PCID's global entries' (old invalidateNonGlobal)"
            + " → reported")
    void cr4SmepKeepingGlobalEntries() {
        TlbEntry globalCurrent = entry(TlbTag.NATIVE, 1, true, 0x0, 7);
        TlbEntry plainCurrent = entry(TlbTag.NATIVE, 1, false, 0x1000, 7);
        TlbEntry globalOther = entry(TlbTag.NATIVE, 2, true, 0x7FFF_FFFF_F000L, 7);
        List<TlbEntry> before = List.of(globalCurrent, plainCurrent, globalOther);
        Cr4 old = Cr4.RESET.withPae(true).withPge(true).withPcide(true);
        TlbScopeCase.Op op = new TlbScopeCase.MovToCr4(TlbTag.NATIVE, 1, old, old.withSmep(true), true);

        // the old reference: non-global entries of the current PCID only
        List<TlbEntry> mutant = before.stream().filter(e -> e.global() || e.pcid() != 1).toList();
        assertThat(mutant).containsExactly(globalCurrent, globalOther);
        assertThat(TlbScopes.judge(before, op, mutant)).hasValueSatisfying(v -> assertThat(v)
                .contains("kept, though the SDM requires it gone", "pcid=1, global=true"));

        List<TlbEntry> reference = TlbScopeProperties.run(new TlbScopeCase(before, op));
        assertThat(reference).containsExactly(globalOther);
        assertThat(TlbScopes.judge(before, op, reference)).isEmpty();
    }

    @Test
    @DisplayName("mutant 'an EPT violation invalidates nothing' (old TwoDimensional.eptExit) → reported")
    void eptViolationInvalidatingNothing() {
        TlbEntry sameContext = entry(VPID_1_EPT, 0, false, 0x1000, 1);
        TlbEntry otherPage = entry(VPID_1_EPT, 0, false, 0x0, 1);
        TlbEntry otherEp4ta = entry(new TlbTag(1, 0x70000L), 0, false, 0x1000, 1);
        List<TlbEntry> before = List.of(sameContext, otherPage, otherEp4ta);
        TlbScopeCase.Op op = new TlbScopeCase.EptViolation(true, VPID_1_EPT, true, 0x1000);

        List<TlbEntry> mutant = before; // nothing invalidated, and the VM exit with VPID flushes nothing
        assertThat(TlbScopes.judge(before, op, mutant)).hasValueSatisfying(v -> assertThat(v)
                .contains("kept, though the SDM requires it gone", "linearBase=4096"));

        List<TlbEntry> reference = TlbScopeProperties.run(new TlbScopeCase(before, op));
        assertThat(reference).containsExactly(otherPage, otherEp4ta);
        assertThat(TlbScopes.judge(before, op, reference)).isEmpty();
    }

    @Test
    @DisplayName("mutant 'an adversarial TLB drops more than the SDM requires' (INVLPG of every PCID) → reported")
    void invlpgRemovingOtherPcidsNonGlobalEntries() {
        TlbEntry current = entry(TlbTag.NATIVE, 1, false, 0x0, 7);
        TlbEntry otherPcid = entry(TlbTag.NATIVE, 2, false, 0x0, 7);
        List<TlbEntry> before = List.of(current, otherPcid);
        TlbScopeCase.Op op = new TlbScopeCase.Invlpg(TlbTag.NATIVE, 1, 0x0);
        assertThat(TlbScopes.judge(before, op, List.of())).hasValueSatisfying(v -> assertThat(v)
                .contains("removed, though the SDM does not require it", "pcid=2"));
        assertThat(TlbScopes.judge(before, op, TlbScopeProperties.run(new TlbScopeCase(before, op)))).isEmpty();
    }

    // ---- INVPCID and the paging-structure caches ----

    private static final TlbEntry A1 = entry(TlbTag.NATIVE, 1, false, 0x0, 7);
    private static final TlbEntry B1 = entry(TlbTag.NATIVE, 1, false, 0x7FFF_FFFF_F000L, 7);
    private static final TlbEntry G1 = entry(TlbTag.NATIVE, 1, true, 0x1000, 7);
    private static final TlbEntry A2 = entry(TlbTag.NATIVE, 2, false, 0x0, 7);
    private static final List<TlbEntry> TLB = List.of(A1, B1, G1, A2);

    private static PscEntry pde(int pcid, long linear) {
        return new PscEntry(TlbTag.NATIVE, pcid, Level.PD, linear & 0xFFFF_FFE0_0000L, 0x10000L, true, false, false);
    }

    private static final PscEntry PDE_A1 = pde(1, 0x0);
    private static final PscEntry PDE_B1 = pde(1, 0x7FFF_FFFF_F000L);
    private static final PscEntry PDE_A2 = pde(2, 0x0);
    private static final List<PscEntry> PSC = List.of(PDE_A1, PDE_B1, PDE_A2);

    private static List<TlbEntry> without(List<TlbEntry> l, java.util.function.Predicate<TlbEntry> doomed) {
        return l.stream().filter(doomed.negate()).toList();
    }

    private static List<PscEntry> withoutPsc(List<PscEntry> l, java.util.function.Predicate<PscEntry> doomed) {
        return l.stream().filter(doomed.negate()).toList();
    }

    /** The reference's own step on {@link #TLB} and {@link #PSC} passes both judges. */
    private static void referenceHolds(TlbScopeCase.Op op) {
        Tlb after = TlbScopeProperties.runTlb(new TlbScopeCase(TLB, PSC, op));
        assertThat(TlbScopes.judge(TLB, op, after.entries())).isEmpty();
        assertThat(TlbScopes.judgePsc(PSC, op, after.pscEntries())).isEmpty();
    }

    private static TlbScopeCase.Invpcid invpcid(InvpcidType type, int pcid, long linear) {
        return new TlbScopeCase.Invpcid(TlbTag.NATIVE, true, 1, type, pcid, linear);
    }

    @Test
    @DisplayName("mutant 'INVPCID type 0 leaves the paging-structure caches alone' → reported")
    void invpcidIndividualAddressKeepingCacheEntries() {
        TlbScopeCase.Op op = invpcid(InvpcidType.INDIVIDUAL_ADDRESS, 1, 0x0);
        assertThat(TlbScopes.judge(TLB, op, without(TLB, e -> e == A1))).isEmpty();
        assertThat(TlbScopes.judgePsc(PSC, op, PSC)).hasValueSatisfying(v -> assertThat(v)
                .contains("kept, though the SDM requires it gone", "linearBase=140737486258176"));
        referenceHolds(op);
    }

    @Test
    @DisplayName("mutant 'INVPCID type 1 removes the PCID's global translations too' → reported")
    void invpcidSingleContextRemovingGlobals() {
        TlbScopeCase.Op op = invpcid(InvpcidType.SINGLE_CONTEXT, 1, 0);
        assertThat(TlbScopes.judge(TLB, op, List.of(A2))).hasValueSatisfying(v -> assertThat(v)
                .contains("removed, though the SDM does not require it", "global=true"));
        referenceHolds(op);
    }

    @Test
    @DisplayName("mutant 'INVPCID type 2 keeps global translations' (the type-3 scope) → reported")
    void invpcidAllContextIncludingGlobalsKeepingGlobals() {
        TlbScopeCase.Op op = invpcid(InvpcidType.ALL_CONTEXT_INCLUDING_GLOBALS, 0, 0);
        assertThat(TlbScopes.judge(TLB, op, List.of(G1))).hasValueSatisfying(v -> assertThat(v)
                .contains("kept, though the SDM requires it gone", "global=true"));
        referenceHolds(op);
    }

    @Test
    @DisplayName("mutant 'INVPCID type 3 keeps the paging-structure caches' → reported")
    void invpcidAllContextKeepingCacheEntries() {
        TlbScopeCase.Op op = invpcid(InvpcidType.ALL_CONTEXT, 0, 0);
        assertThat(TlbScopes.judge(TLB, op, List.of(G1))).isEmpty();
        assertThat(TlbScopes.judgePsc(PSC, op, PSC)).hasValueSatisfying(v -> assertThat(v)
                .contains("kept, though the SDM requires it gone"));
        referenceHolds(op);
    }

    @Test
    @DisplayName("mutant 'INVLPG removes only the cache entries for its address' → reported")
    void invlpgRemovingOnlyTheAddressesCacheEntries() {
        TlbScopeCase.Op op = new TlbScopeCase.Invlpg(TlbTag.NATIVE, 1, 0x0);
        assertThat(TlbScopes.judgePsc(PSC, op, withoutPsc(PSC, p -> p == PDE_A1))).hasValueSatisfying(v ->
                assertThat(v).contains("kept, though the SDM requires it gone", "pcid=1"));
        referenceHolds(op);
    }

    @Test
    @DisplayName("mutant 'MOV to CR3 with the no-flush bit empties the paging-structure caches' → reported")
    void movToCr3NoFlushFlushingCacheEntries() {
        TlbScopeCase.Op op = new TlbScopeCase.MovToCr3(TlbTag.NATIVE, true, 1, true);
        assertThat(TlbScopes.judgePsc(PSC, op, withoutPsc(PSC, p -> p.pcid() == 1))).hasValueSatisfying(v ->
                assertThat(v).contains("removed, though the SDM does not require it"));
        referenceHolds(op);
    }

    @Test
    @DisplayName("mutant 'a page fault removes every cache entry of the PCID' (the INVLPG scope) → reported")
    void pageFaultRemovingEveryCacheEntryOfThePcid() {
        TlbScopeCase.Op op = new TlbScopeCase.PageFault(TlbTag.NATIVE, 1, 0x0);
        assertThat(TlbScopes.judgePsc(PSC, op, List.of(PDE_A2))).hasValueSatisfying(v -> assertThat(v)
                .contains("removed, though the SDM does not require it", "linearBase=140737486258176"));
        referenceHolds(op);
    }

    @Test
    @DisplayName("mutant 'MOV to CR4 setting SMEP leaves the paging-structure caches alone' → reported")
    void cr4SmepKeepingCacheEntries() {
        Cr4 old = Cr4.RESET.withPae(true).withPge(true).withPcide(true);
        TlbScopeCase.Op op = new TlbScopeCase.MovToCr4(TlbTag.NATIVE, 1, old, old.withSmep(true), true);
        assertThat(TlbScopes.judgePsc(PSC, op, PSC)).hasValueSatisfying(v -> assertThat(v)
                .contains("kept, though the SDM requires it gone", "pcid=1"));
        referenceHolds(op);
    }

    @Test
    @DisplayName("mutant 'INVVPID individual-address removes every cache entry of the VPID' → reported")
    void invvpidIndividualAddressRemovingEveryCacheEntry() {
        TlbTag vpid1 = new TlbTag(1, TlbTag.NO_EPT);
        PscEntry used = new PscEntry(vpid1, 0, Level.PML4, 0x0, 0x10000L, true, false, false);
        PscEntry elsewhere = new PscEntry(vpid1, 0, Level.PML4, 0x7F80_0000_0000L, 0x10000L, true, false, false);
        List<PscEntry> before = List.of(used, elsewhere);
        TlbScopeCase.Op op = new TlbScopeCase.Invvpid(org.hybridv.vmx.InvvpidType.INDIVIDUAL_ADDRESS, 1, 0x1000);
        // "invalidates … mappings … that would be used to translate the linear address": bits 47:39 of 0x1000 are 0
        assertThat(TlbScopes.judgePsc(before, op, List.of())).hasValueSatisfying(v -> assertThat(v)
                .contains("removed, though the SDM does not require it", "linearBase=140187732541440"));
        Tlb after = TlbScopeProperties.runTlb(new TlbScopeCase(List.of(), before, op));
        assertThat(after.pscEntries()).containsExactly(elsewhere);
        assertThat(TlbScopes.judgePsc(before, op, after.pscEntries())).isEmpty();
    }

    @Test
    @DisplayName("mutant 'an EPT violation keeps the combined cache entries used for its address' → reported")
    void eptViolationKeepingCombinedCacheEntries() {
        PscEntry used = new PscEntry(VPID_1_EPT, 0, Level.PD, 0x0, 0x10000L, true, false, false);
        PscEntry otherEp4ta = new PscEntry(new TlbTag(1, 0x70000L), 0, Level.PD, 0x0, 0x10000L, true, false, false);
        List<PscEntry> before = List.of(used, otherEp4ta);
        TlbScopeCase.Op op = new TlbScopeCase.EptViolation(true, VPID_1_EPT, true, 0x1000);
        // "any combined mappings for that linear address associated with the current PCID, the current VPID and the
        // current EP4TA" (Vol. 3C §28.3.3.1)
        assertThat(TlbScopes.judgePsc(before, op, before)).hasValueSatisfying(v -> assertThat(v)
                .contains("kept, though the SDM requires it gone", "ep4ta=409600"));
        Tlb after = TlbScopeProperties.runTlb(new TlbScopeCase(List.of(), before, op));
        assertThat(after.pscEntries()).containsExactly(otherEp4ta);
    }
}
