package org.hybridv.properties;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.check.Coverage;

/**
 * The bridge between a whole-system property's coverage (org.hybridv.check.Coverage: the same classification and
 * floors {@code hybridv check} uses) and jqwik's statistics: values go to {@link Statistics}, floors become jqwik
 * coverage checks, so {@code mvn verify} prints and enforces exactly what a campaign reports.
 */
final class Floors {
    private Floors() {}

    /** A sink that collects each value into jqwik's statistics under its label. */
    static Coverage.Sink statistics() {
        return (label, value) -> Statistics.label(label).collect(value);
    }

    /** Each floor as a jqwik coverage check of its label (run once per try, checked after the property). */
    static void enforce(List<Coverage.Floor> floors) {
        Map<String, List<Coverage.Floor>> byLabel = new LinkedHashMap<>();
        for (Coverage.Floor f : floors) {
            byLabel.computeIfAbsent(f.label(), k -> new java.util.ArrayList<>()).add(f);
        }
        byLabel.forEach((label, fs) -> Statistics.label(label).coverage(cov -> {
            for (Coverage.Floor f : fs) {
                cov.checkPattern(f.pattern()).percentage(p -> f.strictly() ? p > f.percent() : p >= f.percent());
            }
        }));
    }
}
