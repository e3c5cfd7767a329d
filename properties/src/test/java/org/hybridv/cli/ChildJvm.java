package org.hybridv.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The hybridv command line in a JVM of its own, as a user runs it: its own working directory, heap limit, signals
 * and exit status. The classpath is the test's own (main and test classes and every dependency).
 */
final class ChildJvm {
    private ChildJvm() {}

    /** A started hybridv process, its stdout and stderr going to files. */
    record Started(Process process, Path out, Path err) {
        String stdout() throws IOException {
            return Files.readString(out);
        }

        String stderr() throws IOException {
            return Files.readString(err);
        }

        /** Waits (at most {@code seconds}; a hang is a failure the caller sees as -1) for the exit status. */
        int await(long seconds) throws InterruptedException {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                return -1;
            }
            return process.exitValue();
        }
    }

    /**
     * Starts {@code hybridv args} in {@code cwd} with JVM options {@code jvm} (e.g. {@code -Xmx512m},
     * {@code -Dhybridv.home=…}); output captured under {@code logs}.
     */
    static Started start(Path cwd, Path logs, List<String> jvm, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvm);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Hybridv.class.getName());
        cmd.addAll(List.of(args));
        Files.createDirectories(logs);
        Path out = Files.createTempFile(logs, "out", ".txt");
        Path err = Files.createTempFile(logs, "err", ".txt");
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .start();
        return new Started(p, out, err);
    }
}
