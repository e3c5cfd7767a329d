package org.hybridv.spec;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What to run: the models below {@code modelsDir}, optionally only one ({@code model}, by name or by the last part of
 * its name), with one solver for all ({@code solver}, overriding each model's recorded choice), and with every
 * command's overall scope and non-exact signature scopes raised to at least {@code scope}.
 *
 * @param sourceRoot how a saved instance names the models directory in its {@code filename} attributes, e.g.
 *                   {@code spec/models} (a path inside the repository, never one of this machine); empty: the file
 *                   names are relative to the models directory
 */
public record SpecOptions(Path modelsDir, Optional<String> model, Optional<String> solver, OptionalInt scope,
        String sourceRoot) {
    /** The repository's name for its models directory, which saved instances use. */
    public static final String REPOSITORY_MODELS = "spec/models";

    public SpecOptions {
        sourceRoot = sourceRoot.replace('\\', '/');
        while (sourceRoot.endsWith("/")) {
            sourceRoot = sourceRoot.substring(0, sourceRoot.length() - 1);
        }
    }

    /** Selected models, solver and scope; saved instances name files relative to the models directory. */
    public SpecOptions(Path modelsDir, Optional<String> model, Optional<String> solver, OptionalInt scope) {
        this(modelsDir, model, solver, scope, "");
    }

    /** Every model below {@code modelsDir}, each with its recorded solver and scopes. */
    public static SpecOptions all(Path modelsDir) {
        return new SpecOptions(modelsDir, Optional.empty(), Optional.empty(), OptionalInt.empty());
    }

    /** These options with saved instances naming the models directory {@code root} (e.g. {@code spec/models}). */
    public SpecOptions withSourceRoot(String root) {
        return new SpecOptions(modelsDir, model, solver, scope, root);
    }

    /** Whether {@code m} is selected. */
    public boolean selects(ModelFile m) {
        return model.map(n -> m.name().equals(n) || m.name().endsWith("/" + n)).orElse(true);
    }

    /** Whether {@code m} is run: selected and not a library, or unreadable (any model may open it). */
    public boolean runs(ModelFile m) {
        return m.unreadable().isPresent() || (!m.library() && selects(m));
    }
}
