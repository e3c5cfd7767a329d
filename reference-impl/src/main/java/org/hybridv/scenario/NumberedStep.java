package org.hybridv.scenario;

/**
 * A step with its place in the file.
 *
 * @param number   1-based position in the {@code steps} array
 * @param location where the step's object starts, or null when unknown
 * @param step     the decoded step
 */
public record NumberedStep(int number, SourceLocation location, Step step) {
    public NumberedStep {
        if (number < 1 || step == null) {
            throw new IllegalArgumentException("a numbered step needs a number >= 1 and a step");
        }
    }
}
