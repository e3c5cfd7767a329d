package org.hybridv.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import org.hybridv.xen.Fault;
import org.hybridv.xen.Faults;
import org.junit.jupiter.api.Test;

/**
 * The migration property (docs/smp.md): the reference passes the CI budget, and the seeded fault of MIG-2 is caught
 * within it, by the migration step's post-condition (reported as I6, rule MIG-2).
 */
class MigrationPropertyTest {
    @Test
    void theReferencePassesAndTheMigrationFaultIsCaught() throws Exception {
        Campaign.Result<?> r = Campaign.run(new MigrationProperty(), Campaign.Config.of(KillMatrixTest.SEED, 100,
                Faults.NONE));
        assertThat(r.passed()).as("%s %s", r.failure().map(x -> x.violation().toString()), r.harnessError())
                .isTrue();
        Optional<KillMatrix.Caught> c = KillMatrix.caught(Fault.MIGRATION_WITHOUT_VPID_FLUSH, KillMatrixTest.SEED,
                KillMatrixTest.CI_TRIES, false, Optional.empty());
        assertThat(c).isPresent();
        assertThat(c.get().toString()).contains("MIG-2");
        assertThat(r.coverage().missed(new MigrationProperty().floors())).as("%s", r.coverage().counts()).isEmpty();
    }

    /**
     * The shootdown faults (TLB-8, TLB-9; docs/smp.md) are caught by this property itself within the CI budget: a
     * type change after both pCPUs cached a writable translation of the frame leaves one on a pCPU the faulty
     * hypervisor did not flush, and I2 reports the page table writable (rule TLB-1).
     */
    @Test
    void theShootdownFaultsAreCaughtByTheMigrationProperty() {
        for (Fault f : java.util.List.of(Fault.FLUSH_IPI_LOCAL_ONLY, Fault.TLB_CLOCK_REVERSED,
                Fault.DIRTY_MASK_NOT_UPDATED)) {
            Campaign.Result<?> r = Campaign.run(new MigrationProperty(), Campaign.Config.of(KillMatrixTest.SEED,
                    KillMatrixTest.CI_TRIES, Faults.of(f)));
            assertThat(r.failure()).as(f.id()).isPresent();
        }
    }

    /**
     * The batch windows (MU-7, MU-8): the seeded fault mmu-update-continuation-loses-entry is caught by this property
     * within the CI budget — a preempted batch's continuation skips a request, and the tables after the batch are not
     * those of its first *pdone requests applied in order (reported as I7, rule MU-7).
     */
    @Test
    void theLostContinuationEntryIsCaughtByTheBatchProperty() {
        Campaign.Result<?> r = Campaign.run(new MigrationProperty(), Campaign.Config.of(KillMatrixTest.SEED,
                KillMatrixTest.CI_TRIES, Faults.of(Fault.MMU_UPDATE_CONTINUATION_LOSES_ENTRY)));
        assertThat(r.failure()).isPresent();
        assertThat(r.failure().get().violation().toString()).contains("I7", "MU-7");
    }
}
