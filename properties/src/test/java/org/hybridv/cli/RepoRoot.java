package org.hybridv.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** The repository root: the nearest directory at or above user.dir that contains counterexamples/. */
public final class RepoRoot {
    private RepoRoot() {}

    public static Path find() {
        Path start = Path.of(System.getProperty("user.dir")).toAbsolutePath().normalize();
        for (Path p = start; p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("counterexamples")) && Files.isRegularFile(p.resolve("pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("no directory with counterexamples/ and pom.xml at or above " + start);
    }
}
