package org.hybridv.scenario;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Finds and reads scenario files. A path naming a file is taken as it is; a folder is searched recursively for
 * {@code *.json} files (hidden files and folders, whose names start with '.', are skipped), in sorted order of
 * their paths. A path that does not exist, or a folder without any {@code *.json} file, is an error.
 */
public final class ScenarioSources {
    /** Largest scenario file read (a scenario is a few kilobytes; a counterexample rarely more than a megabyte). */
    public static final long MAX_FILE_SIZE = 16L << 20;

    private ScenarioSources() {}

    /**
     * The scenario files named by {@code arguments}, in order (each folder's files sorted), with an error for each
     * argument that names nothing usable.
     *
     * @param files  the files found, named as the user would write them (argument + relative path)
     * @param errors the arguments that do not exist, or folders without scenario files
     */
    public record Expansion(List<Path> files, List<ScenarioError> errors) {
        public Expansion {
            files = List.copyOf(files);
            errors = List.copyOf(errors);
        }
    }

    public static Expansion expand(List<String> arguments) {
        List<Path> files = new ArrayList<>();
        List<ScenarioError> errors = new ArrayList<>();
        for (String argument : arguments) {
            Path path = Path.of(argument);
            if (Files.isDirectory(path)) {
                List<Path> found = new ArrayList<>();
                try (Stream<Path> walk = Files.walk(path)) {
                    walk.filter(p -> !p.equals(path))
                            .filter(p -> !hidden(path.relativize(p)))
                            .filter(p -> p.getFileName().toString().endsWith(".json"))
                            .filter(p -> !Files.isDirectory(p))
                            .forEach(found::add);
                } catch (IOException | UncheckedIOException e) {
                    errors.add(ScenarioError.ofFile(argument, "cannot list the folder: " + describe(e), e));
                    continue;
                }
                if (found.isEmpty()) {
                    errors.add(ScenarioError.ofFile(argument, "the folder contains no *.json scenario files", null));
                    continue;
                }
                found.sort((a, b) -> path.relativize(a).toString().compareTo(path.relativize(b).toString()));
                files.addAll(found);
            } else if (Files.exists(path) || Files.isSymbolicLink(path)) {
                files.add(path);
            } else {
                errors.add(ScenarioError.ofFile(argument, "no such file or folder", null));
            }
        }
        return new Expansion(files, errors);
    }

    /** The bytes of {@code file}, or throws {@link ScenarioInputException} saying why it cannot be read. */
    public static byte[] read(Path file) {
        try {
            if (Files.isDirectory(file)) {
                throw new ScenarioInputException("is a folder, not a scenario file", null);
            }
            long size = Files.size(file);
            if (size > MAX_FILE_SIZE) {
                throw new ScenarioInputException("the file is " + size + " bytes; scenario files are at most "
                        + MAX_FILE_SIZE + " bytes", null);
            }
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ScenarioInputException("cannot read the file: " + describe(e), null, 0, e);
        }
    }

    private static boolean hidden(Path relative) {
        for (Path part : relative) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static String describe(Exception e) {
        Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
        if (t instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (t instanceof NoSuchFileException) {
            return "no such file (a dangling link?)";
        }
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m;
    }
}
