package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.hybridv.check.HypervisorProperty;
import org.hybridv.check.Verdict;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.xen.Faults;

/**
 * Stateful: adversarial guests of a direct-mode, a HAP and a shadow-mode domain run random guest instructions and hypercalls (valid
 * and adversarial arguments: foreign, page-table, Xen and out-of-RAM frames, Xen L4 slots, superpages, self-maps,
 * non-canonical INVLPG, CPL 3 VMCALL, the hypercall MSR; for the shadow guest also fills, reflected guest #PFs,
 * page-table writes through its self-map, CR3 loads and INVLPG) through {@code Hypervisor.run}; after EVERY step I1,
 * I2, I6 hold on the post-state and I7 on the step — for all three MMU modes (I6 includes the shadow half, SH-4; I7
 * the shadow rules, I7-shadow-*). The run is a plain op list (see {@link HypervisorCases}).
 */
class HypervisorProperties {

    @Provide
    Arbitrary<HypervisorCases.Run> runs() {
        return JqwikChoices.arbitrary(HypervisorCases::generate);
    }

    @Property(seed = Budget.SEED, tries = Budget.HYPERVISOR_TRIES)
    void adversarialGuestsKeepI1I2I6I7AfterEveryStep(@ForAll("runs") HypervisorCases.Run run) {
        // The same check and coverage hybridv check runs at campaign budget (org.hybridv.check.HypervisorProperty).
        HypervisorProperty p = new HypervisorProperty();
        Verdict v = p.check(run, Faults.NONE, Floors.statistics());
        assertThat(v).as("%s", run).isEqualTo(Verdict.HOLDS);
        Floors.enforce(p.floors());
    }
}
