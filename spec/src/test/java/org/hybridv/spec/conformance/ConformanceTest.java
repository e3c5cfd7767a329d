package org.hybridv.spec.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

/**
 * The Alloy models and the Java reference describe the same machine: every enumerated instance gets the same verdict
 * from both (docs/spec.md, "Conformance"). A disagreement fails with both sides and the instance printed.
 */
class ConformanceTest {
    @Test
    void pfFilterDecisionAgreesWithExceptionExitsOnEveryInstance() {
        Conformance c = PfFilterConformance.check();
        report(c);
        assertThat(c.exhaustive()).isTrue();
        assertThat(c.instances()).isEqualTo(64 * 8 * 8 * 2);
    }

    @Test
    void pagingAccessRightsAndErrorCodeAgreeWithPageWalk() {
        Conformance c = PagingConformance.check();
        report(c);
        assertThat(c.exhaustive() || c.instances() == PagingConformance.LIMIT).isTrue();
    }

    @Test
    void l1EntryValidationAgreesWithPageTypesAndDirectPaging() {
        Conformance c = EntryConformance.check();
        report(c);
        assertThat(c.exhaustive() || c.instances() == EntryConformance.LIMIT).isTrue();
    }

    private static void report(Conformance c) {
        System.out.printf("conformance %s: %s/%s, %d instances%s, %d disagreements%n", c.check(), c.model(),
                c.command(), c.instances(), c.exhaustive() ? " (all)" : " (capped)", c.disagreements().size());
        assertThat(c.disagreements()).as(() -> c.disagreements().stream().limit(3).map(Object::toString)
                .collect(Collectors.joining("\n\n"))).isEmpty();
    }
}
