package org.hybridv.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.hybridv.scenario.Replay;
import org.hybridv.scenario.ScenarioError;
import org.hybridv.scenario.ScenarioSources;
import org.hybridv.scenario.Scenarios;
import org.hybridv.scenario.Verdict;
import org.hybridv.scenario.modules.Modules;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hybridv replay PATH...}: replay scenarios against the reference and check their expectations. */
@Command(name = "replay",
        mixinStandardHelpOptions = true,
        header = "Replay scenarios against the reference and check their expectations.",
        description = {"Replays scenario files against the reference, printing one line per step (what it did, what"
                + " happened, and ✓ or ✗ against its expectation) and a summary line per file.",
            "Folders are searched recursively for *.json files, replayed in sorted order."},
        footerHeading = "%nExamples:%n",
        footer = {"  hybridv replay counterexamples/",
            "  hybridv replay counterexamples/regressions/errcode-p-not-present.json",
            "  hybridv replay --quiet counterexamples/ docs/examples/",
            "  hybridv replay --json counterexamples/ > report.json",
            "",
            "Exit codes: 0 every expectation holds; 1 some expectation does not hold",
            "(a step that can no longer run after it is shown as not run); 2 unusable",
            "input (a missing, unreadable or oversized file, an empty folder, an invalid",
            "scenario, a step the reference cannot run although every expectation",
            "before it holds)."})
final class ReplayCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "PATH", description = "Scenario files, or folders searched recursively"
            + " for *.json.")
    List<String> paths;

    @Option(names = "--json", description = "Print a machine-readable report (JSON) instead of the trace.")
    boolean json;

    @Option(names = {"-q", "--quiet"}, description = "Print only failing steps, errors and the summaries.")
    boolean quiet;

    @CommandLine.ParentCommand
    Hybridv parent;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Output output = new Output(spec.commandLine().getOut(), spec.commandLine().getErr(), parent.debug());
        Scenarios scenarios = new Scenarios(Modules.standard());
        ScenarioSources.Expansion expansion = ScenarioSources.expand(paths);
        // the JSON report needs every replay at the end; the trace prints each as it ends and keeps its verdict only
        List<Replay> replays = new ArrayList<>();
        List<Verdict> verdicts = new ArrayList<>();
        for (ScenarioError e : expansion.errors()) {
            replays.add(Replay.unusable(e));
            verdicts.add(Verdict.UNUSABLE);
        }
        TextReport text = new TextReport(output, quiet);
        expansion.errors().forEach(output::error);
        for (Path file : expansion.files()) {
            Replay r = scenarios.replay(file);
            verdicts.add(r.verdict());
            if (json) {
                replays.add(r);
                if (r.error() != null) {
                    output.error(r.error());
                }
            } else {
                text.replay(r);
            }
        }
        int exit = exitCode(verdicts);
        if (json) {
            JsonReport.write(output.out, replays, exit);
        } else {
            text.totals(verdicts);
        }
        return exit;
    }

    /** 2 if any file is unusable, else 1 if any expectation fails, else 0. */
    static int exitCode(List<Verdict> verdicts) {
        if (verdicts.contains(Verdict.UNUSABLE)) {
            return Hybridv.EXIT_UNUSABLE;
        }
        return verdicts.contains(Verdict.FAILED) ? 1 : 0;
    }
}
