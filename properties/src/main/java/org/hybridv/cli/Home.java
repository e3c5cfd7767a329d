package org.hybridv.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where default paths resolve. An explicit path on the command line resolves against the current directory, as
 * every Unix tool does; a default path ({@code counterexamples/}, {@code spec/models}, {@code target/hybridv-report}
 * …) resolves against the checkout hybridv runs from, so that {@code cd docs && ../hybridv check} reads and writes
 * the same files as {@code ./hybridv check}.
 *
 * <p>The checkout is, in order: the system property {@code hybridv.home} (set by the {@code hybridv} launcher to the
 * folder it lives in); else the nearest folder at or above the location of hybridv's own classes that holds both
 * {@code pom.xml} and {@code counterexamples/} (a build inside a checkout); else none — a jar copied elsewhere —
 * and a default then has nothing to resolve against: the command says so (exit 2) rather than guessing.
 */
public final class Home {
    private Home() {}

    /** The checkout hybridv runs from, if any. */
    public static Optional<Path> checkout() {
        String prop = System.getProperty("hybridv.home");
        if (prop != null && !prop.isBlank()) {
            return Optional.of(Path.of(prop).toAbsolutePath().normalize());
        }
        try {
            Path code = Path.of(Home.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .toAbsolutePath().normalize();
            for (Path p = code; p != null; p = p.getParent()) {
                if (Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("counterexamples"))) {
                    return Optional.of(p);
                }
            }
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /**
     * {@code explicit} if given (as typed: relative to the current directory); else {@code relativeDefault} inside
     * the checkout; empty when there is no explicit path and no checkout.
     */
    public static Optional<Path> resolve(Path explicit, String relativeDefault) {
        if (explicit != null) {
            return Optional.of(explicit);
        }
        return checkout().map(h -> h.resolve(relativeDefault));
    }
}
