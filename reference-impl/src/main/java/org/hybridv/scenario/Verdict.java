package org.hybridv.scenario;

/** The verdict on one scenario file. */
public enum Verdict {
    /** Every step ran and every expectation holds. */
    PASSED,
    /** Every step ran and some expectation does not hold. */
    FAILED,
    /** The file could not be read, parsed or run to the end. */
    UNUSABLE
}
