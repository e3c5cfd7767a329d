package org.hybridv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The help of the exits, ops, faults and bench commands: printed with exit 0, every line within 80 columns (a
 * terminal's width), and no reference to the project's issue tracker — help describes the tool, not its history.
 */
class CommandHelpTest {
    @ParameterizedTest
    @ValueSource(strings = {"exits", "ops", "faults", "bench"})
    void helpFitsIn80ColumnsAndNamesNoIssue(String command) {
        Cli.Result r = Cli.run(command, "--help");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).as(r.all()).contains("Usage: hybridv " + command);
        assertThat(r.out().lines()).allSatisfy(l -> assertThat(l.length()).as(l).isLessThanOrEqualTo(80));
        assertThat(r.out()).doesNotContainPattern("(?i)\\bissue \\d");
    }
}
