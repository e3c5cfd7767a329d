package org.hybridv.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.hybridv.check.Campaign;
import org.hybridv.check.Capture;
import org.hybridv.check.SystemProperties;
import org.hybridv.check.SystemProperty;
import org.hybridv.scenario.Replay;
import org.hybridv.scenario.ScenarioSources;
import org.hybridv.scenario.Scenarios;
import org.hybridv.scenario.Verdict;
import org.hybridv.scenario.modules.Modules;
import org.hybridv.spec.ModelSources;
import org.hybridv.spec.SpecOptions;
import org.hybridv.spec.SpecReport;
import org.hybridv.spec.SpecRunner;
import org.hybridv.xen.Faults;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hybridv check}: the main job. Runs every whole-system property at the campaign budget (writing each shrunk
 * counterexample to {@code counterexamples/found/}), replays the counterexample corpus, prints a summary table and
 * writes {@code report.json} and {@code report.md}. Exit 0 when nothing was found, 1 when a counterexample was found
 * or a replay failed, 2 for unusable input.
 */
@Command(name = "check",
        mixinStandardHelpOptions = true,
        header = "Run every property at campaign budget and replay the corpus; report and exit 0/1/2.",
        description = {"The main job: every Alloy command (docs/spec.md), every whole-system property"
                + " (docs/properties.md) at --tries tries from --seed"
                + " (split with --shard i/n across CI jobs), each failure shrunk and written as a scenario to --found;"
                + " then every scenario under the corpus replayed. Prints a summary table; writes report.json and"
                + " report.md to --report.",
            "Exit 0 nothing found, 1 a counterexample found or a replay failed, 2 unusable input."},
        footerHeading = "%nExamples:%n",
        footer = {"  hybridv check", "  hybridv check --tries 20000 --time 600 --shard 1/4 --seed 7"})
final class CheckCommand implements Callable<Integer> {
    @Option(names = "--tries", description = "Tries per property (default ${DEFAULT-VALUE}).", defaultValue = "1000")
    int tries;

    @Option(names = "--seed", description = "Campaign seed (default ${DEFAULT-VALUE}).", defaultValue = "20261123")
    long seed;

    @Option(names = "--time", paramLabel = "SECONDS", description = "Wall-clock budget for the properties: no try"
            + " starts after it (the only wall-clock decision; results then depend on speed).")
    Long time;

    @Option(names = "--shard", paramLabel = "i/n", description = "Run shard i (0-based) of n: tries t with"
            + " t mod n = i (default ${DEFAULT-VALUE}).", defaultValue = "0/1")
    String shard;

    @Option(names = "--found", description = "Where new counterexamples go (default ${DEFAULT-VALUE}).",
            defaultValue = "counterexamples/found")
    Path found;

    @Option(names = "--corpus", description = "Scenarios to replay (default ${DEFAULT-VALUE}).",
            defaultValue = "counterexamples")
    Path corpus;

    @Option(names = "--report", description = "Report directory (default ${DEFAULT-VALUE}).",
            defaultValue = "target/hybridv-report")
    Path report;

    @Option(names = "--no-replay", description = "Skip the corpus replay.")
    boolean noReplay;

    @Option(names = "--no-spec", description = "Skip the Alloy models.")
    boolean noSpec;

    @Option(names = "--property", description = "Only these properties (repeatable).")
    List<String> only;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** A property's line of the summary. */
    record PropertyRow(String name, int tries, String verdict, String detail, String file) {}

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        int[] sh = shard();
        if (tries < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--tries: " + tries + " must be at least 1");
        }
        if (time != null && time < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--time: " + time + " must be at least 1");
        }
        List<SystemProperty<?>> props = new ArrayList<>();
        try {
            if (only == null) {
                props.addAll(SystemProperties.all());
            } else {
                for (String n : only) {
                    props.add(SystemProperties.named(n));
                }
            }
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--property: " + e.getMessage());
        }
        Progress progress = new Progress(out, System.console() != null);
        Optional<SpecReport> alloy = Optional.empty();
        if (!noSpec) {
            progress.start("spec: every Alloy command");
            Path dir = Files.isDirectory(Path.of("spec", "models")) ? Path.of("spec", "models") : ModelSources.bundled();
            alloy = Optional.of(SpecRunner.run(SpecOptions.all(dir)));
            progress.done("spec: " + alloy.get().results().size() + " commands");
        }
        Optional<Long> deadline = time == null ? Optional.empty()
                : Optional.of(System.nanoTime() + time * 1_000_000_000L);
        Campaign.Config config = new Campaign.Config(seed, tries, sh[0], sh[1], Faults.NONE, deadline);
        List<PropertyRow> rows = new ArrayList<>();
        for (SystemProperty<?> p : props) {
            progress.start("property " + p.name());
            rows.add(runProperty(p, config));
            progress.done("property " + p.name() + ": " + rows.get(rows.size() - 1).verdict());
        }
        List<Replay> replays = new ArrayList<>();
        int unusable = 0;
        if (!noReplay) {
            progress.start("replay " + corpus);
            ScenarioSources.Expansion ex = ScenarioSources.expand(List.of(corpus.toString()));
            unusable += ex.errors().size();
            Scenarios scenarios = new Scenarios(Modules.standard());
            for (Path f : ex.files()) {
                replays.add(scenarios.replay(f));
            }
            progress.done("replay " + corpus + ": " + replays.size() + " scenarios");
        }
        long failedReplays = replays.stream().filter(r -> r.verdict() == Verdict.FAILED).count();
        unusable += (int) replays.stream().filter(r -> r.verdict() == Verdict.UNUSABLE).count();
        boolean found = rows.stream().anyMatch(r -> !r.verdict().equals("passed"));
        boolean specFailed = alloy.isPresent() && !alloy.get().allMatch();
        unusable += alloy.map(a -> a.errors().size()).orElse(0);
        int exit = unusable > 0 ? Hybridv.EXIT_UNUSABLE : found || failedReplays > 0 || specFailed ? 1 : 0;
        String table = summary(specLine(alloy), rows, replays.size(), failedReplays, unusable, noReplay, sh, exit);
        out.print(table);
        writeReport(rows, replays, failedReplays, unusable, sh, exit, table, alloy);
        out.println("report: " + report.resolve("report.json") + ", " + report.resolve("report.md"));
        return exit;
    }

    private int[] shard() {
        String[] p = shard.split("/");
        try {
            if (p.length == 2) {
                int i = Integer.parseInt(p[0]);
                int n = Integer.parseInt(p[1]);
                if (n >= 1 && i >= 0 && i < n) {
                    return new int[] {i, n};
                }
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new CommandLine.ParameterException(spec.commandLine(), "--shard: \"" + shard + "\" is not i/n with"
                + " 0 <= i < n (e.g. 0/4)");
    }

    private <R> PropertyRow runProperty(SystemProperty<R> p, Campaign.Config c) throws IOException {
        Campaign.Result<R> r = Campaign.run(p, c);
        if (r.harnessError().isPresent()) {
            return new PropertyRow(p.name(), r.triesRun(), "harness error", r.harnessError().get(), "");
        }
        if (r.failure().isEmpty()) {
            return new PropertyRow(p.name(), r.triesRun(), "passed", "", "");
        }
        Campaign.Failure<R> f = r.failure().get();
        String file = Capture.document(p, f, c.faults(), c.seed()).map(doc -> {
            try {
                Capture.Written w = Capture.write(found, p.name(), doc);
                return w.file().toString() + (w.created() ? "" : " (already there)");
            } catch (IOException e) {
                return "not written: " + e.getMessage();
            }
        }).orElse("");
        return new PropertyRow(p.name(), r.triesRun(), "FOUND", f.violation().toString() + " (shrunk to "
                + p.length(f.shrunk()) + " operations)", file);
    }

    /** The Alloy line of the summary: every command against its expect (docs/spec.md). */
    private static String specLine(Optional<SpecReport> alloy) {
        if (alloy.isEmpty()) {
            return "";
        }
        SpecReport r = alloy.get();
        long bad = r.results().stream().filter(x -> !x.matches()).count() + r.errors().size();
        return String.format("%-20s %-14s %8s  %s%n", "spec (Alloy)", bad == 0 ? "passed" : "FAILED",
                r.results().size(), bad == 0 ? "every command meets its expect" : bad + " commands do not meet their"
                        + " expect or do not parse (hybridv spec shows them)");
    }

    private static String summary(String specRow, List<PropertyRow> rows, int replayed, long failed, int unusable,
            boolean noReplay, int[] sh, int exit) {
        StringBuilder b = new StringBuilder();
        b.append(System.lineSeparator());
        String fmt = "%-20s %-14s %8s  %s%n";
        b.append(String.format(fmt, "check", "verdict", "runs", "detail"));
        b.append(specRow);
        for (PropertyRow r : rows) {
            b.append(String.format(fmt, r.name(), r.verdict(), r.tries(), r.detail()));
            if (!r.file().isEmpty()) {
                b.append(String.format(fmt, "", "", "", "counterexample: " + r.file()));
            }
        }
        if (!noReplay) {
            b.append(String.format(fmt, "replay corpus", failed == 0 && unusable == 0 ? "passed" : "FAILED", replayed,
                    failed + " failed, " + unusable + " unusable"));
        }
        b.append(String.format("%nshard %d/%d, exit %d%n", sh[0], sh[1], exit));
        return b.toString();
    }

    private void writeReport(List<PropertyRow> rows, List<Replay> replays, long failed, int unusable, int[] sh,
            int exit, String table, Optional<SpecReport> alloy) throws IOException {
        ObjectNode doc = JsonNodeFactory.instance.objectNode();
        doc.put("seed", seed);
        if (alloy.isPresent()) {
            ObjectNode sp = doc.putObject("spec");
            sp.put("commands", alloy.get().results().size());
            sp.put("mismatched", alloy.get().results().stream().filter(r -> !r.matches()).count());
            ArrayNode bad = sp.putArray("mismatches");
            alloy.get().results().stream().filter(r -> !r.matches()).forEach(r -> bad.add(r.toString()));
            alloy.get().errors().forEach(e -> bad.add(e.toString()));
        }
        doc.put("tries", tries);
        doc.put("shard", sh[0] + "/" + sh[1]);
        ArrayNode ps = doc.putArray("properties");
        for (PropertyRow r : rows) {
            ObjectNode o = ps.addObject();
            o.put("name", r.name()).put("tries", r.tries()).put("verdict", r.verdict()).put("detail", r.detail());
            if (!r.file().isEmpty()) {
                o.put("counterexample", r.file());
            }
        }
        if (!noReplay) {
            ObjectNode rp = doc.putObject("replay");
            rp.put("scenarios", replays.size()).put("failed", failed).put("unusable", unusable);
            ArrayNode bad = rp.putArray("failures");
            replays.stream().filter(r -> r.verdict() != Verdict.PASSED).forEach(r -> bad.add(r.source()));
        }
        doc.put("exit", exit);
        Files.createDirectories(report);
        Files.write(report.resolve("report.json"), (new ObjectMapper().writerWithDefaultPrettyPrinter()
                .writeValueAsString(doc) + "\n").getBytes(StandardCharsets.UTF_8));
        String md = "# hybridv check\n\nSeed " + seed + ", " + tries + " tries per property, shard " + sh[0] + "/"
                + sh[1] + ", exit " + exit + ".\n\n```\n" + table.strip() + "\n```\n";
        Files.write(report.resolve("report.md"), md.getBytes(StandardCharsets.UTF_8));
    }

    /** Progress lines: rewritten in place on a terminal, one plain line per event otherwise. */
    static final class Progress {
        private final PrintWriter out;
        private final boolean terminal;

        Progress(PrintWriter out, boolean terminal) {
            this.out = out;
            this.terminal = terminal;
        }

        void start(String what) {
            if (terminal) {
                out.print("\r\u001B[K… " + what);
            } else {
                out.println("… " + what);
            }
            out.flush();
        }

        void done(String what) {
            out.println(terminal ? "\r\u001B[K✓ " + what : "✓ " + what);
            out.flush();
        }
    }
}
