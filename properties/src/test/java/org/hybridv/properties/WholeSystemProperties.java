package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.hybridv.check.Verdict;
import org.hybridv.check.WholeSystemProperty;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.WholeSystemCases;
import org.hybridv.xen.Faults;

/**
 * Stateful: the whole system — the hybrid kernel beside none, one or two adversarial domains on one machine,
 * operations of every layer interleaved ({@link WholeSystemCases}); I1–I8 after every operation. The same check
 * {@code hybridv check} runs at campaign budget ({@link WholeSystemProperty}).
 */
class WholeSystemProperties {
    @Provide
    Arbitrary<WholeSystemCases.Run> runs() {
        return JqwikChoices.arbitrary(WholeSystemCases::generate);
    }

    @Property(seed = Budget.SEED, tries = Budget.WHOLE_SYSTEM_TRIES)
    void everyInvariantHoldsAfterEveryOperationOfEveryLayer(@ForAll("runs") WholeSystemCases.Run run) {
        // The same check and coverage hybridv check runs at campaign budget (org.hybridv.check.WholeSystemProperty).
        WholeSystemProperty p = new WholeSystemProperty();
        Verdict v = p.check(run, Faults.NONE, Floors.statistics());
        assertThat(v).as("%s", run).isEqualTo(Verdict.HOLDS);
        Floors.enforce(p.floors());
    }
}
