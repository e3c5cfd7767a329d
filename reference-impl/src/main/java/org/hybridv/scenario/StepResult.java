package org.hybridv.scenario;

import java.util.List;

/**
 * The result of executing one step: the state after it, what happened, and its expectations checked.
 *
 * @param after    the state after the step (null in the reports of a {@link Replay}, which do not keep states)
 * @param observed what happened
 * @param checks   the step's expectations compared with what happened (empty when it has none)
 * @param notes    remarks for the reader that are not checks (e.g. "frame 0x46 is unbacked memory")
 */
public record StepResult(MachineState after, Observation observed, List<Check> checks, List<String> notes) {
    public StepResult {
        checks = List.copyOf(checks);
        notes = List.copyOf(notes);
    }

    public StepResult(MachineState after, Observation observed, List<Check> checks) {
        this(after, observed, checks, List.of());
    }

    /** This result without the state after the step: what a {@link Replay}'s report keeps. */
    public StepResult withoutState() {
        return new StepResult(null, observed, checks, notes);
    }

    /** Whether every check holds (true when there are none). */
    public boolean holds() {
        return checks.stream().allMatch(Check::holds);
    }
}
