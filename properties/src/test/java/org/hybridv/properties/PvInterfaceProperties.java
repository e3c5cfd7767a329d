package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.hybridv.check.PvInterfaceProperty;
import org.hybridv.check.Verdict;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.xen.Faults;

/**
 * Stateful: the para-virtual interface beyond the MMU — event channels, upcalls, timer, block/wake, grants and the
 * block back-end — on the machine of {@link org.hybridv.gen.PvInterfaceCases}; I1, I2, I6, I9–I11 and I11-blk after
 * every op. The same check and coverage {@code hybridv check} runs at campaign budget ({@link PvInterfaceProperty}),
 * so PIT's "properties alone" run measures it.
 */
class PvInterfaceProperties {
    @Provide
    Arbitrary<PvInterfaceProperty.Run> runs() {
        PvInterfaceProperty p = new PvInterfaceProperty();
        return JqwikChoices.arbitrary(p::generate);
    }

    @Property(seed = Budget.SEED, tries = Budget.PV_TRIES)
    void thePvInterfaceKeepsItsInvariantsAfterEveryOp(@ForAll("runs") PvInterfaceProperty.Run run) {
        PvInterfaceProperty p = new PvInterfaceProperty();
        Verdict v = p.check(run, Faults.NONE, Floors.statistics());
        assertThat(v).as("%s", run).isEqualTo(Verdict.HOLDS);
        Floors.enforce(p.floors());
    }
}
