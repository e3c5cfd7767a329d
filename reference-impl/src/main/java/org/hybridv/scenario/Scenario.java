package org.hybridv.scenario;

import java.util.List;

/**
 * A decoded scenario file (format {@value #FORMAT}).
 *
 * @param format      always {@value #FORMAT} in this version
 * @param title       one line saying what the scenario shows
 * @param description free text (for regressions: the SDM sections the expectations come from), or ""
 * @param origin      who wrote it
 * @param machine     the machine's shape
 * @param faults      seeded faults to replay with; reserved in v1 (no faults exist yet), carried unchanged
 * @param violates    the invariant a counterexample violates; reserved in v1, carried unchanged, or null
 * @param steps       the steps, in order
 */
public record Scenario(String format, String title, String description, Origin origin, MachineSpec machine,
        List<String> faults, String violates, List<NumberedStep> steps) {
    /** The format identifier this version reads and writes. */
    public static final String FORMAT = "hybridv-scenario/1";

    public Scenario {
        faults = List.copyOf(faults);
        steps = List.copyOf(steps);
    }
}
