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
import org.hybridv.x86.Cr3;
import org.hybridv.x86.InstructionOutcome;
import org.hybridv.x86.InstructionStep;
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
 * and the access is repeated; in between, with CR4.PCIDE = 1 and PCID 1 current, an instruction may run that keeps or
 * removes PCID 1's cache entries ({@link Between}). The judge's own record of what may be cached is
 * {@link SdmPaging#creatable} of the first walk, minus what the test evicted, minus everything if the instruction
 * between invalidates PCID 1's cache entries by its SDM sentence. The second access must be what a walk from
 * CR3 or from one of those recorded entries gives (the SDM allows no other), and — the reference's documented
 * deterministic choice — the one from the deepest recorded entry.
 */
class PagingStructureCacheProperties {
    /** A paging case and what the test does between the two accesses. */
    record Case(PagingCase paging, int level, int rewrite, int frame, long noise, boolean evictDeepest,
            Between between) {}

    /**
     * What runs between the two accesses besides the rewrite and the evictions, with CR4.PCIDE = 1 and PCID 1
     * current. Each keeps or removes the recorded cache entries of PCID 1 by its SDM sentence (§4.10.4.1), which
     * {@link #survives} restates.
     */
    enum Between {
        /** Nothing. */
        NOTHING,
        /** MOV to CR3 to PCID 2 and back, both with bit 63 set: "not required to invalidate". */
        NO_FLUSH_SWITCH_AND_BACK,
        /**
         * MOV to CR3 reloading PCID 1 with bit 63 clear: "all entries in all paging-structure caches associated with
         * that PCID".
         */
        FLUSHING_CR3_LOAD,
        /**
         * INVLPG of an unrelated address: "all entries in all paging-structure caches associated with the current
         * PCID".
         */
        INVLPG_ELSEWHERE,
        /** INVPCID single-context for PCID 2: only PCID 2's mappings. */
        INVPCID_OTHER_PCID,
        /** INVPCID individual-address for PCID 1 and an unrelated address: every cache entry of PCID 1. */
        INVPCID_ADDRESS_ELSEWHERE
    }

    @Provide
    Arbitrary<Case> cases() {
        return JqwikChoices.arbitrary(c -> new Case(PagingCases.generate(c, TlbPolicy.ADVERSARIAL), c.below(3),
                c.below(4), c.below(PagingCases.FRAMES), ((long) c.next() << 32) ^ c.next(), c.flag(false, 40),
                c.weighted(50, 10, 10, 10, 10, 10) == 0 ? Between.NOTHING
                        : Between.values()[1 + c.below(Between.values().length - 1)]));
    }

    /** Whether the recorded cache entries of PCID 1 survive {@code b} (SDM 4.10.4.1, Vol. 2A INVPCID). */
    static boolean survives(Between b) {
        return switch (b) {
            case NOTHING, NO_FLUSH_SWITCH_AND_BACK, INVPCID_OTHER_PCID -> true;
            case FLUSHING_CR3_LOAD, INVLPG_ELSEWHERE, INVPCID_ADDRESS_ELSEWHERE -> false;
        };
    }

    private static final long ELSEWHERE = 0x7F80_0000_0000L;

    /** Runs {@code b} at CPL 0 (the kernel's instruction), then returns to the case's CPL. */
    private static X86Machine run(X86Machine m, Between b) {
        X86Machine after = inKernel(m.withCpu(m.cpu().withCpl(0)), b);
        return after.withCpu(after.cpu().withCpl(m.cpu().cpl()));
    }

    private static X86Machine inKernel(X86Machine m, Between b) {
        long cr3 = m.cpu().cr3().pml4Base();
        return switch (b) {
            case NOTHING -> m;
            case NO_FLUSH_SWITCH_AND_BACK -> retired(Processor.movToCr3(retired(Processor.movToCr3(m,
                    Cr3.NO_FLUSH_BIT | cr3 | 2)), Cr3.NO_FLUSH_BIT | cr3 | 1));
            case FLUSHING_CR3_LOAD -> retired(Processor.movToCr3(m, cr3 | 1));
            case INVLPG_ELSEWHERE -> retired(Processor.invlpg(m, ELSEWHERE));
            case INVPCID_OTHER_PCID -> retired(Processor.invpcid(m, 1, 2, 0));
            case INVPCID_ADDRESS_ELSEWHERE -> retired(Processor.invpcid(m, 0, 1, ELSEWHERE));
        };
    }

    private static X86Machine retired(InstructionStep s) {
        assertThat(s.outcome()).isEqualTo(InstructionOutcome.RETIRED);
        return s.machine();
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
        X86Machine generated = k.paging().machine();
        Access a = k.paging().access();
        CpuState pcid1 = generated.cpu().withCr4(generated.cpu().cr4().withPcide(true));
        CpuState cpu = pcid1.withCr3(new Cr3(pcid1.cr3().pml4Base(), 1));
        X86Machine m0 = generated.withCpu(cpu);
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
        m = run(m, k.between());
        if (!survives(k.between())) {
            recorded.clear();
        }
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
