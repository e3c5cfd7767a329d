package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.Rewrite;
import org.hybridv.gen.TlbCase;
import org.hybridv.gen.TlbCases;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessStep;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.InstructionOutcome;
import org.hybridv.x86.InstructionStep;
import org.hybridv.x86.PageWalk;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Processor;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.Translated;
import org.hybridv.x86.VisitedEntry;
import org.hybridv.x86.X86Machine;

/**
 * Properties of the TLB (Intel SDM Vol. 3A §4.10): without caching the TLB never matters; with adversarial caching
 * a stale translation may be used, but never after the invalidation that covers it.
 */
class TlbProperties {

    @Provide
    Arbitrary<TlbCase> uncached() {
        return JqwikChoices.arbitrary(c -> TlbCases.generate(c, TlbPolicy.NONE));
    }

    @Provide
    Arbitrary<TlbCase> adversarial() {
        return JqwikChoices.arbitrary(c -> TlbCases.generate(c, TlbPolicy.ADVERSARIAL));
    }

    @Property(seed = Budget.SEED, tries = Budget.SEQUENCE_TRIES)
    void withNoCachingEveryAccessEqualsAFreshWalkOfTheCurrentTables(@ForAll("uncached") TlbCase t) {
        Access a = t.paging().access();
        X86Machine m = t.paging().machine();
        AccessStep first = Processor.access(m, a);
        assertThat(Cases.agree(first.outcome(), Cases.translate(m, a))).as("first access").isTrue();
        X86Machine changed = rewritten(first.machine(), t, a);
        AccessStep second = Processor.access(changed, a);
        assertThat(Cases.agree(second.outcome(), Cases.translate(changed, a)))
                .as("after rewriting the tables: %s vs fresh %s", second.outcome(), Cases.translate(changed, a))
                .isTrue();
        assertThat(second.machine().tlb().isEmpty()).as("nothing is cached").isTrue();
    }

    @Property(seed = Budget.SEED, tries = Budget.SEQUENCE_TRIES)
    void afterInvlpgOfTheAddressAnAccessEqualsAFreshWalk(@ForAll("adversarial") TlbCase t) {
        Access a = t.paging().access();
        X86Machine filled = Processor.access(t.paging().machine(), a).machine();
        X86Machine changed = rewritten(filled, t, a);
        classifyStaleness(changed, a);

        X86Machine invalidated = atCpl0(changed, m -> Processor.invlpg(m, a.linear()));
        AccessStep after = Processor.access(invalidated, a);
        assertThat(Cases.agree(after.outcome(), Cases.translate(invalidated, a)))
                .as("after INVLPG: %s vs fresh %s", after.outcome(), Cases.translate(invalidated, a)).isTrue();
        assertThat(after.tlbHit()).as("INVLPG left no entry for the page").isFalse();
    }

    @Property(seed = Budget.SEED, tries = Budget.SEQUENCE_TRIES)
    void afterACr3LoadAnAccessEqualsAFreshWalkUnlessAGlobalEntryServesIt(@ForAll("adversarial") TlbCase t) {
        Access a = t.paging().access();
        X86Machine filled = Processor.access(t.paging().machine(), a).machine();
        X86Machine changed = rewritten(filled, t, a);
        classifyStaleness(changed, a);

        X86Machine reloaded = atCpl0(changed, m -> Processor.movToCr3(m, m.cpu().cr3().bits()));
        for (TlbEntry e : reloaded.tlb().entries()) {
            assertThat(e.global()).as("only global entries survive a CR3 load: %s", e).isTrue();
        }
        AccessStep after = Processor.access(reloaded, a);
        Statistics.label("served by").collect(after.tlbHit() ? "global entry" : "fresh walk");
        if (!after.tlbHit()) {
            assertThat(Cases.agree(after.outcome(), Cases.translate(reloaded, a)))
                    .as("after MOV to CR3: %s vs fresh %s", after.outcome(), Cases.translate(reloaded, a)).isTrue();
        }
    }

    /** Records whether the case produced a stale translation: a TLB outcome that a fresh walk would not give. */
    private static void classifyStaleness(X86Machine changed, Access a) {
        AccessStep viaTlb = Processor.access(changed, a);
        boolean stale = !Cases.agree(viaTlb.outcome(), Cases.translate(changed, a));
        Statistics.label("before invalidation").collect(stale ? "stale translation used" : "consistent");
        Statistics.label("before invalidation").coverage(cov ->
                cov.check("stale translation used").percentage(p -> p >= 5));
    }

    private static X86Machine rewritten(X86Machine m, TlbCase t, Access a) {
        if (!m.cpu().pagingEnabled() || !org.hybridv.x86.Canonical.isCanonical(a.linear())) {
            return m;
        }
        List<VisitedEntry> path = PageWalk.walk(m.memory(), m.cpu(), a.linear()).path();
        PhysicalMemory memory = m.memory();
        for (Rewrite r : t.rewrites()) {
            memory = r.applyTo(memory, path);
        }
        return m.withMemory(memory);
    }

    /** Runs a privileged instruction at CPL 0 and restores the CPL; the instruction must retire. */
    private static X86Machine atCpl0(X86Machine m, java.util.function.Function<X86Machine, InstructionStep> insn) {
        CpuState cpu = m.cpu();
        InstructionStep step = insn.apply(m.withCpu(cpu.withCpl(0)));
        assertThat(step.outcome()).isEqualTo(InstructionOutcome.RETIRED);
        return step.machine().withCpu(step.machine().cpu().withCpl(cpu.cpl()));
    }

    @SuppressWarnings("unused")
    private static boolean mapped(X86Machine m, Access a) {
        return Cases.translate(m, a) instanceof Translated;
    }
}
