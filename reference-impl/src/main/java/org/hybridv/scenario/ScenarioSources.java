package org.hybridv.scenario;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * Finds and reads scenario files. A path naming a file is taken as it is; a folder is searched recursively for
 * {@code *.json} files (hidden files and folders, whose names start with '.', are skipped), in sorted order of
 * their paths. A path that does not exist, or a folder without any {@code *.json} file, is an error.
 *
 * <p>Reading is bounded whatever the path names: links are followed, and what they lead to must be a regular file
 * (a FIFO, a device or a socket is refused from its attributes, without being opened, so that neither a FIFO that
 * never ends nor {@code /dev/zero} can hang or flood the reader), and at most {@link #MAX_FILE_SIZE} bytes are read
 * from it: the limit is checked on the bytes actually read, not on the size the file system reports.
 */
public final class ScenarioSources {
    /** Largest scenario file read (a scenario is a few kilobytes; a counterexample rarely more than a megabyte). */
    public static final long MAX_FILE_SIZE = 16L << 20;

    /** How a path's attributes are read (links followed); a seam for tests of the error mapping. */
    @FunctionalInterface
    interface Attributes {
        BasicFileAttributes of(Path path) throws IOException;
    }

    private static final Attributes FILE_SYSTEM = p -> Files.readAttributes(p, BasicFileAttributes.class);

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
        return expand(arguments, FILE_SYSTEM);
    }

    static Expansion expand(List<String> arguments, Attributes attributes) {
        List<Path> files = new ArrayList<>();
        List<ScenarioError> errors = new ArrayList<>();
        for (String argument : arguments) {
            Path path = Path.of(argument);
            BasicFileAttributes a;
            try {
                a = attributes.of(path);
            } catch (NoSuchFileException e) {
                if (Files.isSymbolicLink(path)) {
                    files.add(path); // a dangling link: reading it says so
                } else {
                    errors.add(ScenarioError.ofFile(argument, "no such file or folder", null));
                }
                continue;
            } catch (IOException e) {
                errors.add(ScenarioError.ofFile(argument, "cannot access: " + describe(e), e));
                continue;
            }
            if (a.isDirectory()) {
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
                found.sort((x, y) -> path.relativize(x).toString().compareTo(path.relativize(y).toString()));
                files.addAll(found);
            } else {
                files.add(path);
            }
        }
        return new Expansion(files, errors);
    }

    /** The bytes of {@code file}, or throws {@link ScenarioInputException} saying why it cannot be read. */
    public static byte[] read(Path file) {
        return read(file, FILE_SYSTEM, MAX_FILE_SIZE);
    }

    static byte[] read(Path file, Attributes attributes, long limit) {
        try {
            BasicFileAttributes a = attributes.of(file);
            if (a.isDirectory()) {
                throw new ScenarioInputException("is a folder, not a scenario file", null);
            }
            if (!a.isRegularFile()) {
                throw new ScenarioInputException("is not a regular file (a FIFO, device or socket); scenario files"
                        + " are regular files", null);
            }
            try (InputStream in = Files.newInputStream(file)) {
                return bounded(in, limit);
            }
        } catch (IOException e) {
            throw new ScenarioInputException("cannot read the file: " + describe(e), null, 0, e);
        }
    }

    /** At most {@code limit} bytes of {@code in}; reading one byte more is an error (whatever size was reported). */
    static byte[] bounded(InputStream in, long limit) throws IOException {
        byte[] buffer = new byte[(int) Math.min(limit + 1, 64 * 1024)];
        int n = 0;
        while (true) {
            if (n == buffer.length) {
                if (n > limit) {
                    throw new ScenarioInputException("the file is larger than " + limit + " bytes, the limit for a"
                            + " scenario file", null);
                }
                buffer = Arrays.copyOf(buffer, (int) Math.min(limit + 1, 2L * buffer.length));
            }
            int r = in.read(buffer, n, buffer.length - n);
            if (r < 0) {
                break;
            }
            n += r;
        }
        if (n > limit) {
            throw new ScenarioInputException("the file is larger than " + limit + " bytes, the limit for a"
                    + " scenario file", null);
        }
        return n == buffer.length ? buffer : Arrays.copyOf(buffer, n);
    }

    private static boolean hidden(Path relative) {
        for (Path part : relative) {
            if (part.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    /** Why an I/O operation failed, in a few words. */
    static String describe(Exception e) {
        Throwable t = e instanceof UncheckedIOException u ? u.getCause() : e;
        if (t instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (t instanceof NoSuchFileException) {
            return "no such file (a dangling link?)";
        }
        if (t instanceof FileSystemLoopException) {
            return "the links form a loop";
        }
        if (t instanceof NotDirectoryException) {
            return "not a folder";
        }
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m;
    }
}
