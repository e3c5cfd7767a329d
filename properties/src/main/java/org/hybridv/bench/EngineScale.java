package org.hybridv.bench;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongPredicate;
import org.hybridv.check.Verdict;
import org.hybridv.explore.Explorer;
import org.hybridv.explore.TransitionSystem;

/**
 * The explorer's engine at scale (docs/benchmarks.md): a breadth-first search of exactly {@code n} distinct states
 * through {@link Explorer} itself — the visited set, the level's numbers and fingerprints, the frontier beyond the
 * in-memory bound rebuilt from the trace on disk, the parallel expansion and the ordered merge — with a transition
 * system whose states cost almost nothing to compute, so that a run of 10⁸ states takes minutes and measures what
 * the engine holds, not the reference's speed. The system ({@link Counting}) is the numbers 0 … n−1 reached from 0
 * by adding a power of ten: every number is reachable (its digits say how), its depth is its digit sum, and its
 * fingerprint is a bijection of the number, so the search must end exhausted with exactly n distinct states and no
 * fingerprint collision; the run checks both and says so.
 */
public final class EngineScale {
    private EngineScale() {}

    /**
     * The numbers 0 … n−1; action i adds 10^i when the sum stays below n; one invariant (the number is below n),
     * checked on every new state.
     */
    public static final class Counting implements TransitionSystem<Long> {
        private final long n;
        private final long[] powers;

        public Counting(long n) {
            if (n < 1) {
                throw new IllegalArgumentException("n " + n + " < 1");
            }
            this.n = n;
            List<Long> p = new ArrayList<>();
            for (long x = 1; x < n; x = x * 10) {
                p.add(x);
                if (x > Long.MAX_VALUE / 10) {
                    break;
                }
            }
            powers = p.stream().mapToLong(Long::longValue).toArray();
        }

        @Override
        public List<Long> initialStates() {
            return List.of(0L);
        }

        @Override
        public int actionCount() {
            return powers.length;
        }

        @Override
        public String actionName(int a) {
            return "add 10^" + a;
        }

        @Override
        public boolean enabled(Long s, int a) {
            return s + powers[a] < n;
        }

        @Override
        public long fingerprint(Long s) {
            return mix(s + 1);
        }

        @Override
        public Checked checkInitial(Long s) {
            return new Checked(below(s, 0), 1);
        }

        @Override
        public Transition<Long> step(Long s, int a, int depth, LongPredicate known) {
            long t = s + powers[a];
            long fp = mix(t + 1);
            return known.test(fp) ? new Transition<>(t, fp, Verdict.HOLDS, 0)
                    : new Transition<>(t, fp, below(t, depth), 1);
        }

        private Verdict below(long s, int depth) {
            return s >= 0 && s < n ? Verdict.HOLDS : new Verdict.Violated("range", "none", depth, s + " not below "
                    + n);
        }

        /** The largest digit sum of a number below n: the depth at which the search ends. */
        public int diameter() {
            int best = 0;
            // the largest digit sum below n: n-1 itself, or a prefix of it lowered by one followed by nines
            String digits = Long.toString(n - 1);
            int prefix = 0;
            for (int i = 0; i < digits.length(); i++) {
                int d = digits.charAt(i) - '0';
                if (d > 0) {
                    best = Math.max(best, prefix + d - 1 + 9 * (digits.length() - 1 - i));
                }
                prefix += d;
            }
            return Math.max(best, prefix);
        }
    }

    /**
     * MurmurHash3's 64-bit finaliser: a bijection of the 64-bit words, so distinct numbers have distinct
     * fingerprints; 0 only for 0, which {@link Counting#fingerprint} never passes.
     */
    static long mix(long x) {
        x ^= x >>> 33;
        x *= 0xff51afd7ed558ccdL;
        x ^= x >>> 33;
        x *= 0xc4ceb9fe1a85ec53L;
        x ^= x >>> 33;
        return x;
    }

    /**
     * Searches {@link Counting}({@code n}) with {@code workers} workers and the explorer's default in-memory bound;
     * prints progress every tenth of the states, then the outcome, the time, the set's bytes per state, the trace on
     * disk and the heap (in use after a collection, and the sum of the heap pools' peaks); returns whether the search
     * ended as it must (exhausted, exactly {@code n} states, depth the largest digit sum).
     */
    public static boolean run(PrintWriter out, long n, int workers) throws InterruptedException {
        Counting system = new Counting(n);
        out.printf(Locale.ROOT, "hybridv bench --explore-engine %,d: %d worker(s), max heap %,d MiB, load average %s%n",
                n, workers, Runtime.getRuntime().maxMemory() >> 20, ExploreRate.load());
        out.printf(Locale.ROOT, "  the numbers 0..%,d from 0 by adding powers of ten (%d actions); the levels beyond"
                + " %,d states rebuilt from the trace%n", n - 1, system.actionCount(),
                Explorer.Options.FRONTIER_IN_MEMORY);
        out.flush();
        System.gc();
        ManagementFactory.getMemoryPoolMXBeans().forEach(MemoryPoolMXBean::resetPeakUsage);
        long tenth = Math.max(1, n / 10);
        long[] nextReport = {tenth};
        long t0 = System.nanoTime();
        Explorer.Result r = Explorer.run(system, new Explorer.Options(workers, Integer.MAX_VALUE - 1,
                Math.min(Integer.MAX_VALUE - 8L, n + 1), false), p -> {
                    if (p.distinct() >= nextReport[0]) {
                        nextReport[0] += tenth;
                        out.printf(Locale.ROOT, "  %,d states, depth %d, %,d queued, %.1f s%n", p.distinct(),
                                p.depth(), p.queued(), (System.nanoTime() - t0) / 1e9);
                        out.flush();
                    }
                });
        double seconds = (System.nanoTime() - t0) / 1e9;
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == java.lang.management.MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        System.gc();
        long after = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long largest = r.levels().stream().mapToLong(Long::longValue).max().orElse(0);
        long spilled = r.levels().stream().mapToLong(l -> Math.max(0, l - Explorer.Options.FRONTIER_IN_MEMORY))
                .sum();
        boolean ok = r.outcome() == Explorer.Outcome.EXHAUSTED && r.distinct() == n
                && r.depthReached() == system.diameter();
        out.printf(Locale.ROOT, "%s: %,d distinct states (expected %,d), %,d transitions, depth %d (expected %d), in"
                + " %.1f s (%,.0f states/s)%n", r.outcome(), r.distinct(), n, r.transitions(), r.depthReached(),
                system.diameter(), seconds, r.distinct() / seconds);
        out.printf(Locale.ROOT, "largest level %,d states; %,d states (%.0f %%) beyond the in-memory bound, rebuilt from"
                + " the trace%n", largest, spilled, 100.0 * spilled / Math.max(1, r.distinct()));
        out.printf(Locale.ROOT, "visited set %,d bytes = %.2f bytes per state; trace on disk %,d bytes%n", r.setBytes(),
                r.bytesPerState(), 6L * r.distinct());
        out.printf(Locale.ROOT, "heap: sum of the heap pools' peaks %,d MiB; in use after the search and a collection"
                + " %,d MiB; max heap %,d MiB%n", peak >> 20, after >> 20, Runtime.getRuntime().maxMemory() >> 20);
        out.printf(Locale.ROOT, "%s; load average after: %s%n", ok ? "as it must end: exhausted, every number once"
                : "NOT as it must end (see above)", ExploreRate.load());
        out.flush();
        return ok;
    }
}
