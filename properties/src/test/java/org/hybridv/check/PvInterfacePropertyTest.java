package org.hybridv.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.hybridv.xen.Fault;
import org.hybridv.xen.Faults;
import org.junit.jupiter.api.Test;

/**
 * The PV-interface property (docs/pv-interfaces.md): the reference passes the CI budget with every coverage floor
 * reached, and each of the three PV faults is caught by the property itself within it, by the invariant its rule
 * names (I1 for the grant faults, I10 for the misrouted send).
 */
class PvInterfacePropertyTest {
    @Test
    void theReferencePassesWithEveryFloorReached() {
        Campaign.Result<?> r = Campaign.run(new PvInterfaceProperty(), Campaign.Config.of(KillMatrixTest.SEED,
                KillMatrixTest.CI_TRIES, Faults.NONE));
        assertThat(r.passed()).as("%s %s", r.failure().map(x -> x.violation().toString()), r.harnessError())
                .isTrue();
        assertThat(r.coverage().missed(new PvInterfaceProperty().floors())).as("%s", r.coverage().counts()).isEmpty();
    }

    @Test
    void eachPvFaultIsCaughtByItsInvariant() {
        List<Object[]> cases = List.of(new Object[] {Fault.GRANT_UNMAP_NO_FLUSH, "I1"},
                new Object[] {Fault.GRANT_READONLY_MAPPED_WRITABLE, "I1"},
                new Object[] {Fault.EVTCHN_SEND_TO_FOREIGN_PORT, "I10"});
        for (Object[] c : cases) {
            Fault f = (Fault) c[0];
            Campaign.Result<?> r = Campaign.run(new PvInterfaceProperty(), Campaign.Config.of(KillMatrixTest.SEED,
                    KillMatrixTest.CI_TRIES, Faults.of(f)));
            assertThat(r.failure()).as(f.id()).isPresent();
            assertThat(r.failure().get().violation().invariant()).as(f.id()).isEqualTo(c[1]);
        }
    }
}
