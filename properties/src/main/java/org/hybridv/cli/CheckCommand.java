package org.hybridv.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.hybridv.check.AtomicFiles;
import org.hybridv.check.Campaign;
import org.hybridv.check.Capture;
import org.hybridv.check.Coverage;
import org.hybridv.check.SystemProperties;
import org.hybridv.check.SystemProperty;
import org.hybridv.properties.LayerCampaign;
import org.hybridv.properties.LayerProperties;
import org.hybridv.scenario.Check;
import org.hybridv.scenario.Replay;
import org.hybridv.scenario.ScenarioError;
import org.hybridv.scenario.ScenarioSources;
import org.hybridv.scenario.Scenarios;
import org.hybridv.scenario.StepReport;
import org.hybridv.scenario.Verdict;
import org.hybridv.scenario.modules.Modules;
import org.hybridv.spec.CommandResult;
import org.hybridv.spec.ModelError;
import org.hybridv.spec.SpecOptions;
import org.hybridv.spec.SpecRunner;
import org.hybridv.xen.Faults;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hybridv check}: the main job. Every Alloy command, then every whole-system property at the campaign budget
 * (interleaved try by try, on {@code --workers} threads; each failure shrunk and written as a scenario), then every
 * layer property ({@link LayerCampaign}), then every scenario of the corpus replayed. Prints a summary with every
 * finding (where, step, check, expected, observed and the command that reproduces it) and writes report.json,
 * report.md and, if asked, JUnit XML.
 *
 * <p>Inputs are checked before any work starts. Default paths resolve against the checkout ({@link Home}), explicit
 * ones against the current directory. A property that ran fewer than {@code --min-tries} tries, or missed a coverage
 * floor, leaves the run incomplete (exit 3): "passed" is only printed for what was checked.
 */
@Command(name = "check",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        header = "Run the Alloy models, every property and the corpus; report.",
        description = {"The main job: every Alloy command (docs/spec.md); every whole-system property "
                + "(docs/properties.md) at --tries tries from --seed, interleaved try by try on --workers threads, "
                + "each failure shrunk and written as a scenario to --found; every layer property (jqwik, one class "
                + "at a time, its CI tries × --tries/1000 at seed --seed); then every scenario under --corpus "
                + "replayed. Prints a summary with each finding and the command that reproduces it; writes "
                + "report.json and report.md to --report (and JUnit XML with --junit).",
            "",
            "Default paths are in the checkout hybridv runs from; paths you give are relative to the current "
                + "directory. Same seed and tries, same results and reports for any number of workers (unless "
                + "--time ends the campaign early)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:nothing found; every property ran its tries and met its coverage floors",
            "1:a counterexample, a failed replay or an Alloy command that does not meet its expect",
            "2:unusable input (bad option, path or scenario file); nothing was run",
            "3:incomplete: a property ran fewer than --min-tries tries or missed a coverage floor",
            "70:internal error (a bug in hybridv; --debug shows the stack trace)",
            "130:interrupted (Ctrl-C); the summary and report cover what ran"},
        footerHeading = "%nExamples:%n",
        footer = {"  hybridv check",
            "  hybridv check --tries 20000 --time 600 --shard 1/4 --seed 7 --junit junit.xml",
            "  hybridv check --property hypervisor --seed 20261123 --try 42 --no-shrink"})
final class CheckCommand implements java.util.concurrent.Callable<Integer> {
    /** The default of --found, in the checkout. */
    static final String DEFAULT_FOUND = "counterexamples/found";
    /** The default of --report, in the checkout. */
    static final String DEFAULT_REPORT = "target/hybridv-report";

    @Option(names = "--tries", paramLabel = "N", description = "Tries per property (default ${DEFAULT-VALUE}).",
            defaultValue = "1000")
    int tries;

    @Option(names = "--seed", paramLabel = "S", description = "Campaign seed (default ${DEFAULT-VALUE}).",
            defaultValue = "20261123")
    long seed;

    @Option(names = "--time", paramLabel = "SECONDS", description = "Time budget for the properties: no try starts "
            + "after it; the properties share it try by try.")
    Long time;

    @Option(names = "--min-tries", paramLabel = "N", description = "A property that ran fewer tries is not checked "
            + "(exit 3) (default ${DEFAULT-VALUE}).", defaultValue = "1")
    int minTries;

    @Option(names = "--workers", paramLabel = "N", description = "Threads running tries (default: the available "
            + "processors).")
    Integer workers;

    @Option(names = "--shard", paramLabel = "i/n", description = "Run shard i (0-based) of n: tries t with t mod n = "
            + "i (default ${DEFAULT-VALUE}).", defaultValue = "0/1")
    String shard;

    @Option(names = "--from-try", paramLabel = "T", description = "Start at try T (resume an interrupted campaign) "
            + "(default ${DEFAULT-VALUE}).", defaultValue = "0")
    int fromTry;

    @Option(names = "--property", paramLabel = "NAME", description = "Only this property (repeatable): a "
            + "whole-system property (hybrid-kernel, hypervisor, whole-system, migration, pv-interface, emulation) or "
            + "a layer property (page-walk, tlb, vm-entry, ept, direct-paging, … : docs/properties.md).")
    List<String> only;

    @Option(names = "--no-layers", description = "Skip the layer properties (run only the whole-system ones).")
    boolean noLayers;

    @Option(names = "--try", paramLabel = "T", description = "Run try T alone (reproduce a reported failure).")
    Integer onlyTry;

    @Option(names = "--fault", paramLabel = "ID", description = "Inject this seeded fault (repeatable; "
            + "docs/faults.md): see the checker catch it.")
    List<String> faultIds;

    @Option(names = "--no-shrink", description = "Report a failure as found, unshrunk.")
    boolean noShrink;

    @Option(names = "--no-floors", description = "Do not require the properties' coverage floors.")
    boolean noFloors;

    @Option(names = "--no-spec", description = "Skip the Alloy models.")
    boolean noSpec;

    @Option(names = "--no-replay", description = "Skip the corpus replay.")
    boolean noReplay;

    @Option(names = "--corpus", paramLabel = "PATH", description = "Scenarios to replay (default: counterexamples/).")
    Path corpus;

    @Option(names = "--found", paramLabel = "DIR", description = "Where counterexamples are written (default: "
            + "counterexamples/found/).")
    Path found;

    @Option(names = "--report", paramLabel = "DIR", description = "Report folder (default: target/hybridv-report/).")
    Path report;

    @Option(names = "--models", paramLabel = "DIR", description = "Alloy models (default: spec/models/).")
    Path models;

    @Option(names = "--junit", paramLabel = "FILE", description = "Also write JUnit XML to FILE.")
    Path junit;

    @Option(names = "--annotations", paramLabel = "MODE", description = "GitHub Actions annotations: github, none "
            + "or auto (github when GITHUB_ACTIONS=true) (default ${DEFAULT-VALUE}).", defaultValue = "auto")
    String annotations;

    @Option(names = "--progress", paramLabel = "SECONDS", description = "Seconds between progress lines on stderr; "
            + "0 for none (default ${DEFAULT-VALUE}).", defaultValue = "10")
    int progressSeconds;

    @CommandLine.ParentCommand
    Hybridv parent;

    /** The seeded faults injected (none: the real reference). */
    private Faults faults = Faults.NONE;

    /** Whether the campaign was cancelled (SIGINT) when its results came in. */
    private boolean cancelledNow;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Paths resolved and checked, before any work. */
    private record Paths(Optional<Path> corpus, Path found, Path report, Optional<Path> junit,
            Optional<ModelsDir> models, String modelsSource) {}

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Optional<String> bad = badOption();
        if (bad.isPresent()) {
            err.println("hybridv check: " + bad.get());
            return Hybridv.EXIT_UNUSABLE;
        }
        int[] sh = shard().orElse(null);
        List<SystemProperty<?>> props = new ArrayList<>();
        List<LayerProperties.Layer> layers = new ArrayList<>();
        if (only == null) {
            props.addAll(SystemProperties.all());
            if (!noLayers) {
                layers.addAll(LayerProperties.all());
            }
        } else {
            for (String n : only) {
                Optional<SystemProperty<?>> sp = SystemProperties.all().stream().filter(p -> p.name().equals(n))
                        .findFirst();
                Optional<LayerProperties.Layer> lp = LayerProperties.named(n);
                if (sp.isEmpty() && lp.isEmpty()) {
                    err.println("hybridv check: --property: no property \"" + Printable.quote(n) + "\"; whole-system: "
                            + SystemProperties.all().stream().map(SystemProperty::name).toList() + "; layer: "
                            + LayerProperties.all().stream().map(LayerProperties.Layer::name).toList());
                    return Hybridv.EXIT_UNUSABLE;
                }
                sp.filter(p -> !props.contains(p)).ifPresent(props::add);
                lp.filter(l -> !layers.contains(l)).ifPresent(layers::add);
            }
        }
        if (props.isEmpty() && !layers.isEmpty() && (onlyTry != null || fromTry > 0 || faultIds != null)) {
            err.println("hybridv check: " + (onlyTry != null ? "--try" : fromTry > 0 ? "--from-try" : "--fault")
                    + " applies to the whole-system properties, and --property names only layer properties "
                    + layers.stream().map(LayerProperties.Layer::name).toList());
            return Hybridv.EXIT_UNUSABLE;
        }
        for (String id : faultIds == null ? List.<String>of() : faultIds) {
            if (org.hybridv.xen.Fault.byId(id) == null) {
                err.println("hybridv check: --fault: unknown fault \"" + Printable.quote(id) + "\"; known faults: "
                        + Faults.knownIds());
                return Hybridv.EXIT_UNUSABLE;
            }
        }
        this.faults = faultIds == null ? Faults.NONE : Faults.parse(faultIds);
        Path cwd = Path.of("").toAbsolutePath();
        Optional<Path> home = Home.checkout();
        Paths paths;
        try {
            paths = paths(home);
        } catch (InputError e) {
            err.println("hybridv check: " + e.getMessage());
            return Hybridv.EXIT_UNUSABLE;
        }
        Optional<String> created = PathChecks.create(paths.report());
        if (created.isPresent()) {
            err.println("hybridv check: --report " + Printable.escape(paths.report().toString()) + ": "
                    + created.get());
            return Hybridv.EXIT_UNUSABLE;
        }
        try (FileChannel lockFile = FileChannel.open(paths.report().resolve(".hybridv-check.lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock;
            try {
                lock = lockFile.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                err.println("hybridv check: --report " + Printable.escape(paths.report().toString()) + ": another "
                        + "hybridv check is writing its report there; wait for it, or give another --report folder");
                return Hybridv.EXIT_UNUSABLE;
            }
            try {
                return run(out, err, sh, props, layers, paths, home, cwd);
            } finally {
                lock.release();
            }
        }
    }

    /** A bad option value, as one line; checked before anything else. */
    private Optional<String> badOption() {
        if (tries < 1) {
            return Optional.of("--tries: " + tries + " must be at least 1");
        }
        if (time != null && time < 1) {
            return Optional.of("--time: " + time + " must be at least 1 (seconds)");
        }
        if (minTries < 1) {
            return Optional.of("--min-tries: " + minTries + " must be at least 1 (a property that ran no try is"
                    + " never passed)");
        }
        if (workers != null && (workers < 1 || workers > 1024)) {
            return Optional.of("--workers: " + workers + " must be between 1 and 1024");
        }
        if (fromTry < 0 || fromTry >= tries) {
            return Optional.of("--from-try: " + fromTry + " must be at least 0 and below --tries (" + tries + ")");
        }
        if (onlyTry != null && onlyTry < 0) {
            return Optional.of("--try: " + onlyTry + " must be at least 0");
        }
        if (progressSeconds < 0) {
            return Optional.of("--progress: " + progressSeconds + " must be at least 0 (0: no progress lines)");
        }
        if (!List.of("auto", "github", "none").contains(annotations)) {
            return Optional.of("--annotations: \"" + Printable.quote(annotations) + "\" is not auto, github or none");
        }
        if (shard().isEmpty()) {
            return Optional.of("--shard: \"" + Printable.quote(shard) + "\" is not i/n with 0 <= i < n (e.g. 0/4)");
        }
        return Optional.empty();
    }

    private Optional<int[]> shard() {
        String[] p = shard.split("/", -1);
        try {
            if (p.length == 2) {
                int i = Integer.parseInt(p[0]);
                int n = Integer.parseInt(p[1]);
                if (n >= 1 && i >= 0 && i < n) {
                    return Optional.of(new int[] {i, n});
                }
            }
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** An input problem: one line naming the option, the path and the problem. */
    private static final class InputError extends Exception {
        InputError(String option, Path path, String problem) {
            super(option + " " + Printable.escape(path.toString()) + ": " + problem);
        }

        InputError(String message) {
            super(message);
        }
    }

    private Paths paths(Optional<Path> home) throws InputError {
        String noCheckout = " (hybridv is not running from a checkout, so it has no default; give the option)";
        Optional<Path> c = Optional.empty();
        if (!noReplay) {
            Path p = Home.resolve(corpus, "counterexamples").orElseThrow(() -> new InputError("--corpus: no"
                    + " default" + noCheckout));
            Optional<String> why = PathChecks.readable(p);
            if (why.isPresent()) {
                throw new InputError("--corpus", p, why.get() + (corpus == null ? " (the default corpus of the "
                        + "checkout)" : ""));
            }
            c = Optional.of(p);
        }
        Path f = Home.resolve(found, DEFAULT_FOUND).orElseThrow(() -> new InputError("--found: no default"
                + noCheckout));
        Optional<String> why = PathChecks.writableFolder(f);
        if (why.isPresent()) {
            throw new InputError("--found", f, why.get());
        }
        Path r = Home.resolve(report, DEFAULT_REPORT).orElseThrow(() -> new InputError("--report: no"
                + " default" + noCheckout));
        why = PathChecks.writableFolder(r);
        if (why.isPresent()) {
            throw new InputError("--report", r, why.get());
        }
        if (junit != null) {
            why = PathChecks.writableFile(junit);
            if (why.isPresent()) {
                throw new InputError("--junit", junit, why.get());
            }
        }
        Optional<ModelsDir> m = Optional.empty();
        if (!noSpec) {
            if (models != null) {
                why = PathChecks.readable(models);
                if (why.isEmpty() && !Files.isDirectory(models)) {
                    why = Optional.of("is a file, not a folder of .als models");
                }
                if (why.isPresent()) {
                    throw new InputError("--models", models, why.get());
                }
            }
            ModelsDir.Resolution res = ModelsDir.resolve(models, home);
            if (res instanceof ModelsDir.Resolution.Missing miss) {
                throw new InputError("--models: " + miss.problem() + ", or --no-spec");
            }
            m = Optional.of(((ModelsDir.Resolution.Found) res).models());
        }
        return new Paths(c, f, r, Optional.ofNullable(junit), m, m.map(x -> x.describe().replaceFirst("^models: ",
                "")).orElse(""));
    }

    private int run(PrintWriter out, PrintWriter err, int[] sh, List<SystemProperty<?>> props,
            List<LayerProperties.Layer> layers, Paths paths, Optional<Path> home, Path cwd) throws IOException {
        int w = workers != null ? workers : Math.max(1, Runtime.getRuntime().availableProcessors());
        String launcher = launcher(home, cwd);
        String command = launcher + " " + String.join(" ", spec.commandLine().getParseResult().originalArgs().stream()
                .map(CheckCommand::shellWord).toList());
        CheckRun.Settings settings = new CheckRun.Settings(seed, tries, fromTry, sh[0], sh[1], w, minTries,
                !noFloors && onlyTry == null, !noShrink, onlyTry, time, paths.modelsSource(), command, launcher);
        CheckRun state = new CheckRun(settings, Hybridv.Version.version(), GitCommit.of(home), Instant.now());
        Campaign.Monitor monitor = new Campaign.Monitor();
        AtomicBoolean reported = new AtomicBoolean();
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            monitor.cancel();
            try {
                if (!finished.await(5, TimeUnit.SECONDS) && reported.compareAndSet(false, true)) {
                    // The running phase does not stop at once (an Alloy command): report what is done.
                    synchronized (state) {
                        state.interrupted = true;
                        finish(state, paths, out, err, cwd);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "hybridv-interrupt");
        boolean hooked = addHook(hook);
        long t0 = System.nanoTime();
        try {
            if (!noSpec && !monitor.cancelled()) {
                phase(err, "spec: every Alloy command, models " + paths.modelsSource());
                long s = System.nanoTime();
                ModelsDir md = paths.models().get();
                var alloy = SpecRunner.run(md.apply(SpecOptions.all(md.dir())));
                synchronized (state) {
                    state.spec = Optional.of(alloy);
                    state.specRan = true;
                    state.seconds.put("spec", (System.nanoTime() - s) / 1e9);
                    specFindings(state, alloy, paths, home, cwd, launcher);
                }
                phase(err, "spec: " + alloy.results().size() + " commands done");
            }
            Optional<Long> deadline = time == null ? Optional.empty() : Optional.of(System.nanoTime() + time
                    * 1_000_000_000L);
            if (!monitor.cancelled() && !props.isEmpty()) {
                runProperties(err, props, paths, state, monitor, cwd, launcher, deadline);
            }
            if (!monitor.cancelled() && !layers.isEmpty()) {
                runLayers(err, layers, state, monitor, launcher, deadline);
            }
            if (!noReplay && !monitor.cancelled()) {
                phase(err, "replay " + Printable.escape(display(paths.corpus().get(), cwd)));
                long s = System.nanoTime();
                replay(state, paths.corpus().get(), cwd, launcher, monitor);
                synchronized (state) {
                    state.seconds.put("replay", (System.nanoTime() - s) / 1e9);
                }
            }
            synchronized (state) {
                state.seconds.put("total", (System.nanoTime() - t0) / 1e9);
                state.interrupted |= monitor.cancelled();
                if (reported.compareAndSet(false, true)) {
                    finish(state, paths, out, err, cwd);
                }
                return state.exit();
            }
        } finally {
            finished.countDown();
            if (hooked) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // shutting down: the hook is running and waits for this thread
                }
            }
        }
    }

    private static boolean addHook(Thread hook) {
        try {
            Runtime.getRuntime().addShutdownHook(hook);
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    /** The summary on stdout, findings as annotations, the reports and the JUnit XML written. */
    private void finish(CheckRun state, Paths paths, PrintWriter out, PrintWriter err, Path cwd) {
        out.print(CheckReport.summary(state));
        boolean github = annotations.equals("github") || (annotations.equals("auto") && "true".equals(System.getenv(
                "GITHUB_ACTIONS")));
        if (github) {
            CheckReport.annotations(state).forEach(out::println);
        }
        try {
            CheckReport.write(state, paths.report());
            out.println("report: " + Printable.escape(display(paths.report().resolve("report.json"), cwd)) + ", "
                    + Printable.escape(display(paths.report().resolve("report.md"), cwd)));
            if (paths.junit().isPresent()) {
                Path j = paths.junit().get().toAbsolutePath();
                Files.createDirectories(j.getParent());
                AtomicFiles.write(j, CheckReport.junit(state).getBytes(StandardCharsets.UTF_8));
                out.println("junit: " + Printable.escape(display(j, cwd)));
            }
        } catch (IOException e) {
            err.println("hybridv check: writing the report failed: " + e.getMessage());
        }
        out.flush();
    }

    private static void phase(PrintWriter err, String what) {
        err.println("… " + what);
        err.flush();
    }

    private void runProperties(PrintWriter err, List<SystemProperty<?>> props, Paths paths, CheckRun state,
            Campaign.Monitor monitor, Path cwd, String launcher, Optional<Long> deadline) {
        Campaign.Config config = new Campaign.Config(seed, tries, state.settings.shard(), state.settings.shards(),
                faults, deadline, state.settings.workers(), !noShrink, onlyTry == null ? OptionalInt.empty()
                : OptionalInt.of(onlyTry), fromTry);
        phase(err, "properties: " + props.stream().map(SystemProperty::name).toList() + ", "
                + config.tryIndices().size() + " tries each, " + config.workers() + " worker"
                + (config.workers() == 1 ? "" : "s"));
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "hybridv-progress");
            t.setDaemon(true);
            return t;
        });
        if (progressSeconds > 0) {
            ticker.scheduleAtFixedRate(() -> progress(err, monitor), progressSeconds, progressSeconds,
                    TimeUnit.SECONDS);
        }
        long s = System.nanoTime();
        List<Campaign.Result<?>> results;
        try {
            results = Campaign.runAll(props, config, monitor);
        } finally {
            ticker.shutdownNow();
        }
        synchronized (state) {
            state.propertiesRan = true;
            state.seconds.put("properties", (System.nanoTime() - s) / 1e9);
            cancelledNow = monitor.cancelled();
            for (int i = 0; i < props.size(); i++) {
                state.properties.add(row(props.get(i), results.get(i), config, paths, state, cwd, launcher));
            }
            if (monitor.cancelled() && onlyTry == null) {
                int done = results.stream().mapToInt(Campaign.Result::triesRun).min().orElse(0);
                List<Integer> idx = config.tryIndices();
                if (done < idx.size()) {
                    state.resumeFrom = Optional.of(idx.get(done));
                }
            }
        }
    }

    /**
     * The layer properties, one class at a time (jqwik runs one engine at a time), each at its CI tries scaled by
     * --tries / 1000 from --seed; with --shard i/n the classes whose index in {@link LayerProperties#all()} is i mod n.
     * Not run to reproduce a try (--try), to resume (--from-try) or with a seeded fault (the faults are injected into
     * the whole-system properties only): the phase says so.
     */
    private void runLayers(PrintWriter err, List<LayerProperties.Layer> layers, CheckRun state,
            Campaign.Monitor monitor, String launcher, Optional<Long> deadline) {
        String skip = onlyTry != null ? "--try reproduces one try of a whole-system property" : fromTry > 0
                ? "--from-try resumes the whole-system properties" : !faults.ids().isEmpty() ? "--fault is injected "
                + "into the whole-system properties only" : null;
        if (skip != null) {
            phase(err, "layer properties: not run (" + skip + ")");
            return;
        }
        List<LayerProperties.Layer> mine = new ArrayList<>();
        List<LayerProperties.Layer> all = LayerProperties.all();
        for (LayerProperties.Layer l : layers) {
            if (all.indexOf(l) % state.settings.shards() == state.settings.shard()) {
                mine.add(l);
            }
        }
        if (mine.isEmpty()) {
            phase(err, "layer properties: none in shard " + state.settings.shard() + "/" + state.settings.shards());
            return;
        }
        phase(err, "layer properties: " + mine.size() + " classes, one at a time, their CI tries × " + tries
                + "/1000 each");
        long s = System.nanoTime();
        List<LayerCampaign.Result> results = LayerCampaign.run(mine, new LayerCampaign.Config(seed, tries, deadline),
                monitor::cancelled);
        synchronized (state) {
            state.propertiesRan = true;
            state.seconds.put("layers", (System.nanoTime() - s) / 1e9);
            for (LayerCampaign.Result r : results) {
                state.properties.add(layerRow(r, state, launcher));
                state.seconds.put("layer " + r.layer().name(), r.seconds());
            }
        }
        phase(err, "layer properties: done");
    }

    /** A layer class's row, and its findings or what it leaves incomplete. */
    private CheckRun.PropertyRow layerRow(LayerCampaign.Result r, CheckRun state, String launcher) {
        String name = r.layer().name();
        String reproduce = launcher + " check --no-spec --no-replay --property " + name + " --seed " + seed
                + " --tries " + tries;
        int run = r.tries();
        int asked = LayerCampaign.triesAsked(r.layer(), tries);
        List<LayerCampaign.Outcome> os = r.outcomes();
        List<String> verdicts = new ArrayList<>();
        for (LayerCampaign.Outcome o : os) {
            switch (o.status()) {
                case FALSIFIED -> {
                    state.findings.add(new Finding("property", name, "", 0, 0, o.method(), "holds for every"
                            + " generated case (" + r.layer().type().getSimpleName() + ")", "falsified by "
                            + o.sample() + ": " + o.message(), List.of(reproduce)));
                    verdicts.add("FOUND");
                }
                case ERROR -> {
                    state.findings.add(new Finding("property", name, "", 0, 0, o.method(), "the property runs its"
                            + " tries", o.message(), List.of(reproduce + " --debug")));
                    verdicts.add("harness error");
                }
                case COVERAGE -> {
                    if (state.settings.floors()) {
                        state.incomplete.add(new CheckRun.Incomplete(name, "coverage floor missed: " + o.method()
                                + ": " + o.message()));
                        verdicts.add("incomplete");
                    }
                }
                case NOT_RUN -> {
                    state.incomplete.add(new CheckRun.Incomplete(name, "not checked: " + o.method() + " not run ("
                            + o.message() + ")"));
                    verdicts.add("not checked");
                }
                default -> {
                    if (o.tries() < minTries) {
                        state.incomplete.add(new CheckRun.Incomplete(name, "not checked: " + o.method() + " ran "
                                + o.tries() + " tries; --min-tries is " + minTries));
                        verdicts.add("not checked");
                    }
                }
            }
        }
        String verdict = List.of("FOUND", "harness error", "not checked", "incomplete").stream()
                .filter(verdicts::contains).findFirst().orElse("passed");
        long falsified = os.stream().filter(o -> o.status() == LayerCampaign.Status.FALSIFIED).count();
        String detail = switch (verdict) {
            case "FOUND" -> falsified + " of " + properties(os.size()) + " falsified: " + os.stream().filter(o ->
                    o.status() == LayerCampaign.Status.FALSIFIED).map(LayerCampaign.Outcome::method).toList();
            case "harness error" -> "a property did not run its tries";
            case "not checked" -> "not every property ran (" + (time != null ? "time budget" : "interrupted or"
                    + " --min-tries") + ")";
            case "incomplete" -> "no violation in " + run + " tries of " + properties(os.size()) + "; a coverage"
                    + " floor missed";
            default -> "no violation in " + run + " tries of " + properties(os.size()) + (os.stream().anyMatch(
                    o -> o.status() == LayerCampaign.Status.COVERAGE) ? " (floors not required)" : "");
        };
        return new CheckRun.PropertyRow(name, run, asked, verdict, detail, Optional.empty(), new Coverage(),
                List.of(), List.of(), os);
    }

    private static String properties(int n) {
        return n + (n == 1 ? " property" : " properties");
    }

    private static void progress(PrintWriter err, Campaign.Monitor monitor) {
        double secs = monitor.seconds();
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "progress %.0f s:", secs));
        for (Campaign.Monitor.Line l : monitor.snapshot()) {
            double rate = secs > 0 ? l.done() / secs : 0;
            String eta = l.done() >= l.asked() ? "done" : rate > 0 ? String.format(Locale.ROOT, "ETA %.0f s",
                    (l.asked() - l.done()) / rate) : "ETA unknown";
            b.append(String.format(Locale.ROOT, " %s %d/%d (%.1f/s, %d violation%s, %s);", l.property(), l.done(),
                    l.asked(), rate, l.violations(), l.violations() == 1 ? "" : "s", eta));
        }
        b.setLength(b.length() - 1);
        err.println(b);
        err.flush();
    }

    private <R> CheckRun.PropertyRow row(SystemProperty<R> p, Campaign.Result<?> raw, Campaign.Config c, Paths paths,
            CheckRun state, Path cwd, String launcher) {
        @SuppressWarnings("unchecked")
        Campaign.Result<R> r = (Campaign.Result<R>) raw;
        List<Coverage.Floor> floors = state.settings.floors() ? p.floors() : List.of();
        String reproduceTry = launcher + " check --no-spec --no-replay --property " + p.name() + " --seed " + seed
                + faults.ids().stream().map(id -> " --fault " + id).reduce("", String::concat) + " --try ";
        if (r.harnessError().isPresent()) {
            state.findings.add(new Finding("property", p.name(), "", 0, 0, "the reference runs every operation",
                    "no exception from the reference", r.harnessError().get(), List.of(reproduceTry
                            + harnessTry(r.harnessError().get()))));
            return new CheckRun.PropertyRow(p.name(), r.triesRun(), r.triesAsked(), "harness error",
                    r.harnessError().get(), Optional.empty(), r.coverage(), floors, List.of(), List.of());
        }
        if (r.failure().isPresent()) {
            Campaign.Failure<R> f = r.failure().get();
            Optional<Path> file = Optional.empty();
            String note = "";
            Optional<com.fasterxml.jackson.databind.node.ObjectNode> doc = Capture.document(p, f, c.faults(), seed);
            if (doc.isPresent()) {
                try {
                    file = Optional.of(Capture.write(paths.found(), p.name(), doc.get()).file());
                } catch (IOException e) {
                    note = " (not written: " + e.getMessage() + ")";
                }
            }
            var v = f.violation();
            int line = file.map(x -> stepLine(x, v.step())).orElse(0);
            List<String> reproduce = new ArrayList<>();
            file.ifPresent(x -> reproduce.add(launcher + " replay " + shellWord(display(x, cwd))));
            reproduce.add(reproduceTry + f.tryIndex() + (noShrink ? " --no-shrink" : ""));
            state.findings.add(new Finding("property", p.name(), file.map(x -> display(x, cwd)).orElse(""), line,
                    v.step(), v.invariant() + " (" + v.rule() + ")", v.invariant() + " holds after every operation",
                    "violated after operation " + v.step() + ": " + v.explanation() + note, reproduce));
            return new CheckRun.PropertyRow(p.name(), r.triesRun(), r.triesAsked(), "FOUND", v.invariant() + " ("
                    + v.rule() + ") at try " + f.tryIndex() + (noShrink ? "" : ", shrunk to " + p.length(f.shrunk())
                    + " operations"), file, r.coverage(), floors, List.of(), List.of());
        }
        boolean cancelled = r.stopped() && (time == null || state.interrupted || cancelledNow);
        if (r.triesRun() == 0 || r.triesRun() < minTries) {
            String why = "ran " + r.triesRun() + " of " + r.triesAsked() + " tries" + (r.stopped() ? " before "
                    + (cancelled ? "the interruption" : "the time budget ran out") : "") + "; --min-tries is "
                    + minTries;
            state.incomplete.add(new CheckRun.Incomplete(p.name(), "not checked: " + why));
            return new CheckRun.PropertyRow(p.name(), r.triesRun(), r.triesAsked(), "not checked", why,
                    Optional.empty(), r.coverage(), floors, floors.isEmpty() ? List.of() : r.coverage().missed(floors),
                    List.of());
        }
        List<Coverage.Floor> missed = r.coverage().missed(floors);
        for (Coverage.Floor m : missed) {
            state.incomplete.add(new CheckRun.Incomplete(p.name(), "coverage floor missed: " + m + " (observed "
                    + Coverage.fmt(Math.round(m.observed(r.coverage()) * 10) / 10.0) + " %)"));
        }
        String detail = "no violation in " + r.triesRun() + " tries" + (r.stopped() ? " (stopped early: "
                + (cancelled ? "interrupted" : "time budget") + ")" : "");
        if (!missed.isEmpty()) {
            detail += "; " + missed.size() + " coverage floor" + (missed.size() == 1 ? "" : "s") + " missed";
        }
        return new CheckRun.PropertyRow(p.name(), r.triesRun(), r.triesAsked(), missed.isEmpty() ? "passed"
                : "incomplete", detail, Optional.empty(),
                r.coverage(), floors, missed, List.of());
    }

    /** The try index in a harness error's text ("try 12 (seed …): …"). */
    private static String harnessTry(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^try (\\d+)").matcher(text);
        return m.find() ? m.group(1) : "0";
    }

    /** The line of step {@code step} (1-based) of a written scenario, or 0. */
    static int stepLine(Path scenario, int step) {
        List<Integer> lines = stepLines(scenario);
        return step >= 1 && step <= lines.size() ? lines.get(step - 1) : 0;
    }

    /** The line on which each element of the top-level {@code steps} array starts. */
    static List<Integer> stepLines(Path scenario) {
        List<Integer> lines = new ArrayList<>();
        try (JsonParser p = new JsonFactory().createParser(scenario.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return lines;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (name.equals("steps") && v == JsonToken.START_ARRAY) {
                    for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY && t != null; t = p.nextToken()) {
                        lines.add(p.currentTokenLocation().getLineNr());
                        p.skipChildren();
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            return lines;
        }
        return lines;
    }

    private void specFindings(CheckRun state, org.hybridv.spec.SpecReport alloy, Paths paths, Optional<Path> home,
            Path cwd, String launcher) {
        Path dir = paths.models().get().dir();
        for (CommandResult r : alloy.results()) {
            if (!r.matches()) {
                Path file = dir.resolve(r.model() + ".als");
                String expect = r.expected() < 0 ? "an expect" : (r.check() ? (r.expected() == 1 ? "a counterexample"
                        : "no counterexample") : (r.expected() == 1 ? "an instance" : "no instance")) + " (expect "
                        + r.expected() + ")";
                state.findings.add(new Finding("spec", r.model() + " " + r.command(), Files.isRegularFile(file)
                        ? display(file, cwd) : "", 0, 0, r.command() + " (" + r.scope() + ")", expect,
                        r.outcomeName(), List.of(launcher + " spec --model " + r.model())));
            }
        }
        for (ModelError e : alloy.errors()) {
            state.unusable++;
            state.findings.add(new Finding("spec", e.file(), e.file(), e.line(), 0, "the model parses",
                    "a valid Alloy 6 model", e.message(), List.of(launcher + " spec")));
        }
    }

    private void replay(CheckRun state, Path corpusPath, Path cwd, String launcher, Campaign.Monitor monitor) {
        String shown = display(corpusPath, cwd);
        ScenarioSources.Expansion ex = ScenarioSources.expand(List.of(corpusPath.toString()));
        Scenarios scenarios = new Scenarios(Modules.standard());
        List<Replay> replays = new ArrayList<>();
        for (ScenarioError e : ex.errors()) {
            replays.add(Replay.unusable(e));
        }
        for (Path f : ex.files()) {
            if (monitor.cancelled()) {
                break;
            }
            replays.add(scenarios.replay(f));
        }
        synchronized (state) {
            state.replayRan = true;
            state.corpus = shown;
            for (Replay r : replays) {
                String src = display(Path.of(r.source()), cwd);
                String verdict = r.verdict() == Verdict.PASSED ? "passed" : r.verdict() == Verdict.FAILED ? "FAILED"
                        : "unusable";
                state.replays.add(new CheckRun.ReplayRow(src, verdict, r.steps().size(), r.checks()));
                String cmd = launcher + " replay " + shellWord(src);
                if (r.verdict() == Verdict.UNUSABLE) {
                    state.unusable++;
                    ScenarioError e = r.error();
                    state.findings.add(new Finding("replay", src, src, e.location() == null ? 0 : e.location().line(),
                            Math.max(0, e.step()), "a readable, valid scenario", "a scenario of format "
                            + org.hybridv.scenario.Scenario.FORMAT + " (docs/scenario-format.md)", e.message(),
                            List.of(launcher + " validate " + shellWord(src))));
                    continue;
                }
                for (StepReport s : r.failedSteps()) {
                    for (Check c : s.result().checks()) {
                        if (!c.holds()) {
                            state.findings.add(new Finding("replay", src, src, s.step().location() == null ? 0
                                    : s.step().location().line(), s.step().number(), c.what(), c.expected(),
                                    c.observed(), List.of(cmd)));
                        }
                    }
                }
                if (r.notRun() != null) {
                    org.hybridv.scenario.NotRun n = r.notRun();
                    state.findings.add(new Finding("replay", src, src, n.location() == null ? 0 : n.location().line(),
                            n.step(), n.op() + " runs", "the step runs", "not run (" + n.reason() + "): steps "
                            + n.step() + "-" + n.last() + " follow the divergence at step " + n.divergedAt(),
                            List.of(cmd)));
                }
            }
        }
        if (replays.isEmpty()) {
            synchronized (state) {
                state.unusable++;
                state.findings.add(new Finding("input", shown, shown, 0, 0, "scenarios to replay",
                        "at least one *.json scenario", "none found", List.of(launcher + " replay "
                        + shellWord(shown))));
            }
        }
    }

    /** How to call hybridv from the current directory: ./hybridv in the checkout, else its relative path. */
    private static String launcher(Optional<Path> home, Path cwd) {
        if (home.isEmpty()) {
            return "hybridv";
        }
        if (home.get().equals(cwd)) {
            return "./hybridv";
        }
        return shellWord(display(home.get().resolve("hybridv"), cwd));
    }

    /** {@code p} as the user can type it from {@code cwd}: relative when below or beside it, else absolute. */
    static String display(Path p, Path cwd) {
        Path abs = p.toAbsolutePath().normalize();
        try {
            Path rel = cwd.relativize(abs);
            if (!rel.toString().startsWith("../../..")) {
                return rel.toString().isEmpty() ? "." : rel.toString();
            }
        } catch (IllegalArgumentException e) {
            return abs.toString();
        }
        return abs.toString();
    }

    /** A word as a POSIX shell reads it: quoted when it holds anything but safe characters. */
    static String shellWord(String s) {
        if (!s.isEmpty() && s.matches("[A-Za-z0-9_./:=@%+,-]+")) {
            return s;
        }
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
