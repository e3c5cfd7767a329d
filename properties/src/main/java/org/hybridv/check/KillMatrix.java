package org.hybridv.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.hybridv.xen.Fault;
import org.hybridv.xen.Faults;

/**
 * The checker proving its own power: each seeded fault of the catalog ({@link Fault}) injected alone, the properties
 * run in order at a budget until one fails. A row says which invariant caught the fault, which property, after how
 * many tries and how long, and how long the shrunk counterexample is.
 */
public final class KillMatrix {
    private KillMatrix() {}

    /** One fault's row; {@code caught} empty if no property failed within the budget. */
    public record Row(Fault fault, Optional<Caught> caught) {}

    /** How a fault was caught. */
    public record Caught(String property, Verdict.Violated violation, int tries, long nanos, int shrunkLength,
            Optional<org.hybridv.check.Capture.Written> written) {}

    /** Receives each row as soon as it is known (progress display). */
    public interface Listener {
        void row(Row r);
    }

    /**
     * The kill matrix for {@code faults}: per fault, the properties are run try by try in turn (try 0 of each, then
     * try 1 of each …) up to {@code tries}, so the fault is caught by whichever property reaches it first; the
     * failure is shrunk and, with {@code found}, written as a scenario.
     */
    public static List<Row> run(List<Fault> faults, long seed, int tries, Optional<java.nio.file.Path> found,
            Listener listener) throws java.io.IOException {
        List<Row> rows = new ArrayList<>();
        for (Fault f : faults) {
            Row row = new Row(f, caught(f, seed, tries, true, found));
            rows.add(row);
            listener.row(row);
        }
        return rows;
    }

    /**
     * How fault {@code f} is caught within {@code tries} per property, if it is; {@code shrink}: shrink the
     * counterexample (else its length is the unshrunk run's).
     */
    public static Optional<Caught> caught(Fault f, long seed, int tries, boolean shrink,
            Optional<java.nio.file.Path> found) throws java.io.IOException {
        Faults faults = Faults.of(f);
        long start = System.nanoTime();
        for (int t = 0; t < tries; t++) {
            for (SystemProperty<?> p : SystemProperties.all()) {
                Optional<Caught> c = attempt(p, faults, seed, t, start, shrink, found);
                if (c.isPresent()) {
                    return c;
                }
            }
        }
        return Optional.empty();
    }

    private static <R> Optional<Caught> attempt(SystemProperty<R> p, Faults faults, long seed, int t, long start,
            boolean shrink, Optional<java.nio.file.Path> found) throws java.io.IOException {
        Campaign.Try<R> one = Campaign.tryOnce(p, seed, t, faults, start, shrink);
        if (one.failure().isEmpty()) {
            return Optional.empty();
        }
        Campaign.Failure<R> f = one.failure().get();
        Optional<Capture.Written> w = Optional.empty();
        if (found.isPresent()) {
            Optional<com.fasterxml.jackson.databind.node.ObjectNode> doc = Capture.document(p, f, faults, seed);
            if (doc.isPresent()) {
                w = Optional.of(Capture.write(found.get(), p.name(), doc.get()));
            }
        }
        return Optional.of(new Caught(p.name(), f.violation(), t + 1, f.nanosToFailure(), p.length(f.shrunk()), w));
    }
}
