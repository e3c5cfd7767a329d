package org.hybridv.bench.jmh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.hybridv.scenario.ParseResult;
import org.hybridv.scenario.Replay;
import org.hybridv.scenario.Replayer;
import org.hybridv.scenario.Scenario;
import org.hybridv.scenario.ScenarioParser;
import org.hybridv.scenario.Verdict;
import org.hybridv.scenario.modules.Modules;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The same hypervisor actions for two builds: the scenarios named one per line in the file given by the system
 * property {@code hybridv.replay.list} (absolute paths; for a comparison of two commits, the files both commits hold
 * byte for byte, so both replay exactly the same steps with the same expectations and invariant checks). The set-up
 * parses them and refuses any that does not pass; each invocation replays all of them, so the score is corpus
 * replays per second, comparable between builds only for the same list. Without the property: every scenario under
 * {@code counterexamples/regressions/xen/} of the working directory (the repository's root).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(1)
public class ReplayBenchmarks {
    private final List<String> sources = new ArrayList<>();
    private final List<Scenario> scenarios = new ArrayList<>();
    private Replayer replayer;

    @Setup
    public void prepare() throws IOException {
        ScenarioParser parser = new ScenarioParser(Modules.standard());
        replayer = new Replayer(Modules.standard());
        for (String line : files()) {
            if (line.isBlank()) {
                continue;
            }
            ParseResult p = parser.parse(line, Files.readAllBytes(Path.of(line)));
            if (!(p instanceof ParseResult.Parsed parsed)) {
                throw new IllegalStateException(line + " does not parse");
            }
            Replay r = replayer.replay(line, parsed.scenario());
            if (r.verdict() != Verdict.PASSED) {
                throw new IllegalStateException(line + " does not pass");
            }
            sources.add(line);
            scenarios.add(parsed.scenario());
        }
    }

    private static List<String> files() throws IOException {
        String list = System.getProperty("hybridv.replay.list");
        if (list != null) {
            return Files.readAllLines(Path.of(list), StandardCharsets.UTF_8);
        }
        Path dir = Path.of("counterexamples", "regressions", "xen");
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("run from the repository's root, or set -Dhybridv.replay.list=FILE"
                    + " (one scenario path per line)");
        }
        try (var s = Files.list(dir)) {
            return s.map(Path::toString).filter(f -> f.endsWith(".json")).sorted().toList();
        }
    }

    /** Replays every scenario of the list once (steps, expectations and the invariants the scenarios ask for). */
    @Benchmark
    public int replayCorpus() {
        int steps = 0;
        for (int i = 0; i < scenarios.size(); i++) {
            steps += replayer.replay(sources.get(i), scenarios.get(i)).steps().size();
        }
        return steps;
    }
}
