package org.hybridv.explore;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.hybridv.check.Verdict;

/**
 * Breadth-first, explicit-state exploration of a {@link TransitionSystem}: every state reachable within the depth
 * bound is visited once (by fingerprint), every enabled action of every visited state is taken, and the invariants are
 * checked on every new state and every transition. The first finding in the search order — by depth, then parent
 * state number, then action index — stops the search; since states are numbered in that same order, the finding and
 * its counterexample (the shortest, first in that order) do not depend on how many workers expand a level.
 *
 * <p>Parallelism: a level is expanded in blocks of {@value #BLOCK} states; within a block the workers take states in
 * any order and write each state's successors into its own slot, then one thread merges the slots in order. Block
 * boundaries do not depend on the worker count, so counts, verdicts and counterexamples are identical for any
 * number of workers.
 *
 * <p>Partial-order reduction ({@link Options#partialOrder}): a sleep-set reduction (Godefroid, <i>Partial-Order
 * Methods for the Verification of Concurrent Systems</i>, LNCS 1032, ch. 5) in a one-step form made for a
 * level-by-level search with states cached across levels. A transition may carry a {@link Footprint}; two
 * transitions from one state are independent when their footprints say so. An arrival (p, a) at a new state s of the
 * next level gives s the actions {b &lt; a : p took b, and b, a are independent at p}; s's sleep set is the union
 * over its arrivals from the level before; s does not take the actions of its sleep set. Nothing else is pruned:
 * every state is still reached at its shortest depth, and every transition put to sleep has the verdict of one the
 * search took. Proof: call (X, y) an obligation when X is reached at level L and y is enabled at X; it is met when
 * X·y is reached at a level ≤ L + 1. By induction on (L, then y downwards): if y is not asleep at X, X takes it. If it
 * is, some arrival (p, a) of X has p taking y, y &lt; a, and y, a independent at p; so Y = p·y is reached at a level
 * ≤ L, and Y·a = X·y (independence: each reads nothing the other writes, so both orders end alike). (Y, a) is an
 * obligation at a lower level, or at level L with a &gt; y: met, so X·y is reached at a level ≤ L + 1. Hence, by
 * induction on the distance, every state at distance n is reached at level n. The transition X·y put to sleep reads
 * the same as p·y (a writes nothing y reads, and y's transition invariant reads only what y reads), so its verdict is
 * p·y's, checked one level earlier. The reduction thus preserves the set of states, every invariant verdict and the
 * depth of the shortest finding; it saves transitions (steps of the reference), not states. The parent's own sleep
 * set is not inherited, as Godefroid's full sleep sets do, since with states cached across levels the inherited part
 * would need his re-exploration of a state reached again with a smaller sleep set, which a breadth-first search can
 * only do at a greater depth.
 */
public final class Explorer {
    private Explorer() {}

    /** States expanded between two merges. */
    static final int BLOCK = 256;

    /** How the search ended. */
    public enum Outcome {
        /** Every reachable state was explored; nothing was found (exit 0). */
        EXHAUSTED,
        /** An invariant does not hold, or a deadlock was found when asked (exit 1). */
        VIOLATION,
        /** The depth bound was reached with states left to expand (exit 3). */
        DEPTH_BOUND,
        /** The state bound was reached (exit 3). */
        STATE_BOUND
    }

    /**
     * The search's limits.
     *
     * @param workers   threads expanding a level (≥ 1)
     * @param maxDepth  the largest depth explored (steps from an initial state, ≥ 0)
     * @param maxStates the most distinct states kept (≥ 1)
     * @param deadlock  whether a state that enables no action is a finding
     * @param partialOrder whether the sleep-set partial-order reduction is used (transitions of independent actions
     *                  are pruned, never states: see {@link Explorer} and docs/explore.md)
     */
    public record Options(int workers, int maxDepth, long maxStates, boolean deadlock, int frontierInMemory,
            boolean partialOrder) {
        /** The most states of a level kept in memory by default ({@link #frontierInMemory}). */
        public static final int FRONTIER_IN_MEMORY = 1 << 17;

        public Options {
            if (workers < 1 || maxDepth < 0 || maxStates < 1 || maxStates > Integer.MAX_VALUE - 8
                    || frontierInMemory < 0) {
                throw new IllegalArgumentException("workers " + workers + ", depth " + maxDepth + ", states "
                        + maxStates + ", frontier in memory " + frontierInMemory);
            }
        }

        /** The options with the partial-order reduction on. */
        public Options(int workers, int maxDepth, long maxStates, boolean deadlock, int frontierInMemory) {
            this(workers, maxDepth, maxStates, deadlock, frontierInMemory, true);
        }

        /** These options with the partial-order reduction on or off. */
        public Options withPartialOrder(boolean on) {
            return new Options(workers, maxDepth, maxStates, deadlock, frontierInMemory, on);
        }

        /**
         * The options with at most {@link #FRONTIER_IN_MEMORY} states of the next level kept in memory: the others
         * are kept as their state numbers and fingerprints only, and each is rebuilt from the trace on disk (its
         * actions replayed from its initial state) when its level is expanded.
         */
        public Options(int workers, int maxDepth, long maxStates, boolean deadlock) {
            this(workers, maxDepth, maxStates, deadlock, FRONTIER_IN_MEMORY);
        }
    }

    /** A progress report: after each merged block, for a throttled printer. */
    public record Progress(int depth, long distinct, long queued, long transitions, long nanos) {}

    /**
     * A finding: the verdict, and the actions from initial state {@code initial} (an index into
     * {@link TransitionSystem#initialStates()}) that lead to it.
     *
     * @param verdict the violated invariant ({@link Verdict.Violated}), the reference's exception
     *                ({@link Verdict.HarnessError}), or a deadlock ({@link #deadlock})
     * @param deadlock whether it is a deadlock (the state after the actions enables nothing)
     */
    public record Finding(Verdict verdict, boolean deadlock, int initial, List<Integer> actions) {
        public int depth() {
            return actions.size();
        }
    }

    /**
     * What the search did.
     *
     * @param enabled      per action, how many explored states enabled it
     * @param taken        per action, how many of its transitions changed the state (not a self-loop)
     * @param newStates    per action, how many distinct states it found first
     * @param levels       distinct states first found at each depth (index = depth)
     * @param slept        enabled transitions not taken because the partial-order reduction put them to sleep
     *                     (not counted in {@code transitions}; counted in {@code enabled})
     */
    public record Result(Outcome outcome, Optional<Finding> finding, long distinct, long transitions,
            int depthReached, long queued, long invariantChecks, long[] enabled, long[] taken, long[] newStates,
            List<Long> levels, long nanos, double bytesPerState, long setBytes, long slept) {
        /** TLC's collision estimate n²/2⁶⁵ for the distinct states. */
        public double collisionProbability() {
            return FingerprintSet.collisionProbability(distinct);
        }
    }

    /** Explores {@code system} within {@code options}, reporting progress to {@code progress}. */
    public static <S> Result run(TransitionSystem<S> system, Options options, Consumer<Progress> progress)
            throws InterruptedException {
        return run(system, options, progress, (s, fp) -> { });
    }

    /**
     * {@link #run(TransitionSystem, Options, Consumer)}, showing each distinct state and its fingerprint to
     * {@code states} when it is first found, in the search order (one thread).
     */
    public static <S> Result run(TransitionSystem<S> system, Options options, Consumer<Progress> progress,
            java.util.function.ObjLongConsumer<S> states) throws InterruptedException {
        return run(system, options, progress, states, null, c -> { });
    }

    /**
     * The search between two levels: everything needed to continue it — the depth of the frontier, the visited set
     * with its trace, the frontier as state numbers (each state is rebuilt by replaying its trace from its initial
     * state), and the counters. Shared with the running search: a {@code levels} consumer must use it (write it)
     * before it returns.
     */
    public record Checkpoint(int depth, FingerprintSet seen, int[] frontier, long transitions, long checks,
            long[] enabled, long[] taken, long[] newStates, List<Long> levels, long slept, long[][] sleep) {
        /** A checkpoint without the partial-order reduction's state: nothing slept, every sleep set empty. */
        public Checkpoint(int depth, FingerprintSet seen, int[] frontier, long transitions, long checks,
                long[] enabled, long[] taken, long[] newStates, List<Long> levels) {
            this(depth, seen, frontier, transitions, checks, enabled, taken, newStates, levels, 0,
                    new long[frontier.length][]);
        }
    }

    /**
     * {@link #run(TransitionSystem, Options, Consumer, java.util.function.ObjLongConsumer)}, continuing from
     * {@code from} (null: from the initial states), and showing the search to {@code levels} at the start of each
     * level (before the bounds are checked, so the last one seen is where a run stopped by the depth bound can be
     * continued with a larger bound). A run continued from a checkpoint ends exactly as the run that wrote it would
     * have with the same options: the same states in the same numbering, counters, verdict and finding.
     *
     * @throws IllegalArgumentException if {@code from} does not belong to {@code system} (its traces do not
     *                                  replay to states of its set) or lies beyond the depth bound
     */
    public static <S> Result run(TransitionSystem<S> system, Options options, Consumer<Progress> progress,
            java.util.function.ObjLongConsumer<S> states, Checkpoint from, Consumer<Checkpoint> levelsOut)
            throws InterruptedException {
        if (from != null) {
            return resume(system, options, progress, states, from, levelsOut);
        }
        int actions = system.actionCount();
        if (actions > FingerprintSet.MAX_ACTIONS) {
            throw new IllegalArgumentException(actions + " actions; at most " + FingerprintSet.MAX_ACTIONS);
        }
        long start = System.nanoTime();
        long[] enabled = new long[actions];
        long[] taken = new long[actions];
        long[] fresh = new long[actions];
        List<Long> levels = new ArrayList<>();
        FingerprintSet seen = new FingerprintSet((int) Math.min(options.maxStates(), 1 << 12));
        long checks = 0;
        long transitions = 0;

        List<S> frontier = new ArrayList<>();
        Numbers numbers = new Numbers();
        List<S> init = system.initialStates();
        for (int i = 0; i < init.size(); i++) {
            S s = init.get(i);
            TransitionSystem.Checked c = system.checkInitial(s);
            checks += c.checks();
            if (!c.verdict().holds()) {
                Finding f = new Finding(c.verdict(), false, i, List.of());
                Result r = result(Outcome.VIOLATION, f, seen, transitions, 0, frontier.size(), checks, enabled,
                        taken, fresh, levels, start, 0);
                seen.close();
                return r;
            }
            long fp = system.fingerprint(s);
            int n = seen.add(fp, FingerprintSet.NO_PARENT, i);
            if (n >= 0) {
                states.accept(s, fp);
                frontier.add(s);
                numbers.add(n, fp);
            }
        }
        levels.add((long) seen.size());
        List<long[]> sleep = new ArrayList<>();
        for (int i = 0; i < frontier.size(); i++) {
            sleep.add(null);
        }
        return search(system, options, progress, states, levelsOut, seen, frontier, numbers, sleep, 0, transitions,
                checks, 0, enabled, taken, fresh, levels, start);
    }

    private static <S> Result resume(TransitionSystem<S> system, Options options, Consumer<Progress> progress,
            java.util.function.ObjLongConsumer<S> states, Checkpoint c, Consumer<Checkpoint> levelsOut)
            throws InterruptedException {
        long start = System.nanoTime();
        int actions = system.actionCount();
        if (c.enabled().length != actions || c.taken().length != actions || c.newStates().length != actions) {
            throw new IllegalArgumentException("the checkpoint has counters for " + c.enabled().length
                    + " actions, the system " + actions);
        }
        if (c.depth() > options.maxDepth()) {
            throw new IllegalArgumentException("the checkpoint is at depth " + c.depth() + ", beyond the depth bound "
                    + options.maxDepth());
        }
        if (c.levels().size() != c.depth() + 1) {
            throw new IllegalArgumentException("the checkpoint at depth " + c.depth() + " counts " + c.levels().size()
                    + " levels");
        }
        FingerprintSet seen = c.seen();
        if (c.sleep().length != c.frontier().length) {
            throw new IllegalArgumentException("the checkpoint has " + c.sleep().length + " sleep sets for "
                    + c.frontier().length + " frontier states");
        }
        List<S> frontier = new ArrayList<>();
        Numbers numbers = new Numbers();
        ReplayCache cache = new ReplayCache();
        for (int n : c.frontier()) {
            if (n < 0 || n >= seen.size()) {
                throw new IllegalArgumentException("the checkpoint's frontier names state " + n + " of "
                        + seen.size());
            }
            S s = replay(system, seen, n, c.depth(), "the checkpoint's ", cache);
            long fp = system.fingerprint(s);
            if (!seen.contains(fp)) {
                throw new IllegalArgumentException("the checkpoint's trace of state " + n + " replays to a state"
                        + " it never visited (another configuration, or another reference)");
            }
            frontier.add(frontier.size() < options.frontierInMemory() ? s : null);
            numbers.add(n, fp);
        }
        List<long[]> sleep = new ArrayList<>();
        for (long[] z : c.sleep()) {
            sleep.add(z == null ? null : z.clone());
        }
        return search(system, options, progress, states, levelsOut, seen, frontier, numbers, sleep, c.depth(),
                c.transitions(), c.checks(), c.slept(), c.enabled().clone(), c.taken().clone(),
                c.newStates().clone(), new ArrayList<>(c.levels()), start);
    }

    /**
     * State number {@code n} of {@code seen}, at depth {@code depth}, rebuilt by replaying its trace (read from the
     * set's trace file) from its initial state — or from the nearest ancestor that {@code cache} holds (null: none),
     * leaving every state it rebuilds there: the states of a level are expanded in the order of their numbers, so
     * their parents come in order too, and consecutive states share most of their ancestors — a rebuild then takes
     * one or two steps instead of {@code depth}. The state is the same either way (the system is pure); only the
     * work differs.
     *
     * @throws IllegalArgumentException if the trace is not a path of {@code system} of that length ({@code what}
     *                                  names whose trace it is in the message)
     */
    static <S> S replay(TransitionSystem<S> system, FingerprintSet seen, int n, int depth, String what,
            ReplayCache cache) {
        int[] path = new int[depth];
        int[] pathNumbers = new int[depth];
        int m = n;
        int length = 0;
        Object base = null;
        int baseDepth = 0;
        while (true) {
            if (cache != null && length > 0) {
                Object cached = cache.get(m, depth - length);
                if (cached != null) {
                    base = cached;
                    baseDepth = depth - length;
                    break;
                }
            }
            long entry = seen.traceEntry(m);
            int parent = FingerprintSet.parentOf(entry);
            if (parent == FingerprintSet.NO_PARENT) {
                List<S> init = system.initialStates();
                int i = FingerprintSet.actionOf(entry);
                if (length != depth || i >= init.size()) {
                    throw notAtDepth(what, n, depth);
                }
                base = init.get(i);
                break;
            }
            if (length == depth) {
                throw notAtDepth(what, n, depth);
            }
            length++;
            path[depth - length] = FingerprintSet.actionOf(entry);
            pathNumbers[depth - length] = m;
            m = parent;
        }
        @SuppressWarnings("unchecked")
        S s = (S) base;
        for (int i = baseDepth; i < depth; i++) {
            if (path[i] >= system.actionCount() || !system.enabled(s, path[i])) {
                throw new IllegalArgumentException(what + "trace of state " + n + " takes an action the state does"
                        + " not enable");
            }
            s = system.step(s, path[i], i + 1, fp -> true).state();
            if (cache != null) {
                cache.put(pathNumbers[i], i + 1, s);
            }
        }
        return s;
    }

    private static IllegalArgumentException notAtDepth(String what, int n, int depth) {
        return new IllegalArgumentException(what + "state " + n + " is not at depth " + depth
                + " from an initial state");
    }

    /**
     * Recently rebuilt states by number (direct-mapped, {@value #SLOTS} slots, each with the state's depth, so a
     * trace that does not have the length it should is still refused); one per worker thread.
     */
    static final class ReplayCache {
        static final int SLOTS = 1 << 12;
        private final int[] numbers = new int[SLOTS];
        private final int[] depths = new int[SLOTS];
        private final Object[] states = new Object[SLOTS];

        ReplayCache() {
            java.util.Arrays.fill(numbers, -1);
        }

        /** The state number {@code n} rebuilt at {@code depth}, or null. */
        Object get(int n, int depth) {
            int i = n & (SLOTS - 1);
            return numbers[i] == n && depths[i] == depth ? states[i] : null;
        }

        void put(int n, int depth, Object s) {
            int i = n & (SLOTS - 1);
            numbers[i] = n;
            depths[i] = depth;
            states[i] = s;
        }
    }

    /** A level's state numbers and fingerprints, in primitive arrays (12 bytes a state). */
    static final class Numbers {
        private int[] numbers = new int[16];
        private long[] prints = new long[16];
        private int size;

        void add(int number, long print) {
            if (size == numbers.length) {
                int n = (int) Math.min(Integer.MAX_VALUE - 8L, size * 2L);
                numbers = java.util.Arrays.copyOf(numbers, n);
                prints = java.util.Arrays.copyOf(prints, n);
            }
            numbers[size] = number;
            prints[size++] = print;
        }

        int number(int i) {
            return numbers[i];
        }

        long print(int i) {
            return prints[i];
        }

        int size() {
            return size;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(numbers, size);
        }
    }

    /** The transition an expansion reports for an enabled action it did not take: asleep. */
    @SuppressWarnings("rawtypes")
    private static final TransitionSystem.Transition SLEPT = new TransitionSystem.Transition<>(null, 0, Verdict.HOLDS,
            0);

    private static <S> Result search(TransitionSystem<S> system, Options options, Consumer<Progress> progress,
            java.util.function.ObjLongConsumer<S> states, Consumer<Checkpoint> levelsOut, FingerprintSet seen,
            List<S> frontier, Numbers numbers, List<long[]> sleep, int startDepth, long transitions,
            long checks, long slept, long[] enabled, long[] taken, long[] fresh, List<Long> levels, long start)
            throws InterruptedException {
        int actions = system.actionCount();
        boolean por = options.partialOrder();
        ExecutorService pool = options.workers() > 1 ? Executors.newFixedThreadPool(options.workers(), r -> {
            Thread t = new Thread(r, "hybridv-explore");
            t.setDaemon(true);
            return t;
        }) : null;
        // per worker thread, the states it rebuilt last (the frontier's states beyond the in-memory bound)
        ThreadLocal<ReplayCache> caches = ThreadLocal.withInitial(ReplayCache::new);
        try {
            int depth = startDepth;
            while (!frontier.isEmpty()) {
                levelsOut.accept(new Checkpoint(depth, seen, numbers.toArray(), transitions, checks, enabled.clone(),
                        taken.clone(), fresh.clone(), List.copyOf(levels), slept, sleep.toArray(new long[0][])));
                if (seen.size() >= options.maxStates()) {
                    return result(Outcome.STATE_BOUND, null, seen, transitions, depth, frontier.size(), checks,
                            enabled, taken, fresh, levels, start, slept);
                }
                if (depth == options.maxDepth()) {
                    return result(Outcome.DEPTH_BOUND, null, seen, transitions, depth, frontier.size(), checks,
                            enabled, taken, fresh, levels, start, slept);
                }
                List<S> next = new ArrayList<>();
                Numbers nextNumbers = new Numbers();
                List<long[]> nextSleep = new ArrayList<>();
                // the next level's states by fingerprint (their index in it), for the sleep sets of later arrivals
                LevelIndex nextIndex = por ? new LevelIndex() : null;
                int levelStart = seen.size();
                for (int from = 0; from < frontier.size(); from += BLOCK) {
                    int to = Math.min(frontier.size(), from + BLOCK);
                    List<List<TransitionSystem.Transition<S>>> out = expand(system, frontier, numbers, sleep, from,
                            to, depth, seen, pool, options.workers(), caches);
                    for (int i = from; i < to; i++) {
                        List<TransitionSystem.Transition<S>> succ = out.get(i - from);
                        boolean any = false;
                        for (int a = 0; a < actions; a++) {
                            TransitionSystem.Transition<S> t = succ.get(a);
                            if (t == null) {
                                continue;
                            }
                            any = true;
                            enabled[a]++;
                            if (t == SLEPT) {
                                slept++;
                                continue;
                            }
                            if (t.fingerprint() != numbers.print(i)) {
                                taken[a]++;
                            }
                            transitions++;
                            checks += t.checks();
                            if (!t.verdict().holds()) {
                                Finding f = finding(seen, numbers.number(i), a, t.verdict(), false);
                                return result(Outcome.VIOLATION, f, seen, transitions, depth + 1,
                                        frontier.size() - i - 1 + next.size(), checks, enabled, taken, fresh,
                                        levels, start, slept);
                            }
                            int n = seen.add(t.fingerprint(), numbers.number(i), a);
                            if (n >= 0) {
                                states.accept(t.state(), t.fingerprint());
                                fresh[a]++;
                                // beyond the bound only the number is kept: the state is rebuilt when expanded
                                next.add(next.size() < options.frontierInMemory() ? t.state() : null);
                                nextNumbers.add(n, t.fingerprint());
                                if (por) {
                                    nextIndex.put(t.fingerprint(), nextSleep.size());
                                    nextSleep.add(sleepAfter(succ, a));
                                }
                                if (seen.size() >= options.maxStates()) {
                                    levels.add((long) (seen.size() - levelStart));
                                    return result(Outcome.STATE_BOUND, null, seen, transitions, depth + 1,
                                            frontier.size() - i - 1 + next.size(), checks, enabled, taken, fresh,
                                            levels, start, slept);
                                }
                            } else if (por) {
                                int k = nextIndex.get(t.fingerprint());
                                if (k >= 0) {
                                    // another arrival from this level: the sleep set is the union
                                    nextSleep.set(k, union(nextSleep.get(k), sleepAfter(succ, a)));
                                }
                            }
                        }
                        if (!any && options.deadlock()) {
                            Finding f = finding(seen, numbers.number(i), -1, new Verdict.Violated("deadlock",
                                    "deadlock", depth, "no action of the alphabet is enabled"), true);
                            return result(Outcome.VIOLATION, f, seen, transitions, depth, frontier.size() - i - 1
                                    + next.size(), checks, enabled, taken, fresh, levels, start, slept);
                        }
                    }
                    progress.accept(new Progress(depth, seen.size(), frontier.size() - to + next.size(), transitions,
                            System.nanoTime() - start));
                }
                levels.add((long) (seen.size() - levelStart));
                frontier = next;
                numbers = nextNumbers;
                sleep = por ? nextSleep : emptySleepSets(next.size());
                depth++;
            }
            return result(Outcome.EXHAUSTED, null, seen, transitions, depth - 1 < 0 ? 0 : depth - 1, 0, checks,
                    enabled, taken, fresh, levels, start, slept);
        } finally {
            if (pool != null) {
                pool.shutdownNow();
            }
            // the trace file: the counterexample and the checkpoints were taken from it above
            seen.close();
        }
    }

    private static List<long[]> emptySleepSets(int n) {
        List<long[]> l = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            l.add(null);
        }
        return l;
    }

    /**
     * The sleep set a successor inherits from its parent through action {@code a}, {@code succ} being the parent's
     * transitions (null: not enabled; {@link #SLEPT}: asleep there): the actions before {@code a} that the parent
     * took and that are independent of {@code a} there ({@link Footprint#independent}). Null for the empty set. The
     * parent's own sleep set is not inherited (see the class comment: the one-step sleep set).
     */
    private static <S> long[] sleepAfter(List<TransitionSystem.Transition<S>> succ, int a) {
        Footprint fa = succ.get(a).footprint();
        if (fa == null) {
            return null;
        }
        long[] z = null;
        for (int b = 0; b < a; b++) {
            TransitionSystem.Transition<S> t = succ.get(b);
            if (t != null && t != SLEPT && Footprint.independent(t.footprint(), fa)) {
                if (z == null) {
                    z = new long[(succ.size() + 63) >>> 6];
                }
                z[b >>> 6] |= 1L << (b & 63);
            }
        }
        return z;
    }

    private static long[] union(long[] x, long[] y) {
        if (x == null) {
            return y;
        }
        if (y == null) {
            return x;
        }
        long[] z = new long[x.length];
        for (int i = 0; i < x.length; i++) {
            z[i] = x[i] | y[i];
        }
        return z;
    }

    private static boolean asleep(long[] z, int a) {
        return z != null && (z[a >>> 6] & (1L << (a & 63))) != 0;
    }

    /**
     * The successors of each state {@code from} … {@code to - 1} of the level at {@code depth} (null for an action it
     * does not enable, {@link #SLEPT} for one in its sleep set), in the level's order; a state not kept in memory
     * (null in {@code frontier}) is first rebuilt from its trace.
     */
    @SuppressWarnings("unchecked")
    private static <S> List<List<TransitionSystem.Transition<S>>> expand(TransitionSystem<S> system, List<S> frontier,
            Numbers numbers, List<long[]> sleep, int from, int to, int depth, FingerprintSet seen,
            ExecutorService pool, int workers, ThreadLocal<ReplayCache> caches) throws InterruptedException {
        int actions = system.actionCount();
        int count = to - from;
        List<TransitionSystem.Transition<S>>[] out = new List[count];
        AtomicInteger nextIndex = new AtomicInteger();
        Runnable work = () -> {
            for (int i = nextIndex.getAndIncrement(); i < count; i = nextIndex.getAndIncrement()) {
                S s = frontier.get(from + i);
                if (s == null) {
                    s = replay(system, seen, numbers.number(from + i), depth, "the frontier's ", caches.get());
                }
                long[] z = sleep.get(from + i);
                List<TransitionSystem.Transition<S>> succ = new ArrayList<>(actions);
                for (int a = 0; a < actions; a++) {
                    succ.add(!system.enabled(s, a) ? null : asleep(z, a) ? (TransitionSystem.Transition<S>) SLEPT
                            : system.step(s, a, depth + 1, seen::contains));
                }
                out[i] = succ;
            }
        };
        if (pool == null) {
            work.run();
        } else {
            List<Future<?>> fs = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                fs.add(pool.submit(work));
            }
            for (Future<?> f : fs) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof RuntimeException r) {
                        throw r;
                    }
                    if (c instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(c);
                }
            }
        }
        return List.of(out);
    }

    /** The finding at state {@code parent} then {@code action} (-1: the state itself), with its path. */
    private static Finding finding(FingerprintSet seen, int parent, int action, Verdict v, boolean deadlock) {
        List<Integer> path = new ArrayList<>();
        if (action >= 0) {
            path.add(action);
        }
        int n = parent;
        while (seen.parent(n) != FingerprintSet.NO_PARENT) {
            path.add(seen.action(n));
            n = seen.parent(n);
        }
        java.util.Collections.reverse(path);
        return new Finding(v, deadlock, seen.action(n), List.copyOf(path));
    }

    private static Result result(Outcome o, Finding f, FingerprintSet seen, long transitions, int depth, long queued,
            long checks, long[] enabled, long[] taken, long[] fresh, List<Long> levels, long start, long slept) {
        return new Result(o, Optional.ofNullable(f), seen.size(), transitions, depth, queued, checks,
                enabled.clone(), taken.clone(), fresh.clone(), List.copyOf(levels), System.nanoTime() - start,
                seen.bytesPerState(), seen.bytes(), slept);
    }
}
