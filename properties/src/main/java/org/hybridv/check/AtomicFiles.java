package org.hybridv.check;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Files written whole or not at all: the bytes go to a temporary file beside the target, which is then renamed over
 * it, so a reader (or an interrupted run) never sees half a report. The temporary file is created like any other
 * file, so the result has the permissions the user's umask gives (not the owner-only mode of
 * {@link Files#createTempFile}).
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes {@code data} to {@code target}, replacing it if it exists. */
    public static void write(Path target, byte[] data) throws IOException {
        write(target, data, true);
    }

    /**
     * Writes {@code data} to {@code target}; with {@code replace} false an existing target is kept and false is
     * returned. The parent folder must exist.
     */
    public static boolean write(Path target, byte[] data, boolean replace) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = null;
        for (int i = 0; tmp == null; i++) {
            Path candidate = dir.resolve("." + target.getFileName() + "." + Long.toHexString(ThreadLocalRandom
                    .current().nextLong() >>> 1) + ".tmp");
            try (OutputStream out = Files.newOutputStream(candidate, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE)) {
                out.write(data);
                tmp = candidate;
            } catch (FileAlreadyExistsException e) {
                if (i > 100) {
                    throw e;
                }
            }
        }
        try {
            if (!replace && Files.exists(target)) {
                return false;
            }
            try {
                if (replace) {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } else {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                }
            } catch (AtomicMoveNotSupportedException e) {
                if (replace) {
                    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
                } else {
                    Files.move(tmp, target);
                }
            }
            return true;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
