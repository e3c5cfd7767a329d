package org.hybridv.scenario;

/**
 * One replayed step: the step as written and what running it gave.
 *
 * @param step   the step, with its number and location
 * @param result what happened and the checks
 */
public record StepReport(NumberedStep step, StepResult result) {
    public boolean holds() {
        return result.holds();
    }
}
