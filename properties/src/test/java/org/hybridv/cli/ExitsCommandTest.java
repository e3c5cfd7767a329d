package org.hybridv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ExitsCommandTest {
    @Test
    void printsTheTableWithEveryConfigurationAndTheSeedsClaims() {
        Cli.Result r = Cli.run("exits", "--pv-ops");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("native", "shadow", "HAP", "direct", "system calls", "set_pte");
        // The user #PF delivery row: 0 of 16 faults exit in direct mode, every one does in shadow mode.
        assertThat(r.out()).containsPattern("delivering the user #PFs\\s+0/16\\s+16/16\\s+0/16\\s+0/16");
        assertThat(Cli.run("exits").out()).isEqualTo(Cli.run("exits").out());
    }
}
