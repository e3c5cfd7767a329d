package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.hybridv.check.TlbScopes;
import org.hybridv.gen.TlbScopeCase;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.PageSize;
import org.hybridv.x86.Rights;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbTag;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Mutants of the reference's TLB invalidations against the judge of {@link TlbScopeProperties} ({@link TlbScopes}).
 * Each test builds a TLB by hand, applies the mutant — the reference's behaviour before branch i13-tlb-scopes,
 * restated here as a filter over the entries — and shows that the judge reports it, while the reference's own step
 * on the same TLB ({@link TlbScopeProperties#run}) holds.
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
}
