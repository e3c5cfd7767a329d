package org.hybridv.spec.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The TLB-flush clock of {@code xen/tlb_clock} and {@code org.hybridv.xen.TlbFlushClock} agree on every enumerated
 * trace (docs/spec.md, "Conformance"); and the comparison can fail: the seeded bug of the model (the comparison the
 * wrong way round, {@code needFlushReversed}) standing in for the Java test disagrees with the model.
 */
class TlbClockConformanceTest {
    @Test
    void theClockAgreesWithTheModelOnEveryTraceAndAWrongClockDoesNot() {
        TlbClockConformance.NeedFlush reversed = (clock, cpu, stamp) -> {
            long t = clock.cpuTime().get(cpu);
            return clock.now() == 0 || stamp <= t && t <= clock.now();
        };
        List<Conformance> both = TlbClockConformance.check(List.of(
                org.hybridv.xen.TlbFlushClock::cpuNeedsFlush, reversed), TlbClockConformance.LIMIT);
        Conformance c = both.get(0);
        System.out.printf("conformance %s: %s/%s, %d instances%s, %d disagreements%n", c.check(), c.model(),
                c.command(), c.instances(), c.exhaustive() ? " (all)" : " (capped)", c.disagreements().size());
        assertThat(c.disagreements()).as(() -> c.disagreements().stream().limit(3).map(Object::toString)
                .collect(Collectors.joining("\n\n"))).isEmpty();
        assertThat(c.exhaustive() || c.instances() == TlbClockConformance.LIMIT).isTrue();
        assertThat(both.get(1).disagreements()).as("the comparison catches a clock compared the wrong way")
                .isNotEmpty();
    }
}
