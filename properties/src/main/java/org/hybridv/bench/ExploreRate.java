package org.hybridv.bench;

import java.io.PrintWriter;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;
import org.hybridv.explore.ExploreConfig;
import org.hybridv.explore.ExploredSystem;
import org.hybridv.explore.Explorer;
import org.hybridv.explore.FingerprintSet;
import org.hybridv.xen.Faults;

/**
 * The explorer's throughput and memory, measured in one JVM (docs/benchmarks.md): {@link #throughput} runs an
 * exploration to a state bound, first once to warm the JIT, then alternating 1 and N workers, and reports per run the
 * wall-clock time, the CPU time of the whole process (every thread: the search, the garbage collector, the JIT) and,
 * with one worker, of the searching thread alone; {@link #fingerprintSet} inserts n pseudo-random fingerprints into
 * a {@link FingerprintSet} as the explorer does and reports its bytes per state and the heap it takes.
 */
public final class ExploreRate {
    private ExploreRate() {}

    /** One measured exploration. */
    public record Run(int workers, long distinct, long transitions, double wallSeconds, double processCpuSeconds,
            double threadCpuSeconds, double gcSeconds, String load) {
        double perWall() {
            return distinct / wallSeconds;
        }

        double perProcessCpu() {
            return distinct / processCpuSeconds;
        }
    }

    /**
     * Explores {@code config} (its own depth bound, no faults, its symmetry declaration used) to {@code maxStates}
     * distinct states: one warm-up run with one worker, then {@code rounds} rounds of one run with one worker and one
     * with {@code workers}, printed as they end; the medians and the speed-up at the end.
     */
    public static List<Run> throughput(PrintWriter out, ExploreConfig config, long maxStates, int workers,
            int rounds) throws InterruptedException {
        @SuppressWarnings("unchecked")
        ExploredSystem<Object> system = (ExploredSystem<Object>) ExploredSystem.of(config, Faults.NONE, true);
        out.printf(Locale.ROOT, "hybridv bench --explore %s: to %,d distinct states, 1 warm-up run (1 worker), then %d"
                + " round(s) of 1 and %d workers%n", config.name(), maxStates, rounds, workers);
        out.printf(Locale.ROOT, "machine: %d processors, Java %s, max heap %,d MiB, load average %s%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
                Runtime.getRuntime().maxMemory() >> 20, load());
        out.flush();
        Run warm = once(system, config, maxStates, 1);
        print(out, "warm-up", warm);
        List<Run> runs = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            for (int w : workers == 1 ? new int[] {1} : new int[] {1, workers}) {
                Run run = once(system, config, maxStates, w);
                if (run.distinct() != warm.distinct() || run.transitions() != warm.transitions()) {
                    throw new IllegalStateException("run with " + w + " workers found " + run.distinct()
                            + " states and " + run.transitions() + " transitions, the warm-up " + warm.distinct()
                            + " and " + warm.transitions());
                }
                print(out, "round " + (r + 1), run);
                runs.add(run);
            }
        }
        double one = median(runs, 1, Run::perWall);
        out.printf(Locale.ROOT, "median, 1 worker: %,.0f states per wall-clock second, %,.0f per process CPU-second,"
                + " %,.0f per CPU-second of the searching thread%n", one, median(runs, 1, Run::perProcessCpu),
                median(runs, 1, x -> x.distinct() / x.threadCpuSeconds()));
        if (workers > 1) {
            double n = median(runs, workers, Run::perWall);
            out.printf(Locale.ROOT, "median, %d workers: %,.0f states per wall-clock second, %,.0f per process"
                    + " CPU-second; speed-up over 1 worker (wall clock) %.2fx%n", workers, n,
                    median(runs, workers, Run::perProcessCpu), n / one);
        }
        machines(out, system, config, maxStates);
        out.printf(Locale.ROOT, "load average after: %s%n", load());
        out.flush();
        return runs;
    }

    /**
     * The heap the machines themselves take: one more exploration (1 worker) keeping every distinct state it finds;
     * the heap in use after a collection, less the heap in use before, over the states kept (what they share with
     * each other — unchanged frames, domains, maps — counted once, as it is in a level kept in memory).
     */
    private static void machines(PrintWriter out, ExploredSystem<Object> system, ExploreConfig config,
            long maxStates) throws InterruptedException {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        List<Object> kept = new ArrayList<>();
        System.gc();
        long before = memory.getHeapMemoryUsage().getUsed();
        Explorer.run(system, new Explorer.Options(1, config.depth(), maxStates, false), p -> { },
                (s, fp) -> kept.add(s));
        System.gc();
        long after = memory.getHeapMemoryUsage().getUsed();
        out.printf(Locale.ROOT, "machines kept: all %,d distinct states of a run, %,d MiB of heap after a collection"
                + " (%,d bytes per state, what they share counted once)%n", kept.size(), (after - before) >> 20,
                kept.isEmpty() ? 0 : (after - before) / kept.size());
        out.flush();
        kept.clear();
    }

    private static Run once(ExploredSystem<Object> system, ExploreConfig config, long maxStates, int workers)
            throws InterruptedException {
        System.gc();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        LongSupplier processCpu = processCpu();
        long gc0 = gcMillis();
        long cpu0 = processCpu.getAsLong();
        long thread0 = threads.getCurrentThreadCpuTime();
        long t0 = System.nanoTime();
        Explorer.Result r = Explorer.run(system, new Explorer.Options(workers, config.depth(), maxStates, false),
                p -> { });
        long wall = System.nanoTime() - t0;
        long thread = threads.getCurrentThreadCpuTime() - thread0;
        long cpu = processCpu.getAsLong() - cpu0;
        long gc = gcMillis() - gc0;
        return new Run(workers, r.distinct(), r.transitions(), wall / 1e9, cpu / 1e9, thread / 1e9, gc / 1e3,
                load());
    }

    private static void print(PrintWriter out, String what, Run r) {
        out.printf(Locale.ROOT, "%-8s %d worker(s): %,d states, %,d transitions in %.2f s wall (%,.0f states/s),"
                + " process CPU %.2f s (%,.0f states/CPU-s), searching thread CPU %.2f s%s, GC %.2f s, load %s%n",
                what, r.workers(), r.distinct(), r.transitions(), r.wallSeconds(), r.perWall(), r.processCpuSeconds(),
                r.perProcessCpu(), r.threadCpuSeconds(), r.workers() == 1 ? String.format(Locale.ROOT,
                        " (%,.0f states/CPU-s)", r.distinct() / r.threadCpuSeconds()) : " (the merging thread)",
                r.gcSeconds(), r.load());
        out.flush();
    }

    private static double median(List<Run> runs, int workers, java.util.function.ToDoubleFunction<Run> f) {
        double[] xs = runs.stream().filter(r -> r.workers() == workers).mapToDouble(f).sorted().toArray();
        return xs.length == 0 ? Double.NaN : xs.length % 2 == 1 ? xs[xs.length / 2]
                : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2;
    }

    /**
     * Inserts {@code n} distinct pseudo-random fingerprints (seeded: the same run every time) into a
     * {@link FingerprintSet} started as the explorer starts it, each with a parent and an action as the explorer
     * records them (the trace goes to its temporary file); prints progress every tenth, then the set's table bytes,
     * its bytes per state, the trace's bytes on disk, the heap in use after a collection and the peak heap.
     */
    public static void fingerprintSet(PrintWriter out, long n, long seed) {
        if (n < 1 || n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("--explore-set " + n + ": between 1 and " + (Integer.MAX_VALUE - 16));
        }
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        out.printf(Locale.ROOT, "hybridv bench --explore-set %,d: max heap %,d MiB, load average %s%n", n,
                Runtime.getRuntime().maxMemory() >> 20, load());
        out.flush();
        System.gc();
        long before = memory.getHeapMemoryUsage().getUsed();
        ManagementFactory.getMemoryPoolMXBeans().forEach(MemoryPoolMXBean::resetPeakUsage);
        SplittableRandom random = new SplittableRandom(seed);
        long t0 = System.nanoTime();
        try (FingerprintSet set = new FingerprintSet((int) Math.min(n, 1 << 12))) {
            long tenth = Math.max(1, n / 10);
            while (set.size() < n) {
                long fp = random.nextLong();
                if (fp == 0) {
                    continue;
                }
                int size = set.size();
                set.add(fp, size == 0 ? FingerprintSet.NO_PARENT : (int) ((fp >>> 1) % size), (int) (fp & 0x1f));
                if (set.size() > size && set.size() % tenth == 0) {
                    out.printf(Locale.ROOT, "  %,d states, %.1f s, table %,d MiB%n", set.size(),
                            (System.nanoTime() - t0) / 1e9, set.bytes() >> 20);
                    out.flush();
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.gc();
            long after = memory.getHeapMemoryUsage().getUsed();
            long peak = 0;
            for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
                if (p.getType() == java.lang.management.MemoryType.HEAP) {
                    peak += p.getPeakUsage().getUsed();
                }
            }
            out.printf(Locale.ROOT, "%,d distinct states inserted in %.1f s; table %,d bytes = %.2f bytes per state;"
                    + " trace on disk %,d bytes (%d per state)%n", (long) set.size(), seconds, set.bytes(),
                    set.bytesPerState(), set.traceBytes(), set.traceBytes() / set.size());
            out.printf(Locale.ROOT, "heap in use after a collection: %,d MiB (%,d MiB before the set); sum of the heap"
                    + " pools' peaks: %,d MiB; max heap %,d MiB%n", after >> 20, before >> 20, peak >> 20,
                    Runtime.getRuntime().maxMemory() >> 20);
            out.printf(Locale.ROOT, "load average after: %s%n", load());
            out.flush();
        }
    }

    private static LongSupplier processCpu() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun::getProcessCpuTime;
        }
        return () -> 0;
    }

    private static long gcMillis() {
        long t = 0;
        for (GarbageCollectorMXBean g : ManagementFactory.getGarbageCollectorMXBeans()) {
            t += Math.max(0, g.getCollectionTime());
        }
        return t;
    }

    static String load() {
        double l = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return l < 0 ? "unknown" : String.format(Locale.ROOT, "%.2f", l);
    }
}
