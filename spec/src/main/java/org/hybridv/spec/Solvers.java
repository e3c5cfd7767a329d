package org.hybridv.spec;

import java.util.Optional;

import kodkod.engine.satlab.SATFactory;

/**
 * The SAT solvers of the Alloy 6.2 distribution jar: SAT4J (pure Java, always there) and the native MiniSat and
 * Glucose that the jar carries for linux/amd64, darwin and windows. A native solver is used only when its library
 * loads; otherwise SAT4J runs and the report says so.
 */
public final class Solvers {
    /** The pure-Java solver every JVM can run. */
    public static final String FALLBACK = "sat4j";

    private Solvers() {}

    /** A solver to run with, and how to name it in the report. */
    public record Choice(SATFactory factory, String reportName) {}

    /** The solver named {@code name}, or SAT4J when it is unknown or its native library does not load. */
    public static Choice choose(String name) {
        Optional<SATFactory> found = SATFactory.find(name);
        if (found.isEmpty()) {
            return fallback(name, "unknown solver");
        }
        SATFactory f = found.get();
        String problem = problem(f);
        if (problem != null) {
            return fallback(name, problem);
        }
        return new Choice(f, f.id());
    }

    private static Choice fallback(String requested, String why) {
        SATFactory sat4j = SATFactory.find(FALLBACK).orElseThrow();
        return new Choice(sat4j, FALLBACK + " (fallback from " + requested + ": " + why + ")");
    }

    /** Why {@code f} cannot run here, or null when it can (its native library loads and solves a trivial problem). */
    private static String problem(SATFactory f) {
        try {
            if (!f.isPresent()) {
                return "not present";
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
