package org.hybridv.check;

import org.hybridv.x86.Checks;

/**
 * The verdict of a whole-system property on one run. Spec violations (an invariant of the reference broken) are kept
 * apart from harness errors (the reference threw: API misuse by the harness, or a bug of the model itself).
 */
public sealed interface Verdict {
    Holds HOLDS = new Holds();

    record Holds() implements Verdict {}

    /**
     * @param invariant   I1 … I8
     * @param rule        the rule ID the invariant names ("TYP-1", "I3-result" …)
     * @param step        the 1-based operation after which it was found
     * @param explanation domain, vCPU, address, frame, entry — as the invariant explains it
     */
    record Violated(String invariant, String rule, int step, String explanation) implements Verdict {
        public Violated {
            Checks.notNull("invariant", invariant);
            Checks.notNull("rule", rule);
            Checks.notNull("explanation", explanation);
        }

        @Override
        public String toString() {
            return invariant + " (" + rule + ") after step " + step + ": " + explanation;
        }
    }

    /** The harness or the model threw: {@code what} names the exception and the step. */
    record HarnessError(int step, String what) implements Verdict {
        @Override
        public String toString() {
            return "harness error at step " + step + ": " + what;
        }
    }

    default boolean holds() {
        return this instanceof Holds;
    }
}
