package org.hybridv.scenario;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a step did, as a value for the trace and the JSON report.
 *
 * @param result the kind of outcome, in the words {@code expect.result} uses: {@code "ok"}, {@code "pageFault"},
 *               {@code "generalProtection"} (later layers add {@code "vmExit"} …)
 * @param text   the outcome for people, e.g. {@code "#PF 0x7 (P|W|U), CR2 = 0x0"}
 * @param facts  the outcome's values by name, rendered as text (hex for numbers), in a stable order
 */
public record Observation(String result, String text, Map<String, String> facts) {
    public Observation {
        facts = Collections.unmodifiableMap(new LinkedHashMap<>(facts));
    }

    public static Observation of(String result, String text) {
        return new Observation(result, text, Map.of());
    }
}
