package org.hybridv.spec;

/**
 * What one Alloy command found: an instance (for a {@code check}, a counterexample) or none within the scope.
 */
public sealed interface Outcome {
    /** An instance: its text form (Alloy's {@code A4Solution.toString()}) and its Alloy XML (openable in the Analyzer). */
    record Instance(String text, String xml) implements Outcome {}

    /** No instance within the scope: for a {@code check}, the assertion holds up to the scope. */
    record NoInstance() implements Outcome {}

    /** 1 when an instance was found, 0 otherwise: the value an {@code expect} clause states. */
    default int asExpect() {
        return this instanceof Instance ? 1 : 0;
    }
}
