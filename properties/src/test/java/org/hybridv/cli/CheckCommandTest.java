package org.hybridv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code hybridv check} and {@code hybridv faults}: the main job's exits, report and bad input. */
class CheckCommandTest {
    @Test
    void aShortCampaignPassesAndWritesTheReport(@TempDir Path dir) throws Exception {
        Cli.Result r = Cli.run("check", "--tries", "5", "--no-replay", "--no-spec", "--report", dir.toString(), "--found",
                dir.resolve("found").toString());
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("hybrid-kernel", "hypervisor", "whole-system", "passed", "exit 0");
        assertThat(Files.readString(dir.resolve("report.json"))).contains("\"exit\" : 0", "\"whole-system\"");
        assertThat(Files.readString(dir.resolve("report.md"))).startsWith("# hybridv check");
        assertThat(Files.exists(dir.resolve("found"))).as("nothing found, nothing written").isFalse();
    }

    @Test
    void theSameSeedGivesTheSameReport(@TempDir Path dir) throws Exception {
        Cli.run("check", "--tries", "3", "--no-replay", "--no-spec", "--property", "hybrid-kernel", "--report",
                dir.resolve("a").toString());
        Cli.run("check", "--tries", "3", "--no-replay", "--no-spec", "--property", "hybrid-kernel", "--report",
                dir.resolve("b").toString());
        assertThat(Files.readString(dir.resolve("a/report.json")))
                .isEqualTo(Files.readString(dir.resolve("b/report.json")));
    }

    @Test
    void badArgumentsAreUnusableInputWithoutAStackTrace() {
        Cli.Result shard = Cli.run("check", "--shard", "3/2");
        assertThat(shard.exit()).isEqualTo(2);
        assertThat(shard.err()).contains("--shard: \"3/2\" is not i/n").doesNotContain("Exception", "\tat ");
        Cli.Result property = Cli.run("check", "--property", "nope");
        assertThat(property.exit()).isEqualTo(2);
        assertThat(property.err()).contains("no property \"nope\"", "whole-system");
        Cli.Result fault = Cli.run("faults", "--fault", "nope");
        assertThat(fault.exit()).isEqualTo(2);
        assertThat(fault.err()).contains("--fault", "nope", "superpage-accepted").doesNotContain("\tat ");
    }

    @Test
    void faultsPrintsTheRowOfACaughtFault() {
        Cli.Result r = Cli.run("faults", "--tries", "50", "--fault", "switch-mmu-top-level-only");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("switch-mmu-top-level-only", "PRE-2", "1 of 1 faults caught");
    }
}
