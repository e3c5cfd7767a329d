package org.hybridv.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.hybridv.spec.ModelSources;
import org.hybridv.spec.SpecOptions;

/**
 * Which Alloy models a command checks, and where they came from. The policy, for {@code hybridv spec} and
 * {@code hybridv check} alike:
 * <ol>
 * <li>{@code --models DIR} given: that directory, as typed (relative to the current directory); not a directory is
 * an error.</li>
 * <li>else, in a checkout ({@link Home#checkout()}): the checkout's {@code spec/models}, wherever the command is run
 * from; a checkout without it is an error — never a silent substitute.</li>
 * <li>else (the jar used on its own, outside any checkout): the copy of the models bundled in the jar.</li>
 * </ol>
 * The command prints {@link #describe()} ({@code models: repository spec/models}, {@code models: bundled in
 * hybridv.jar}, {@code models: DIR}) so the output always says which it checked.
 *
 * @param dir        the directory to run ({@link SpecOptions#modelsDir()})
 * @param origin     where it came from
 * @param sourceRoot how saved instances name it ({@link SpecOptions#sourceRoot()}): {@code spec/models} for the
 *                   repository's and the bundled models, the path inside the checkout for a given directory inside
 *                   it, "" (names relative to the directory) for one outside
 * @param shown      the directory as the output names it
 */
public record ModelsDir(Path dir, Origin origin, String sourceRoot, String shown) {
    /** Where the models came from. */
    public enum Origin {
        /** {@code --models DIR}. */
        GIVEN,
        /** The checkout's {@code spec/models}. */
        REPOSITORY,
        /** The copy inside the jar (no checkout). */
        BUNDLED
    }

    /** The models directory, or why there is none to use. */
    public sealed interface Resolution {
        record Found(ModelsDir models) implements Resolution {}

        /** One line: what is missing and what to do. */
        record Missing(String problem) implements Resolution {}
    }

    /** The line a command prints: {@code models: repository spec/models} and so on. */
    public String describe() {
        return switch (origin) {
            case REPOSITORY -> "models: repository " + SpecOptions.REPOSITORY_MODELS;
            case BUNDLED -> "models: bundled in hybridv.jar";
            case GIVEN -> "models: " + shown;
        };
    }

    /** {@code options} running these models, with saved instances naming them as {@link #sourceRoot()} says. */
    public SpecOptions apply(SpecOptions options) {
        return new SpecOptions(dir, options.model(), options.solver(), options.scope(), sourceRoot);
    }

    /** The models for {@code --models explicit} (null when not given), against the checkout hybridv runs from. */
    public static Resolution resolve(Path explicit) {
        return resolve(explicit, Home.checkout());
    }

    /** The models for {@code --models explicit} (null when not given), against {@code checkout}. */
    public static Resolution resolve(Path explicit, Optional<Path> checkout) {
        if (explicit != null) {
            if (!Files.isDirectory(explicit)) {
                return new Resolution.Missing("--models " + Printable.quote(explicit.toString())
                        + ": not a directory");
            }
            String root = "";
            if (checkout.isPresent()) {
                Path abs = explicit.toAbsolutePath().normalize();
                Path home = checkout.get().toAbsolutePath().normalize();
                if (abs.startsWith(home)) {
                    root = home.relativize(abs).toString().replace('\\', '/');
                }
            }
            return new Resolution.Found(new ModelsDir(explicit, Origin.GIVEN, root,
                    Printable.escape(explicit.toString())));
        }
        if (checkout.isPresent()) {
            Path models = checkout.get().resolve(SpecOptions.REPOSITORY_MODELS);
            if (!Files.isDirectory(models)) {
                return new Resolution.Missing("the checkout " + Printable.escape(checkout.get().toString())
                        + " has no " + SpecOptions.REPOSITORY_MODELS + " directory (give --models DIR)");
            }
            return new Resolution.Found(new ModelsDir(models, Origin.REPOSITORY, SpecOptions.REPOSITORY_MODELS,
                    SpecOptions.REPOSITORY_MODELS));
        }
        return new Resolution.Found(new ModelsDir(ModelSources.bundled(), Origin.BUNDLED,
                SpecOptions.REPOSITORY_MODELS, "hybridv.jar"));
    }
}
