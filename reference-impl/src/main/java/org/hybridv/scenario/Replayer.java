package org.hybridv.scenario;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs a scenario against the reference: the initial state from the {@code machine}, then each step's executor in
 * order, {@code state = f(state, step)}. Every step runs even after a check fails (a trace that stops at the first
 * difference hides the next one); a step the reference cannot run ends the replay as unusable, and so does a step
 * whose op's {@linkplain OperationRegistry#problem preconditions} do not hold in the state before it.
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
        return new Replay(source, scenario, done, null);
    }
}
