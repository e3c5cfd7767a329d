package org.hybridv.spec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One model of {@code spec/models}: its name (the path below the models directory without {@code .als}, e.g.
 * {@code xen/direct_paging}), its file, and the solver its header records ({@code -- solver: NAME}, chosen per model
 * by measurement, docs/spec.md). A library ({@code util/vocab}, {@code xen/entry_rules}) declares no command: it is
 * opened by the others and not run itself (Alloy would give it a default {@code run}).
 */
public record ModelFile(String name, Path path, Optional<String> solver, boolean library) {
    private static final Pattern SOLVER = Pattern.compile("(?m)^--\\s*solver:\\s*(\\S+)\\s*$");
    /** A command at the start of a line: {@code run …}, {@code check …}, or {@code label: run …}. */
    private static final Pattern COMMAND = Pattern.compile("(?m)^\\s*(\\w+\\s*:\\s*)?(run|check)\\b");

    /** The model at {@code path}, named relative to {@code root}. */
    public static ModelFile of(Path root, Path path) {
        String rel = root.relativize(path).toString().replace('\\', '/');
        String name = rel.endsWith(".als") ? rel.substring(0, rel.length() - 4) : rel;
        String text = read(path);
        return new ModelFile(name, path, solverOf(text), !COMMAND.matcher(text).find());
    }

    static Optional<String> solverOf(String text) {
        Matcher m = SOLVER.matcher(text);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
