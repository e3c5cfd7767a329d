package org.hybridv.scenario;

import java.util.List;

/**
 * The replay of one scenario file: the steps run (all of them, or those before the one that could not run) and,
 * when the file is unusable, why; or, when the machine diverged from the scenario so that a later step could not run,
 * which steps were not run.
 *
 * @param source   the file as the user named it
 * @param scenario the scenario, or null when it could not be read or parsed
 * @param steps    the steps that ran, in order
 * @param error    why the file is unusable, or null
 * @param notRun   the steps not run after a divergence (an earlier expectation failed, then a step could not run
 *                 in the state it left), or null when every step ran or the file is unusable
 */
public record Replay(String source, Scenario scenario, List<StepReport> steps, ScenarioError error, NotRun notRun) {
    public Replay {
        steps = List.copyOf(steps);
        if (error != null && notRun != null) {
            throw new IllegalArgumentException("a replay is either unusable or stopped after a divergence");
        }
        if (notRun != null && steps.stream().noneMatch(s -> s.step().number() == notRun.divergedAt() && !s.holds())) {
            throw new IllegalArgumentException("steps not run need the failed step they follow, step "
                    + notRun.divergedAt());
        }
    }

    /** A replay in which every step ran ({@code error} null), or which stopped on unusable input. */
    public Replay(String source, Scenario scenario, List<StepReport> steps, ScenarioError error) {
        this(source, scenario, steps, error, null);
    }

    /** A file that could not be read or parsed. */
    public static Replay unusable(ScenarioError error) {
        return new Replay(error.source(), null, List.of(), error, null);
    }

    /**
     * {@link Verdict#UNUSABLE} when the file is unusable; else {@link Verdict#FAILED} when some check does not hold
     * (always so when steps were {@linkplain #notRun() not run}: the divergence they follow is a failed check); else
     * {@link Verdict#PASSED}.
     */
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
