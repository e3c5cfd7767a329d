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
 * @param faults      the ids of the seeded faults to replay with (docs/faults.md); the parser checks them and
 *                    passes them to the machine sections through {@link MachineSpec#faults()}
 * @param violates    the invariant a counterexample violates (e.g. "I2"): replayed with its faults, the scenario
 *                    passes only if some step reports that invariant violated; or null
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
