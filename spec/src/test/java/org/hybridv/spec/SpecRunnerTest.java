package org.hybridv.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
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
    void theRecordedSolverRunsAndAnUnknownOneFallsBackToSat4j() throws IOException {
        model("a", "-- solver: nosuch\nsig A {}\ncheck { all a: A | a in A } for 2 expect 0\n");
        List<CommandResult> results = SpecRunner.run(SpecOptions.all(dir)).results();
        assertThat(results).hasSize(1);
        CommandResult c = results.get(0);
        assertThat(c.matches()).isTrue();
        assertThat(c.solver()).isEqualTo("sat4j (fallback from nosuch: unknown solver)");
        assertThat(c.outcomeName()).isEqualTo("no counterexample");
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
