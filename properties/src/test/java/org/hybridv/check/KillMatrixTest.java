package org.hybridv.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import java.util.stream.Stream;
import org.hybridv.xen.Fault;
import org.hybridv.xen.Faults;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The checker's power, under {@code mvn verify}: every seeded fault of the catalog is caught by the whole-system
 * properties within the CI budget, and the fault-free reference passes the same budget.
 */
class KillMatrixTest {
    /** The CI budget: tries per property and fault (the properties are interleaved try by try). */
    static final int CI_TRIES = 300;
    static final long SEED = 20261123L;

    @TestFactory
    Stream<DynamicTest> everyFaultIsCaughtWithinTheCiBudget() {
        return Stream.of(Fault.values()).map(f -> DynamicTest.dynamicTest(f.id() + " (" + f.rule() + ")", () -> {
            Optional<KillMatrix.Caught> c = KillMatrix.caught(f, SEED, CI_TRIES, false, Optional.empty());
            assertThat(c).as("%s survived %d tries of every property", f.id(), CI_TRIES).isPresent();
        }));
    }

    @Test
    void theFaultFreeReferencePassesTheSameBudget() {
        for (SystemProperty<?> p : SystemProperties.all()) {
            Campaign.Result<?> r = Campaign.run(p, Campaign.Config.of(SEED, 100, Faults.NONE));
            assertThat(r.passed()).as("%s: %s %s", p.name(), r.failure().map(x -> x.violation().toString()),
                    r.harnessError()).isTrue();
        }
    }
}
