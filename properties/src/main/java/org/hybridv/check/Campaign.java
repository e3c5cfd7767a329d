package org.hybridv.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.hybridv.gen.Choices;
import org.hybridv.gen.ListChoices;
import org.hybridv.x86.Checks;
import org.hybridv.xen.Faults;

/**
 * Runs {@link SystemProperty}s: try {@code t} of a property generates its run from
 * {@code Choices.random(seedOfTry(seed, t))}, and the first try that fails is shrunk ({@link Shrinker}) to a smaller
 * run that still violates the same invariant.
 *
 * <p><b>Scheduling.</b> The properties are interleaved try by try (try 0 of each, then try 1 of each …), so a time
 * budget is shared fairly: when it runs out every property has run about as many tries as the others, never one all
 * and the next none. With {@code workers} threads the tries run in parallel, handed out in that order by one
 * dispatcher; each property's results are folded in try order, so its first failure is always the lowest failing try
 * and its coverage counts exactly the tries up to it.
 *
 * <p><b>Determinism.</b> The same properties, seed, tries, shard and faults give the same tries, the same failures,
 * the same shrunk runs and the same coverage for any number of workers. Only a time budget ({@code deadline}) or a
 * {@link Monitor#cancel() cancellation} makes the result depend on speed: they decide when no further try starts.
 */
public final class Campaign {
    private Campaign() {}

    /** Checks the shrinker may spend on one failure. */
    public static final int SHRINK_BUDGET = 600;

    /**
     * @param seed      the campaign seed
     * @param tries     tries per property (before sharding)
     * @param shard     this job's shard (0-based) of {@code shards}: it runs the tries {@code t} with
     *                  {@code t % shards == shard}
     * @param shards    the number of shards
     * @param faults    the seeded faults injected into every run
     * @param deadline  {@link System#nanoTime()} after which no new try starts, or empty
     * @param workers   threads running tries (≥ 1)
     * @param shrink    shrink a failure (else it is reported as found)
     * @param onlyTry   run this try index alone (reproducing one reported try), or empty
     * @param fromTry   the first try index of the shard to run (resuming an interrupted campaign)
     */
    public record Config(long seed, int tries, int shard, int shards, Faults faults, Optional<Long> deadline,
            int workers, boolean shrink, OptionalInt onlyTry, int fromTry) {
        public Config {
            Checks.notNull("faults", faults);
            Checks.notNull("deadline", deadline);
            Checks.notNull("onlyTry", onlyTry);
            if (tries < 0 || shards < 1 || shard < 0 || shard >= shards || workers < 1
                    || (onlyTry.isPresent() && onlyTry.getAsInt() < 0) || fromTry < 0) {
                throw new IllegalArgumentException("tries " + tries + ", shard " + shard + "/" + shards + ", workers "
                        + workers + ", try " + onlyTry);
            }
        }

        public Config(long seed, int tries, int shard, int shards, Faults faults, Optional<Long> deadline) {
            this(seed, tries, shard, shards, faults, deadline, 1, true, OptionalInt.empty(), 0);
        }

        public static Config of(long seed, int tries, Faults faults) {
            return new Config(seed, tries, 0, 1, faults, Optional.empty());
        }

        public Config withWorkers(int n) {
            return new Config(seed, tries, shard, shards, faults, deadline, n, shrink, onlyTry, fromTry);
        }

        /** The try indices this configuration runs for each property, in order. */
        public List<Integer> tryIndices() {
            if (onlyTry.isPresent()) {
                return List.of(onlyTry.getAsInt());
            }
            List<Integer> l = new ArrayList<>();
            for (int t = shard; t < tries; t += shards) {
                if (t >= fromTry) {
                    l.add(t);
                }
            }
            return l;
        }
    }

    /** A failure: the original and the shrunk run, its violation, and what it cost to find. */
    public record Failure<R>(R original, R shrunk, Verdict.Violated violation, Verdict firstVerdict,
            List<Integer> shrunkChoices, int tryIndex, long seedOfTry, long nanosToFailure, int shrinkChecks) {}

    /**
     * What a campaign did for one property.
     *
     * @param triesRun  tries run, up to and including the first failing one
     * @param triesAsked tries this configuration asked for (after sharding)
     * @param coverage  the coverage of the tries run
     * @param stopped   a time budget or a cancellation ended it before it ran every try it was asked for
     */
    public record Result<R>(String property, int triesRun, int triesAsked, Optional<Failure<R>> failure,
            Optional<String> harnessError, long nanos, Coverage coverage, boolean stopped) {
        public boolean passed() {
            return failure.isEmpty() && harnessError.isEmpty();
        }
    }

    /** The seed of try {@code t}: a fixed mix of the campaign seed and the try index (SplitMix64's constants). */
    public static long seedOfTry(long seed, int t) {
        long z = seed + 0x9E37_79B9_7F4A_7C15L * (t + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }

    /** One property alone, on the calling thread (with {@code c.workers()} threads if more than one). */
    public static <R> Result<R> run(SystemProperty<R> p, Config c) {
        @SuppressWarnings("unchecked")
        Result<R> r = (Result<R>) runAll(List.of(p), c, new Monitor()).get(0);
        return r;
    }

    /**
     * Live counts of a running campaign, for a progress display, and its cancellation (SIGINT): after
     * {@link #cancel()} no further try starts and a shrink under way stops at the best run found so far.
     */
    public static final class Monitor {
        private volatile boolean cancelled;
        private final java.util.Map<String, AtomicInteger[]> counts = new java.util.concurrent.ConcurrentHashMap<>();
        private final java.util.Map<String, Integer> asked = new java.util.concurrent.ConcurrentHashMap<>();
        private final List<String> order = new java.util.concurrent.CopyOnWriteArrayList<>();
        private volatile long start = System.nanoTime();

        public void cancel() {
            cancelled = true;
        }

        public boolean cancelled() {
            return cancelled;
        }

        /** Starts the clock of {@link #seconds()}: the campaign begins. */
        void started() {
            start = System.nanoTime();
        }

        void register(String property, int triesAsked) {
            counts.put(property, new AtomicInteger[] {new AtomicInteger(), new AtomicInteger()});
            asked.put(property, triesAsked);
            order.add(property);
        }

        void tried(String property, boolean violated) {
            AtomicInteger[] c = counts.get(property);
            c[0].incrementAndGet();
            if (violated) {
                c[1].incrementAndGet();
            }
        }

        /** One property's progress: tries done and asked, violations seen (before shrinking). */
        public record Line(String property, int done, int asked, int violations) {}

        /** Every property's progress, in campaign order, and the seconds since the campaign started. */
        public List<Line> snapshot() {
            List<Line> l = new ArrayList<>();
            for (String p : order) {
                AtomicInteger[] c = counts.get(p);
                l.add(new Line(p, c[0].get(), asked.get(p), c[1].get()));
            }
            return l;
        }

        /** Seconds since the campaign started. */
        public double seconds() {
            return (System.nanoTime() - start) / 1e9;
        }
    }

    /** The outcome of one try: nothing, a (shrunk) failure, or a harness error. */
    public record Try<R>(Optional<Failure<R>> failure, Optional<String> harnessError) {}

    /** A try's raw outcome before shrinking, with the coverage it collected. */
    private record Raw<R>(int tryIndex, long trySeed, R run, Verdict verdict, List<Integer> taken, Coverage coverage,
            long nanos) {
        boolean fails() {
            return !verdict.holds();
        }
    }

    /** The campaign state of one property: results folded in try order. */
    private static final class Lane<R> {
        final SystemProperty<R> p;
        final List<Integer> tries;
        final TreeMap<Integer, Raw<R>> pending = new TreeMap<>();
        final Coverage coverage = new Coverage();
        int folded;
        Raw<R> failing;
        /** The lowest position of a failing try seen so far (folded or not): later tries need not run. */
        int firstFailingPosition = Integer.MAX_VALUE;
        int dispatched;

        Lane(SystemProperty<R> p, List<Integer> tries) {
            this.p = p;
            this.tries = tries;
        }

        void fold(int position, Raw<R> r) {
            pending.put(position, r);
            while (failing == null && pending.containsKey(folded)) {
                Raw<R> next = pending.remove(folded);
                folded++;
                coverage.add(next.coverage());
                if (next.fails()) {
                    failing = next;
                }
            }
        }
    }

    /**
     * Runs {@code props} under {@code c}: the tries interleaved by try index across properties, on
     * {@code c.workers()} threads, each property stopping at its first failure; then each failure shrunk. The results
     * are in the order of {@code props}.
     */
    public static List<Result<?>> runAll(List<SystemProperty<?>> props, Config c, Monitor monitor) {
        long start = System.nanoTime();
        List<Integer> tries = c.tryIndices();
        List<Lane<?>> lanes = new ArrayList<>();
        monitor.started();
        for (SystemProperty<?> p : props) {
            lanes.add(new Lane<>(p, tries));
            monitor.register(p.name(), tries.size());
        }
        Dispatcher d = new Dispatcher(lanes, tries.size(), c, monitor);
        if (c.workers() == 1) {
            d.work(start);
        } else {
            ExecutorService pool = Executors.newFixedThreadPool(c.workers(), r -> {
                Thread t = new Thread(r, "hybridv-worker");
                t.setDaemon(true);
                return t;
            });
            try {
                List<Future<?>> fs = new ArrayList<>();
                for (int i = 0; i < c.workers(); i++) {
                    fs.add(pool.submit(() -> d.work(start)));
                }
                for (Future<?> f : fs) {
                    f.get();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                monitor.cancel();
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof Error err) {
                    throw err;
                }
                throw new IllegalStateException("a campaign worker failed", cause);
            } finally {
                pool.shutdownNow();
            }
        }
        List<Result<?>> results = new ArrayList<>();
        for (Lane<?> lane : lanes) {
            results.add(result(lane, c, monitor, start, d.stoppedEarly));
        }
        return results;
    }

    /** Hands out (property, try) pairs in interleaved order; no pair starts after the deadline or a cancellation. */
    private static final class Dispatcher {
        final List<Lane<?>> lanes;
        final int perLane;
        final Config c;
        final Monitor monitor;
        int next;
        boolean stoppedEarly;

        Dispatcher(List<Lane<?>> lanes, int perLane, Config c, Monitor monitor) {
            this.lanes = lanes;
            this.perLane = perLane;
            this.c = c;
            this.monitor = monitor;
        }

        /** The next task as {lane, position}, or null when there is none left to start. */
        synchronized int[] take() {
            int total = perLane * lanes.size();
            while (next < total) {
                if (monitor.cancelled() || (c.deadline().isPresent() && System.nanoTime() > c.deadline().get())) {
                    stoppedEarly = true;
                    return null;
                }
                int lane = next % lanes.size();
                int position = next / lanes.size();
                next++;
                if (position < lanes.get(lane).firstFailingPosition) {
                    lanes.get(lane).dispatched++;
                    return new int[] {lane, position};
                }
            }
            return null;
        }

        synchronized <R> void done(Lane<R> lane, int position, Raw<R> r) {
            if (r.fails()) {
                lane.firstFailingPosition = Math.min(lane.firstFailingPosition, position);
            }
            lane.fold(position, r);
        }

        void work(long start) {
            for (int[] task = take(); task != null; task = take()) {
                runOne(lanes.get(task[0]), task[1], start);
            }
        }

        private <R> void runOne(Lane<R> lane, int position, long start) {
            int t = lane.tries.get(position);
            Raw<R> r = raw(lane.p, c.seed(), t, c.faults(), start);
            monitor.tried(lane.p.name(), r.fails());
            done(lane, position, r);
        }
    }

    private static <R> Raw<R> raw(SystemProperty<R> p, long seed, int t, Faults faults, long start) {
        long trySeed = seedOfTry(seed, t);
        RecordingChoices choices = new RecordingChoices(Choices.random(trySeed));
        R run = p.generate(choices);
        Coverage coverage = new Coverage();
        Verdict v = safeCheck(p, run, faults, coverage.sink());
        return new Raw<>(t, trySeed, run, v, choices.taken(), coverage, System.nanoTime() - start);
    }

    private static <R> Result<R> result(Lane<R> lane, Config c, Monitor monitor, long start, boolean stoppedEarly) {
        Raw<R> f = lane.failing;
        int run = lane.folded;
        boolean stopped = f == null && run < lane.tries.size() && stoppedEarly;
        if (f == null) {
            return new Result<>(lane.p.name(), run, lane.tries.size(), Optional.empty(), Optional.empty(),
                    System.nanoTime() - start, lane.coverage, stopped);
        }
        if (f.verdict() instanceof Verdict.HarnessError h) {
            return new Result<>(lane.p.name(), run, lane.tries.size(), Optional.empty(), Optional.of("try "
                    + f.tryIndex() + " (seed " + f.trySeed() + "): " + h), System.nanoTime() - start, lane.coverage,
                    false);
        }
        Verdict.Violated v = (Verdict.Violated) f.verdict();
        Failure<R> failure = c.shrink() ? shrink(lane.p, f.run(), v, f.taken(), c.faults(), f.tryIndex(),
                f.trySeed(), f.nanos(), monitor) : new Failure<>(f.run(), f.run(), v, v, f.taken(), f.tryIndex(),
                f.trySeed(), f.nanos(), 0);
        return new Result<>(lane.p.name(), run, lane.tries.size(), Optional.of(failure), Optional.empty(),
                System.nanoTime() - start, lane.coverage, false);
    }

    /**
     * Try {@code t} of {@code p} alone (the kill matrix interleaves properties try by try); a failure is shrunk if
     * {@code shrink} (else reported as found), its time measured from {@code start} ({@link System#nanoTime()}).
     */
    public static <R> Try<R> tryOnce(SystemProperty<R> p, long seed, int t, Faults faults, long start,
            boolean shrink) {
        Raw<R> r = raw(p, seed, t, faults, start);
        if (r.verdict() instanceof Verdict.HarnessError h) {
            return new Try<>(Optional.empty(), Optional.of("try " + t + " (seed " + r.trySeed() + "): " + h));
        }
        if (r.verdict() instanceof Verdict.Violated violated) {
            Failure<R> f = shrink ? shrink(p, r.run(), violated, r.taken(), faults, t, r.trySeed(), r.nanos(),
                    new Monitor()) : new Failure<>(r.run(), r.run(), violated, violated, r.taken(), t, r.trySeed(),
                    r.nanos(), 0);
            return new Try<>(Optional.of(f), Optional.empty());
        }
        return new Try<>(Optional.empty(), Optional.empty());
    }

    private static <R> Failure<R> shrink(SystemProperty<R> p, R original, Verdict.Violated v, List<Integer> taken,
            Faults faults, int t, long trySeed, long found, Monitor monitor) {
        Shrinker.Shrunk s = Shrinker.shrink(taken, list -> !monitor.cancelled() && sameInvariant(safeCheck(p,
                p.generate(new ListChoices(list)), faults, Coverage.Sink.NONE), v), SHRINK_BUDGET);
        R shrunk = p.generate(new ListChoices(s.choices()));
        Verdict.Violated sv = (Verdict.Violated) safeCheck(p, shrunk, faults, Coverage.Sink.NONE);
        return new Failure<>(original, shrunk, sv, v, s.choices(), t, trySeed, found, s.checks());
    }

    private static boolean sameInvariant(Verdict v, Verdict.Violated original) {
        return v instanceof Verdict.Violated x && x.invariant().equals(original.invariant());
    }

    /** {@code p.check}, with an exception of the reference turned into a harness error naming it. */
    static <R> Verdict safeCheck(SystemProperty<R> p, R run, Faults faults, Coverage.Sink coverage) {
        try {
            return p.check(run, faults, coverage);
        } catch (RuntimeException e) {
            return new Verdict.HarnessError(0, e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
