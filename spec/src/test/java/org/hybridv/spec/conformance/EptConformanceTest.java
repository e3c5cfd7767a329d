package org.hybridv.spec.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import org.hybridv.ept.EptSupport;
import org.junit.jupiter.api.Test;

/**
 * The EPT translation of the ept model against EptPageWalk (docs/spec.md, "Conformance"), and the check's teeth: on
 * a processor without execute-only translations (SDM 28.2.3.1: then X without R is misconfigured too) the Java
 * reports misconfigurations where the model translates a fetch, and the check sees it.
 */
class EptConformanceTest {
    @Test
    void eptTranslationAgreesWithEptPageWalkOnEveryInstance() {
        Conformance c = EptConformance.check();
        ConformanceReport.print(c);
        assertThat(c.exhaustive()).isTrue();
        // no leaf, or a leaf with one of the 8 permission sets mapping one of the 2 (symmetric) frames
        assertThat(c.instances()).isGreaterThanOrEqualTo(9);
        ConformanceReport.assertAgrees(c);
    }

    @Test
    void aProcessorWithoutExecuteOnlyDisagrees() {
        Conformance c = EptConformance.check(
                EptSupport.full(EptConformance.MAXPHYADDR).withAccessedDirty(false).withExecuteOnly(false));
        assertThat(c.disagreements()).isNotEmpty().allSatisfy(d -> assertThat(d.java()).isEqualTo(
                "EPT misconfiguration"));
    }
}
