package org.hybridv.scenario;

/** The verdict on one scenario file. */
public enum Verdict {
    /** Every step ran and every expectation holds. */
    PASSED,
    /**
     * Some expectation does not hold. The steps after a divergence may not have run ({@link Replay#notRun()}): a
     * step that cannot run in the state a failed expectation left is part of that failure, not unusable input.
     */
    FAILED,
    /**
     * The file could not be read or parsed, or a step could not run although every expectation before it held (the
     * scenario asks the reference for something it cannot do).
     */
    UNUSABLE
}
