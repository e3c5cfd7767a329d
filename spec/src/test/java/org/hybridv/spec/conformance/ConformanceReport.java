package org.hybridv.spec.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Collectors;

/** Prints a conformance result and asserts it found no disagreement (the first three printed with their instance). */
final class ConformanceReport {
    private ConformanceReport() {}

    static void print(Conformance c) {
        System.out.printf("conformance %s: %s/%s, %d instances%s, %d disagreements%n", c.check(), c.model(),
                c.command(), c.instances(), c.exhaustive() ? " (all)" : " (capped)", c.disagreements().size());
    }

    static void assertAgrees(Conformance c) {
        assertThat(c.disagreements()).as(() -> c.disagreements().stream().limit(3).map(Object::toString)
                .collect(Collectors.joining("\n\n"))).isEmpty();
    }
}
