package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.DirectPagingCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.PageTableIntegrity;
import org.hybridv.xen.DirectPagingState;
import org.hybridv.xen.MmuResult;

/**
 * The direct-paging core under adversarial guests (the direct-paging rules of docs/rules/xen.md): after every hypercall, accepted or
 * refused, page-table integrity (I2, structural part: TYP-1, TYP-4, the entry rules) and the reference counts hold.
 */
class DirectPagingProperties {

    @Provide
    Arbitrary<DirectPagingCases.Run> runs() {
        return JqwikChoices.arbitrary(DirectPagingCases::generate);
    }

    @Property(seed = Budget.SEED, tries = Budget.SEQUENCE_TRIES)
    void everyHypercallOfAnAdversarialGuestKeepsPageTableIntegrityAndReferenceCounts(
            @ForAll("runs") DirectPagingCases.Run run) {
        DirectPagingState s = run.initial();
        assertThat(PageTableIntegrity.check(s)).as("initial state").isEqualTo(InvariantResult.HOLDS);
        int step = 0;
        for (DirectPagingCases.Op op : run.ops()) {
            step++;
            MmuResult r = DirectPagingCases.apply(s, op);
            String kind = op.getClass().getSimpleName();
            if (r instanceof MmuResult.Refused refused) {
                Statistics.label("outcome").collect(kind + " refused by " + refused.rule());
                continue;
            }
            Statistics.label("outcome").collect(kind + " accepted");
            s = ((MmuResult.Success) r).state();
            assertThat(PageTableIntegrity.check(s)).as("I2 after step %d: %s", step, op)
                    .isEqualTo(InvariantResult.HOLDS);
            assertThat(PageTableIntegrity.referenceCounts(s)).as("reference counts after step %d: %s", step, op)
                    .isEqualTo(InvariantResult.HOLDS);
        }
        Statistics.label("outcome").coverage(cov -> {
            cov.checkPattern("MmuUpdate accepted").percentage(p -> p >= 3);
            cov.checkPattern("MmuUpdate refused by .*").percentage(p -> p >= 3);
            cov.checkPattern("MmuextOp accepted").percentage(p -> p >= 1);
            cov.checkPattern("MmuextOp refused by .*").percentage(p -> p >= 1);
            cov.checkPattern("Ptwr accepted").percentage(p -> p >= 0.5);
            cov.checkPattern("UpdateVaMapping accepted").percentage(p -> p >= 0.5);
        });
    }
}
