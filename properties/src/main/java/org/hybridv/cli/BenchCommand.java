package org.hybridv.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Optional;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.hybridv.bench.FaultTimer;
import org.hybridv.bench.Harness;
import org.hybridv.bench.Workloads;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code hybridv bench}: the performance figures on one thread — 4-level walks/s, 2-D (EPT) walks/s,
 * actions/s of the 3-domain hypervisor system with I1, I2, I6, I7 checked after every action, actions/s of the hybrid
 * kernel in lockstep with I1–I8 checked, and ({@link FaultTimer}) per fault the median time to first
 * failure. Warm-up rounds, then measured rounds; the median and the min–max spread. The layout is fixed: the numbers
 * vary from run to run, the lines do not. How each figure is measured: docs/benchmarks.md.
 */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        header = "Measure walks/s, 2-D walks/s and checked actions/s on one thread.",
        description = {"Runs each workload on one thread: warm-up rounds (not reported), then measured rounds; prints"
                + " the median rate per CPU-second of the thread and the spread (min-max) over the rounds, the median"
                + " rate per wall-clock second, and whether the performance targets are met (4-level walks >="
                + " 5,000,000/s; hypervisor actions with invariants >= 10,000/s).",
            "Deterministic workloads: the action runs are generated from a seeded stream (--seed).",
            "See docs/benchmarks.md."},
        footerHeading = "%nExamples:%n",
        footer = {"  hybridv bench", "  hybridv bench --quick", "  hybridv bench --rounds 10",
            "  hybridv bench --explore-vs-alloy",
            "  hybridv bench --explore spec/configs/bench/combined.json --max-states 100000",
            "  java -Xmx4g -jar properties/target/hybridv.jar bench --explore-set 100000000",
            "  java -Xmx4g -XX:+UseParallelGC -jar properties/target/hybridv.jar bench --explore-engine 100000000"})
final class BenchCommand implements Callable<Integer> {
    /** Performance target (docs/benchmarks.md): 4-level walks per second on one core. */
    static final double WALK_TARGET = 5_000_000;
    /** Performance target (docs/benchmarks.md): actions per second with invariants checked, 3 domains. */
    static final double ACTION_TARGET = 10_000;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--quick", description = "2 warm-up rounds and short rounds (a smoke run; noisy).")
    boolean quick;

    @CommandLine.Option(names = "--rounds", paramLabel = "N",
            description = "Measured rounds per workload (default: 5, or 3 with --quick).")
    Integer rounds;

    @CommandLine.Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "Seed of the generated action runs (default: ${DEFAULT-VALUE}).")
    long seed;

    @CommandLine.Option(names = "--campaign", description = "Only the campaign throughput: tries/s of each "
            + "property with 1 and with --workers workers, measured in one run.")
    boolean campaign;

    @CommandLine.Option(names = "--workers", paramLabel = "N", description = "Workers compared with 1 by "
            + "--campaign (default: the available processors).")
    Integer workers;

    @CommandLine.Option(names = "--explore-vs-alloy", description = "Only the explorer and Alloy side by side: for"
            + " switch_mmu and direct_paging, the Alloy command and the explorer configuration asking the closest"
            + " bounded question, on the correct model and the seeded bug, with both times (docs/explore.md).")
    boolean exploreVsAlloy;

    @CommandLine.Option(names = "--explore", paramLabel = "CONFIG", description = "Only the explorer's throughput"
            + " on an explorer configuration (e.g. spec/configs/bench/combined.json): a warm-up run, then --rounds"
            + " rounds (default 3) of 1 and --workers workers to --max-states states; wall-clock time, CPU time of the"
            + " process and of the searching thread, GC time, and the speed-up.")
    Path explore;

    @CommandLine.Option(names = "--max-states", paramLabel = "N", defaultValue = "100000",
            description = "The state bound of --explore (default: ${DEFAULT-VALUE}).")
    long maxStates;

    @CommandLine.Option(names = "--explore-set", paramLabel = "N", description = "Only the explorer's visited-state"
            + " set: N pseudo-random fingerprints inserted as the explorer inserts them (seeded by --seed); its bytes"
            + " per state and the heap it takes (run under the heap limit to be shown, e.g. java -Xmx4g).")
    Long exploreSet;

    @CommandLine.Option(names = "--explore-engine", paramLabel = "N", description = "Only the explorer's engine at"
            + " scale: a search of exactly N distinct states (the numbers below N, reached by adding powers of ten)"
            + " through the explorer with --workers workers, the levels beyond the in-memory bound rebuilt from the"
            + " trace; time, bytes per state and the heap's peak (run under the heap limit to be shown, e.g. java"
            + " -Xmx4g). Exit 0 only if the search ends exhausted with exactly N states.")
    Long exploreEngine;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        if (exploreSet != null) {
            if (exploreSet < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--explore-set must be at least 1");
            }
            org.hybridv.bench.ExploreRate.fingerprintSet(out, exploreSet, seed);
            return 0;
        }
        if (exploreEngine != null) {
            int n = workers != null ? workers : Runtime.getRuntime().availableProcessors();
            if (exploreEngine < 1 || exploreEngine > Integer.MAX_VALUE - 16 || n < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--explore-engine must be between 1 and "
                        + (Integer.MAX_VALUE - 16) + ", --workers at least 1");
            }
            return org.hybridv.bench.EngineScale.run(out, exploreEngine, n) ? 0 : 1;
        }
        if (explore != null) {
            int n = workers != null ? workers : Runtime.getRuntime().availableProcessors();
            int measured = rounds != null ? rounds : 3;
            if (n < 1 || measured < 1 || maxStates < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--workers, --rounds and --max-states"
                        + " must be at least 1");
            }
            org.hybridv.explore.ExploreConfig config;
            try {
                config = org.hybridv.explore.ExploreConfig.read(explore, explore.toString());
            } catch (org.hybridv.explore.ExploreConfig.BadConfig e) {
                spec.commandLine().getErr().println("hybridv bench: " + e.getMessage());
                return Hybridv.EXIT_UNUSABLE;
            }
            org.hybridv.bench.ExploreRate.throughput(out, config, maxStates, n, measured);
            return 0;
        }
        if (campaign) {
            return campaign(out);
        }
        if (exploreVsAlloy) {
            PrintWriter err = spec.commandLine().getErr();
            ModelsDir.Resolution where = ModelsDir.resolve(null);
            Optional<Path> home = Home.checkout();
            if (where instanceof ModelsDir.Resolution.Missing m) {
                err.println("hybridv bench: " + m.problem());
                return Hybridv.EXIT_UNUSABLE;
            }
            if (home.isEmpty()) {
                err.println("hybridv bench: --explore-vs-alloy needs a checkout (its spec/configs/)");
                return Hybridv.EXIT_UNUSABLE;
            }
            return ExploreVsAlloy.run(out, err, ((ModelsDir.Resolution.Found) where).models().dir(), home.get()
                    .resolve("spec/configs"));
        }
        int measured = rounds != null ? rounds : quick ? 3 : 5;
        if (measured < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--rounds must be at least 1");
        }
        int warmups = quick ? 2 : 3;
        long roundNanos = quick ? 200_000_000L : 1_000_000_000L;
        Harness h = new Harness(warmups, measured, roundNanos);

        out.printf(Locale.ROOT, "hybridv bench: 1 thread, %d warm-up round(s), %d measured round(s) of ~%d ms;"
                + " median per CPU-second of the thread (min–max), and per wall-clock second%n", warmups, measured,
                roundNanos / 1_000_000);
        out.printf(Locale.ROOT, "machine: %d processors, Java %s, load average %s%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), loadAverage());
        out.flush();

        Workloads.FourLevel four = new Workloads.FourLevel();
        Harness.Result walks = h.measure("4-level walks (PageWalk.walk, 4 KiB leaf)", 1,
                () -> four.walk().physical());
        print(out, walks, "walks/s");
        print(out, h.measure("4-level accesses, TLB miss (Processor.access)", 1,
                () -> four.access().machine().tlb().entries().size()), "accesses/s");
        Workloads.TwoD twoD = new Workloads.TwoD();
        print(out, h.measure("2-D walks (EPT guest read, TLB miss)", 1,
                () -> twoD.access().processor().machine().tlb().entries().size()), "walks/s");
        Workloads.HypervisorActions hv = new Workloads.HypervisorActions(seed, quick ? 100 : 300);
        Harness.Result actions = h.measure("hypervisor actions, I1 I2 I6 I7 after each (3 domains)", hv.actions,
                hv::runAll);
        print(out, actions, "actions/s");
        Workloads.HypervisorActions hv2 = new Workloads.HypervisorActions(seed, quick ? 100 : 300, 2);
        Harness.Result actions2 = h.measure("the same actions, vCPUs spread over 2 pCPUs", hv2.actions,
                hv2::runAll);
        print(out, actions2, "actions/s");
        Workloads.HybridActions hy = new Workloads.HybridActions(seed, quick ? 20 : 60);
        print(out, h.measure("hybrid lockstep actions, I1-I8 after each", hy.actions, hy::runAll), "actions/s");

        List<FaultTimer.Timing> ts = FaultTimer.medianTimeToFirstFailure(quick, seed);
        out.println("faults, median wall-clock time to first failure over " + (quick ? 3 : FaultTimer.SEEDS)
                + " seeds (" + FaultTimer.TRIES + " tries per property at most, no shrinking):");
        for (FaultTimer.Timing t : ts) {
            out.printf(Locale.ROOT, "  %-56s %8.3f s  (caught %d of %d)%n", t.fault(), t.medianSeconds(),
                    t.caught(), t.seeds());
        }
        String note = quick ? " (--quick: indicative only)" : "";
        out.printf(Locale.ROOT, "target 4-level walks >= %,.0f/s: %s%s%n", WALK_TARGET,
                walks.median() >= WALK_TARGET ? "met" : "NOT met", note);
        out.printf(Locale.ROOT, "target hypervisor actions >= %,.0f/s: %s%s%n", ACTION_TARGET,
                actions.median() >= ACTION_TARGET ? "met" : "NOT met", note);
        out.printf(Locale.ROOT, "target 2-pCPU actions >= half the 1-pCPU rate: %s (%.2f)%s%n",
                actions2.median() >= actions.median() / 2 ? "met" : "NOT met", actions2.median() / actions.median(),
                note);
        out.printf(Locale.ROOT, "target every fault caught in a median < 2 s: %s (worst median %.3f s)%s%n",
                FaultTimer.worst(ts) < 2 ? "met" : "NOT met", FaultTimer.worst(ts), note);
        out.printf(Locale.ROOT, "load average after: %s%n", loadAverage());
        if (h.sink() == 42) {
            out.println();
        }
        return 0;
    }

    /** Tries per wall-clock second of each property's campaign, 1 worker against {@code --workers}. */
    private int campaign(PrintWriter out) {
        int n = workers != null ? workers : Runtime.getRuntime().availableProcessors();
        if (n < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--workers must be at least 1");
        }
        int measured = rounds != null ? rounds : quick ? 1 : 3;
        int tries = quick ? 30 : 1000;
        out.printf(Locale.ROOT, "hybridv bench --campaign: %d tries per campaign (seed %d), %d round(s) alternating 1"
                + " and %d workers after a warm-up; median tries per wall-clock second%n", tries, seed, measured, n);
        out.printf(Locale.ROOT, "machine: %d processors, Java %s, load average %s%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), loadAverage());
        out.printf(Locale.ROOT, "%-16s %14s %14s %9s%n", "property", "1 worker", n + " workers", "speed-up");
        out.flush();
        for (org.hybridv.check.SystemProperty<?> p : org.hybridv.check.SystemProperties.all()) {
            org.hybridv.bench.CampaignRate.Row r = org.hybridv.bench.CampaignRate.measure(p, seed, tries, n, measured);
            out.printf(Locale.ROOT, "%-16s %12.1f/s %12.1f/s %8.2fx%n", r.property(), r.oneWorker(), r.nWorkers(),
                    r.speedup());
            out.flush();
        }
        out.printf(Locale.ROOT, "load average after: %s%n", loadAverage());
        return 0;
    }

    private static void print(PrintWriter out, Harness.Result r, String unit) {
        out.printf(Locale.ROOT, "%-56s %,14.0f %-10s (%,.0f–%,.0f, spread %.1f%%; wall %,.0f/s)%n", r.name(),
                r.median(), unit, r.min(), r.max(), r.spreadPercent(), r.wallMedian());
        out.flush();
    }

    static String loadAverage() {
        double l = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return l < 0 ? "unknown" : String.format(Locale.ROOT, "%.2f", l);
    }
}
