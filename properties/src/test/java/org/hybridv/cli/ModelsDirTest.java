package org.hybridv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which models {@code spec} and {@code check} run: --models as typed, else the checkout's spec/models, else (no
 * checkout) the models bundled in the jar; a checkout without spec/models is an error, never a silent substitute.
 */
class ModelsDirTest {
    @TempDir
    Path dir;

    @Test
    void aCheckoutsSpecModelsAreTheDefault() throws IOException {
        Files.createDirectories(dir.resolve("spec/models"));
        ModelsDir.Resolution r = ModelsDir.resolve(null, Optional.of(dir));
        assertThat(r).isEqualTo(new ModelsDir.Resolution.Found(new ModelsDir(dir.resolve("spec/models"),
                ModelsDir.Origin.REPOSITORY, "spec/models", "spec/models")));
        assertThat(((ModelsDir.Resolution.Found) r).models().describe()).isEqualTo("models: repository spec/models");
    }

    @Test
    void aCheckoutWithoutSpecModelsIsAnErrorNotTheBundledCopy() {
        ModelsDir.Resolution r = ModelsDir.resolve(null, Optional.of(dir));
        assertThat(r).isInstanceOf(ModelsDir.Resolution.Missing.class);
        assertThat(((ModelsDir.Resolution.Missing) r).problem())
                .isEqualTo("the checkout " + dir + " has no spec/models directory (give --models DIR)");
    }

    @Test
    void withoutACheckoutTheBundledModelsRunAndSaySo() {
        ModelsDir.Resolution r = ModelsDir.resolve(null, Optional.empty());
        assertThat(r).isInstanceOf(ModelsDir.Resolution.Found.class);
        ModelsDir m = ((ModelsDir.Resolution.Found) r).models();
        assertThat(m.origin()).isEqualTo(ModelsDir.Origin.BUNDLED);
        assertThat(m.describe()).isEqualTo("models: bundled in hybridv.jar");
        assertThat(m.dir().resolve("util/vocab.als")).isRegularFile();
        assertThat(m.sourceRoot()).isEqualTo("spec/models");
    }

    @Test
    void anExplicitDirectoryWinsAndIsNamedInsideTheCheckoutOnly() throws IOException {
        Path inside = Files.createDirectories(dir.resolve("home/more/models"));
        Path outside = Files.createDirectories(dir.resolve("elsewhere"));
        ModelsDir in = ((ModelsDir.Resolution.Found) ModelsDir.resolve(inside, Optional.of(dir.resolve("home"))))
                .models();
        assertThat(in.origin()).isEqualTo(ModelsDir.Origin.GIVEN);
        assertThat(in.sourceRoot()).isEqualTo("more/models");
        assertThat(in.describe()).isEqualTo("models: " + inside);
        ModelsDir out = ((ModelsDir.Resolution.Found) ModelsDir.resolve(outside, Optional.of(dir.resolve("home"))))
                .models();
        assertThat(out.sourceRoot()).as("never a path of this machine in a saved instance").isEmpty();
        assertThat(ModelsDir.resolve(dir.resolve("none"), Optional.of(dir)))
                .isEqualTo(new ModelsDir.Resolution.Missing("--models " + dir.resolve("none") + ": not a directory"));
    }
}
