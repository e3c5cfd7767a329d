package org.hybridv.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.hybridv.check.AtomicFiles;
import org.hybridv.check.Capture;
import org.hybridv.explore.ExploreCheckpoint;
import org.hybridv.explore.ExploreConfig;
import org.hybridv.explore.ExploredSystem;
import org.hybridv.explore.Swarm;
import org.hybridv.explore.Exploration;
import org.hybridv.explore.Explorer;
import org.hybridv.xen.Faults;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code hybridv explore}: exhaustive breadth-first exploration of a configuration of the reference (docs/explore.md);
 * exit 0 exhausted, 1 a violation, 2 unusable input, 3 a bound reached before exhausting.
 */
@Command(name = "explore",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        header = "Explore every reachable state of a configuration, breadth-first.",
        description = {"Runs the reference hypervisor from the configuration's initial machine under every"
                + " sequence of the configuration's actions, breadth-first, up to the depth bound; checks the"
                + " invariants on every new state and every step; keeps each state as a 64-bit fingerprint. The"
                + " first violation at the shortest depth is written as a scenario that hybridv replay"
                + " reproduces. The result is the same for any number of workers.",
            "Progress goes to stderr at most every 10 s; the summary to stdout.",
            "Exit 0 exhausted with nothing found, 1 a violation (or a deadlock when the configuration asks),"
                + " 2 unusable input, 3 a bound reached before exhausting.",
            "--checkpoint DIR saves the search at every level; --resume DIR continues it with the same result as an"
                + " uninterrupted run. --swarm I/N runs one depth-first member of a swarm instead: exit 1 if it finds"
                + " a violation, 3 otherwise (a swarm member never proves absence)."},
        footerHeading = "%nExamples:%n",
        footer = {"  hybridv explore spec/configs/direct-paging.json",
            "  hybridv explore spec/configs/isolation.json --workers 2 --depth 3",
            "  hybridv explore spec/configs/isolation.json --depth 6 --checkpoint target/ckpt",
            "  hybridv explore spec/configs/isolation.json --resume target/ckpt",
            "  hybridv explore spec/configs/bench/combined.json --swarm 1/4",
            "  hybridv explore spec/configs/direct-paging.json --fault superpage-accepted"})
final class ExploreCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CONFIG", description = "The configuration (JSON, see spec/configs/).")
    Path config;

    @Option(names = "--workers", paramLabel = "N", description = "Threads expanding each level (default: the"
            + " available processors).")
    Integer workers;

    @Option(names = "--depth", paramLabel = "D", description = "Depth bound (default: the configuration's).")
    Integer depth;

    @Option(names = "--max-states", paramLabel = "S", description = "State bound (default: the configuration's).")
    Long maxStates;

    @Option(names = "--fault", paramLabel = "ID", description = "Inject this seeded fault too (repeatable;"
            + " hybridv faults lists them).")
    List<String> faultIds;

    @Option(names = "--no-symmetry", description = "Do not use the configuration's symmetry declaration (count"
            + " every state, not one per orbit).")
    boolean noSymmetry;

    @Option(names = "--no-por", description = "Do not use the partial-order reduction (take every enabled"
            + " transition; the states, verdict and shortest depth are the same, the transitions more).")
    boolean noPor;

    @Option(names = "--report", paramLabel = "DIR", description = "Write report.json and report.md into DIR.")
    Path report;

    @Option(names = "--out", paramLabel = "DIR", description = "Where the counterexample goes (default: the"
            + " checkout's counterexamples/found/).")
    Path out;

    @Option(names = "--checkpoint", paramLabel = "DIR", description = "At the start of every level, write the"
            + " search (explore.checkpoint) into DIR, replacing the last one atomically.")
    Path checkpoint;

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue the search of DIR's checkpoint (same"
            + " configuration file, faults and symmetry; the bounds may be raised); keeps checkpointing into DIR"
            + " unless --checkpoint names another folder.")
    Path resume;

    @Option(names = "--swarm", paramLabel = "I/N", description = "Run member I of a swarm of N independent"
            + " depth-first searches (its own seed and action order, from the configuration file, I and N; one"
            + " thread). Exit 1 if it finds a violation, 3 otherwise: a swarm member never proves absence.")
    String swarm;

    @CommandLine.ParentCommand
    Hybridv parent;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (workers != null && (workers < 1 || workers > 1024)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--workers: " + workers
                    + " is outside 1..1024");
        }
        if (depth != null && (depth < 0 || depth > 1000)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--depth: " + depth
                    + " is outside 0..1000");
        }
        if (maxStates != null && (maxStates < 1 || maxStates > 1_000_000_000L)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--max-states: " + maxStates
                    + " is outside 1..1000000000");
        }
        String shown = Printable.escape(config.toString());
        Optional<String> why = PathChecks.readable(config);
        if (why.isEmpty() && Files.isDirectory(config)) {
            why = Optional.of("is a folder, not a configuration file");
        }
        if (why.isPresent()) {
            return unusable(err, shown + ": " + why.get());
        }
        ExploreConfig cfg;
        try {
            cfg = ExploreConfig.read(config, shown);
        } catch (ExploreConfig.BadConfig e) {
            return unusable(err, Printable.escape(e.getMessage()));
        }
        Faults faults;
        List<String> ids = new ArrayList<>(cfg.faults());
        try {
            Faults.parse(cfg.faults());
        } catch (IllegalArgumentException e) {
            return unusable(err, shown + ": faults: " + Printable.escape(e.getMessage()));
        }
        if (faultIds != null) {
            ids.addAll(faultIds);
        }
        try {
            faults = Faults.parse(ids);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--fault: " + e.getMessage());
        }
        Optional<Path> found = Home.resolve(out, "counterexamples/found");
        if (out != null) {
            Optional<String> w = PathChecks.writableFolder(out);
            if (w.isPresent()) {
                return unusable(err, "--out " + Printable.escape(out.toString()) + ": " + w.get());
            }
        }
        if (report != null) {
            Optional<String> w = PathChecks.writableFolder(report);
            if (w.isPresent()) {
                return unusable(err, "--report " + Printable.escape(report.toString()) + ": " + w.get());
            }
        }
        if (swarm != null) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]{1,4})/([0-9]{1,4})").matcher(swarm);
            if (!m.matches() || Integer.parseInt(m.group(1)) < 1 || Integer.parseInt(m.group(1))
                    > Integer.parseInt(m.group(2)) || Integer.parseInt(m.group(2)) > 1024) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--swarm: \"" + Printable.escape(swarm)
                        + "\" is not I/N with 1 <= I <= N <= 1024");
            }
            if (checkpoint != null || resume != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--swarm does not take --checkpoint or"
                        + " --resume (a member is one depth-first search; run it again)");
            }
            return swarm(stdout, err, cfg, faults, found, Integer.parseInt(m.group(1)), Integer.parseInt(m
                    .group(2)));
        }
        for (Path p : new Path[] {checkpoint, resume}) {
            if (p != null) {
                Optional<String> w = Files.exists(p) ? PathChecks.writableFolder(p) : Optional.empty();
                if (w.isPresent()) {
                    return unusable(err, (p == checkpoint ? "--checkpoint " : "--resume ")
                            + Printable.escape(p.toString()) + ": " + w.get());
                }
            }
        }
        Explorer.Options options = new Explorer.Options(workers != null ? workers
                : Runtime.getRuntime().availableProcessors(), depth != null ? depth : cfg.depth(),
                maxStates != null ? maxStates : cfg.maxStates(), cfg.deadlock()).withPartialOrder(!noPor);
        Exploration x;
        long[] lastPrint = {System.nanoTime()};
        ExploredSystem<?> system;
        try {
            system = ExploredSystem.of(cfg, faults, !noSymmetry);
        } catch (IllegalArgumentException e) {
            return unusable(err, shown + ": " + Printable.escape(e.getMessage()));
        }
        List<String> identity = ExploreCheckpoint.identity(cfg, Files.readAllBytes(config), faults, !noSymmetry,
                !noPor, system);
        Explorer.Checkpoint from = null;
        if (resume != null) {
            try {
                from = ExploreCheckpoint.read(resume, Printable.escape(resume.toString()), identity).state();
            } catch (ExploreCheckpoint.Refused e) {
                return unusable(err, "--resume " + Printable.escape(e.getMessage()));
            }
            err.println("hybridv explore: resuming at depth " + from.depth() + " (" + from.seen().size()
                    + " distinct states, " + from.frontier().length + " to expand)");
        }
        Path saveTo = checkpoint != null ? checkpoint : resume;
        java.util.function.Consumer<Explorer.Checkpoint> save = c -> {
            if (saveTo != null) {
                try {
                    new ExploreCheckpoint(identity, c).write(saveTo);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };
        int[] savedDepth = {-1};
        java.util.function.Consumer<Explorer.Checkpoint> saving = c -> {
            save.accept(c);
            savedDepth[0] = c.depth();
        };
        // On SIGINT the last complete level is already on disk (written atomically): say how to continue.
        Thread hook = saveTo == null ? null : new Thread(() -> {
            err.println("hybridv explore: interrupted; " + (savedDepth[0] < 0 ? "no checkpoint written yet"
                    : "the checkpoint in " + Printable.escape(saveTo.toString()) + " holds the search at depth "
                    + savedDepth[0] + "; continue with --resume " + Printable.escape(saveTo.toString())));
            err.flush();
        }, "hybridv-explore-interrupt");
        if (hook != null) {
            Runtime.getRuntime().addShutdownHook(hook);
        }
        try {
            x = Exploration.run(cfg, faults, options, system, p -> {
                long now = System.nanoTime();
                if (now - lastPrint[0] >= 10_000_000_000L) {
                    lastPrint[0] = now;
                    double s = p.nanos() / 1e9;
                    err.println(String.format(Locale.ROOT, "explore: depth %d, %,d distinct states, %,d queued,"
                            + " %,d transitions, %,.0f states/s", p.depth(), p.distinct(), p.queued(),
                            p.transitions(), p.distinct() / Math.max(s, 1e-9)));
                    err.flush();
                }
            }, from, saving);
        } catch (IllegalArgumentException e) {
            return unusable(err, (from != null ? "--resume " + Printable.escape(resume.toString()) : shown) + ": "
                    + Printable.escape(e.getMessage()));
        } catch (java.io.UncheckedIOException e) {
            return unusable(err, "--checkpoint " + Printable.escape(saveTo.toString()) + ": cannot write the"
                    + " checkpoint: " + Printable.escape(String.valueOf(e.getCause().getMessage())));
        } finally {
            if (hook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // shutting down: the hook runs
                }
            }
        }
        stdout.println("hybridv explore " + shown + " (" + cfg.name() + "): depth bound " + options.maxDepth()
                + ", state bound " + options.maxStates() + ", " + x.system().actionCount() + " actions");
        for (String line : x.summary(true)) {
            stdout.println(line);
        }
        x.result().finding().ifPresent(f -> {
            stdout.println("trace (" + f.depth() + " steps):");
            for (int i = 0; i < f.actions().size(); i++) {
                stdout.println("  " + (i + 1) + ". " + x.system().actionName(f.actions().get(i)));
            }
        });
        if (x.counterexample().isPresent()) {
            if (found.isEmpty()) {
                err.println("hybridv explore: no place for the counterexample (hybridv is not running from a"
                        + " checkout); give --out DIR");
            } else {
                Optional<String> w = PathChecks.writableFolder(found.get());
                if (w.isPresent()) {
                    err.println("hybridv explore: " + Printable.escape(found.get().toString()) + ": " + w.get());
                } else {
                    Capture.Written written = x.writeCounterexample(found.get()).orElseThrow();
                    stdout.println((written.created() ? "wrote " : "exists ") + Printable.escape(written.file()
                            .toString()) + " (hybridv replay reproduces it)");
                }
            }
        }
        if (report != null) {
            Files.createDirectories(report);
            AtomicFiles.write(report.resolve("report.json"), Capture.bytes(x.reportJson()));
            AtomicFiles.write(report.resolve("report.md"), x.reportMarkdown().getBytes(StandardCharsets.UTF_8));
            stdout.println("report: " + Printable.escape(report.resolve("report.json").toString()) + ", "
                    + Printable.escape(report.resolve("report.md").toString()));
        }
        stdout.flush();
        return x.exitCode();
    }

    private int swarm(PrintWriter stdout, PrintWriter err, ExploreConfig cfg, Faults faults, Optional<Path> found,
            int i, int n) throws IOException {
        String shown = Printable.escape(config.toString());
        ExploredSystem<?> system;
        try {
            system = ExploredSystem.of(cfg, faults, !noSymmetry);
        } catch (IllegalArgumentException e) {
            return unusable(err, shown + ": " + Printable.escape(e.getMessage()));
        }
        Swarm.Member member = Swarm.Member.of(Files.readAllBytes(config), i, n);
        int d = depth != null ? depth : cfg.depth();
        long s = maxStates != null ? maxStates : cfg.maxStates();
        long[] lastPrint = {System.nanoTime()};
        Swarm.Run run = Swarm.Run.of(cfg, faults, system, member, d, s, p -> {
            long now = System.nanoTime();
            if (now - lastPrint[0] >= 10_000_000_000L) {
                lastPrint[0] = now;
                double sec = p.nanos() / 1e9;
                err.println(String.format(Locale.ROOT, "explore --swarm %s: depth %d, %,d distinct states, %,d"
                        + " expansions, %,d transitions, %,.0f states/s", member.name(), p.depth(), p.distinct(),
                        p.expansions(), p.transitions(), p.distinct() / Math.max(sec, 1e-9)));
                err.flush();
            }
        });
        stdout.println("hybridv explore --swarm " + member.name() + " " + shown + " (" + cfg.name() + "): depth"
                + " bound " + d + ", state bound " + s + ", " + system.actionCount() + " actions");
        for (String line : run.summary(true)) {
            stdout.println(line);
        }
        run.result().finding().ifPresent(f -> {
            stdout.println("trace (" + f.depth() + " steps):");
            for (int k = 0; k < f.actions().size(); k++) {
                stdout.println("  " + (k + 1) + ". " + system.actionName(f.actions().get(k)));
            }
        });
        if (run.counterexample().isPresent()) {
            Optional<String> w = found.isEmpty() ? Optional.of("no place for the counterexample (hybridv is not"
                    + " running from a checkout); give --out DIR") : PathChecks.writableFolder(found.get());
            if (w.isPresent()) {
                err.println("hybridv explore: " + found.map(p -> Printable.escape(p.toString()) + ": ").orElse("")
                        + w.get());
            } else {
                Capture.Written written = run.writeCounterexample(found.get()).orElseThrow();
                stdout.println((written.created() ? "wrote " : "exists ") + Printable.escape(written.file()
                        .toString()) + " (hybridv replay reproduces it)");
            }
        }
        if (report != null) {
            Files.createDirectories(report);
            AtomicFiles.write(report.resolve("report.json"), Capture.bytes(run.reportJson()));
            AtomicFiles.write(report.resolve("report.md"), run.reportMarkdown().getBytes(StandardCharsets.UTF_8));
            stdout.println("report: " + Printable.escape(report.resolve("report.json").toString()) + ", "
                    + Printable.escape(report.resolve("report.md").toString()));
        }
        stdout.flush();
        return run.exitCode();
    }

    private int unusable(PrintWriter err, String message) {
        err.println("hybridv explore: " + message);
        err.flush();
        return Hybridv.EXIT_UNUSABLE;
    }
}
