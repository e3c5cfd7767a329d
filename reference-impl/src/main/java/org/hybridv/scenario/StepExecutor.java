package org.hybridv.scenario;

/**
 * Runs one decoded step: {@code post = f(pre, step)}. Architectural events (faults, exits) are outcomes in the
 * returned {@link StepResult}, never exceptions. A step the reference cannot run at all in this state (a paging
 * mode it does not model, say) is a {@link ScenarioInputException}; an {@link IllegalArgumentException} from the
 * reference is reported the same way.
 */
@FunctionalInterface
public interface StepExecutor {
    StepResult execute(MachineState before, Step step);
}
