package org.hybridv.spec;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import kodkod.engine.satlab.SATFactory;

/**
 * The SAT solvers of the Alloy 6.2 distribution jar: SAT4J (pure Java, always there), the native MiniSat and Glucose
 * that the jar carries for linux/amd64, darwin and windows, and the others its solver list names. A name is looked
 * up before anything is solved: an unknown name, or a known solver that is not a native library and cannot run here
 * (an external program that is not installed), is a value naming the solvers that can run ({@link Lookup}); only a
 * known native solver whose library does not load falls back to SAT4J, and the choice says so.
 */
public final class Solvers {
    /** The pure-Java solver every JVM can run. */
    public static final String FALLBACK = "sat4j";

    /** Why each solver cannot run here ("" when it can), by id: loading a native library once is enough. */
    private static final Map<String, String> PROBLEMS = new ConcurrentHashMap<>();

    static {
        AlloyLogging.quiet();
    }

    private Solvers() {}

    /**
     * A solver to run with, and how to name it in the report.
     *
     * @param fallbackNote empty, or why the native solver asked for did not load and SAT4J runs instead
     */
    public record Choice(SATFactory factory, String reportName, Optional<String> fallbackNote) {}

    /** What a solver name resolves to. */
    public sealed interface Lookup {
        /** A solver that runs here (possibly SAT4J in place of a native solver that does not load). */
        record Found(Choice choice) implements Lookup {}

        /** A name the Alloy API does not know. */
        record Unknown(String name, List<String> available) implements Lookup {}

        /** A known solver that is not a native library and cannot run on this machine. */
        record Unavailable(String name, String why, List<String> available) implements Lookup {}
    }

    /** The solver named {@code name}: found (or its SAT4J fallback), unknown, or unavailable here. */
    public static Lookup lookup(String name) {
        Optional<SATFactory> found = SATFactory.getAllSolvers().stream()
                .filter(f -> !f.isTransformer() && f.id().equals(name)).findFirst();
        if (found.isEmpty()) {
            return new Lookup.Unknown(name, available());
        }
        SATFactory f = found.get();
        String problem = problem(f);
        if (problem == null) {
            return new Lookup.Found(new Choice(f, f.id(), Optional.empty()));
        }
        if (!"jni".equals(f.type())) {
            return new Lookup.Unavailable(name, problem, available());
        }
        SATFactory sat4j = SATFactory.find(FALLBACK).orElseThrow();
        String note = name + " does not load here (" + problem + "); " + FALLBACK + " runs instead";
        return new Lookup.Found(new Choice(sat4j, FALLBACK + " (fallback from " + name + ": " + problem + ")",
                Optional.of(note)));
    }

    /**
     * The solver named {@code name}, or SAT4J when it is a native solver whose library does not load.
     *
     * @throws IllegalArgumentException when the name is unknown or the solver cannot run here (look it up first)
     */
    public static Choice choose(String name) {
        Lookup l = lookup(name);
        if (l instanceof Lookup.Found f) {
            return f.choice();
        }
        throw new IllegalArgumentException(describe(l));
    }

    /**
     * The solvers the Alloy API knows that run on this machine, by name: present (a native library that loads here,
     * an external program that is installed). Unlike {@link #lookup}, nothing is solved to check (Glucose's native
     * library prints its statistics to stdout when it solves).
     */
    public static List<String> available() {
        return SATFactory.getAllSolvers().stream().filter(f -> !f.isTransformer() && present(f))
                .map(SATFactory::id).sorted().toList();
    }

    private static boolean present(SATFactory f) {
        try {
            return f.isPresent();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** One line saying why a lookup found nothing, naming the solvers available here; "" for a found solver. */
    public static String describe(Lookup l) {
        if (l instanceof Lookup.Unknown u) {
            return "unknown solver; available here: " + String.join(", ", u.available());
        }
        if (l instanceof Lookup.Unavailable u) {
            return "solver not available on this machine (" + u.why() + "); available here: "
                    + String.join(", ", u.available());
        }
        return "";
    }

    /** Why {@code f} cannot run here, or null when it can (its native library loads and solves a trivial problem). */
    private static String problem(SATFactory f) {
        String p = PROBLEMS.computeIfAbsent(f.id(), id -> {
            String q = probe(f);
            return q == null ? "" : q;
        });
        return p.isEmpty() ? null : p;
    }

    private static String probe(SATFactory f) {
        try {
            if (!f.isPresent()) {
                String check = f.check();
                return check == null || check.isBlank() ? "not present" : check;
            }
            String check = f.check();
            if (check != null && !check.isEmpty()) {
                return check;
            }
            f.instance().free();
            return null;
        } catch (RuntimeException | LinkageError e) {
            return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        }
    }
}
