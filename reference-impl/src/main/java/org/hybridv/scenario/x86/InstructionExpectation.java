package org.hybridv.scenario.x86;

/**
 * What a system instruction ({@code cpu}, {@code movToCr3}, {@code invlpg}) is expected to do:
 * {@code {"result": "ok"}} (retire) or {@code {"result": "generalProtection"}} (#GP(0)).
 */
public sealed interface InstructionExpectation permits InstructionExpectation.Retires, InstructionExpectation.Faults {
    /** {@code {"result": "ok"}}. */
    record Retires() implements InstructionExpectation {}

    /** {@code {"result": "generalProtection"}}. */
    record Faults() implements InstructionExpectation {}

    InstructionExpectation RETIRES = new Retires();
    InstructionExpectation FAULTS = new Faults();

    /** The {@code result} word. */
    default String result() {
        return this instanceof Faults ? "generalProtection" : "ok";
    }
}
