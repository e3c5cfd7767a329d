package org.hybridv.scenario;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs a scenario against the reference: the initial state from the {@code machine}, then each step's executor in
 * order, {@code state = f(state, step)}. Every step runs even after a check fails (a trace that stops at the first
 * difference hides the next one). A step the reference cannot run, or whose op's
 * {@linkplain OperationRegistry#problem preconditions} do not hold in the state before it, ends the replay: when an
 * earlier expectation failed, the machine had diverged from the scenario before that step, so the replay is that
 * failure and the rest is {@linkplain NotRun not run}; when every earlier expectation held, the file is unusable.
 *
 * <p>The reports keep what each step observed and checked, not the machine state after it
 * ({@link StepResult#after()} is null in them): memory grows with the number of steps, not with the machine.
 *
 * <p>The machine is built with the scenario's seeded faults ({@link MachineSpec#faults()}). A scenario that names the
 * invariant it {@code violates} must reproduce it: the last step gets one more check, {@code violates}, which holds iff
 * some step reports that invariant violated — a {@code checkInvariants}/{@code checkHybrid} fact
 * ({@code "I2": "violated"}) or a step note "I2 violated by this step: …" ({@code kernel} steps) or "I7 (exit
 * correctness) violated by this step: …" (vCPU steps). Every other check keeps its meaning: a scenario without
 * {@code violates} passes only if its expectations, which say every invariant holds, are met.
 */
public final class Replayer {
    private final OperationRegistry registry;

    public Replayer(OperationRegistry registry) {
        if (registry == null) {
            throw new IllegalArgumentException("registry must not be null");
        }
        this.registry = registry;
    }

    /** Replays {@code scenario}, read from {@code source} (named in errors). */
    public Replay replay(String source, Scenario scenario) {
        MachineState state = registry.initialState(scenario.machine());
        List<StepReport> done = new ArrayList<>(scenario.steps().size());
        for (NumberedStep n : scenario.steps()) {
            String op = n.step().op();
            Operation operation = registry.operation(op).orElse(null);
            if (operation == null) {
                return stopped(source, scenario, done, n, "op \"" + op + "\" is not registered in this hybridv",
                        n.location(), null);
            }
            String problem = registry.problem(op, state);
            if (problem != null) {
                return stopped(source, scenario, done, n, problem, n.location(), null);
            }
            StepResult result;
            try {
                result = operation.executor().execute(state, n.step());
            } catch (ScenarioInputException e) {
                return stopped(source, scenario, done, n, e.getMessage(),
                        e.location() != null ? e.location() : n.location(), e);
            } catch (IllegalArgumentException e) {
                return stopped(source, scenario, done, n, "the reference cannot run this step: " + e.getMessage(),
                        n.location(), e);
            }
            // the report keeps what was observed, not the machine: a long replay holds one state at a time
            done.add(new StepReport(n, result.withoutState()));
            state = result.after();
        }
        withViolation(scenario, done);
        return new Replay(source, scenario, done, null);
    }

    /**
     * Step {@code n} cannot run. If an earlier step's expectation failed, the machine had diverged from the scenario
     * before it: that failure is the verdict, and {@code n} and the steps after it are not run. Otherwise the scenario
     * asks for something the reference cannot do, which is unusable input.
     */
    private static Replay stopped(String source, Scenario scenario, List<StepReport> done, NumberedStep n,
            String reason, SourceLocation location, Throwable cause) {
        String op = n.step().op();
        for (StepReport s : done) {
            if (!s.holds()) {
                int count = scenario.steps().size() - n.number() + 1;
                withViolation(scenario, done);
                return new Replay(source, scenario, done, null, new NotRun(n.number(), op, location, reason,
                        s.step().number(), count));
            }
        }
        return new Replay(source, scenario, done, new ScenarioError(source, n.number(), op, location, reason, cause));
    }

    /** A scenario that names the invariant it {@code violates}: its last step run gets the {@code violates} check. */
    private static void withViolation(Scenario scenario, List<StepReport> done) {
        if (scenario.violates() != null && !done.isEmpty()) {
            StepReport last = done.get(done.size() - 1);
            StepResult r = last.result();
            List<Check> checks = new ArrayList<>(r.checks());
            checks.add(violation(scenario.violates(), done));
            done.set(done.size() - 1, new StepReport(last.step(), new StepResult(r.after(), r.observed(), checks,
                    r.notes())));
        }
    }

    /** The {@code violates} check: whether some step reports invariant {@code invariant} violated, and which. */
    static Check violation(String invariant, List<StepReport> steps) {
        String expected = invariant + " violated by some step";
        for (StepReport s : steps) {
            boolean fact = "violated".equals(s.result().observed().facts().get(invariant));
            boolean note = s.result().notes().stream().anyMatch(n -> n.startsWith(invariant + " ")
                    && n.contains("violated by this step"));
            if (fact || note) {
                return new Check("violates", expected, invariant + " violated by step " + s.step().number(), true);
            }
        }
        return new Check("violates", expected, "no step reports " + invariant + " violated (the seeded fault was"
                + " not reproduced)", false);
    }
}
