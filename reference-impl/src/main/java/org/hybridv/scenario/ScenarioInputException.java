package org.hybridv.scenario;

/**
 * A scenario file is unusable: malformed JSON, an unknown field or op, a missing field, a value out of range, or a
 * step the reference cannot run. Thrown by decoders and executors, caught by {@link ScenarioParser} and
 * {@link Replayer} and turned into a {@link ScenarioError} value, so it never leaves this package's API.
 *
 * <p>The message says what is wrong in the scenario's own words (field paths, values), without the file name or
 * step number, which the catcher adds.
 */
public final class ScenarioInputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient SourceLocation location;
    private final int step;

    public ScenarioInputException(String message, SourceLocation location) {
        this(message, location, 0, null);
    }

    public ScenarioInputException(String message, SourceLocation location, int step, Throwable cause) {
        super(message, cause);
        this.location = location;
        this.step = step;
    }

    /** Where in the file, or null when unknown. */
    public SourceLocation location() {
        return location;
    }

    /** The 1-based step the problem is in, or 0 when the parser had not reached a step (or does not know). */
    public int step() {
        return step;
    }
}
