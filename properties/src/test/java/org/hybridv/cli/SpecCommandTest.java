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

    /** The commands of vmx/pf_filter.als, counted in its source: every run and check stands at a line's start. */
    private long pfFilterCommands() throws java.io.IOException {
        return java.nio.file.Files.readAllLines(models().resolve("vmx/pf_filter.als")).stream()
                .filter(l -> l.matches("\\s*(run|check)\\b.*")).count();
    }

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
    void printsTheTableAndExitsZeroWhenEveryCommandMeetsItsExpect() throws java.io.IOException {
        Cli.Result r = Cli.run("spec", "--models", models().toString(), "--model", "pf_filter");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out().lines().findFirst()).as(r.all()).hasValue("models: " + models());
        assertThat(r.out()).as(r.all()).contains("model", "command", "scope", "outcome", "expect", "solver", "time")
                .contains("vmx/pf_filter  projectFiltersAreSafe").contains("no counterexample")
                .contains(pfFilterCommands() + " commands in 1 models, " + pfFilterCommands() + " as expected, 0 not");
        BadInputTest.assertNoStackTrace(r);
    }

    @Test
    void withoutModelsTheCheckoutsSpecModelsRunAndTheOutputSaysSo() throws java.io.IOException {
        Cli.Result r = Cli.run("spec", "--model", "pf_filter");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out().lines().findFirst()).as(r.all()).hasValue("models: repository spec/models");
        assertThat(r.out()).contains(pfFilterCommands() + " commands in 1 models");
    }

    @Test
    void anUnknownSolverExitsTwoListingTheSolversAvailableHereBeforeSolvingAnything() {
        Cli.Result r = Cli.run("spec", "--models", models().toString(), "--model", "pf_filter", "--solver", "nope");
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err().lines().toList()).as(r.all()).hasSize(1);
        assertThat(r.err()).as(r.all()).startsWith("hybridv spec: --solver nope: unknown solver; available here: ")
                .contains("sat4j");
        assertThat(r.out()).as("nothing was solved: no command rows, no summary").doesNotContain("pf_filter")
                .doesNotContain("commands in");
        BadInputTest.assertNoStackTrace(r);
    }

    @Test
    void aKnownNativeSolverThatDoesNotLoadHereFallsBackToSat4jAndSaysSoOnStderr() {
        // yices.external is a JNI solver the Alloy API knows; the Alloy 6.2 jar carries no library for it.
        boolean loads = kodkod.engine.satlab.SATFactory.getAllSolvers().stream()
                .anyMatch(f -> f.id().equals("yices.external") && f.isPresent());
        Cli.Result r = Cli.run("spec", "--models", models().toString(), "--model", "pf_filter", "--solver",
                "yices.external");
        assertThat(r.exit()).as(r.all()).isZero();
        if (loads) {
            assertThat(r.err()).as(r.all()).doesNotContain("note:");
        } else {
            assertThat(r.err().lines().toList()).as(r.all()).singleElement().asString()
                    .startsWith("hybridv spec: note: yices.external does not load here (")
                    .endsWith("); sat4j runs instead");
            assertThat(r.out()).contains("sat4j (fallback from yices.external: ");
        }
    }

    @Test
    void aModelThatIsNotUtf8ExitsTwoWithFileLineAndColumn() throws IOException {
        Path p = dir.resolve("models").resolve("latin1.als");
        Files.createDirectories(p.getParent());
        Files.write(p, "sig A {}\n-- caf\u00e9\nrun {} expect 1\n".getBytes(StandardCharsets.ISO_8859_1));
        Cli.Result r = Cli.run("spec", "--models", dir.resolve("models").toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err().lines().toList()).as(r.all())
                .containsExactly(p + ":2:7: not UTF-8 text (byte 0xE9); Alloy models are read as UTF-8");
        BadInputTest.assertNoStackTrace(r);
    }

    @Test
    void aScopeTooLargeToTranslateExitsTwoSayingSo() throws IOException {
        Path p = model("wide", "sig A { r: A -> A -> A -> A }\ncheck { all a: A | a in A } for 2 expect 0\n");
        Cli.Result r = Cli.run("spec", "--models", dir.resolve("models").toString(), "--scope", "100",
                "--solver", "sat4j");
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err().lines().toList()).as(r.all()).hasSize(1);
        assertThat(r.err()).as(r.all()).startsWith(p + ":2:1: command check$1 (for 100): scope too large to translate")
                .doesNotContain("unparsable");
        assertThat(r.out()).contains("scope too large");
        BadInputTest.assertNoStackTrace(r);
    }

    @Test
    void aModelsDirectoryThatDoesNotExistExitsTwo() {
        Cli.Result r = Cli.run("spec", "--models", dir.resolve("nothing").toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err().lines().toList()).as(r.all())
                .containsExactly("hybridv spec: --models " + dir.resolve("nothing") + ": not a directory");
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
        String saved = Files.readString(xml);
        assertThat(saved).contains("<alloy", "<instance")
                .as("the model's name inside the repository, and its source with the module it opens")
                .contains("filename=\"spec/models/vmx/pf_filter.als\"")
                .contains("<source filename=\"spec/models/vmx/pf_filter.als\" content=\"")
                .contains("<source filename=\"spec/models/util/vocab.als\" content=\"")
                .as("no path of this machine").doesNotContain(RepoRoot.find().toString());
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
