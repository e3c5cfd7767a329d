package org.hybridv.spec;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What to run: the models below {@code modelsDir}, optionally only one ({@code model}, by name or by the last part of
 * its name), with one solver for all ({@code solver}, overriding each model's recorded choice), and with every
 * command's overall scope and non-exact signature scopes raised to at least {@code scope}.
 */
public record SpecOptions(Path modelsDir, Optional<String> model, Optional<String> solver, OptionalInt scope) {
    public static SpecOptions all(Path modelsDir) {
        return new SpecOptions(modelsDir, Optional.empty(), Optional.empty(), OptionalInt.empty());
    }

    /** Whether {@code m} is selected. */
    public boolean selects(ModelFile m) {
        return model.map(n -> m.name().equals(n) || m.name().endsWith("/" + n)).orElse(true);
    }
}
