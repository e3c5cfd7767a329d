package org.hybridv.explore;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.hybridv.check.Capture;
import org.hybridv.check.Verdict;
import org.hybridv.xen.Faults;

/**
 * Swarm verification (after SPIN's swarm mode): member {@code i} of {@code n} is one bounded depth-first search of the
 * configuration, with its own seed — the first 8 bytes of SHA-256 over the configuration file, {@code i} and
 * {@code n} — and its own action order, a permutation drawn at every state from the seed and the state's fingerprint.
 * Members are independent (run them on different machines); each writes its own report and, if it finds a
 * violation, its counterexample (the path on its stack: a real run, not the shortest).
 *
 * <p>What it guarantees: a member's verdict and report are a function of (configuration file, faults, i, n, bounds)
 * — the same bytes every time — and a reported violation is real (it replays). What it does not: a member never
 * proves absence. Its visited set re-expands a state only when it is reached at a smaller depth than before, but the
 * state bound cuts it short, and nothing says the n orders together cover the state space; a member that finds
 * nothing ends with exit 3, "not exhausted", whatever it visited. Absence is what the breadth-first search answers.
 */
public final class Swarm {
    private Swarm() {}

    /**
     * One member of a swarm.
     *
     * @param index 1 … count
     * @param count the swarm's size
     * @param seed  its seed, from the configuration file's bytes, index and count
     */
    public record Member(int index, int count, long seed) {
        public Member {
            if (count < 1 || index < 1 || index > count) {
                throw new IllegalArgumentException("member " + index + "/" + count + ": need 1 <= i <= n");
            }
        }

        /** Member {@code i}/{@code n} of the swarm of the configuration whose file holds {@code configBytes}. */
        public static Member of(byte[] configBytes, int i, int n) {
            try {
                MessageDigest d = MessageDigest.getInstance("SHA-256");
                d.update(configBytes);
                d.update(("\0swarm " + i + "/" + n).getBytes(StandardCharsets.UTF_8));
                return new Member(i, n, ByteBuffer.wrap(d.digest()).getLong());
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        public String name() {
            return index + "/" + count;
        }
    }

    /**
     * What a member did.
     *
     * @param finding    the violation (or deadlock) on its stack, if any
     * @param distinct   distinct states visited
     * @param expansions states expanded (a state is expanded again when reached at a smaller depth)
     * @param transitions transitions taken
     * @param checks     invariant checks
     * @param levels     distinct states by the depth at which each was first visited
     * @param stateBound whether the state bound stopped it
     * @param nanos      time taken (not in the report: the report's bytes do not depend on the machine)
     */
    public record Result(Optional<Explorer.Finding> finding, long distinct, long expansions, long transitions,
            long checks, List<Long> levels, boolean stateBound, long nanos) {}

    /** A progress report, every {@value #PROGRESS_EVERY} expansions, for a throttled printer. */
    public record Progress(int depth, long distinct, long expansions, long transitions, long nanos) {}

    static final int PROGRESS_EVERY = 1024;

    /** Runs member {@code m} on {@code system} within {@code maxDepth} steps and {@code maxStates} states. */
    public static <S> Result run(TransitionSystem<S> system, Member m, int maxDepth, long maxStates,
            boolean deadlock) {
        return run(system, m, maxDepth, maxStates, deadlock, p -> { });
    }

    /** {@link #run(TransitionSystem, Member, int, long, boolean)}, reporting progress to {@code progress}. */
    public static <S> Result run(TransitionSystem<S> system, Member m, int maxDepth, long maxStates,
            boolean deadlock, java.util.function.Consumer<Progress> progress) {
        long start = System.nanoTime();
        int actions = system.actionCount();
        Map<Long, Integer> depthOf = new HashMap<>();
        List<Long> levels = new ArrayList<>();
        long[] counts = new long[3]; // expansions, transitions, checks
        List<S> init = system.initialStates();
        for (int i = 0; i < init.size(); i++) {
            S s = init.get(i);
            TransitionSystem.Checked c = system.checkInitial(s);
            counts[2] += c.checks();
            if (!c.verdict().holds()) {
                return result(Optional.of(new Explorer.Finding(c.verdict(), false, i, List.of())), depthOf, counts,
                        levels, false, start);
            }
            long fp = system.fingerprint(s);
            if (depthOf.putIfAbsent(fp, 0) != null) {
                continue;
            }
            bump(levels, 0);
            // the stack: states, their fingerprints, their action orders and the next position in each
            List<S> states = new ArrayList<>();
            List<Long> prints = new ArrayList<>();
            List<int[]> orders = new ArrayList<>();
            List<Integer> next = new ArrayList<>();
            List<Integer> path = new ArrayList<>();
            states.add(s);
            prints.add(fp);
            orders.add(order(m.seed(), fp, actions));
            next.add(0);
            counts[0]++;
            List<Boolean> enabledAt = new ArrayList<>();
            enabledAt.add(false);
            while (!states.isEmpty()) {
                int top = states.size() - 1;
                int depth = top;
                S cur = states.get(top);
                int pos = next.get(top);
                if (pos == actions || depth == maxDepth) {
                    if (deadlock && depth < maxDepth && !enabledAt.get(top)) {
                        Verdict v = new Verdict.Violated("deadlock", "deadlock", depth, "no action of the alphabet"
                                + " is enabled");
                        return result(Optional.of(new Explorer.Finding(v, true, i, List.copyOf(path))), depthOf,
                                counts, levels, false, start);
                    }
                    states.remove(top);
                    prints.remove(top);
                    orders.remove(top);
                    next.remove(top);
                    enabledAt.remove(top);
                    if (!path.isEmpty()) {
                        path.remove(path.size() - 1);
                    }
                    continue;
                }
                next.set(top, pos + 1);
                int a = orders.get(top)[pos];
                if (!system.enabled(cur, a)) {
                    continue;
                }
                enabledAt.set(top, true);
                TransitionSystem.Transition<S> t = system.step(cur, a, depth + 1, depthOf::containsKey);
                counts[1]++;
                counts[2] += t.checks();
                if (!t.verdict().holds()) {
                    List<Integer> p = new ArrayList<>(path);
                    p.add(a);
                    return result(Optional.of(new Explorer.Finding(t.verdict(), false, i, List.copyOf(p))), depthOf,
                            counts, levels, false, start);
                }
                Integer before = depthOf.get(t.fingerprint());
                if (before != null && before <= depth + 1) {
                    continue;
                }
                if (before == null) {
                    if (depthOf.size() >= maxStates) {
                        return result(Optional.empty(), depthOf, counts, levels, true, start);
                    }
                    bump(levels, depth + 1);
                }
                depthOf.put(t.fingerprint(), depth + 1);
                states.add(t.state());
                prints.add(t.fingerprint());
                orders.add(order(m.seed(), t.fingerprint(), actions));
                next.add(0);
                enabledAt.add(false);
                path.add(a);
                counts[0]++;
                if (counts[0] % PROGRESS_EVERY == 0) {
                    progress.accept(new Progress(depth + 1, depthOf.size(), counts[0], counts[1], System.nanoTime()
                            - start));
                }
            }
        }
        return result(Optional.empty(), depthOf, counts, levels, false, start);
    }

    /** The member's order of the actions at the state of fingerprint {@code fp}: a seeded Fisher–Yates shuffle. */
    static int[] order(long seed, long fp, int actions) {
        int[] o = new int[actions];
        for (int a = 0; a < actions; a++) {
            o[a] = a;
        }
        SplittableRandom r = new SplittableRandom(seed ^ fp * 0x9E3779B97F4A7C15L);
        for (int k = actions - 1; k > 0; k--) {
            int j = r.nextInt(k + 1);
            int x = o[k];
            o[k] = o[j];
            o[j] = x;
        }
        return o;
    }

    private static void bump(List<Long> levels, int depth) {
        while (levels.size() <= depth) {
            levels.add(0L);
        }
        levels.set(depth, levels.get(depth) + 1);
    }

    private static Result result(Optional<Explorer.Finding> f, Map<Long, Integer> seen, long[] counts,
            List<Long> levels, boolean stateBound, long start) {
        return new Result(f, seen.size(), counts[0], counts[1], counts[2], List.copyOf(levels), stateBound,
                System.nanoTime() - start);
    }

    /**
     * A member's run on a configuration, with what comes out of it.
     *
     * @param config the configuration
     * @param faults the faults injected
     * @param system the system
     * @param member the member
     * @param maxDepth the depth bound
     * @param maxStates the state bound
     * @param result what it did
     */
    public record Run(ExploreConfig config, Faults faults, ExploredSystem<?> system, Member member, int maxDepth,
            long maxStates, Result result) {
        /** Runs member {@code member} of {@code config}'s swarm. */
        public static Run of(ExploreConfig config, Faults faults, ExploredSystem<?> system, Member member,
                int maxDepth, long maxStates, java.util.function.Consumer<Progress> progress) {
            return new Run(config, faults, system, member, maxDepth, maxStates, Swarm.run(system, member, maxDepth,
                    maxStates, config.deadlock(), progress));
        }

        /** 1 if it found a violation (or a deadlock), 3 otherwise: a swarm member never proves absence. */
        public int exitCode() {
            return result.finding().isPresent() ? 1 : 3;
        }

        public String verdictLine() {
            return result.finding().map(f -> (f.deadlock() ? "deadlock" : f.verdict() instanceof Verdict.HarnessError
                    ? "the reference threw" : "violation") + " at depth " + f.depth() + ": " + f.verdict())
                    .orElse("nothing found, not exhausted: a depth-first swarm member never proves absence"
                    + (result.stateBound() ? " (it stopped at the state bound " + maxStates + ")" : "")
                    + "; hybridv explore without --swarm does");
        }

        /** The summary; the time only with {@code withTime} (the report leaves it out). */
        public List<String> summary(boolean withTime) {
            List<String> l = new ArrayList<>();
            l.add("swarm member " + member.name() + ", seed " + String.format(Locale.ROOT, "%016x", member.seed())
                    + ": " + verdictLine());
            l.add(String.format(Locale.ROOT, "%,d distinct states, %,d expansions, %,d transitions, %,d invariant"
                    + " checks; depth bound %d, state bound %d", result.distinct(), result.expansions(),
                    result.transitions(), result.checks(), maxDepth, maxStates));
            l.add("distinct states by the depth first visited: " + result.levels());
            if (withTime) {
                l.add(String.format(Locale.ROOT, "%.2f s", result.nanos() / 1e9));
            }
            l.add("invariants: " + String.join(", ", config.invariants()) + (faults.isEmpty() ? "; no faults"
                    : "; faults: " + String.join(", ", faults.ids())));
            return l;
        }

        /** The report: no time, so the same member gives the same bytes. */
        public ObjectNode reportJson() {
            ObjectNode j = JsonNodeFactory.instance.objectNode();
            j.put("config", config.name());
            j.put("swarm", member.name());
            j.put("seed", String.format(Locale.ROOT, "%016x", member.seed()));
            j.put("outcome", result.finding().isPresent() ? "violation" : "not exhausted");
            j.put("exit", exitCode());
            j.put("verdict", verdictLine());
            j.put("depthBound", maxDepth);
            j.put("stateBound", maxStates);
            j.put("distinctStates", result.distinct());
            j.put("expansions", result.expansions());
            j.put("transitions", result.transitions());
            j.put("invariantChecks", result.checks());
            result.levels().forEach(j.putArray("statesByFirstDepth")::add);
            config.invariants().forEach(j.putArray("invariants")::add);
            faults.ids().forEach(j.putArray("faults")::add);
            result.finding().ifPresent(f -> Exploration.putFinding(j, f, system));
            return j;
        }

        public String reportMarkdown() {
            StringBuilder b = new StringBuilder("# hybridv explore --swarm " + member.name() + ": " + config.name()
                    + "\n\n" + config.description() + "\n\n**" + verdictLine() + "**\n\n");
            result.finding().ifPresent(f -> {
                b.append("Trace (").append(f.depth()).append(" steps, the member's depth-first path, not the"
                        + " shortest):\n\n");
                for (int i = 0; i < f.actions().size(); i++) {
                    b.append(i + 1).append(". `").append(system.actionName(f.actions().get(i))).append("`\n");
                }
                b.append('\n');
            });
            for (String line : summary(false)) {
                b.append("- ").append(line).append('\n');
            }
            return b.toString();
        }

        /** The counterexample as a scenario, if the finding is an invariant violation. */
        public Optional<ObjectNode> counterexample() {
            return Exploration.scenarioDocument(config, system, faults, result.finding(), "the depth-first run of"
                    + " swarm member " + member.name() + " (depth %d, not necessarily the shortest)", "explore "
                    + config.name() + " swarm " + member.name());
        }

        /** Writes the counterexample into {@code dir} (never overwriting); empty if there is none. */
        public Optional<Capture.Written> writeCounterexample(Path dir) throws IOException {
            Optional<ObjectNode> doc = counterexample();
            if (doc.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(Capture.write(dir, "explore-" + config.name(), doc.get()));
        }
    }
}
