package org.hybridv.explore;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import org.hybridv.check.Capture;
import org.hybridv.check.HypervisorProperty;
import org.hybridv.check.Verdict;
import org.hybridv.xen.Faults;

/**
 * One exploration of a configuration: the system it builds, the search, and what comes out of it — the summary, the
 * report (JSON and Markdown) and the shortest counterexample as a scenario, written through
 * the property's own scenario function ({@link HypervisorProperty#scenario}, {@code HybridKernelProperty#scenario})
 * so that {@code hybridv replay} reproduces it.
 *
 * @param config  the configuration
 * @param faults  the seeded faults injected (the configuration's and the command line's)
 * @param options the bounds and workers
 * @param system  the transition system
 * @param result  what the search did
 */
public record Exploration(ExploreConfig config, Faults faults, Explorer.Options options, ExploredSystem<?> system,
        Explorer.Result result) {

    /** Builds the system of {@code config} with {@code faults} (and its symmetry reduction) and explores it. */
    public static Exploration run(ExploreConfig config, Faults faults, Explorer.Options options,
            Consumer<Explorer.Progress> progress) throws InterruptedException {
        return run(config, faults, options, true, progress);
    }

    /**
     * Builds the system of {@code config} with {@code faults} and explores it; {@code symmetry}: whether the
     * configuration's symmetry declaration is used.
     */
    public static Exploration run(ExploreConfig config, Faults faults, Explorer.Options options, boolean symmetry,
            Consumer<Explorer.Progress> progress) throws InterruptedException {
        ExploredSystem<?> system = ExploredSystem.of(config, faults, symmetry);
        return new Exploration(config, faults, options, system, Explorer.run(system, options, progress));
    }

    /**
     * Explores {@code system} (built by {@link ExploredSystem#of} from {@code config} and {@code faults}), continuing
     * from {@code from} if it is not null and showing the search to {@code levels} at the start of every level
     * ({@link Explorer#run(TransitionSystem, Explorer.Options, Consumer, java.util.function.ObjLongConsumer,
     * Explorer.Checkpoint, Consumer)}).
     */
    public static Exploration run(ExploreConfig config, Faults faults, Explorer.Options options,
            ExploredSystem<?> system, Consumer<Explorer.Progress> progress, Explorer.Checkpoint from,
            Consumer<Explorer.Checkpoint> levels) throws InterruptedException {
        return new Exploration(config, faults, options, system, Explorer.run(system, options, progress,
                (s, fp) -> { }, from, levels));
    }

    /** The exit code: 0 exhausted, 1 a finding, 3 a bound reached first. */
    public int exitCode() {
        return switch (result.outcome()) {
            case EXHAUSTED -> 0;
            case VIOLATION -> 1;
            case DEPTH_BOUND, STATE_BOUND -> 3;
        };
    }

    /** The verdict line: what ended the search. */
    public String verdictLine() {
        return switch (result.outcome()) {
            case EXHAUSTED -> "exhausted, nothing found: every state reachable from the initial state was explored"
                    + " (depth " + result.depthReached() + ")";
            case VIOLATION -> {
                Explorer.Finding f = result.finding().orElseThrow();
                yield (f.deadlock() ? "deadlock" : f.verdict() instanceof Verdict.HarnessError ? "the reference threw"
                        : "violation") + " at depth " + f.depth() + ": " + f.verdict();
            }
            case DEPTH_BOUND -> "depth bound " + options.maxDepth() + " reached before exhausting: "
                    + result.queued() + " states at depth " + result.depthReached() + " not expanded";
            case STATE_BOUND -> "state bound " + options.maxStates() + " reached before exhausting (depth "
                    + result.depthReached() + ", " + result.queued() + " states queued)";
        };
    }

    /** The scenario document of the finding, if it is an invariant violation (deadlocks and exceptions are not). */
    public Optional<ObjectNode> counterexample() {
        return scenarioDocument(config, system, faults, result.finding(), "the shortest run (depth %d, the first"
                + " in breadth-first order)", "explore " + config.name());
    }

    /**
     * The scenario document of {@code finding} if it is an invariant violation; {@code how} describes the run (with
     * {@code %d} for its depth), {@code seed} starts the origin's seed.
     */
    static Optional<ObjectNode> scenarioDocument(ExploreConfig config, ExploredSystem<?> system, Faults faults,
            Optional<Explorer.Finding> f, String how, String seed) {
        if (f.isEmpty() || !(f.get().verdict() instanceof Verdict.Violated v) || f.get().deadlock()) {
            return Optional.empty();
        }
        ObjectNode body = system.scenario(f.get().initial(), f.get().actions(), faults, v);
        if (body == null) {
            return Optional.empty(); // a budget violation: no scenario step checks a budget (HybridKernelProperty)
        }
        ObjectNode doc = JsonNodeFactory.instance.objectNode();
        doc.put("format", "hybridv-scenario/1");
        doc.put("title", "explore " + config.name() + " counterexample: " + v.invariant() + " (" + v.rule() + ")"
                + (faults.isEmpty() ? "" : " with " + String.join(", ", faults.ids())));
        doc.put("description", "Found by hybridv explore on configuration " + config.name() + ": "
                + String.format(Locale.ROOT, how, f.get().depth()) + (Capture.violates(v).isPresent() ? " that violates "
                + v.invariant() + ". " : " that breaks the workload contract: a regression, whose last step expects"
                + " the result the contract requires and fails until the kernel is fixed. ") + v);
        ObjectNode origin = doc.putObject("origin");
        origin.put("kind", "property");
        origin.put("property", system.property());
        origin.put("seed", seed + " depth " + f.get().depth());
        doc.set("machine", body.get("machine"));
        if (!faults.isEmpty()) {
            faults.ids().forEach(doc.putArray("faults")::add);
        }
        Capture.violates(v).ifPresent(i -> doc.put("violates", i));
        doc.set("steps", body.get("steps"));
        return Optional.of(doc);
    }

    /** Writes the counterexample into {@code dir} (never overwriting); empty if there is none. */
    public Optional<Capture.Written> writeCounterexample(Path dir) throws IOException {
        Optional<ObjectNode> doc = counterexample();
        if (doc.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(Capture.write(dir, "explore-" + config.name(), doc.get()));
    }

    /** The summary, as printed: counts, coverage per action, invariants, collision probability. */
    public List<String> summary(boolean withTimes) {
        Explorer.Result r = result;
        List<String> l = new ArrayList<>();
        l.add(verdictLine());
        l.add(String.format(Locale.ROOT, "%,d distinct states, %,d transitions, depth reached %d, %,d invariant"
                + " checks", r.distinct(), r.transitions(), r.depthReached(), r.invariantChecks()));
        l.add("distinct states per depth: " + r.levels());
        l.add(String.format(Locale.ROOT, "fingerprint collision probability (n²/2⁶⁵): %.1e", r
                .collisionProbability()));
        if (withTimes) {
            double s = r.nanos() / 1e9;
            l.add(String.format(Locale.ROOT, "%.2f s, %,.0f states/s, %d workers, fingerprint set %.1f bytes per"
                    + " state", s, r.distinct() / Math.max(s, 1e-9), options.workers(), r.bytesPerState()));
        }
        l.add("invariants: " + String.join(", ", config.invariants()) + (faults.isEmpty() ? "; no faults"
                : "; faults: " + String.join(", ", faults.ids())));
        l.add(system.symmetry().map(y -> "symmetry: frames " + y + " interchangeable (" + (y.permutations().size()
                + 1) + " permutations; states are counted up to them)").orElse(config.symmetry().isEmpty()
                ? "symmetry: none declared" : "symmetry: declared, not used (--no-symmetry)"));
        l.add(!options.partialOrder() ? "partial-order reduction: not used (--no-por)"
                : String.format(Locale.ROOT, "partial-order reduction: sleep sets, %,d enabled transitions slept",
                r.slept()));
        l.add("actions (enabled in states / changed the state / found new states):");
        for (int a = 0; a < system.actionCount(); a++) {
            l.add(String.format(Locale.ROOT, "  %8d %8d %8d  %s", r.enabled()[a], r.taken()[a], r.newStates()[a],
                    system.actionName(a)));
        }
        return l;
    }

    /** The report as JSON: everything of the summary, and the trace of a finding. */
    public ObjectNode reportJson() {
        Explorer.Result r = result;
        ObjectNode j = JsonNodeFactory.instance.objectNode();
        j.put("config", config.name());
        j.put("outcome", r.outcome().name().toLowerCase(Locale.ROOT).replace('_', ' '));
        j.put("exit", exitCode());
        j.put("verdict", verdictLine());
        j.put("depthBound", options.maxDepth());
        j.put("stateBound", options.maxStates());
        j.put("workers", options.workers());
        j.put("distinctStates", r.distinct());
        j.put("transitions", r.transitions());
        j.put("depthReached", r.depthReached());
        j.put("queued", r.queued());
        j.put("invariantChecks", r.invariantChecks());
        j.put("collisionProbability", r.collisionProbability());
        j.put("symmetry", system.symmetry().isPresent());
        j.put("partialOrder", options.partialOrder());
        j.put("slept", r.slept());
        j.put("seconds", r.nanos() / 1e9);
        j.put("statesPerSecond", r.distinct() / Math.max(r.nanos() / 1e9, 1e-9));
        j.put("bytesPerState", r.bytesPerState());
        r.levels().forEach(j.putArray("statesPerDepth")::add);
        config.invariants().forEach(j.putArray("invariants")::add);
        faults.ids().forEach(j.putArray("faults")::add);
        ArrayNode actions = j.putArray("actions");
        for (int a = 0; a < system.actionCount(); a++) {
            ObjectNode o = actions.addObject();
            o.put("action", system.actionName(a));
            o.put("enabled", r.enabled()[a]);
            o.put("changed", r.taken()[a]);
            o.put("new", r.newStates()[a]);
        }
        r.finding().ifPresent(f -> putFinding(j, f, system));
        return j;
    }

    /** {@code j}'s {@code finding}: the verdict, its depth and the trace by action names (reports of both modes). */
    static void putFinding(ObjectNode j, Explorer.Finding f, ExploredSystem<?> system) {
        ObjectNode o = j.putObject("finding");
        o.put("verdict", f.verdict().toString());
        o.put("depth", f.depth());
        ArrayNode t = o.putArray("trace");
        f.actions().forEach(a -> t.add(system.actionName(a)));
    }

    /** The report as Markdown. */
    public String reportMarkdown() {
        StringBuilder b = new StringBuilder("# hybridv explore: " + config.name() + "\n\n");
        b.append(config.description()).append("\n\n**").append(verdictLine()).append("**\n\n");
        result.finding().ifPresent(f -> {
            b.append("Trace (").append(f.depth()).append(" steps):\n\n");
            for (int i = 0; i < f.actions().size(); i++) {
                b.append(i + 1).append(". `").append(system.actionName(f.actions().get(i))).append("`\n");
            }
            b.append('\n');
        });
        List<String> s = summary(true);
        for (String line : s.subList(1, s.size() - system.actionCount() - 1)) {
            b.append("- ").append(line).append('\n');
        }
        b.append("\n| action | enabled | changed the state | new states |\n|---|---:|---:|---:|\n");
        for (int a = 0; a < system.actionCount(); a++) {
            b.append("| `").append(system.actionName(a)).append("` | ").append(result.enabled()[a]).append(" | ")
                    .append(result.taken()[a]).append(" | ").append(result.newStates()[a]).append(" |\n");
        }
        return b.toString();
    }
}
