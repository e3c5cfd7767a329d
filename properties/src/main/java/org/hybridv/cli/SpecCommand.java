package org.hybridv.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import org.hybridv.spec.CommandResult;
import org.hybridv.spec.ModelError;
import org.hybridv.spec.ModelSources;
import org.hybridv.spec.Outcome;
import org.hybridv.spec.SpecOptions;
import org.hybridv.spec.SpecReport;
import org.hybridv.spec.SpecRunner;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hybridv spec}: runs the Alloy models' commands headlessly (org.hybridv.spec.SpecRunner) and prints the
 * report table; with {@code --save}, writes every counterexample as Alloy XML under
 * {@code counterexamples/alloy/<model>/<command>.xml}, never overwriting a different file.
 */
@Command(name = "spec",
        mixinStandardHelpOptions = true,
        header = "Run the Alloy models' commands and compare each with its expect.",
        description = {"Runs every check and run command of the Alloy models (spec/models, or the copy inside this jar)",
            "and prints model, command, scope, outcome, expect, solver and time for each."},
        footerHeading = "%nExamples:%n",
        footer = {"  hybridv spec                               every model",
            "  hybridv spec --model pf_filter             one model",
            "  hybridv spec --solver sat4j --scope 6      another solver, a larger scope",
            "  hybridv spec --save                        also write counterexamples as Alloy XML",
            "",
            "Exit codes: 0 every command meets its expect, 1 some does not, 2 a model does not parse (file:line:column),",
            "an unknown model, or --save would overwrite a different file. Guide: docs/spec.md"})
final class SpecCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME", description = "Only this model (e.g. pf_filter or xen/direct_paging).")
    String model;

    @Option(names = "--solver", paramLabel = "NAME",
            description = "SAT solver for every model (sat4j, minisat, glucose); default: each model's recorded choice.")
    String solver;

    @Option(names = "--scope", paramLabel = "N", description = "Raise every command's scope to at least N.")
    Integer scope;

    @Option(names = "--save", description = "Write each counterexample to counterexamples/alloy/<model>/<command>.xml.")
    boolean save;

    @Option(names = "--models", paramLabel = "DIR",
            description = "The models directory (default: spec/models if present, else the models in this jar).")
    Path models;

    @Option(names = "--out", paramLabel = "DIR", description = "Where --save writes (default: counterexamples/alloy).")
    Path out = Path.of("counterexamples", "alloy");

    @Override
    public Integer call() throws IOException {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (scope != null && scope < 1) {
            err.println("hybridv spec: --scope must be at least 1, got " + scope);
            return Hybridv.EXIT_UNUSABLE;
        }
        Path dir = models != null ? models : Files.isDirectory(Path.of("spec", "models")) ? Path.of("spec", "models")
                : ModelSources.bundled();
        if (!Files.isDirectory(dir)) {
            err.println("hybridv spec: no models directory " + dir);
            return Hybridv.EXIT_UNUSABLE;
        }
        SpecOptions options = new SpecOptions(dir, Optional.ofNullable(model), Optional.ofNullable(solver),
                scope == null ? OptionalInt.empty() : OptionalInt.of(scope));
        if (ModelSources.in(dir).stream().noneMatch(m -> !m.library() && options.selects(m))) {
            err.println("hybridv spec: no model " + (model == null ? "" : model + " ") + "under " + dir);
            return Hybridv.EXIT_UNUSABLE;
        }
        SpecReport report = SpecRunner.run(options);
        o.print(report.table());
        o.flush();
        for (ModelError e : report.errors()) {
            err.println(e);
        }
        if (!report.errors().isEmpty()) {
            return Hybridv.EXIT_UNUSABLE;
        }
        if (save) {
            Integer refused = saveCounterexamples(report, o, err);
            if (refused != null) {
                return refused;
            }
        }
        return report.allMatch() ? 0 : 1;
    }

    /** Writes every counterexample; refuses (exit 2, nothing written) if one would replace a different file. */
    private Integer saveCounterexamples(SpecReport report, PrintWriter o, PrintWriter err) throws IOException {
        List<CommandResult> found = new ArrayList<>();
        for (CommandResult r : report.results()) {
            if (r.check() && r.outcome() instanceof Outcome.Instance) {
                found.add(r);
            }
        }
        for (CommandResult r : found) {
            Path f = target(r);
            if (Files.exists(f) && !Files.readString(f, StandardCharsets.UTF_8).equals(xml(r))) {
                err.println("hybridv spec: refusing to overwrite " + f + ": it holds a different instance (move or"
                        + " delete it first)");
                return Hybridv.EXIT_UNUSABLE;
            }
        }
        for (CommandResult r : found) {
            Path f = target(r);
            Files.createDirectories(f.getParent());
            Files.writeString(f, xml(r), StandardCharsets.UTF_8);
            o.println("saved " + f);
        }
        return null;
    }

    private Path target(CommandResult r) {
        return out.resolve(r.model()).resolve(r.command() + ".xml");
    }

    private static String xml(CommandResult r) {
        return ((Outcome.Instance) r.outcome()).xml();
    }
}
