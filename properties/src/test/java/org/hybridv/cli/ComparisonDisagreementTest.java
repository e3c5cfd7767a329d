package org.hybridv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.hybridv.compare.Comparison;
import org.hybridv.guest.KernelResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reference whose platforms disagree on a workload (a slip in the kernel, seeded by hand: the campaign finds it and
 * the report must still be written) gets a report whose comparison section says why nothing was compared, not an
 * internal error: the disagreement is a value ({@link Comparison.Disagreement}), as every outcome.
 */
class ComparisonDisagreementTest {
    private static final Comparison.Disagreement NULL_CALL = new Comparison.Disagreement("null call", "PV",
            List.of(new KernelResult.Read(1)), List.of(new KernelResult.Read(0)));

    @Test
    void theReportSaysTheComparisonWasNotComputedAndWhy(@TempDir Path dir) throws Exception {
        CheckRun run = new CheckRun(new CheckRun.Settings(1, 1, 0, 0, 1, 1, 1, true, true, null, null, null,
                "hybridv check", "./hybridv"), "test", "none", Instant.EPOCH);
        CheckReport.write(run, dir, NULL_CALL);
        String md = Files.readString(dir.resolve("report.md"));
        assertThat(md).contains("Not computed: the lmbench workload null call on PV returned [Read[0x1]], natively"
                + " [Read[0x0]]");
        assertThat(dir.resolve("report.json")).exists();
        assertThat(dir.resolve(CheckReport.COMPARISON_DIR)).doesNotExist();
    }

    @Test
    void onThisReferenceThePlatformsAgreeAndTheComparisonIsComputed() {
        assertThat(Comparison.compute(org.hybridv.compare.CostModel.load())).isInstanceOf(Comparison.Report.class);
    }
}
