package org.hybridv.explore;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.hybridv.cli.Cli;
import org.hybridv.cli.RepoRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * hybridv explore --checkpoint / --resume: a search stopped early by a depth bound and resumed with the full bound
 * ends exactly as one uninterrupted run — every field of the report but the times (the search order makes the
 * counts, the coverage, the verdict and the trace a function of the configuration alone), and the counterexample
 * byte for byte; a checkpoint of another search is refused in one line with exit 2.
 */
class CheckpointTest {
    private static final String DIRECT = RepoRoot.find().resolve("spec/configs/direct-paging.json").toString();
    private static final String HYBRID = RepoRoot.find().resolve("spec/configs/hybrid-switch.json").toString();

    private static JsonNode report(Path dir) throws IOException {
        ObjectNode j = (ObjectNode) new ObjectMapper().readTree(dir.resolve("report.json").toFile());
        j.remove(List.of("seconds", "statesPerSecond"));
        return j;
    }

    private static List<byte[]> counterexamples(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().map(p -> {
                try {
                    return Files.readAllBytes(p);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).toList();
        }
    }

    /**
     * With the partial-order reduction pruning (smp-disjoint, two pCPUs), the checkpoint carries the frontier's sleep
     * sets and the count slept: stopped at depth 5 and resumed, the search ends as the uninterrupted one, slept
     * transitions included; resumed without the reduction, the checkpoint is another search's.
     */
    @Test
    void aResumedSearchKeepsItsSleepSets(@TempDir Path t) throws IOException {
        String config = RepoRoot.find().resolve("spec/configs/smp-disjoint.json").toString();
        Cli.Result full = Cli.run("explore", config, "--workers", "1", "--report", t.resolve("full").toString());
        Cli.Result part = Cli.run("explore", config, "--workers", "1", "--depth", "5", "--checkpoint",
                t.resolve("ckpt").toString());
        assertThat(part.exit()).as(part.all()).isEqualTo(3);
        Cli.Result resumed = Cli.run("explore", config, "--workers", "2", "--resume", t.resolve("ckpt").toString(),
                "--report", t.resolve("resumed").toString());
        assertThat(full.exit()).as(full.all()).isZero();
        assertThat(resumed.exit()).as(resumed.all()).isZero();
        ObjectNode a = (ObjectNode) report(t.resolve("full"));
        ObjectNode b = (ObjectNode) report(t.resolve("resumed"));
        a.remove("workers");
        b.remove("workers");
        assertThat(b).isEqualTo(a);
        assertThat(a.get("partialOrder").asBoolean()).isTrue();
        assertThat(a.get("slept").asLong()).isPositive();
        Cli.Result other = Cli.run("explore", config, "--no-por", "--resume", t.resolve("ckpt").toString());
        assertThat(other.exit()).isEqualTo(2);
        assertThat(other.err()).contains("\"partial-order true\"", "\"partial-order false\"");
    }

    /**
     * type-change-no-flush is found at depth 4 in direct-paging (ExploreTest): stopped at depth 2, the run has not
     * found it (exit 3); resumed to the configuration's bound it finds the same violation by the same trace.
     * hybrid-switch without faults is exhausted at depth 3: stopped at depth 2, resumed, it is exhausted with the
     * same counts.
     */
    @Test
    void aResumedSearchEndsExactlyAsAnUninterruptedOne(@TempDir Path tmp) throws IOException {
        for (String fault : new String[] {null, "type-change-no-flush"}) {
            String config = fault == null ? HYBRID : DIRECT;
            Path t = tmp.resolve(fault == null ? "clean" : fault);
            String[] f = fault == null ? new String[0] : new String[] {"--fault", fault};
            Cli.Result full = Cli.run(cat(new String[] {"explore", config, "--workers", "1", "--report",
                t.resolve("full").toString(), "--out", t.resolve("full-cx").toString()}, f));
            Cli.Result part = Cli.run(cat(new String[] {"explore", config, "--workers", "1", "--depth", "2",
                "--checkpoint", t.resolve("ckpt").toString(), "--out", t.resolve("part-cx").toString()}, f));
            assertThat(part.exit()).as(part.all()).isEqualTo(3);
            assertThat(t.resolve("ckpt").resolve(ExploreCheckpoint.FILE)).exists();
            // resumed with another worker count: the search does not depend on it
            Cli.Result resumed = Cli.run(cat(new String[] {"explore", config, "--workers", "2", "--resume",
                t.resolve("ckpt").toString(), "--report", t.resolve("resumed").toString(), "--out",
                t.resolve("resumed-cx").toString()}, f));
            assertThat(full.exit()).as(full.all()).isEqualTo(fault == null ? 0 : 1);
            assertThat(resumed.exit()).as(resumed.all()).isEqualTo(full.exit());
            assertThat(resumed.err()).contains("resuming at depth 2");
            ObjectNode a = (ObjectNode) report(t.resolve("full"));
            ObjectNode b = (ObjectNode) report(t.resolve("resumed"));
            a.remove("workers");
            b.remove("workers");
            assertThat(b).isEqualTo(a);
            assertThat(a.get("distinctStates").asLong()).isGreaterThan(1);
            assertThat(counterexamples(t.resolve("part-cx"))).isEmpty();
            List<byte[]> cx = counterexamples(t.resolve("full-cx"));
            assertThat(cx).hasSize(fault == null ? 0 : 1);
            assertThat(counterexamples(t.resolve("resumed-cx"))).containsExactlyElementsOf(cx);
        }
    }

    @Test
    void aCheckpointOfAnotherSearchIsRefusedInOneLine(@TempDir Path tmp) {
        Path ckpt = tmp.resolve("ckpt");
        assertThat(Cli.run("explore", HYBRID, "--workers", "1", "--depth", "1", "--checkpoint", ckpt.toString())
                .exit()).isEqualTo(3);
        Cli.Result other = Cli.run("explore", DIRECT, "--workers", "1", "--resume", ckpt.toString());
        assertThat(other.exit()).as(other.all()).isEqualTo(2);
        assertThat(other.err().strip().lines()).hasSize(1);
        assertThat(other.err()).contains("another search's").contains("config direct-paging");
        Cli.Result fault = Cli.run("explore", HYBRID, "--workers", "1", "--fault", "switch-mmu-from-user", "--resume",
                ckpt.toString());
        assertThat(fault.exit()).as(fault.all()).isEqualTo(2);
        assertThat(fault.err()).contains("faults switch-mmu-from-user");
        Cli.Result shallower = Cli.run("explore", HYBRID, "--workers", "1", "--depth", "0", "--resume",
                ckpt.toString());
        assertThat(shallower.exit()).as(shallower.all()).isEqualTo(2);
        assertThat(shallower.err()).contains("beyond the depth bound 0");
        Cli.Result none = Cli.run("explore", DIRECT, "--resume", tmp.resolve("nothing").toString());
        assertThat(none.exit()).as(none.all()).isEqualTo(2);
        assertThat(none.err()).contains("no checkpoint to resume");
    }

    /** A checkpoint of an older format (another fingerprint encoding) is refused in one line that says so. */
    @Test
    void aCheckpointOfAnotherFormatIsRefusedInOneLine(@TempDir Path tmp) throws IOException {
        Path ckpt = tmp.resolve("ckpt");
        assertThat(Cli.run("explore", HYBRID, "--workers", "1", "--depth", "1", "--checkpoint", ckpt.toString())
                .exit()).isEqualTo(3);
        Path file = ckpt.resolve(ExploreCheckpoint.FILE);
        byte[] data = java.nio.file.Files.readAllBytes(file);
        // the format's name is the file's first string (2-byte length, then its bytes): its last character the format
        String magic = new String(data, 2, ((data[0] & 0xFF) << 8) | (data[1] & 0xFF),
                java.nio.charset.StandardCharsets.UTF_8);
        assertThat(magic).startsWith("hybridv-explore-checkpoint/");
        data[1 + magic.length()] = (byte) '2';
        java.nio.file.Files.write(file, data);
        Cli.Result old = Cli.run("explore", HYBRID, "--workers", "1", "--resume", ckpt.toString());
        assertThat(old.exit()).as(old.all()).isEqualTo(2);
        assertThat(old.err().strip().lines()).hasSize(1);
        assertThat(old.err()).contains("written by another version of hybridv (format 2").contains("start the search"
                + " again");
    }

    private static String[] cat(String[] a, String[] b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
