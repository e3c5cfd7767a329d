package org.hybridv.scenario;

/** The result of parsing one scenario file: the scenario, or why the file is unusable. */
public sealed interface ParseResult permits ParseResult.Parsed, ParseResult.Rejected {
    /** The file is a valid scenario. */
    record Parsed(Scenario scenario) implements ParseResult {}

    /** The file is unusable; {@code error} says where and why. */
    record Rejected(ScenarioError error) implements ParseResult {}
}
