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
     */
    public record Options(int workers, int maxDepth, long maxStates, boolean deadlock, int frontierInMemory) {
        /** The most states of a level kept in memory by default ({@link #frontierInMemory}). */
        public static final int FRONTIER_IN_MEMORY = 1 << 17;

        public Options {
            if (workers < 1 || maxDepth < 0 || maxStates < 1 || maxStates > Integer.MAX_VALUE - 8
                    || frontierInMemory < 0) {
                throw new IllegalArgumentException("workers " + workers + ", depth " + maxDepth + ", states "
                        + maxStates + ", frontier in memory " + frontierInMemory);
            }
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
     */
    public record Result(Outcome outcome, Optional<Finding> finding, long distinct, long transitions,
            int depthReached, long queued, long invariantChecks, long[] enabled, long[] taken, long[] newStates,
            List<Long> levels, long nanos, double bytesPerState, long setBytes) {
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
            long[] enabled, long[] taken, long[] newStates, List<Long> levels) {}

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
                        taken, fresh, levels, start);
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
        return search(system, options, progress, states, levelsOut, seen, frontier, numbers, 0, transitions,
                checks, enabled, taken, fresh, levels, start);
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
        List<S> init = system.initialStates();
        List<S> frontier = new ArrayList<>();
        Numbers numbers = new Numbers();
        for (int n : c.frontier()) {
            if (n < 0 || n >= seen.size()) {
                throw new IllegalArgumentException("the checkpoint's frontier names state " + n + " of "
                        + seen.size());
            }
            S s = replay(system, seen, n, c.depth(), "the checkpoint's ");
            long fp = system.fingerprint(s);
            if (!seen.contains(fp)) {
                throw new IllegalArgumentException("the checkpoint's trace of state " + n + " replays to a state"
                        + " it never visited (another configuration, or another reference)");
            }
            frontier.add(frontier.size() < options.frontierInMemory() ? s : null);
            numbers.add(n, fp);
        }
        return search(system, options, progress, states, levelsOut, seen, frontier, numbers, c.depth(),
                c.transitions(), c.checks(), c.enabled().clone(), c.taken().clone(), c.newStates().clone(),
                new ArrayList<>(c.levels()), start);
    }

    /**
     * State number {@code n} of {@code seen}, at depth {@code depth}, rebuilt by replaying its trace (read from the
     * set's trace file) from its initial state.
     *
     * @throws IllegalArgumentException if the trace is not a path of {@code system} of that length ({@code what}
     *                                  names whose trace it is in the message)
     */
    static <S> S replay(TransitionSystem<S> system, FingerprintSet seen, int n, int depth, String what) {
        int[] path = new int[depth];
        int m = n;
        int length = 0;
        while (seen.parent(m) != FingerprintSet.NO_PARENT) {
            if (length == depth) {
                length++;
                break;
            }
            path[depth - 1 - length++] = seen.action(m);
            m = seen.parent(m);
        }
        List<S> init = system.initialStates();
        if (length != depth || seen.action(m) >= init.size()) {
            throw new IllegalArgumentException(what + "state " + n + " is not at depth " + depth
                    + " from an initial state");
        }
        S s = init.get(seen.action(m));
        for (int i = 0; i < depth; i++) {
            if (path[i] >= system.actionCount() || !system.enabled(s, path[i])) {
                throw new IllegalArgumentException(what + "trace of state " + n + " takes an action the state does"
                        + " not enable");
            }
            s = system.step(s, path[i], i + 1, fp -> true).state();
        }
        return s;
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

    private static <S> Result search(TransitionSystem<S> system, Options options, Consumer<Progress> progress,
            java.util.function.ObjLongConsumer<S> states, Consumer<Checkpoint> levelsOut, FingerprintSet seen,
            List<S> frontier, Numbers numbers, int startDepth, long transitions,
            long checks, long[] enabled, long[] taken, long[] fresh, List<Long> levels, long start)
            throws InterruptedException {
        int actions = system.actionCount();
        ExecutorService pool = options.workers() > 1 ? Executors.newFixedThreadPool(options.workers(), r -> {
            Thread t = new Thread(r, "hybridv-explore");
            t.setDaemon(true);
            return t;
        }) : null;
        try {
            int depth = startDepth;
            while (!frontier.isEmpty()) {
                levelsOut.accept(new Checkpoint(depth, seen, numbers.toArray(),
                        transitions, checks, enabled.clone(), taken.clone(), fresh.clone(), List.copyOf(levels)));
                if (seen.size() >= options.maxStates()) {
                    return result(Outcome.STATE_BOUND, null, seen, transitions, depth, frontier.size(), checks,
                            enabled, taken, fresh, levels, start);
                }
                if (depth == options.maxDepth()) {
                    return result(Outcome.DEPTH_BOUND, null, seen, transitions, depth, frontier.size(), checks,
                            enabled, taken, fresh, levels, start);
                }
                List<S> next = new ArrayList<>();
                Numbers nextNumbers = new Numbers();
                int levelStart = seen.size();
                for (int from = 0; from < frontier.size(); from += BLOCK) {
                    int to = Math.min(frontier.size(), from + BLOCK);
                    List<List<TransitionSystem.Transition<S>>> out = expand(system, frontier, numbers, from, to,
                            depth, seen, pool, options.workers());
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
                            if (t.fingerprint() != numbers.print(i)) {
                                taken[a]++;
                            }
                            transitions++;
                            checks += t.checks();
                            if (!t.verdict().holds()) {
                                Finding f = finding(seen, numbers.number(i), a, t.verdict(), false);
                                return result(Outcome.VIOLATION, f, seen, transitions, depth + 1,
                                        frontier.size() - i - 1 + next.size(), checks, enabled, taken, fresh,
                                        levels, start);
                            }
                            int n = seen.add(t.fingerprint(), numbers.number(i), a);
                            if (n >= 0) {
                                states.accept(t.state(), t.fingerprint());
                                fresh[a]++;
                                // beyond the bound only the number is kept: the state is rebuilt when expanded
                                next.add(next.size() < options.frontierInMemory() ? t.state() : null);
                                nextNumbers.add(n, t.fingerprint());
                                if (seen.size() >= options.maxStates()) {
                                    levels.add((long) (seen.size() - levelStart));
                                    return result(Outcome.STATE_BOUND, null, seen, transitions, depth + 1,
                                            frontier.size() - i - 1 + next.size(), checks, enabled, taken, fresh,
                                            levels, start);
                                }
                            }
                        }
                        if (!any && options.deadlock()) {
                            Finding f = finding(seen, numbers.number(i), -1, new Verdict.Violated("deadlock",
                                    "deadlock", depth, "no action of the alphabet is enabled"), true);
                            return result(Outcome.VIOLATION, f, seen, transitions, depth, frontier.size() - i - 1
                                    + next.size(), checks, enabled, taken, fresh, levels, start);
                        }
                    }
                    progress.accept(new Progress(depth, seen.size(), frontier.size() - to + next.size(), transitions,
                            System.nanoTime() - start));
                }
                levels.add((long) (seen.size() - levelStart));
                frontier = next;
                numbers = nextNumbers;
                depth++;
            }
            return result(Outcome.EXHAUSTED, null, seen, transitions, depth - 1 < 0 ? 0 : depth - 1, 0, checks,
                    enabled, taken, fresh, levels, start);
        } finally {
            if (pool != null) {
                pool.shutdownNow();
            }
            // the trace file: the counterexample and the checkpoints were taken from it above
            seen.close();
        }
    }

    /**
     * The successors of each state {@code from} … {@code to - 1} of the level at {@code depth} (null for an action it
     * does not enable), in the level's order; a state not kept in memory (null in {@code frontier}) is first rebuilt
     * from its trace.
     */
    private static <S> List<List<TransitionSystem.Transition<S>>> expand(TransitionSystem<S> system, List<S> frontier,
            Numbers numbers, int from, int to, int depth, FingerprintSet seen, ExecutorService pool, int workers)
            throws InterruptedException {
        int actions = system.actionCount();
        int count = to - from;
        @SuppressWarnings("unchecked")
        List<TransitionSystem.Transition<S>>[] out = new List[count];
        AtomicInteger nextIndex = new AtomicInteger();
        Runnable work = () -> {
            for (int i = nextIndex.getAndIncrement(); i < count; i = nextIndex.getAndIncrement()) {
                S s = frontier.get(from + i);
                if (s == null) {
                    s = replay(system, seen, numbers.number(from + i), depth, "the frontier's ");
                }
                List<TransitionSystem.Transition<S>> succ = new ArrayList<>(actions);
                for (int a = 0; a < actions; a++) {
                    succ.add(system.enabled(s, a) ? system.step(s, a, depth + 1, seen::contains) : null);
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
            long checks, long[] enabled, long[] taken, long[] fresh, List<Long> levels, long start) {
        return new Result(o, Optional.ofNullable(f), seen.size(), transitions, depth, queued, checks,
                enabled.clone(), taken.clone(), fresh.clone(), List.copyOf(levels), System.nanoTime() - start,
                seen.bytesPerState(), seen.bytes());
    }
}
