package org.hybridv.spec;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import edu.mit.csail.sdg.alloy4.A4Reporter;
import edu.mit.csail.sdg.alloy4.Err;
import edu.mit.csail.sdg.alloy4.Pos;
import edu.mit.csail.sdg.alloy4.Util;
import edu.mit.csail.sdg.ast.Command;
import edu.mit.csail.sdg.ast.CommandScope;
import edu.mit.csail.sdg.parser.CompModule;
import edu.mit.csail.sdg.parser.CompUtil;
import edu.mit.csail.sdg.translator.A4Options;
import edu.mit.csail.sdg.translator.A4Solution;
import edu.mit.csail.sdg.translator.TranslateAlloyToKodkod;
import kodkod.engine.satlab.SATFactory;

/**
 * Runs every command of every Alloy model headlessly on the Alloy 6 API ({@code CompUtil.parseEverything_fromFile},
 * {@code A4Options}, {@code TranslateAlloyToKodkod.execute_command}) and compares each outcome with the command's
 * {@code expect}. Models and commands run in name order, one solve at a time (the Alloy API is not documented as
 * thread-safe), each with the solver its model records (or the one asked for), falling back to SAT4J when a native
 * solver does not load.
 */
public final class SpecRunner {
    static {
        AlloyLogging.quiet();
    }

    private static final Object SOLVER_LOCK = new Object();
    /** Stack for the solver thread: Kodkod's translation recurses deeply (independent of the JVM's -Xss). */
    private static final long SOLVER_STACK = 256L << 20;

    private SpecRunner() {}

    /** A model parsed and type-checked, or the error that stopped it. */
    public sealed interface Parse {
        /**
         * @param filename the model's name in a saved instance (e.g. {@code spec/models/x86/paging.als})
         * @param sources  every file the model loaded, by its name in a saved instance, in load order (the model
         *                 first): what a saved instance embeds so that it opens with its model
         */
        record Parsed(CompModule module, String filename, Map<String, String> sources) implements Parse {
            public Parsed {
                sources = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(sources));
            }
        }

        record Failed(ModelError error) implements Parse {}
    }

    /** Parses and type-checks {@code m} (with the modules it opens); saved instances name files below its root. */
    public static Parse parse(ModelFile m) {
        return parse(m, "");
    }

    /**
     * Parses and type-checks {@code m} (with the modules it opens), naming the models directory {@code sourceRoot}
     * in saved instances (see {@link SpecOptions#sourceRoot()}).
     */
    public static Parse parse(ModelFile m, String sourceRoot) {
        if (m.unreadable().isPresent()) {
            return new Parse.Failed(m.unreadable().get());
        }
        Map<String, String> loaded = new LinkedHashMap<>();
        CompModule world;
        try {
            world = CompUtil.parseEverything_fromFile(A4Reporter.NOP, loaded, m.path().toString());
        } catch (Err e) {
            return new Parse.Failed(errorOf(e, m));
        }
        String root = Util.canon(m.root().toString());
        Map<String, String> sources = new LinkedHashMap<>();
        String main = null;
        for (Map.Entry<String, String> e : loaded.entrySet()) {
            String name = sourceName(e.getKey(), root, sourceRoot);
            if (name != null) {
                sources.put(name, e.getValue());
                if (main == null && e.getKey().equals(Util.canon(m.path().toString()))) {
                    main = name;
                }
            }
        }
        if (main == null) {
            main = sourceName(Util.canon(m.path().toString()), root, sourceRoot);
        }
        return new Parse.Parsed(world, main == null ? m.name() + ".als" : main, sources);
    }

    /**
     * How a saved instance names a loaded file: below the models directory, {@code sourceRoot/<path>}; a module of
     * Alloy's own library by Alloy's name for it ({@code /$alloy4$/models/util/integer.als}, the same on every
     * machine); null for anything else (never a path of this machine).
     */
    static String sourceName(String canonical, String canonicalRoot, String sourceRoot) {
        String jar = Util.jarPrefix();
        if (canonical.startsWith(jar)) {
            return canonical.replace('\\', '/');
        }
        Path file = Path.of(canonical);
        Path root = Path.of(canonicalRoot);
        if (!file.startsWith(root)) {
            return null;
        }
        String rel = root.relativize(file).toString().replace('\\', '/');
        return sourceRoot.isEmpty() ? rel : sourceRoot + "/" + rel;
    }

    static ModelError errorOf(Err e, ModelFile m) {
        Pos p = e.pos == null ? Pos.UNKNOWN : e.pos;
        String file = p.filename == null || p.filename.isEmpty() ? m.path().toString() : p.filename;
        return new ModelError(file, Math.max(p.y, 1), Math.max(p.x, 1), e.msg.strip().replaceAll("\\s*\n\\s*", " "));
    }

    /** Development entry point: runs every model below the directory given (default {@code spec/models}). */
    public static void main(String[] args) {
        SpecOptions o = SpecOptions.all(Path.of(args.length > 0 ? args[0] : "spec/models"));
        if (args.length > 1) {
            o = new SpecOptions(o.modelsDir(), java.util.Optional.of(args[1]), o.solver(), o.scope());
        }
        if (args.length > 2) {
            o = new SpecOptions(o.modelsDir(), o.model(), java.util.Optional.of(args[2]), o.scope());
        }
        SpecReport r = run(o);
        System.out.print(r.table());
        System.exit(r.allMatch() ? 0 : 1);
    }

    /**
     * Runs the selected models.
     *
     * @throws IllegalArgumentException when {@code o} names a solver that is unknown or cannot run here (look it up
     *                                  with {@link Solvers#lookup} first)
     */
    public static SpecReport run(SpecOptions o) {
        o.solver().ifPresent(Solvers::choose);
        List<ModelReport> reports = new ArrayList<>();
        for (ModelFile m : ModelSources.in(o.modelsDir())) {
            if (o.runs(m)) {
                reports.add(run(m, o));
            }
        }
        return new SpecReport(reports);
    }

    /** Runs every command of {@code m}, in name order. */
    public static ModelReport run(ModelFile m, SpecOptions o) {
        Parse p = parse(m, o.sourceRoot());
        if (p instanceof Parse.Failed f) {
            return new ModelReport.Unparsable(m, f.error());
        }
        Parse.Parsed parsed = (Parse.Parsed) p;
        Solvers.Choice solver;
        if (o.solver().isPresent()) {
            solver = Solvers.choose(o.solver().get());
        } else {
            Solvers.Lookup l = Solvers.lookup(m.solver().orElse(Solvers.FALLBACK));
            if (!(l instanceof Solvers.Lookup.Found found)) {
                return new ModelReport.Unparsable(m, new ModelError(m.path().toString(), Math.max(m.solverLine(), 1),
                        1, "-- solver: " + m.solver().orElse("") + ": " + Solvers.describe(l)));
            }
            solver = found.choice();
        }
        List<Command> commands = new ArrayList<>(parsed.module().getAllCommands());
        commands.sort(Comparator.comparing(c -> c.label));
        List<CommandResult> results = new ArrayList<>();
        try {
            for (Command c : commands) {
                results.add(run(m, parsed, withScope(c, o.scope()), solver));
            }
        } catch (Err e) {
            return new ModelReport.Unparsable(m, errorOf(e, m));
        }
        return new ModelReport.Checked(m, results);
    }

    /**
     * Runs one command and compares its outcome with its {@code expect}. A scope too large to translate is an outcome
     * ({@link Outcome.TooLarge}, at the command); any other error of Alloy's is thrown.
     */
    public static CommandResult run(ModelFile m, Parse.Parsed parsed, Command c, Solvers.Choice solver) {
        long start = System.nanoTime();
        Outcome outcome;
        try {
            A4Solution s = solve(parsed, c, solver.factory());
            outcome = s.satisfiable() ? new Outcome.Instance(s.toString(), xml(s, parsed)) : new Outcome.NoInstance();
        } catch (Err e) {
            if (e.msg == null || !e.msg.startsWith(CAPACITY_EXCEEDED)) {
                throw e;
            }
            Pos p = c.pos == null ? Pos.UNKNOWN : c.pos;
            String file = p.filename == null || p.filename.isEmpty() ? m.path().toString() : p.filename;
            String why = e.msg.strip().replaceAll("\\s*\n\\s*", " ");
            outcome = new Outcome.TooLarge(new ModelError(file, Math.max(p.y, 1), Math.max(p.x, 1), "command "
                    + c.label + " (for " + scopeOf(c) + "): scope too large to translate: " + why));
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        return new CommandResult(m.name(), c.label, c.check, scopeOf(c), outcome, c.expects, solver.reportName(),
                millis);
    }

    /** The start of Alloy's message when Kodkod cannot number a relation's tuples in the scope. */
    static final String CAPACITY_EXCEEDED = "Translation capacity exceeded";

    /** Solves {@code c} of a parsed model; its instances carry the model's name in the repository. */
    public static A4Solution solve(Parse.Parsed parsed, Command c, SATFactory solver) {
        return solve(parsed.module(), c, solver, parsed.filename());
    }

    /** Solves {@code c} (one solve at a time in this JVM). */
    public static A4Solution solve(CompModule world, Command c, SATFactory solver) {
        return solve(world, c, solver, world.path());
    }

    private static A4Solution solve(CompModule world, Command c, SATFactory solver, String filename) {
        A4Options opt = new A4Options();
        opt.solver = solver;
        opt.skolemDepth = 1;
        opt.originalFilename = filename;
        return onSolverThread(
                () -> TranslateAlloyToKodkod.execute_command(A4Reporter.NOP, world.getAllReachableSigs(), c, opt));
    }

    /**
     * Runs {@code work} (a solve, or {@code A4Solution.next()}) on a thread with a large stack, one at a time in this
     * JVM, and returns its result; an exception it throws is rethrown here.
     */
    public static <T> T onSolverThread(java.util.function.Supplier<T> work) {
        synchronized (SOLVER_LOCK) {
            Object[] result = new Object[1];
            RuntimeException[] failure = new RuntimeException[1];
            Error[] error = new Error[1];
            Thread t = new Thread(null, () -> {
                try {
                    result[0] = work.get();
                } catch (RuntimeException e) {
                    failure[0] = e;
                } catch (Error e) {
                    error[0] = e;
                }
            }, "alloy-solver", SOLVER_STACK);
            t.start();
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while solving", e);
            }
            if (failure[0] != null) {
                throw failure[0];
            }
            if (error[0] != null) {
                throw error[0];
            }
            @SuppressWarnings("unchecked")
            T r = (T) result[0];
            return r;
        }
    }

    /**
     * The Alloy XML of an instance, as the Analyzer saves one: the instance (its {@code filename} attribute is the
     * model's name in the repository), the model's parameterless functions as skolems, and a {@code <source
     * filename=… content=…/>} for every file the model loaded, so that the file opens with its model.
     */
    public static String xml(A4Solution s, Parse.Parsed parsed) {
        StringWriter w = new StringWriter();
        try (PrintWriter out = new PrintWriter(w)) {
            s.writeXML(out, parsed.module().getAllFunc(), parsed.sources());
        }
        return w.toString();
    }

    /** The scope part of a command as Alloy prints it ("for 5 but 8 steps, 2 Domain"). */
    static String scopeOf(Command c) {
        String s = c.toString();
        int at = s.indexOf(" for ");
        String scope = at < 0 ? "default" : s.substring(at + 5);
        int expect = scope.lastIndexOf(" expect ");
        return (expect < 0 ? scope : scope.substring(0, expect)).strip();
    }

    /**
     * {@code c} with its overall scope, and every non-exact, non-zero signature scope below it, raised to
     * {@code scope} (exact scopes, scopes of 0 that leave a signature out, the bitwidth and the step bounds are kept).
     */
    static Command withScope(Command c, OptionalInt scope) {
        if (scope.isEmpty()) {
            return c;
        }
        int n = scope.getAsInt();
        List<CommandScope> scopes = new ArrayList<>();
        for (CommandScope cs : c.scope) {
            if (cs.isExact || cs.startingScope == 0 || cs.startingScope >= n) {
                scopes.add(cs);
            } else {
                scopes.add(new CommandScope(cs.pos, cs.sigPos, cs.sig, false, n, n, 1));
            }
        }
        return new Command(c.pos, c.nameExpr, c.label, c.check, Math.max(c.overall, n), c.bitwidth, c.maxseq,
                c.minprefix, c.maxprefix, c.expects, scopes, c.additionalExactScopes, c.commandKeyword, c.formula,
                c.parent);
    }
}
