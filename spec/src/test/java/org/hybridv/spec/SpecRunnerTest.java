package org.hybridv.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runner's values: errors with positions, the recorded solver and its fallback, libraries, scope raising. */
class SpecRunnerTest {
    @TempDir
    Path dir;

    private Path model(String name, String text) throws IOException {
        Path p = dir.resolve(name + ".als");
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
        return p;
    }

    @Test
    void aTypeErrorIsAValueWithFileLineAndColumn() throws IOException {
        Path p = model("bad", "sig A {}\nrun { some B } expect 1\n");
        SpecReport r = SpecRunner.run(SpecOptions.all(dir));
        assertThat(r.allMatch()).isFalse();
        assertThat(r.errors()).hasSize(1);
        ModelError e = r.errors().get(0);
        assertThat(e.file()).isEqualTo(p.toString());
        assertThat(e.line()).isEqualTo(2);
        assertThat(e.column()).isEqualTo(12);
        assertThat(e.toString()).startsWith(p + ":2:12: ");
    }

    @Test
    void theRecordedSolverRuns() throws IOException {
        model("a", "-- solver: sat4j\nsig A {}\ncheck { all a: A | a in A } for 2 expect 0\n");
        List<CommandResult> results = SpecRunner.run(SpecOptions.all(dir)).results();
        assertThat(results).hasSize(1);
        CommandResult c = results.get(0);
        assertThat(c.matches()).isTrue();
        assertThat(c.solver()).isEqualTo("sat4j");
        assertThat(c.outcomeName()).isEqualTo("no counterexample");
    }

    @Test
    void anUnknownRecordedSolverIsAnErrorAtItsLineAndNothingIsSolved() throws IOException {
        Path p = model("a", "module a\n-- solver: nosuch\nsig A {}\ncheck { all a: A | a in A } for 2 expect 0\n");
        SpecReport r = SpecRunner.run(SpecOptions.all(dir));
        assertThat(r.results()).isEmpty();
        assertThat(r.errors()).hasSize(1);
        assertThat(r.errors().get(0).toString()).startsWith(p + ":2:1: -- solver: nosuch: unknown solver; available "
                + "here: ").contains("sat4j");
    }

    @Test
    void anUnknownSolverNameIsAValueListingTheSolversThatRunHere() {
        Solvers.Lookup l = Solvers.lookup("nope");
        assertThat(l).isInstanceOf(Solvers.Lookup.Unknown.class);
        assertThat(((Solvers.Lookup.Unknown) l).available()).contains("sat4j").doesNotContain("nope")
                .isSorted();
        assertThat(Solvers.lookup("sat4j")).isEqualTo(new Solvers.Lookup.Found(Solvers.choose("sat4j")));
        SpecOptions o = new SpecOptions(dir, Optional.empty(), Optional.of("nope"), OptionalInt.empty());
        assertThatThrownBy(() -> SpecRunner.run(o)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown solver");
    }

    @Test
    void aKnownNativeSolverThatDoesNotLoadFallsBackToSat4jAndSaysSo() {
        // Yices is a native (JNI) solver the Alloy API knows; the 6.2 jar carries no library for it.
        kodkod.engine.satlab.SATFactory yices = kodkod.engine.satlab.SATFactory.getAllSolvers().stream()
                .filter(f -> f.id().equals("yices.external")).findFirst().orElseThrow();
        assertThat(yices.type()).isEqualTo("jni");
        Solvers.Lookup l = Solvers.lookup("yices.external");
        assertThat(l).isInstanceOf(Solvers.Lookup.Found.class);
        Solvers.Choice c = ((Solvers.Lookup.Found) l).choice();
        if (yices.isPresent()) {
            assertThat(c.reportName()).isEqualTo("yices.external");
            assertThat(c.fallbackNote()).isEmpty();
        } else {
            assertThat(c.reportName()).startsWith("sat4j (fallback from yices.external: ");
            assertThat(c.fallbackNote()).hasValueSatisfying(n -> assertThat(n)
                    .startsWith("yices.external does not load here (").endsWith("); sat4j runs instead"));
            assertThat(Solvers.available()).doesNotContain("yices.external");
        }
    }

    @Test
    void aFileThatIsNotUtf8IsAnErrorAtTheLineAndColumnOfItsFirstBadByte() throws IOException {
        Path p = dir.resolve("latin1.als");
        byte[] text = "sig A {}\n-- caf\u00e9\nrun {} expect 1\n".getBytes(StandardCharsets.ISO_8859_1);
        Files.write(p, text);
        model("fine", "sig B {}\nrun { some B } for 1 expect 1\n");
        SpecReport r = SpecRunner.run(new SpecOptions(dir, Optional.of("fine"), Optional.empty(),
                OptionalInt.empty()));
        assertThat(r.errors()).as("an unreadable file is reported even when another model is selected: any model may "
                + "open it").hasSize(1);
        assertThat(r.errors().get(0).toString()).isEqualTo(p + ":2:7: not UTF-8 text (byte 0xE9); Alloy models are "
                + "read as UTF-8");
        assertThat(r.results()).extracting(CommandResult::model).containsExactly("fine");
    }

    @Test
    void aScopeTooLargeToTranslateIsReportedAsSuchAtTheCommand() throws IOException {
        // A relation of arity 5 over 100 atoms has 10^10 tuples, more than Kodkod can number (2^31 - 1).
        Path p = model("wide", "sig A { r: A -> A -> A -> A }\ncheck { all a: A | a in A } for 2 expect 0\n");
        SpecOptions o = new SpecOptions(dir, Optional.empty(), Optional.of("sat4j"), OptionalInt.of(100));
        SpecReport r = SpecRunner.run(o);
        assertThat(r.results()).hasSize(1);
        CommandResult c = r.results().get(0);
        assertThat(c.outcome()).isInstanceOf(Outcome.TooLarge.class);
        assertThat(c.outcomeName()).isEqualTo("scope too large");
        assertThat(c.matches()).isFalse();
        assertThat(r.errors()).hasSize(1);
        assertThat(r.errors().get(0).toString()).startsWith(p + ":2:1: command check$1 (for 100): scope too large to "
                + "translate: ").doesNotContain("\n");
        assertThat(r.table()).contains("scope too large").contains("1 too large to translate, 0 unparsable models")
                .doesNotContain("1 unparsable");
    }

    @Test
    void aModuleWithoutCommandsIsALibraryAndIsNotRun() throws IOException {
        model("lib/words", "module lib/words\nsig Word {}\n");
        model("user", "open lib/words\nrun { some Word } for 1 expect 1\n");
        List<ModelFile> models = ModelSources.in(dir);
        assertThat(models).extracting(ModelFile::name).containsExactly("lib/words", "user");
        assertThat(models.get(0).library()).isTrue();
        SpecReport r = SpecRunner.run(SpecOptions.all(dir));
        assertThat(r.models()).hasSize(1);
        assertThat(r.allMatch()).isTrue();
    }

    @Test
    void aCounterexampleCarriesItsTextAndXml() throws IOException {
        model("c", "sig A {}\ncheck { no A } for 1 expect 1\n");
        CommandResult c = SpecRunner.run(SpecOptions.all(dir)).results().get(0);
        assertThat(c.outcome()).isInstanceOf(Outcome.Instance.class);
        Outcome.Instance i = (Outcome.Instance) c.outcome();
        assertThat(i.text()).contains("A$0");
        assertThat(i.xml()).contains("<alloy", "A$0");
    }

    @Test
    void scopeRaisesTheOverallAndNonZeroScopes() throws IOException {
        model("s", "sig A {}\nsig B {}\nrun { #A = 3 } for 1 but 0 B expect 1\n");
        SpecOptions o = new SpecOptions(dir, Optional.empty(), Optional.of("sat4j"), OptionalInt.of(3));
        CommandResult c = SpecRunner.run(o).results().get(0);
        assertThat(c.scope()).isEqualTo("3 but 0 B");
        assertThat(c.matches()).isTrue();
    }
}
