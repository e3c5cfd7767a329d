package org.hybridv.check;

import static org.assertj.core.api.Assertions.assertThat;

import org.hybridv.xen.Fault;
import org.hybridv.xen.Faults;
import org.junit.jupiter.api.Test;

/**
 * The emulation property (docs/emulation.md): the reference passes 100 tries with its coverage floors, and each of
 * the two seeded faults of the bitmaps is caught by the property itself within the CI budget, with its rule.
 */
class EmulationPropertyTest {
    @Test
    void theReferencePassesWithItsCoverage() {
        Campaign.Result<?> r = Campaign.run(new EmulationProperty(), Campaign.Config.of(KillMatrixTest.SEED, 100,
                Faults.NONE));
        assertThat(r.passed()).as("%s %s", r.failure().map(x -> x.violation().toString()), r.harnessError())
                .isTrue();
        assertThat(r.coverage().missed(new EmulationProperty().floors())).as("%s", r.coverage().counts()).isEmpty();
    }

    @Test
    void theBitmapFaultsAreCaughtWithTheirRules() {
        for (Fault f : java.util.List.of(Fault.X2APIC_MSR_PASSTHROUGH, Fault.IO_PORT_RANGE_NOT_INTERCEPTED)) {
            Campaign.Result<?> r = Campaign.run(new EmulationProperty(), Campaign.Config.of(KillMatrixTest.SEED,
                    KillMatrixTest.CI_TRIES, Faults.of(f)));
            assertThat(r.failure()).as(f.id()).isPresent();
            assertThat(r.failure().get().violation().toString()).as(f.id()).contains(f.rule());
        }
    }
}
