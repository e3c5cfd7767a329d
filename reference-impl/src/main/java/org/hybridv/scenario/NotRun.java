package org.hybridv.scenario;

/**
 * The steps a replay did not run because the machine had already diverged from the scenario: an earlier step's
 * expectation did not hold, and then a step could not run in the state that divergence left (a guest instruction
 * after an exit the scenario did not expect, a root-only op while the processor is still in the guest). The
 * divergence is the failure ({@link Verdict#FAILED}); the step that could not run, and every step after it, are
 * not run.
 *
 * @param step       the first step not run: the one that could not run
 * @param op         its op
 * @param location   where it starts in the file, or null when unknown
 * @param reason     why it could not run, in the scenario's words
 * @param divergedAt the first earlier step with an expectation that does not hold
 * @param count      how many steps were not run ({@code step} and the ones after it)
 */
public record NotRun(int step, String op, SourceLocation location, String reason, int divergedAt, int count) {
    public NotRun {
        if (step < 2 || divergedAt < 1 || divergedAt >= step || count < 1 || op == null || reason == null) {
            throw new IllegalArgumentException("not run: step " + step + " after a divergence at step " + divergedAt
                    + ", " + count + " steps");
        }
    }

    /** The last step not run. */
    public int last() {
        return step + count - 1;
    }
}
