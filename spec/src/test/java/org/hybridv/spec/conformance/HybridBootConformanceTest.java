package org.hybridv.spec.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The boot traces of guest/hybrid_boot against the Java boot-stage machine (docs/spec.md, "Conformance"), and the
 * check's teeth: the counterexample traces of the seeded fault (SWITCH_MMU before the hypercall page) take a step
 * the Java refuses.
 */
class HybridBootConformanceTest {
    @Test
    void bootTracesAgreeWithTheJavaBootStages() {
        for (Conformance c : HybridBootConformance.check()) {
            ConformanceReport.print(c);
            assertThat(c.instances()).isGreaterThan(10);
            ConformanceReport.assertAgrees(c);
        }
    }

    @Test
    void aSwitchBeforeTheHypercallPageDisagrees() {
        Conformance c = HybridBootConformance.check("bugSwitchBeforeHypercallPageIsSafe", 5);
        assertThat(c.instances()).isPositive();
        assertThat(c.disagreements()).isNotEmpty()
                .anySatisfy(d -> assertThat(d.what()).contains("SwitchMmu from HYPERVISOR_DETECTED"));
    }
}
