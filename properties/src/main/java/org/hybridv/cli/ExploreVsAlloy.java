package org.hybridv.cli;

import edu.mit.csail.sdg.ast.Command;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.hybridv.check.Verdict;
import org.hybridv.explore.Exploration;
import org.hybridv.explore.ExploreConfig;
import org.hybridv.explore.Explorer;
import org.hybridv.spec.CommandResult;
import org.hybridv.spec.ModelFile;
import org.hybridv.spec.ModelSources;
import org.hybridv.spec.Outcome;
import org.hybridv.spec.SpecRunner;
import org.hybridv.spec.Solvers;
import org.hybridv.xen.Faults;

/**
 * {@code hybridv bench --explore-vs-alloy}: for SWITCH_MMU and direct paging, the Alloy command and the explorer
 * configuration that ask the closest bounded question, each on the correct model and on the seeded-bug version, run
 * one after the other in one JVM, with both times side by side. docs/explore.md ("Alloy side by side") says how each
 * pair of questions corresponds and how they differ.
 */
final class ExploreVsAlloy {
    private ExploreVsAlloy() {}

    /**
     * One comparison.
     *
     * @param model      the Alloy model ({@code xen/switch_mmu})
     * @param command    its command
     * @param config     the explorer configuration (spec/configs/NAME.json), explored to its CI bound
     * @param fault      the seeded fault injected into the reference, or null
     * @param replaces   the rule the seeded fault skips, in the Alloy model and in the reference alike, or null
     * @param rule       the rule the explorer's finding must name (for a seeded bug), or null
     */
    record Pair(String model, String command, String config, String fault, String replaces, String rule) {
        boolean bug() {
            return fault != null;
        }
    }

    /** The pairs, in the order they are run. Alloy's fault ↔ the reference's seeded fault of the same rule. */
    static final List<Pair> PAIRS = List.of(
            new Pair("xen/switch_mmu", "directModeIntegrity", "hybrid-switch", null, null, null),
            new Pair("xen/switch_mmu", "bugSkipLowerLevelsKeepsIntegrity", "hybrid-switch",
                    "switch-mmu-top-level-only", "PRE-2", "TYP-4"),
            new Pair("xen/direct_paging", "operationsPreserveInvariants", "direct-paging", null, null, null),
            new Pair("xen/direct_paging", "bugNoFlushOnTypeChangePreservesInvariants", "direct-paging",
                    "type-change-no-flush", "TLB-1", "TLB-1"),
            new Pair("xen/direct_paging", "bugSuperpageAcceptedPreservesInvariants", "direct-paging",
                    "superpage-accepted", "SP-1", "SP-1"));

    /** Runs every pair; 0 if both sides answer as expected on every pair, 1 otherwise. */
    static int run(PrintWriter out, PrintWriter err, Path models, Path configs) throws InterruptedException {
        return run(out, err, models, configs, PAIRS);
    }

    /** Runs {@code pairs}; 0 if both sides answer as expected on each, 1 otherwise, 2 if one cannot be run. */
    static int run(PrintWriter out, PrintWriter err, Path models, Path configs, List<Pair> pairs)
            throws InterruptedException {
        out.println("hybridv bench --explore-vs-alloy: each pair run once, one after the other, in this JVM (the"
                + " first pair pays the warm-up); Alloy: translation and solving of the one command; explorer:"
                + " the search at the configuration's CI bound, 1 worker");
        out.printf(Locale.ROOT, "machine: %d processors, Java %s, load average %s%n",
                Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
                BenchCommand.loadAverage());
        out.printf(Locale.ROOT, "%-58s %-17s %9s | %-44s %9s %9s  %s%n", "Alloy command (scope)", "outcome", "time",
                "explorer configuration (fault)", "states", "time", "outcome");
        out.flush();
        boolean allAsExpected = true;
        for (Pair p : pairs) {
            ModelFile m = ModelSources.in(models).stream().filter(f -> f.name().equals(p.model())).findFirst()
                    .orElse(null);
            if (m == null) {
                err.println("hybridv bench: " + Printable.escape(models.toString()) + ": no model " + p.model());
                return Hybridv.EXIT_UNUSABLE;
            }
            SpecRunner.Parse parse = SpecRunner.parse(m);
            if (!(parse instanceof SpecRunner.Parse.Parsed parsed)) {
                err.println("hybridv bench: " + ((SpecRunner.Parse.Failed) parse).error());
                return Hybridv.EXIT_UNUSABLE;
            }
            Optional<Command> c = parsed.module().getAllCommands().stream().filter(x -> x.label.equals(p.command()))
                    .findFirst();
            if (c.isEmpty()) {
                err.println("hybridv bench: " + p.model() + " has no command " + p.command());
                return Hybridv.EXIT_UNUSABLE;
            }
            if (!(Solvers.lookup(m.solver().orElse(Solvers.FALLBACK)) instanceof Solvers.Lookup.Found found)) {
                err.println("hybridv bench: " + p.model() + ": its solver cannot run here");
                return Hybridv.EXIT_UNUSABLE;
            }
            CommandResult a = SpecRunner.run(m, parsed, c.get(), found.choice());
            boolean alloyFound = a.outcome() instanceof Outcome.Instance;
            boolean alloyOk = a.matches() && alloyFound == p.bug();

            ExploreConfig cfg;
            try {
                cfg = ExploreConfig.read(configs.resolve(p.config() + ".json"), p.config() + ".json");
            } catch (ExploreConfig.BadConfig e) {
                err.println("hybridv bench: " + Printable.escape(e.getMessage()));
                return Hybridv.EXIT_UNUSABLE;
            }
            Faults faults = Faults.parse(p.fault() == null ? List.of() : List.of(p.fault()));
            Exploration x = Exploration.run(cfg, faults, new Explorer.Options(1, cfg.ciDepth(), cfg.maxStates(),
                    cfg.deadlock()), pr -> { });
            Explorer.Result r = x.result();
            String xOutcome;
            boolean xOk;
            if (r.finding().isPresent()) {
                Explorer.Finding f = r.finding().get();
                String rule = f.verdict() instanceof Verdict.Violated v ? v.rule() : "?";
                xOutcome = "counterexample, depth " + f.depth() + " (" + rule + ")";
                xOk = p.bug() && rule.equals(p.rule());
            } else {
                xOutcome = r.outcome() == Explorer.Outcome.EXHAUSTED ? "exhausted, none (depth " + r.depthReached()
                        + ")" : "bound reached, none";
                xOk = !p.bug() && r.outcome() == Explorer.Outcome.EXHAUSTED;
            }
            allAsExpected &= alloyOk && xOk;
            out.printf(Locale.ROOT, "%-58s %-17s %7.2f s | %-44s %9d %7.2f s  %s%s%n", p.model() + " " + p.command()
                    + " (" + a.scope() + ")", a.outcomeName(), a.millis() / 1e3, p.config() + (p.fault() == null
                    ? "" : " (" + p.fault() + ")"), r.distinct(), r.nanos() / 1e9, xOutcome, alloyOk && xOk ? ""
                    : "  <- NOT as expected");
            out.flush();
        }
        out.printf(Locale.ROOT, "load average after: %s%n", BenchCommand.loadAverage());
        out.println(allAsExpected ? "every pair: no counterexample on the correct model, a counterexample on the"
                + " seeded bug, on both sides" : "some pair did NOT answer as expected");
        return allAsExpected ? 0 : 1;
    }
}
