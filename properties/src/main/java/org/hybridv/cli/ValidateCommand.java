package org.hybridv.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.hybridv.scenario.ParseResult;
import org.hybridv.scenario.ScenarioSources;
import org.hybridv.scenario.Scenarios;
import org.hybridv.scenario.modules.Modules;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hybridv validate PATH...}: parse and check scenario files without running them. */
@Command(name = "validate",
        mixinStandardHelpOptions = true,
        header = "Check scenario files without running them.",
        description = {"Parses and checks scenario files without running them: JSON syntax, the format version,"
                + " known ops and fields, required fields, types and ranges (the rules of"
                + " docs/scenario.schema.json, and those a schema cannot state, such as frame < memoryFrames).",
            "Folders are searched recursively for *.json files."},
        footerHeading = "%nExamples:%n",
        footer = {"  hybridv validate my-scenario.json",
            "  hybridv validate counterexamples/",
            "",
            "Exit codes: 0 every file is a valid scenario, 2 some path or file is unusable."})
final class ValidateCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "PATH", description = "Scenario files, or folders searched recursively"
            + " for *.json.")
    List<String> paths;

    @Option(names = {"-q", "--quiet"}, description = "Print only errors and the summary.")
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
        expansion.errors().forEach(output::error);
        int valid = 0;
        int invalid = expansion.errors().size();
        for (Path file : expansion.files()) {
            ParseResult r = scenarios.parse(file);
            if (r instanceof ParseResult.Parsed p) {
                valid++;
                if (!quiet) {
                    int n = p.scenario().steps().size();
                    output.out.println("valid " + Printable.escape(file.toString()) + " (" + n + (n == 1 ? " step)" : " steps)"));
                }
            } else {
                invalid++;
                output.error(((ParseResult.Rejected) r).error());
            }
        }
        output.out.println((valid + invalid) + (valid + invalid == 1 ? " path: " : " paths: ") + valid + " valid, "
                + invalid + " unusable");
        return invalid == 0 ? 0 : Hybridv.EXIT_UNUSABLE;
    }

}
