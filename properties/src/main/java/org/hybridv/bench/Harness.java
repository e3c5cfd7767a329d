package org.hybridv.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * A careful single-thread timing loop: warm-up rounds (which also calibrate how many calls a round makes, so that
 * every measured round does the same work), then measured rounds; the result is the median rate and its spread.
 * Each call of the task returns a value that is folded into {@link #sink}, so the JIT cannot drop the work.
 *
 * <p>Each round is timed twice: by the wall clock, and by the CPU time of the measuring thread
 * ({@link ThreadMXBean#getCurrentThreadCpuTime}). On a machine shared with other work the wall-clock rate drops
 * when the thread waits for a core; the CPU-time rate is the rate "on one core" and varies much less. Both are
 * reported; the CPU-time rate is the headline figure ({@link Result#median}).
 */
public final class Harness {
    /**
     * Rates of one measurement, in units per second: median, min and max over the rounds by CPU time, and the median
     * by wall-clock time.
     */
    public record Result(String name, double median, double min, double max, double wallMedian, int rounds,
            long callsPerRound) {
        /** (max - min) / median, as a percentage. */
        public double spreadPercent() {
            return median == 0 ? 0 : 100.0 * (max - min) / median;
        }
    }

    private final int warmups;
    private final int rounds;
    private final long roundNanos;
    private long sink;

    /**
     * @param warmups    warm-up rounds (not reported); at least 1
     * @param rounds     measured rounds; at least 1
     * @param roundNanos the target duration of one round
     */
    public Harness(int warmups, int rounds, long roundNanos) {
        if (warmups < 1 || rounds < 1 || roundNanos <= 0) {
            throw new IllegalArgumentException("warmups, rounds and round time must be positive");
        }
        this.warmups = warmups;
        this.rounds = rounds;
        this.roundNanos = roundNanos;
    }

    /**
     * Measures {@code task}, each call of which does {@code unitsPerCall} units of work (walks, actions).
     */
    public Result measure(String name, long unitsPerCall, LongSupplier task) {
        long calls = 1;
        for (int w = 0; w < warmups; w++) {
            // grow the call count until one round lasts about roundNanos, then keep running it to warm up
            long t = time(task, calls);
            while (t < roundNanos / 2) {
                calls = t <= 0 ? calls * 2 : Math.max(calls * 2, (long) (calls * (double) roundNanos / t));
                t = time(task, calls);
            }
        }
        double[] cpuRates = new double[rounds];
        double[] wallRates = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long cpu0 = cpuTime();
            long t = time(task, calls);
            long cpu = cpuTime() - cpu0;
            wallRates[r] = (double) calls * unitsPerCall * 1e9 / Math.max(1, t);
            cpuRates[r] = cpu0 < 0 ? wallRates[r] : (double) calls * unitsPerCall * 1e9 / Math.max(1, cpu);
        }
        Arrays.sort(cpuRates);
        Arrays.sort(wallRates);
        return new Result(name, median(cpuRates), cpuRates[0], cpuRates[rounds - 1], median(wallRates), rounds,
                calls);
    }

    private static double median(double[] sorted) {
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }

    /** The CPU time of this thread in ns, or -1 where the JVM cannot tell (then wall time stands in). */
    private static long cpuTime() {
        ThreadMXBean b = ManagementFactory.getThreadMXBean();
        return b.isCurrentThreadCpuTimeSupported() && b.isThreadCpuTimeEnabled() ? b.getCurrentThreadCpuTime() : -1;
    }

    private long time(LongSupplier task, long calls) {
        long s = 0;
        long start = System.nanoTime();
        for (long i = 0; i < calls; i++) {
            s += task.getAsLong();
        }
        long t = System.nanoTime() - start;
        sink += s;
        return t;
    }

    /** The folded results (meaningless; read so that the work is observable). */
    public long sink() {
        return sink;
    }
}
