package org.hybridv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hybridv spec}: the report table, exit codes 0/1/2, {@code --save} never overwriting a different file, and a
 * model syntax error as {@code file:line:column: message}. Uses the small pf_filter model and throw-away models so
 * that the whole suite stays fast (SpecModelsTest in the spec module runs every command).
 */
class SpecCommandTest {
    @TempDir
    Path dir;

    private Path models() {
        return RepoRoot.find().resolve("spec/models");
    }

    private Path model(String name, String text) throws IOException {
        Path p = dir.resolve("models").resolve(name + ".als");
        Files.createDirectories(p.getParent());
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    @Test
    void printsTheTableAndExitsZeroWhenEveryCommandMeetsItsExpect() {
        Cli.Result r = Cli.run("spec", "--models", models().toString(), "--model", "pf_filter");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).as(r.all()).contains("model", "command", "scope", "outcome", "expect", "solver", "time")
                .contains("vmx/pf_filter  projectFiltersAreSafe").contains("no counterexample")
                .contains("11 commands in 1 models, 11 as expected, 0 not");
        BadInputTest.assertNoStackTrace(r);
    }

    @Test
    void anUnknownSolverFallsBackToSat4jAndSaysSo() {
        Cli.Result r = Cli.run("spec", "--models", models().toString(), "--model", "pf_filter", "--solver", "nosuch");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).contains("sat4j (fallback from nosuch: unknown solver)");
    }

    @Test
    void aCommandMissingItsExpectExitsOne() throws IOException {
        model("m", "sig A {}\nrun { some A } for 2 expect 0\n");
        Cli.Result r = Cli.run("spec", "--models", dir.resolve("models").toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        assertThat(r.out()).contains("instance", "✗");
    }

    @Test
    void aSyntaxErrorIsFileLineColumnAndExitsTwo() throws IOException {
        Path p = model("broken", "sig A {}\nfact { some B }\nrun {} expect 1\n");
        Cli.Result r = Cli.run("spec", "--models", dir.resolve("models").toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err().lines().toList()).as(r.all()).hasSize(1);
        assertThat(r.err()).as(r.all()).startsWith(p + ":2:13: ").contains("B");
        BadInputTest.assertNoStackTrace(r);
    }

    @Test
    void scopeRaisesEveryNonExactScope() {
        Cli.Result r = Cli.run("spec", "--models", models().toString(), "--model", "pf_filter", "--scope", "2");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).as(r.all()).contains("bugMatchWithUsIsSafeForDirect")
                .contains("2 but 2 AnyControls, 2 ErrorCode, 0 Frame, 0 Domain")
                .contains("exactly 1 AnyControls, exactly 1 ErrorCode");
        assertThat(Cli.run("spec", "--scope", "0").exit()).isEqualTo(2);
    }

    @Test
    void anUnknownModelExitsTwo() {
        Cli.Result r = Cli.run("spec", "--models", models().toString(), "--model", "nosuch");
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).contains("no model nosuch");
    }

    @Test
    void saveWritesEachCounterexampleAndRefusesToOverwriteADifferentFile() throws IOException {
        Path out = dir.resolve("alloy");
        String[] args = {"spec", "--models", models().toString(), "--model", "pf_filter", "--save", "--out",
            out.toString()};
        Cli.Result first = Cli.run(args);
        assertThat(first.exit()).as(first.all()).isZero();
        Path xml = out.resolve("vmx/pf_filter/bugMatchWithUsIsSafeForDirect.xml");
        assertThat(xml).exists();
        assertThat(Files.readString(xml)).contains("<alloy", "<instance");
        assertThat(out.resolve("vmx/pf_filter/projectFiltersAreSafe.xml")).doesNotExist();

        Cli.Result again = Cli.run(args);
        assertThat(again.exit()).as("the same instance again is no conflict: " + again.all()).isZero();

        Files.writeString(xml, "<alloy>something else</alloy>\n");
        Cli.Result refused = Cli.run(args);
        assertThat(refused.exit()).as(refused.all()).isEqualTo(2);
        assertThat(refused.err()).contains("refusing to overwrite " + xml);
        assertThat(Files.readString(xml)).isEqualTo("<alloy>something else</alloy>\n");
    }
}
