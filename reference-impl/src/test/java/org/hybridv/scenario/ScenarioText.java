package org.hybridv.scenario;

import java.nio.charset.StandardCharsets;
import org.hybridv.scenario.modules.Modules;

/** Small scenario texts for tests: a header with a 16-frame machine, then the given steps one per line. */
final class ScenarioText {
    private ScenarioText() {}

    static final String FOUR_LEVELS = String.join(",\n",
            "{\"op\": \"pte\", \"table\": 1, \"index\": 0, \"entry\": {\"present\": true, \"writable\": true,"
                    + " \"user\": true, \"frame\": 2}}",
            "{\"op\": \"pte\", \"table\": 2, \"index\": 0, \"entry\": {\"present\": true, \"writable\": true,"
                    + " \"user\": true, \"frame\": 3}}",
            "{\"op\": \"pte\", \"table\": 3, \"index\": 0, \"entry\": {\"present\": true, \"writable\": true,"
                    + " \"user\": true, \"frame\": 4}}");

    static final String LONG_MODE = "{\"op\": \"cpu\", \"cr3\": {\"frame\": 1}, \"cr4\": {\"pae\": true},"
            + " \"efer\": {\"lme\": true}, \"cr0\": {\"pe\": true, \"pg\": true}}";

    /** A scenario whose steps start on line 4 (one per line). */
    static String scenario(String... steps) {
        return "{\"format\": \"hybridv-scenario/1\", \"title\": \"t\",\n"
                + " \"machine\": {\"memoryFrames\": 16, \"maxPhysAddr\": 39},\n"
                + " \"steps\": [\n"
                + String.join(",\n", steps) + "\n]}\n";
    }

    static ParseResult parse(String text) {
        return new ScenarioParser(Modules.standard()).parse("t.json", text.getBytes(StandardCharsets.UTF_8));
    }

    static ScenarioError error(String text) {
        ParseResult r = parse(text);
        if (r instanceof ParseResult.Rejected rejected) {
            return rejected.error();
        }
        throw new AssertionError("expected the scenario to be rejected: " + text);
    }

    static Scenario parsed(String text) {
        ParseResult r = parse(text);
        if (r instanceof ParseResult.Parsed p) {
            return p.scenario();
        }
        throw new AssertionError("expected a valid scenario, got " + ((ParseResult.Rejected) r).error().line());
    }

    static Replay replay(String text) {
        return new Scenarios(Modules.standard()).replay("t.json", text.getBytes(StandardCharsets.UTF_8));
    }
}
