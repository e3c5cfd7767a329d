package org.hybridv.check;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.hybridv.gen.Choices;
import org.hybridv.xen.Faults;

/**
 * A property of the whole system, as plain functions: a run is generated from a choice stream (choice 0 = the
 * simplest), checked with a set of seeded faults injected (none for the real reference), and — when it fails —
 * written down as a scenario that replays the violation step by step.
 *
 * @param <R> the run: a plain value (a machine configuration and a list of operations)
 */
public interface SystemProperty<R> {
    /** A stable name: the file-name prefix of its counterexamples and the key of reports. */
    String name();

    /** What it checks, one line. */
    String description();

    /** The run the choices describe. */
    R generate(Choices c);

    /** Runs {@code run} with {@code faults} injected; every invariant after every operation. */
    Verdict check(R run, Faults faults);

    /**
     * {@link #check(Object, Faults)}, classifying what the run reached into {@code coverage} (the labels its
     * {@link #floors()} speak of). The default classifies nothing.
     */
    default Verdict check(R run, Faults faults, Coverage.Sink coverage) {
        return check(run, faults);
    }

    /**
     * The coverage a campaign of this property must reach for its "passed" to mean something: each floor, missed,
     * makes the campaign incomplete (hybridv check exits 3). Calibrated at the CI budget (docs/properties.md).
     */
    default java.util.List<Coverage.Floor> floors() {
        return java.util.List.of();
    }

    /** Operations in {@code run} (the length a report gives for a shrunk counterexample). */
    int length(R run);

    /**
     * The scenario (format v1) of {@code run}: its machine, its steps with the expectations that reproduce the
     * failure, and the invariant checks; {@code origin}, {@code violates} and {@code faults} are added by
     * {@link Capture}. Null if this property's runs cannot be written as scenarios.
     */
    ObjectNode scenario(R run, Faults faults, Verdict.Violated violation);
}
