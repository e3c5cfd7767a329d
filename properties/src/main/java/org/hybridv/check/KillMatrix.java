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

    /** The kill matrix for {@code faults} at {@code tries} per property; counterexamples written to {@code found}. */
    public static List<Row> run(List<Fault> faults, long seed, int tries, Optional<java.nio.file.Path> found,
            Listener listener) throws java.io.IOException {
        List<Row> rows = new ArrayList<>();
        for (Fault f : faults) {
            Row row = new Row(f, Optional.empty());
            for (SystemProperty<?> p : SystemProperties.all()) {
                Optional<Caught> c = attempt(p, Faults.of(f), seed, tries, found);
                if (c.isPresent()) {
                    row = new Row(f, c);
                    break;
                }
            }
            rows.add(row);
            listener.row(row);
        }
        return rows;
    }

    private static <R> Optional<Caught> attempt(SystemProperty<R> p, Faults faults, long seed, int tries,
            Optional<java.nio.file.Path> found) throws java.io.IOException {
        Campaign.Result<R> r = Campaign.run(p, Campaign.Config.of(seed, tries, faults));
        if (r.failure().isEmpty()) {
            return Optional.empty();
        }
        Campaign.Failure<R> f = r.failure().get();
        Optional<Capture.Written> w = Optional.empty();
        if (found.isPresent()) {
            Optional<com.fasterxml.jackson.databind.node.ObjectNode> doc = Capture.document(p, f, faults, seed);
            if (doc.isPresent()) {
                w = Optional.of(Capture.write(found.get(), p.name(), doc.get()));
            }
        }
        return Optional.of(new Caught(p.name(), f.violation(), r.triesRun(), f.nanosToFailure(), p.length(f.shrunk()),
                w));
    }
}
