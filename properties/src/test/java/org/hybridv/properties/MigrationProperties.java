package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.hybridv.check.MigrationProperty;
import org.hybridv.check.Verdict;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.xen.Faults;

/**
 * Stateful: vCPUs on two pCPUs — migrations, shootdown windows (flush IPIs, the TLB-flush clock), preemptible pin
 * validation and batched {@code mmu_update} continuations; I1, I2, I6 over every pCPU after every step, MIG-1/MIG-2
 * after every migration, MU-7 after every batch. The same check and coverage {@code hybridv check} runs at campaign
 * budget ({@link MigrationProperty}), so PIT's "properties alone" run measures it.
 */
class MigrationProperties {
    @Provide
    Arbitrary<MigrationProperty.Run> runs() {
        MigrationProperty p = new MigrationProperty();
        return JqwikChoices.arbitrary(p::generate);
    }

    @Property(seed = Budget.SEED, tries = Budget.MIGRATION_TRIES)
    void everyPcpuKeepsI1I2I6AcrossMigrationsAndShootdowns(@ForAll("runs") MigrationProperty.Run run) {
        MigrationProperty p = new MigrationProperty();
        Verdict v = p.check(run, Faults.NONE, Floors.statistics());
        assertThat(v).as("%s", run).isEqualTo(Verdict.HOLDS);
        Floors.enforce(p.floors());
    }
}
