package org.hybridv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.hybridv.scenario.JsonDocument;
import org.hybridv.scenario.ScenarioSources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Any file the size limit admits replays or is rejected within a 512 MiB heap: the command line runs in a child JVM
 * started with {@code -Xmx512m} on files at the size limit — one with more steps than the step limit, one with more
 * JSON values than the value limit, and one with exactly the step limit, padded to the size limit, which replays.
 */
class MemoryBoundTest {
    private static final String HEADER = "{\"format\": \"hybridv-scenario/1\", \"title\": \"t\",\n"
            + " \"machine\": {\"memoryFrames\": 16, \"maxPhysAddr\": 39},\n \"steps\": [\n";
    /** A little below the size limit: what the files are filled to. */
    private static final long NEAR_LIMIT = ScenarioSources.MAX_FILE_SIZE - 4096;

    @TempDir
    Path dir;

    /** HEADER, then {@code count} copies of {@code step} (each followed by {@code pad} spaces), then the end. */
    private Path write(String name, String step, int count, int pad) throws IOException {
        Path p = dir.resolve(name);
        byte[] one = (step + " ".repeat(pad)).getBytes(StandardCharsets.UTF_8);
        try (OutputStream out = Files.newOutputStream(p)) {
            out.write(HEADER.getBytes(StandardCharsets.UTF_8));
            for (int i = 0; i < count; i++) {
                if (i > 0) {
                    out.write(",\n".getBytes(StandardCharsets.UTF_8));
                }
                out.write(one);
            }
            out.write("\n]}\n".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(Files.size(p)).isLessThanOrEqualTo(ScenarioSources.MAX_FILE_SIZE);
        return p;
    }

    @Test
    void filesAtTheSizeLimitReplayOrAreRejectedWithinA512MiBHeap() throws Exception {
        String cpu = "{\"op\":\"cpu\"}";
        Path manySteps = write("many-steps.json", cpu, (int) (NEAR_LIMIT / (cpu.length() + 2)), 0);
        // one step holding an array of zeros: the whole file is values
        Path manyValues = dir.resolve("many-values.json");
        Files.writeString(manyValues, HEADER + "{\"op\": \"invlpg\", \"linear\": 0, \"x\": ["
                + "0,".repeat((int) (NEAR_LIMIT / 2)) + "0]}\n]}\n", StandardCharsets.UTF_8);
        String invlpg = "{\"op\": \"invlpg\", \"linear\": \"0x1000\"}";
        int steps = JsonDocument.MAX_STEPS;
        Path longest = write("longest.json", invlpg, steps, (int) (NEAR_LIMIT / steps) - invlpg.length() - 2);
        assertThat(Files.size(longest)).isGreaterThan(ScenarioSources.MAX_FILE_SIZE - (1 << 20));

        ChildJvm.Started p = ChildJvm.start(dir, dir.resolve("logs"), List.of("-Xmx512m"), "replay", "--quiet",
                manySteps.toString(), manyValues.toString(), longest.toString());
        int exit = p.await(300);
        assertThat(exit).as("the replay ended").isNotEqualTo(-1);
        String stdout = p.stdout();
        String stderr = p.stderr();
        String all = "exit " + exit + "\n" + stdout + stderr;
        assertThat(stderr).as(all).doesNotContain("OutOfMemoryError", "\tat ");
        assertThat(exit).as(all).isEqualTo(2);
        assertThat(stderr.lines().toList()).as(all).containsExactly(
                manySteps + ":" + (4 + steps) + ":1: error: more than " + steps + " steps; a scenario has at most "
                        + steps + " (split a longer run into several files)",
                // 11 values come before the zeros (root, format, title, machine and its 2 fields, steps, the step, op,
                // linear, x); the first zero is in column 37 and each takes 2: the one over the limit is zero
                // number MAX_VALUES - 10, at column 37 + 2 * (MAX_VALUES - 11)
                manyValues + ":4:" + (37 + 2 * (JsonDocument.MAX_VALUES - 11)) + ": error: step 1: the file holds"
                        + " more than " + JsonDocument.MAX_VALUES + " JSON values, the limit for a scenario file");
        assertThat(stdout.lines().toList()).as(all).containsExactly(
                "PASS " + longest + " (" + steps + " steps, " + steps + " checks)", // invlpg expects "ok" by default
                "3 scenarios: 1 passed, 0 failed, 2 unusable");
    }
}
