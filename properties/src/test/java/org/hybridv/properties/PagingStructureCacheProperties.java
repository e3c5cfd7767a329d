package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.check.SdmPaging;
import org.hybridv.check.SdmPaging.CachedEntry;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.PagingCase;
import org.hybridv.gen.PagingCases;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessOutcome;
import org.hybridv.x86.AccessStep;
import org.hybridv.x86.Canonical;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.Processor;
import org.hybridv.x86.PscEntry;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.X86Machine;

/**
 * Walks that start from a paging-structure-cache entry (Intel SDM Vol. 3A §4.10.3.2), judged by {@link SdmPaging}
 * independently of the reference: an access completes through an adversarial TLB (creating the translation and the
 * PML4-, PDPTE- and PDE-cache entries), one upper-level entry its walk read is rewritten in memory (not present,
 * another frame, other rights, or random bits), the translation is evicted and sometimes the deepest cache entry too,
 * and the access is repeated. The judge's own record of what may be cached is {@link SdmPaging#creatable} of the first
 * walk minus what the test evicted; nothing was invalidated in between. The second access must be what a walk from
 * CR3 or from one of those recorded entries gives (the SDM allows no other), and — the reference's documented
 * deterministic choice — the one from the deepest recorded entry.
 */
class PagingStructureCacheProperties {
    /** A paging case and what the test does between the two accesses. */
    record Case(PagingCase paging, int level, int rewrite, int frame, long noise, boolean evictDeepest) {}

    @Provide
    Arbitrary<Case> cases() {
        return JqwikChoices.arbitrary(c -> new Case(PagingCases.generate(c, TlbPolicy.ADVERSARIAL), c.below(3),
                c.below(4), c.below(PagingCases.FRAMES), ((long) c.next() << 32) ^ c.next(), c.flag(false, 40)));
    }

    private static long rewritten(long old, Case k) {
        return switch (k.rewrite()) {
            case 0 -> 0; // not present
            case 1 -> (old & ~0x000F_FFFF_FFFF_F000L) | ((long) k.frame() << 12); // another table
            case 2 -> old ^ 0x6; // R/W and U/S flipped
            default -> k.noise();
        };
    }

    @Property(seed = Budget.SEED, tries = Budget.SEQUENCE_TRIES)
    void aWalkFromACacheEntryIsOneTheSdmAllows(@ForAll("cases") Case k) {
        X86Machine m0 = k.paging().machine();
        Access a = k.paging().access();
        CpuState cpu = m0.cpu();
        if (!Canonical.isCanonical(a.linear())) {
            Statistics.label("case").collect("non-canonical");
            return;
        }
        AccessStep first = Processor.access(m0, a);
        if (!(first.outcome() instanceof AccessOutcome.Completed)) {
            Statistics.label("case").collect("first access faults");
            return;
        }
        // what SDM 4.10.3.1 lets the first walk create, restated; nothing invalidates it before the second access
        List<CachedEntry> recorded = new ArrayList<>(SdmPaging.creatable(m0.memory(), cpu, a.linear()));
        SdmPaging.Outcome walk = SdmPaging.translate(m0.memory(), cpu, a);
        int upper = walk.entryAddresses().size() - 1;
        long address = walk.entryAddresses().get(k.level() % upper);
        X86Machine m = first.machine();
        m = m.withMemory(m.memory().writePhysical(address, rewritten(m.memory().readPhysical(address), k)));
        TlbEntry translation = m.tlb().lookup(m.tlbTag(), cpu.currentPcid(), a.linear());
        assertThat(translation).as("the completed access cached its translation").isNotNull();
        m = Processor.evict(m, translation);
        if (k.evictDeepest()) {
            PscEntry deepest = m.tlb().lookupPsc(m.tlbTag(), cpu.currentPcid(), a.linear());
            if (deepest != null) {
                m = Processor.evict(m, deepest);
                recorded.removeIf(e -> e.level() == deepest.level().ordinal());
            }
        }
        AccessStep second = Processor.access(m, a);
        assertThat(second.tlbHit()).as("the translation was evicted").isFalse();

        SdmPaging.Outcome fresh = SdmPaging.translate(m.memory(), cpu, a);
        List<SdmPaging.Outcome> allowed = new ArrayList<>();
        allowed.add(fresh);
        for (CachedEntry e : recorded) {
            allowed.add(SdmPaging.translateFrom(m.memory(), cpu, a, e));
        }
        boolean stale = !agrees(second.outcome(), fresh);
        Statistics.label("second access").collect(recorded.isEmpty() ? "no cache entry left"
                : stale ? "decided by a stale cache entry" : "same as a walk from CR3");
        Statistics.label("second access").coverage(cov -> cov.check("decided by a stale cache entry")
                .percentage(p -> p >= 10));
        assertThat(allowed.stream().anyMatch(o -> agrees(second.outcome(), o)))
                .as("%s is the outcome of a walk from CR3 or from a recorded cache entry %s", second.outcome(),
                        recorded)
                .isTrue();
        SdmPaging.Outcome deepest = allowed.get(allowed.size() - 1);
        assertThat(agrees(second.outcome(), deepest)).as("the walk starts from the deepest cache entry (choice)")
                .isTrue();
    }

    /** Whether the reference's outcome is the SDM outcome {@code o}: the same physical address, or a #PF saying why. */
    private static boolean agrees(AccessOutcome outcome, SdmPaging.Outcome o) {
        if (outcome instanceof AccessOutcome.Completed c) {
            return o.completes() && c.physicalAddress() == o.physical();
        }
        if (outcome instanceof PageFault pf) {
            return !o.completes() && pf.errorCode().p() == (o.end() != SdmPaging.End.NOT_PRESENT)
                    && pf.errorCode().rsvd() == (o.end() == SdmPaging.End.RESERVED_BIT);
        }
        return false;
    }
}
