package org.hybridv.spec.conformance;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

import org.hybridv.spec.ModelFile;
import org.hybridv.spec.ModelSources;
import org.hybridv.spec.Solvers;
import org.hybridv.spec.SpecRunner;

import edu.mit.csail.sdg.ast.Command;
import edu.mit.csail.sdg.ast.Expr;
import edu.mit.csail.sdg.parser.CompModule;
import edu.mit.csail.sdg.parser.CompUtil;
import edu.mit.csail.sdg.translator.A4Solution;
import edu.mit.csail.sdg.translator.A4Tuple;
import edu.mit.csail.sdg.translator.A4TupleSet;

/**
 * The instances of one {@code run} command of a model, enumerated with {@code A4Solution.next()}, and a small
 * evaluator over each: formulas to booleans, expressions to atom names (Alloy's {@code vocab/P$0} becomes {@code P},
 * {@code Frame$1} stays {@code Frame$1}).
 */
public final class Instances {
    private final CompModule world;
    private final Command command;
    private final String solver;
    private final Map<String, Expr> parsed = new HashMap<>();
    private A4Solution current;

    private Instances(CompModule world, Command command, String solver) {
        this.world = world;
        this.command = command;
        this.solver = solver;
    }

    /** The command {@code label} of model {@code name} (e.g. {@code vmx/pf_filter}) among the bundled models. */
    public static Instances of(String name, String label) {
        ModelFile m = ModelSources.in(ModelSources.bundled()).stream().filter(f -> f.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no model " + name));
        SpecRunner.Parse p = SpecRunner.parse(m);
        if (p instanceof SpecRunner.Parse.Failed f) {
            throw new IllegalStateException(f.error().toString());
        }
        CompModule world = ((SpecRunner.Parse.Parsed) p).module();
        Command c = world.getAllCommands().stream().filter(x -> x.label.equals(label)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no command " + label + " in " + name));
        return new Instances(world, c, m.solver().orElse(Solvers.FALLBACK));
    }

    /**
     * Visits every instance (at most {@code limit}) in the solver's order; returns how many were visited and whether
     * the enumeration was exhaustive (ended before the limit).
     */
    public Count forEach(int limit, Consumer<Instances> visitor) {
        A4Solution s = SpecRunner.solve(world, command, Solvers.choose(solver).factory());
        int n = 0;
        while (s.satisfiable() && n < limit) {
            current = s;
            visitor.accept(this);
            n++;
            A4Solution previous = s;
            s = SpecRunner.onSolverThread(previous::next);
        }
        return new Count(n, !s.satisfiable());
    }

    /** How many instances were visited, and whether that was all of them. */
    public record Count(int instances, boolean exhaustive) {}

    /**
     * The atoms of the skolem relation {@code name} (e.g. {@code $accessTable_ok}: a set the run's body quantifies
     * existentially, made part of the instance by the solver), normalized and sorted; empty when it is empty.
     */
    public Set<String> skolem(String name) {
        for (edu.mit.csail.sdg.ast.ExprVar v : current.getAllSkolems()) {
            if (v.label.equals(name)) {
                Set<String> out = new TreeSet<>();
                for (A4Tuple t : (A4TupleSet) current.eval(v)) {
                    out.add(name(t.atom(0)));
                }
                return out;
            }
        }
        throw new IllegalArgumentException("no skolem " + name + " in this instance");
    }

    /** Whether formula {@code f} holds in the current instance. */
    public boolean holds(String f) {
        return (Boolean) current.eval(expr(f));
    }

    /** The atoms of unary expression {@code e} in the current instance, normalized and sorted. */
    public Set<String> atoms(String e) {
        Set<String> out = new TreeSet<>();
        for (A4Tuple t : (A4TupleSet) current.eval(expr(e))) {
            out.add(name(t.atom(0)));
        }
        return out;
    }

    /** A binary relation that is a partial function (e.g. {@code Snapshot.owner}) as a map from atom to atom. */
    public java.util.Map<String, String> function(String e) {
        java.util.Map<String, String> out = new java.util.HashMap<>();
        for (List<String> t : tuples(e)) {
            out.put(t.get(0), t.get(1));
        }
        return out;
    }

    /** The tuples of expression {@code e}, each as a list of normalized atom names. */
    public List<List<String>> tuples(String e) {
        List<List<String>> out = new ArrayList<>();
        for (A4Tuple t : (A4TupleSet) current.eval(expr(e))) {
            List<String> row = new ArrayList<>();
            for (int i = 0; i < t.arity(); i++) {
                row.add(name(t.atom(i)));
            }
            out.add(row);
        }
        return out;
    }

    /** The number of states of the current instance's trace (1 for a static model). */
    public int traceLength() {
        return current.getTraceLength();
    }

    /** The state that follows state {@code i} of the current trace (the loop state after the last one). */
    public int successor(int i) {
        return i + 1 < current.getTraceLength() ? i + 1 : current.getLoopState();
    }

    /** Whether formula {@code f} holds in state {@code state} of the current trace. */
    public boolean holds(String f, int state) {
        return (Boolean) current.eval(expr(f), state);
    }

    /** The atoms of unary expression {@code e} in state {@code state} of the current trace, normalized, sorted. */
    public Set<String> atoms(String e, int state) {
        Set<String> out = new TreeSet<>();
        for (A4Tuple t : (A4TupleSet) current.eval(expr(e), state)) {
            out.add(name(t.atom(0)));
        }
        return out;
    }

    /** The tuples of expression {@code e} in state {@code state} of the current trace, as normalized atom names. */
    public List<List<String>> tuples(String e, int state) {
        List<List<String>> out = new ArrayList<>();
        for (A4Tuple t : (A4TupleSet) current.eval(expr(e), state)) {
            List<String> row = new ArrayList<>();
            for (int i = 0; i < t.arity(); i++) {
                row.add(name(t.atom(i)));
            }
            out.add(row);
        }
        return out;
    }

    /** The current instance as Alloy prints it (for a disagreement report). */
    public String text() {
        return current.toString();
    }

    private Expr expr(String s) {
        return parsed.computeIfAbsent(s, x -> CompUtil.parseOneExpression_fromString(world, x));
    }

    /** {@code vocab/P$0} → {@code P} for a one sig; {@code vocab/Frame$1} → {@code Frame$1}. */
    static String name(String atom) {
        String a = atom.substring(atom.lastIndexOf('/') + 1);
        return a.endsWith("$0") && Character.isUpperCase(a.charAt(0)) && isOneSigLike(a) ? a.substring(0, a.length() - 2) : a;
    }

    private static boolean isOneSigLike(String a) {
        return !a.startsWith("Frame$") && !a.startsWith("Domain$") && !a.startsWith("Entry$") && !a.startsWith("Index$")
                && !a.startsWith("Linear$") && !a.startsWith("Cpu$") && !a.startsWith("Access$")
                && !a.startsWith("ErrorCode$") && !a.startsWith("AnyControls$");
    }
}
