package org.hybridv.bench.jmh;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * {@link ReplayBenchmarks}' corpus replay timed by the CPU time of the measuring thread instead of the wall clock,
 * for a machine shared with other jobs (where a wall-clock score mostly measures the load): after {@code warm-up}
 * seconds of replays, {@code rounds} rounds of {@code reps} corpus replays each; prints the CPU milliseconds per
 * corpus replay of every round and their median.
 *
 * <pre>java -cp bench/target/benchmarks.jar -Dhybridv.replay.list=FILE org.hybridv.bench.jmh.ReplayCpu [rounds] [reps] [warm-up]</pre>
 */
public final class ReplayCpu {
    private ReplayCpu() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        int warmUp = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        ReplayBenchmarks b = new ReplayBenchmarks();
        b.prepare();
        ThreadMXBean t = ManagementFactory.getThreadMXBean();
        long until = System.nanoTime() + warmUp * 1_000_000_000L;
        long sink = 0;
        while (System.nanoTime() < until) {
            sink += b.replayCorpus();
        }
        double[] ms = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long c0 = t.getCurrentThreadCpuTime();
            for (int i = 0; i < reps; i++) {
                sink += b.replayCorpus();
            }
            ms[r] = (t.getCurrentThreadCpuTime() - c0) / 1e6 / reps;
        }
        double[] sorted = ms.clone();
        Arrays.sort(sorted);
        StringBuilder s = new StringBuilder();
        for (double m : ms) {
            s.append(String.format(" %.2f", m));
        }
        System.out.printf("CPU ms per corpus replay:%s; median %.2f (steps %d)%n", s, sorted[rounds / 2], sink % 7);
    }
}
