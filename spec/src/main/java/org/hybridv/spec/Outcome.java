package org.hybridv.spec;

/**
 * What one Alloy command found: an instance (for a {@code check}, a counterexample), none within the scope, or
 * nothing because the scope is too large for Alloy to translate the command at all.
 */
public sealed interface Outcome {
    /** An instance: its text form (Alloy's {@code A4Solution.toString()}) and its Alloy XML (openable in the Analyzer). */
    record Instance(String text, String xml) implements Outcome {}

    /** No instance within the scope: for a {@code check}, the assertion holds up to the scope. */
    record NoInstance() implements Outcome {}

    /**
     * The command was not solved: its scope is too large to translate (Kodkod's "translation capacity exceeded", a
     * relation whose tuples cannot be numbered). {@code error} is at the command, with Alloy's reason.
     */
    record TooLarge(ModelError error) implements Outcome {}

    /** 1 when an instance was found, 0 when none was, -1 when the command was not solved: what {@code expect} states. */
    default int asExpect() {
        if (this instanceof TooLarge) {
            return -1;
        }
        return this instanceof Instance ? 1 : 0;
    }
}
