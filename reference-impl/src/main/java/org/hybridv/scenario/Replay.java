package org.hybridv.scenario;

import java.util.List;

/**
 * The replay of one scenario file: the steps run (all of them, or those before the one that could not run) and,
 * when the file is unusable, why.
 *
 * @param source   the file as the user named it
 * @param scenario the scenario, or null when it could not be read or parsed
 * @param steps    the steps that ran, in order
 * @param error    why the file is unusable, or null
 */
public record Replay(String source, Scenario scenario, List<StepReport> steps, ScenarioError error) {
    public Replay {
        steps = List.copyOf(steps);
    }

    /** A file that could not be read or parsed. */
    public static Replay unusable(ScenarioError error) {
        return new Replay(error.source(), null, List.of(), error);
    }

    public Verdict verdict() {
        if (error != null) {
            return Verdict.UNUSABLE;
        }
        return steps.stream().allMatch(StepReport::holds) ? Verdict.PASSED : Verdict.FAILED;
    }

    /** How many checks were made. */
    public int checks() {
        return steps.stream().mapToInt(s -> s.result().checks().size()).sum();
    }

    /** How many checks do not hold. */
    public int failedChecks() {
        return (int) steps.stream().flatMap(s -> s.result().checks().stream()).filter(c -> !c.holds()).count();
    }

    /** The steps with a check that does not hold. */
    public List<StepReport> failedSteps() {
        return steps.stream().filter(s -> !s.holds()).toList();
    }
}
