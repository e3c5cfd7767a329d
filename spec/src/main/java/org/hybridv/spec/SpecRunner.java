package org.hybridv.spec;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import edu.mit.csail.sdg.alloy4.A4Reporter;
import edu.mit.csail.sdg.alloy4.Err;
import edu.mit.csail.sdg.alloy4.Pos;
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
        // The Alloy jar bundles slf4j-simple, which logs every translation step at INFO unless told otherwise.
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        // A native solver whose instance is left to the garbage collector warns from the finalizer; that is expected.
        if (System.getProperty("org.slf4j.simpleLogger.log.kodkod.engine.satlab.NativeSolver") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.kodkod.engine.satlab.NativeSolver", "error");
        }
    }

    private static final Object SOLVER_LOCK = new Object();
    /** Stack for the solver thread: Kodkod's translation recurses deeply (independent of the JVM's -Xss). */
    private static final long SOLVER_STACK = 256L << 20;

    private SpecRunner() {}

    /** A model parsed and type-checked, or the error that stopped it. */
    public sealed interface Parse {
        record Parsed(CompModule module) implements Parse {}

        record Failed(ModelError error) implements Parse {}
    }

    /** Parses and type-checks {@code m} (with the modules it opens). */
    public static Parse parse(ModelFile m) {
        try {
            return new Parse.Parsed(CompUtil.parseEverything_fromFile(A4Reporter.NOP, null, m.path().toString()));
        } catch (Err e) {
            return new Parse.Failed(errorOf(e, m));
        }
    }

    static ModelError errorOf(Err e, ModelFile m) {
        Pos p = e.pos == null ? Pos.UNKNOWN : e.pos;
        String file = p.filename == null || p.filename.isEmpty() ? m.path().toString() : p.filename;
        return new ModelError(file, Math.max(p.y, 1), Math.max(p.x, 1), e.msg.strip().replaceAll("\\s*\n\\s*", " "));
    }

    /** Development entry point: runs every model below the directory given (default {@code spec/models}). */
    public static void main(String[] args) {
        SpecOptions o = SpecOptions.all(java.nio.file.Path.of(args.length > 0 ? args[0] : "spec/models"));
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

    /** Runs the selected models. */
    public static SpecReport run(SpecOptions o) {
        List<ModelReport> reports = new ArrayList<>();
        for (ModelFile m : ModelSources.in(o.modelsDir())) {
            if (!m.library() && o.selects(m)) {
                reports.add(run(m, o));
            }
        }
        return new SpecReport(reports);
    }

    /** Runs every command of {@code m}, in name order. */
    public static ModelReport run(ModelFile m, SpecOptions o) {
        Parse p = parse(m);
        if (p instanceof Parse.Failed f) {
            return new ModelReport.Unparsable(m, f.error());
        }
        CompModule world = ((Parse.Parsed) p).module();
        Solvers.Choice solver = Solvers.choose(o.solver().or(m::solver).orElse(Solvers.FALLBACK));
        List<Command> commands = new ArrayList<>(world.getAllCommands());
        commands.sort(Comparator.comparing(c -> c.label));
        List<CommandResult> results = new ArrayList<>();
        try {
            for (Command c : commands) {
                results.add(run(m, world, withScope(c, o.scope()), solver));
            }
        } catch (Err e) {
            return new ModelReport.Unparsable(m, errorOf(e, m));
        }
        return new ModelReport.Checked(m, results);
    }

    /** Runs one command and compares its outcome with its {@code expect}. */
    public static CommandResult run(ModelFile m, CompModule world, Command c, Solvers.Choice solver) {
        long start = System.nanoTime();
        A4Solution s = solve(world, c, solver.factory());
        long millis = (System.nanoTime() - start) / 1_000_000;
        Outcome outcome = s.satisfiable() ? new Outcome.Instance(s.toString(), xml(s)) : new Outcome.NoInstance();
        return new CommandResult(m.name(), c.label, c.check, scopeOf(c), outcome, c.expects, solver.reportName(),
                millis);
    }

    /** Solves {@code c} (one solve at a time in this JVM). */
    public static A4Solution solve(CompModule world, Command c, SATFactory solver) {
        A4Options opt = new A4Options();
        opt.solver = solver;
        opt.skolemDepth = 1;
        opt.originalFilename = world.path();
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

    /** The Alloy XML of an instance; the overload with an empty function list and source map (the plain one NPEs). */
    public static String xml(A4Solution s) {
        StringWriter w = new StringWriter();
        try (PrintWriter out = new PrintWriter(w)) {
            s.writeXML(out, List.of(), Map.of());
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
