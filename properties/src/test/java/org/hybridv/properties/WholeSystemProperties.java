package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.check.Verdict;
import org.hybridv.check.WholeSystemProperty;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.WholeSystemCases;
import org.hybridv.xen.Faults;

/**
 * Stateful, issue 8: the whole system — the hybrid kernel beside none, one or two adversarial domains on one machine,
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
        Statistics.label("domains").collect((1 + run.adversaries()) + " domains, kernel in " + run.kernelMode());
        long kernelOps = run.ops().stream().filter(o -> o instanceof WholeSystemCases.Op.Kernel).count();
        Statistics.label("ops").collect(kernelOps == run.ops().size() ? "kernel only" : "interleaved");
        Verdict v = new WholeSystemProperty().check(run, Faults.NONE);
        assertThat(v).as("%s", run).isEqualTo(Verdict.HOLDS);
        Statistics.label("domains").coverage(cov -> {
            cov.checkPattern("1 domains.*").percentage(p -> p >= 10);
            cov.checkPattern("2 domains.*").percentage(p -> p >= 10);
            cov.checkPattern("3 domains.*").percentage(p -> p >= 10);
            cov.checkPattern(".*HAP").percentage(p -> p >= 5);
        });
        Statistics.label("ops").coverage(cov -> cov.check("interleaved").percentage(p -> p >= 30));
    }
}
