package org.hybridv.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The checks {@code hybridv check} makes on its paths before any work starts, each returning the problem as one
 * phrase ("no such file or directory", "is a regular file, not a folder" …) or empty when the path is usable.
 */
final class PathChecks {
    private PathChecks() {}

    /** A path to read: a folder, or a regular file. */
    static Optional<String> readable(Path p) {
        Optional<String> missing = missing(p);
        if (missing.isPresent()) {
            return missing;
        }
        if (Files.isDirectory(p)) {
            return Files.isReadable(p) && Files.isExecutable(p) ? Optional.empty() : Optional.of("permission denied");
        }
        if (!Files.isRegularFile(p)) {
            return Optional.of("is neither a folder nor a regular file");
        }
        return Files.isReadable(p) ? Optional.empty() : Optional.of("permission denied");
    }

    /** A folder to write into, which may not exist yet: then its nearest existing ancestor must be a writable folder. */
    static Optional<String> writableFolder(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS) || Files.exists(abs)) {
            if (!Files.isDirectory(abs)) {
                return Optional.of("is a file, not a folder");
            }
            return Files.isWritable(abs) ? Optional.empty() : Optional.of("is not writable");
        }
        Path a = abs.getParent();
        while (a != null && !Files.exists(a)) {
            a = a.getParent();
        }
        if (a == null) {
            return Optional.of("has no existing parent folder");
        }
        if (!Files.isDirectory(a)) {
            return Optional.of("cannot be created: " + a + " is a file, not a folder");
        }
        return Files.isWritable(a) ? Optional.empty() : Optional.of("cannot be created: " + a + " is not writable");
    }

    /** A file to write, which may not exist yet: not a folder, in a folder that exists or can be created. */
    static Optional<String> writableFile(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        if (Files.isDirectory(abs)) {
            return Optional.of("is a folder, not a file");
        }
        if (Files.exists(abs) && !Files.isWritable(abs)) {
            return Optional.of("is not writable");
        }
        return abs.getParent() == null ? Optional.of("has no parent folder")
                : writableFolder(abs.getParent()).map(m -> "its folder " + m);
    }

    /** Why {@code p} does not exist, if it does not: "no such file or directory" or "permission denied". */
    static Optional<String> missing(Path p) {
        try {
            p.toRealPath();
            return Optional.empty();
        } catch (AccessDeniedException e) {
            return Optional.of("permission denied");
        } catch (NoSuchFileException e) {
            return Optional.of("no such file or directory");
        } catch (NotDirectoryException e) {
            return Optional.of("a component of the path is not a folder");
        } catch (IOException e) {
            return Optional.of(phrase(e));
        }
    }

    /** An I/O error as the phrase a user reads: "permission denied", "no such file or directory" … */
    static String phrase(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof java.nio.file.FileAlreadyExistsException) {
            return "a file of that name exists";
        }
        if (e instanceof NotDirectoryException) {
            return "a component of the path is not a folder";
        }
        if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
            return f.getReason().toLowerCase(java.util.Locale.ROOT);
        }
        return "input/output error" + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

    /** Creates folder {@code p} (and its parents); the problem as a phrase if it cannot. */
    static Optional<String> create(Path p) {
        try {
            Files.createDirectories(p);
            return Optional.empty();
        } catch (IOException e) {
            String why = phrase(e);
            return Optional.of("cannot create the folder: " + why);
        }
    }
}
