package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.hybridv.gen.HybridCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.check.HybridKernelProperty;
import org.hybridv.check.Verdict;
import org.hybridv.xen.Faults;

/**
 * Stateful: hybrid kernels in shadow-mode and HAP domains driven through random boot / workload / switch
 * sequences in lockstep with their native twins; after EVERY operation I3 (native equivalence), I4 (#PF delivery),
 * I5 (safe SWITCH_MMU), I8 (hybrid boot) and the hypervisor's I1, I2, I6, I7 hold. SWITCH_MMU is attempted at random
 * points with random, often unsuitable roots. The run is a plain op list ({@link HybridCases}).
 */
class HybridKernelProperties {

    @Provide
    Arbitrary<HybridCases.Run> runs() {
        return JqwikChoices.arbitrary(HybridCases::generate);
    }

    @Property(seed = Budget.SEED, tries = Budget.HYBRID_TRIES)
    void theKernelKeepsI1ToI8InLockstepWithItsNativeTwin(@ForAll("runs") HybridCases.Run run) {
        // The same check and coverage hybridv check runs at campaign budget (org.hybridv.check.HybridKernelProperty).
        HybridKernelProperty p = new HybridKernelProperty();
        Verdict v = p.check(run, Faults.NONE, Floors.statistics());
        assertThat(v).as("%s on %s", run.ops(), run.mode()).isEqualTo(Verdict.HOLDS);
        Floors.enforce(p.floors());
    }
}
