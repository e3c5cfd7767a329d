package org.hybridv.spec.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import org.hybridv.xen.Fault;
import org.hybridv.xen.Faults;
import org.junit.jupiter.api.Test;

/**
 * SWITCH_MMU of xen/switch_mmu (run {@code switchTable}) against the Java reference (docs/spec.md, "Conformance"), and
 * the check's teeth: against a reference with the seeded fault {@code switch-mmu-from-user} (PRE-1's CPL clause
 * dropped), the switches the model refuses from CPL 3 are accepted. The instances vary the vCPU state only (see
 * {@link SwitchMmuConformance.View}): the verdicts compared are CPL, PRE-1 and acceptance, not PRE-2.
 */
class SwitchMmuConformanceTest {
    @Test
    void switchVerdictsAgreeWithTheJava() {
        Conformance c = SwitchMmuConformance.check();
        ConformanceReport.print(c);
        assertThat(c.instances()).isGreaterThan(100);
        ConformanceReport.assertAgrees(c);
    }

    @Test
    void aSwitchFromUserModeDisagrees() {
        Conformance c = SwitchMmuConformance.check(Faults.of(Fault.SWITCH_MMU_FROM_USER), 40);
        assertThat(c.instances()).isPositive();
        assertThat(c.disagreements()).isNotEmpty()
                .anySatisfy(d -> assertThat(d.alloy() + " / " + d.java()).isEqualTo("refused: CPL / accepted"));
    }
}
