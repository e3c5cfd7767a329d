package org.hybridv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The help of hybridv and of every command: printed with exit 0, every line within 80 columns (a terminal's width),
 * and no reference to the project's issue tracker or to promises — help describes the tool, not its history; every
 * scenario file an example names exists.
 */
class CommandHelpTest {
    @ParameterizedTest
    @ValueSource(strings = {"", "check", "replay", "validate", "ops", "spec", "faults", "exits", "compare", "bench",
        "explore"})
    void helpFitsIn80ColumnsAndNamesNoIssue(String command) {
        Cli.Result r = command.isEmpty() ? Cli.run("--help") : Cli.run(command, "--help");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).as(r.all()).contains("Usage: hybridv" + (command.isEmpty() ? "" : " " + command));
        assertThat(r.out()).doesNotContainPattern("(?i)\\b(follow|arriving|to come|not yet)\\b");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("[\\w./-]+\\.json").matcher(r.out());
        while (m.find()) {
            String f = m.group();
            if (!f.startsWith("my") && !f.contains("report") && !f.contains("junit")) {
                assertThat(RepoRoot.find().resolve(f)).as("example %s in the help of %s", f, command).exists();
            }
        }
        assertThat(r.out().lines()).allSatisfy(l -> assertThat(l.length()).as(l).isLessThanOrEqualTo(80));
        assertThat(r.out()).doesNotContainPattern("(?i)\\bissue \\d");
    }
}
