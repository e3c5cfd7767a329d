package org.hybridv.invariants;

/** The verdict of an executable invariant: it holds, or a readable explanation of the first violation found. */
public sealed interface InvariantResult permits InvariantResult.Holds, InvariantResult.Violated {
    Holds HOLDS = new Holds();

    record Holds() implements InvariantResult {
        @Override
        public String toString() {
            return "holds";
        }
    }

    /** @param rule the rule ID broken; @param explanation frame, level, index, entry and path */
    record Violated(String rule, String explanation) implements InvariantResult {
        @Override
        public String toString() {
            return rule + ": " + explanation;
        }
    }

    default boolean holds() {
        return this instanceof Holds;
    }
}
