package org.hybridv.scenario;

/**
 * Decodes one step of an operation from its fields (already checked to be an object with only the operation's
 * declared fields and {@code op}) into an immutable {@link Step}. Throws {@link ScenarioInputException} (through
 * {@link Fields} and {@link JsonValue}) for a missing field or a value out of range.
 */
@FunctionalInterface
public interface StepDecoder {
    Step decode(Fields step, DecodeContext context);
}
