package org.hybridv.spec.conformance;

/** One instance on which the Alloy model and the Java reference disagree: both verdicts and the instance. */
public record Disagreement(String what, String alloy, String java, String instance) {
    @Override
    public String toString() {
        return what + ": Alloy says " + alloy + ", Java says " + java + "\n" + instance;
    }
}
