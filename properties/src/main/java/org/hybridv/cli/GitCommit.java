package org.hybridv.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** The commit a checkout is at, for reports: {@code git rev-parse HEAD}, or "unknown" outside a git checkout. */
final class GitCommit {
    private GitCommit() {}

    static String of(Optional<Path> checkout) {
        if (checkout.isEmpty()) {
            return "unknown";
        }
        try {
            Process p = new ProcessBuilder("git", "-C", checkout.get().toString(), "rev-parse", "HEAD")
                    .redirectErrorStream(false).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readNBytes(200);
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "unknown";
            }
            String s = new String(out, StandardCharsets.US_ASCII).strip();
            return p.exitValue() == 0 && s.matches("[0-9a-f]{40}") ? s : "unknown";
        } catch (IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }
}
