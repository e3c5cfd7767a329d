package org.hybridv.spec.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import org.hybridv.xen.Fault;
import org.hybridv.xen.Faults;
import org.junit.jupiter.api.Test;

/**
 * {@code getPageFromLne} of xen/entry_rules against PageTypes.getPageFromLne (docs/spec.md, "Conformance"), and the
 * check's teeth: with SP-1 skipped in the reference (seeded fault {@code superpage-accepted}), the superpage entries
 * the model refuses are accepted by the Java, and the check reports them.
 */
class LnEntryConformanceTest {
    @Test
    void lnEntryValidationAgreesWithPageTypes() {
        Conformance c = LnEntryConformance.check();
        ConformanceReport.print(c);
        assertThat(c.exhaustive()).isTrue();
        assertThat(c.instances()).isGreaterThan(100);
        ConformanceReport.assertAgrees(c);
    }

    @Test
    void aReferenceThatAcceptsSuperpagesDisagrees() {
        Conformance c = LnEntryConformance.check(Faults.of(Fault.SUPERPAGE_ACCEPTED), 500);
        assertThat(c.disagreements()).isNotEmpty();
        assertThat(c.disagreements()).allSatisfy(d -> {
            assertThat(d.alloy()).isEqualTo("refused");
            assertThat(d.what()).contains("PS");
        });
    }
}
