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
import org.hybridv.spec.ModelFile;
import org.hybridv.spec.ModelSources;
import org.hybridv.spec.Outcome;
import org.hybridv.spec.SpecOptions;
import org.hybridv.spec.SpecReport;
import org.hybridv.spec.SpecRunner;
import org.hybridv.spec.Solvers;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hybridv spec}: runs the Alloy models' commands headlessly (org.hybridv.spec.SpecRunner) and prints which
 * models ran ({@link ModelsDir}) and the report table; with {@code --save}, writes every counterexample as Alloy XML
 * (with the model's source) under {@code counterexamples/alloy/<model>/<command>.xml} of the checkout, never
 * overwriting a different file. A solver name is looked up before anything is solved.
 */
@Command(name = "spec",
        mixinStandardHelpOptions = true,
        header = "Run the Alloy models' commands and compare each with its expect.",
        description = {"Runs every check and run command of the Alloy models and prints model, command, scope, "
            + "outcome, expect, solver and time for each.",
            "The first line says which models ran: --models DIR (relative to the current directory), else the "
            + "spec/models of the checkout hybridv runs from (from any directory), else, outside any checkout, the "
            + "copy bundled in hybridv.jar."},
        footerHeading = "%nExamples:%n",
        footer = {"  hybridv spec                               every model",
            "  hybridv spec --model pf_filter             one model",
            "  hybridv spec --solver sat4j --scope 6      another solver, a larger scope",
            "  hybridv spec --save                        also save counterexamples as XML",
            "",
            "Exit codes: 0 every command meets its expect, 1 some does not, 2 unusable input:",
            "a model does not read as UTF-8 or does not parse (file:line:column), a scope too",
            "large to translate, an unknown model or solver, no models directory, or --save",
            "would overwrite a different file. Guide: docs/spec.md"})
final class SpecCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME", description = "Only this model (e.g. pf_filter or xen/direct_paging).")
    String model;

    @Option(names = "--solver", paramLabel = "NAME",
            description = "SAT solver for every model (e.g. sat4j, minisat, glucose); default: each model's "
                    + "recorded choice. An unknown name lists the solvers available here.")
    String solver;

    @Option(names = "--scope", paramLabel = "N", description = "Raise every command's scope to at least N.")
    Integer scope;

    @Option(names = "--save",
            description = "Write each counterexample, with its model's source, to "
                    + "counterexamples/alloy/<model>/<command>.xml in the checkout (--out to choose).")
    boolean save;

    @Option(names = "--models", paramLabel = "DIR",
            description = "The models directory (default: the checkout's spec/models; outside a checkout, the "
                    + "models bundled in this jar).")
    Path models;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Where --save writes (default: the checkout's counterexamples/alloy).")
    Path out;

    @Override
    public Integer call() throws IOException {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (scope != null && scope < 1) {
            err.println("hybridv spec: --scope must be at least 1, got " + scope);
            return Hybridv.EXIT_UNUSABLE;
        }
        if (solver != null) {
            Solvers.Lookup l = Solvers.lookup(solver);
            if (!(l instanceof Solvers.Lookup.Found found)) {
                err.println("hybridv spec: --solver " + Printable.quote(solver) + ": " + Solvers.describe(l));
                return Hybridv.EXIT_UNUSABLE;
            }
            found.choice().fallbackNote().ifPresent(n -> err.println("hybridv spec: note: " + n));
        }
        ModelsDir.Resolution where = ModelsDir.resolve(models);
        if (where instanceof ModelsDir.Resolution.Missing m) {
            err.println("hybridv spec: " + m.problem());
            return Hybridv.EXIT_UNUSABLE;
        }
        ModelsDir dir = ((ModelsDir.Resolution.Found) where).models();
        Optional<Path> saveTo = Home.resolve(out, "counterexamples/alloy");
        if (save && saveTo.isEmpty()) {
            err.println("hybridv spec: --save: no checkout to write counterexamples/alloy into (give --out DIR)");
            return Hybridv.EXIT_UNUSABLE;
        }
        SpecOptions options = dir.apply(new SpecOptions(dir.dir(), Optional.ofNullable(model),
                Optional.ofNullable(solver), scope == null ? OptionalInt.empty() : OptionalInt.of(scope)));
        List<ModelFile> selected = ModelSources.in(dir.dir()).stream().filter(options::runs).toList();
        o.println(dir.describe());
        o.flush();
        if (selected.isEmpty()) {
            err.println("hybridv spec: no model " + (model == null ? "" : Printable.quote(model) + " ") + "under "
                    + Printable.escape(dir.dir().toString()));
            return Hybridv.EXIT_UNUSABLE;
        }
        if (solver == null) {
            selected.stream().map(ModelFile::solver).flatMap(Optional::stream).distinct().sorted()
                    .map(Solvers::lookup).filter(l -> l instanceof Solvers.Lookup.Found)
                    .flatMap(l -> ((Solvers.Lookup.Found) l).choice().fallbackNote().stream())
                    .forEach(n -> err.println("hybridv spec: note: " + n));
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
            Integer refused = saveCounterexamples(report, saveTo.get(), o, err);
            if (refused != null) {
                return refused;
            }
        }
        return report.allMatch() ? 0 : 1;
    }

    /** Writes every counterexample; refuses (exit 2, nothing written) if one would replace a different file. */
    private Integer saveCounterexamples(SpecReport report, Path out, PrintWriter o, PrintWriter err)
            throws IOException {
        List<CommandResult> found = new ArrayList<>();
        for (CommandResult r : report.results()) {
            if (r.check() && r.outcome() instanceof Outcome.Instance) {
                found.add(r);
            }
        }
        for (CommandResult r : found) {
            Path f = target(out, r);
            if (Files.exists(f) && !Files.readString(f, StandardCharsets.UTF_8).equals(xml(r))) {
                err.println("hybridv spec: refusing to overwrite " + f + ": it holds a different instance (move or"
                        + " delete it first)");
                return Hybridv.EXIT_UNUSABLE;
            }
        }
        for (CommandResult r : found) {
            Path f = target(out, r);
            Files.createDirectories(f.getParent());
            Files.writeString(f, xml(r), StandardCharsets.UTF_8);
            o.println("saved " + f);
        }
        return null;
    }

    private static Path target(Path out, CommandResult r) {
        return out.resolve(r.model()).resolve(r.command() + ".xml");
    }

    private static String xml(CommandResult r) {
        return ((Outcome.Instance) r.outcome()).xml();
    }
}
