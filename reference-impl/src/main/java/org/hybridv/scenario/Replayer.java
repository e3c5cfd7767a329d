package org.hybridv.scenario;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs a scenario against the reference: the initial state from the {@code machine}, then each step's executor in
 * order, {@code state = f(state, step)}. Every step runs even after a check fails (a trace that stops at the first
 * difference hides the next one); a step the reference cannot run ends the replay as unusable, and so does a step
 * whose op's {@linkplain OperationRegistry#problem preconditions} do not hold in the state before it.
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
                return new Replay(source, scenario, done, new ScenarioError(source, n.number(), op, n.location(),
                        "op \"" + op + "\" is not registered in this hybridv", null));
            }
            String problem = registry.problem(op, state);
            if (problem != null) {
                return new Replay(source, scenario, done, new ScenarioError(source, n.number(), op, n.location(),
                        problem, null));
            }
            StepResult result;
            try {
                result = operation.executor().execute(state, n.step());
            } catch (ScenarioInputException e) {
                return new Replay(source, scenario, done, new ScenarioError(source, n.number(), op,
                        e.location() != null ? e.location() : n.location(), e.getMessage(), e));
            } catch (IllegalArgumentException e) {
                return new Replay(source, scenario, done, new ScenarioError(source, n.number(), op, n.location(),
                        "the reference cannot run this step: " + e.getMessage(), e));
            }
            done.add(new StepReport(n, result));
            state = result.after();
        }
        if (scenario.violates() != null && !done.isEmpty()) {
            StepReport last = done.get(done.size() - 1);
            StepResult r = last.result();
            List<Check> checks = new ArrayList<>(r.checks());
            checks.add(violation(scenario.violates(), done));
            done.set(done.size() - 1, new StepReport(last.step(), new StepResult(r.after(), r.observed(), checks,
                    r.notes())));
        }
        return new Replay(source, scenario, done, null);
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
