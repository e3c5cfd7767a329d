package org.hybridv.spec.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import org.hybridv.xen.Fault;
import org.hybridv.xen.Faults;
import org.junit.jupiter.api.Test;

/**
 * MMUEXT_PIN_Ln_TABLE of xen/direct_paging against DirectPaging.pin (docs/spec.md, "Conformance"), and the check's
 * teeth: with the TLB-1 flush skipped in the reference (seeded fault {@code type-change-no-flush}), the pins that
 * change a frame's type — the model flushes every TLB (TLB-1) — are reported; mmu_update likewise, with the MU-5
 * flush after an L2..L4 update skipped (seeded fault {@code pt-update-no-flush}), and with L1-2's owner check skipped
 * ({@code foreign-frame-in-l1}) the L1 updates the model refuses are accepted.
 */
class DirectPagingConformanceTest {
    @Test
    void pinAgreesWithDirectPaging() {
        Conformance c = DirectPagingConformance.check();
        ConformanceReport.print(c);
        assertThat(c.instances()).isEqualTo(3 * DirectPagingConformance.LIMIT);
        ConformanceReport.assertAgrees(c);
    }

    @Test
    void aReferenceThatSkipsTheTypeChangeFlushDisagrees() {
        Conformance c = DirectPagingConformance.check(Faults.of(Fault.TYPE_CHANGE_NO_FLUSH), 20);
        assertThat(c.disagreements()).isNotEmpty();
        assertThat(c.disagreements()).allSatisfy(d -> {
            assertThat(d.what()).contains("TLB-1 flush");
            assertThat(d.alloy()).isEqualTo("flush");
            assertThat(d.java()).isEqualTo("no flush");
        });
    }

    @Test
    void mmuUpdateAgreesWithDirectPaging() {
        Conformance c = DirectPagingConformance.checkMmuUpdate();
        ConformanceReport.print(c);
        assertThat(c.instances()).isGreaterThan(100);
        ConformanceReport.assertAgrees(c);
    }

    @Test
    void aReferenceThatSkipsTheL2ToL4UpdateFlushDisagrees() {
        Conformance c = DirectPagingConformance.checkMmuUpdate(Faults.of(Fault.PT_UPDATE_NO_FLUSH), 50);
        assertThat(c.disagreements()).isNotEmpty();
        assertThat(c.disagreements()).allSatisfy(d -> {
            assertThat(d.what()).contains("MU-5 flush");
            assertThat(d.alloy()).isEqualTo("flush");
            assertThat(d.java()).isEqualTo("no flush");
        });
    }

    @Test
    void aReferenceThatAcceptsForeignFramesInL1sDisagrees() {
        Conformance c = DirectPagingConformance.checkMmuUpdate(Faults.of(Fault.FOREIGN_FRAME_IN_L1), 50);
        assertThat(c.disagreements()).isNotEmpty();
        assertThat(c.disagreements()).allSatisfy(d -> {
            assertThat(d.what()).startsWith("mmu_update of L1");
            assertThat(d.alloy()).isEqualTo("refused");
        });
    }

    @Test
    void aSuperpageEntryIsReplayedAndRefusedOnBothSides() {
        Conformance c = DirectPagingConformance.checkMmuUpdate(Faults.NONE, DirectPagingConformance.SMALL_LIMIT,
                java.util.List.of(DirectPagingConformance.SUPERPAGE_RUN));
        ConformanceReport.print(c);
        assertThat(c.instances()).isPositive();
        ConformanceReport.assertAgrees(c);
        // the same instances against a reference that skips SP-1: the superpage updates the model refuses are
        // accepted, so the run did replay a superpage entry into an L2 or L3 table
        Conformance broken = DirectPagingConformance.checkMmuUpdate(Faults.of(Fault.SUPERPAGE_ACCEPTED),
                DirectPagingConformance.SMALL_LIMIT, java.util.List.of(DirectPagingConformance.SUPERPAGE_RUN));
        assertThat(broken.disagreements()).isNotEmpty().anySatisfy(d -> {
            assertThat(d.what()).matches("mmu_update of L[23] .*");
            assertThat(d.alloy()).isEqualTo("refused");
            assertThat(d.java()).startsWith("Success");
        });
    }

    @Test
    void unpinAgreesWithDirectPaging() {
        Conformance c = DirectPagingConformance.checkUnpin(Faults.NONE, DirectPagingConformance.SMALL_LIMIT);
        ConformanceReport.print(c);
        assertThat(c.instances()).isPositive();
        ConformanceReport.assertAgrees(c);
    }

    @Test
    void aReferenceWhoseUnpinLeaksTheTypeReferenceDisagrees() {
        Conformance c = DirectPagingConformance.checkUnpin(Faults.of(Fault.UNPIN_LEAKS_TYPE_REF), 10);
        assertThat(c.disagreements()).isNotEmpty().allSatisfy(d -> assertThat(d.what()).endsWith("next state"));
    }

    @Test
    void newBaseptrAgreesWithDirectPaging() {
        Conformance c = DirectPagingConformance.checkNewBaseptr(Faults.NONE, DirectPagingConformance.SMALL_LIMIT);
        ConformanceReport.print(c);
        assertThat(c.instances()).isPositive();
        ConformanceReport.assertAgrees(c);
        // the named exclusion was met (an unvalidated frame the Java promotes), not silently skipped
        assertThat(c.check()).containsPattern(java.util.regex.Pattern.quote(DirectPagingConformance.BASE_PROMOTES) + ": [1-9]");
    }
}
