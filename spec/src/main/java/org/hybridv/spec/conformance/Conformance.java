package org.hybridv.spec.conformance;

import java.util.List;

/**
 * The result of one Alloy ↔ Java cross-check: which predicate, which run command enumerated the instances, how many,
 * whether that was every instance at the command's scope, and the disagreements (none when model and reference
 * describe the same machine).
 */
public record Conformance(String check, String model, String command, int instances, boolean exhaustive,
        List<Disagreement> disagreements) {
    public Conformance {
        disagreements = List.copyOf(disagreements);
    }

    public boolean agrees() {
        return disagreements.isEmpty();
    }
}
