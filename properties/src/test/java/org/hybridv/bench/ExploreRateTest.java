package org.hybridv.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hybridv.cli.RepoRoot;
import org.hybridv.explore.ExploreConfig;
import org.junit.jupiter.api.Test;

/**
 * The explorer benchmarks do what they report (nothing here is timed): the throughput runs find the same states with
 * 1 and 2 workers and count them, and the visited set's bytes per state lie where its growth rule puts them.
 */
class ExploreRateTest {
    @Test
    void throughputRunsTheSameSearchWithOneAndTwoWorkers() throws Exception {
        java.nio.file.Path file = RepoRoot.find().resolve("spec/configs/direct-paging.json");
        StringWriter text = new StringWriter();
        List<ExploreRate.Run> runs = ExploreRate.throughput(new PrintWriter(text), ExploreConfig.read(file,
                "direct-paging.json"), 300, 2, 1);
        assertThat(runs).extracting(ExploreRate.Run::workers).containsExactly(1, 2);
        // direct-paging has 576 states: the state bound stops both runs at the same 300
        assertThat(runs).allSatisfy(r -> {
            assertThat(r.distinct()).isEqualTo(300);
            assertThat(r.transitions()).isPositive();
            assertThat(r.wallSeconds()).isPositive();
        });
        assertThat(runs.get(0).transitions()).isEqualTo(runs.get(1).transitions());
        assertThat(text.toString()).contains("speed-up over 1 worker").contains("machines kept: all 300 distinct");
    }

    @Test
    void theSetsBytesPerStateFollowItsGrowthRule() {
        StringWriter text = new StringWriter();
        ExploreRate.fingerprintSet(new PrintWriter(text), 200_000, 1);
        Matcher m = Pattern.compile("200,000 distinct states inserted in [0-9.]+ s; table ([0-9,]+) bytes = ([0-9.]+)"
                + " bytes per state; trace on disk 1,200,000 bytes \\(6 per state\\)").matcher(text.toString());
        assertThat(m.find()).as(text.toString()).isTrue();
        // 8-byte slots, grown by half past a load of 4/5: a load between 8/15 and 4/5, 10 to 15 bytes a state
        double perState = Double.parseDouble(m.group(2));
        assertThat(perState).isBetween(10.0, 15.0);
        long table = Long.parseLong(m.group(1).replace(",", ""));
        assertThat(table % 8).as("8-byte slots").isZero();
        assertThat(table / 200_000.0).isBetween(10.0, 15.0);
    }
}
