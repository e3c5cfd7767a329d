package org.hybridv.scenario;

import java.util.HashMap;
import java.util.Map;

/**
 * The state a scenario runs on, immutable: one value per {@link Component}, each owned by the layer that registered
 * it. A step is {@code post = f(pre, step)}: executors read their components and return a new state with
 * {@link #with}; nothing is mutated.
 */
public final class MachineState {
    private final Map<Component<?>, Object> parts;

    private MachineState(Map<Component<?>, Object> parts) {
        this.parts = parts;
    }

    static MachineState of(Map<Component<?>, Object> parts) {
        return new MachineState(Map.copyOf(parts));
    }

    /** The value of {@code component}; misuse (a component no module registered) is an IllegalStateException. */
    public <T> T get(Component<T> component) {
        Object v = parts.get(component);
        if (v == null) {
            throw new IllegalStateException("this machine has no " + component.name() + " component");
        }
        return component.cast(v);
    }

    /** This state with {@code component} replaced by {@code value}. */
    public <T> MachineState with(Component<T> component, T value) {
        if (!parts.containsKey(component)) {
            throw new IllegalStateException("this machine has no " + component.name() + " component");
        }
        if (value == null) {
            throw new IllegalArgumentException(component.name() + " must not be null");
        }
        Map<Component<?>, Object> next = new HashMap<>(parts);
        next.put(component, value);
        return new MachineState(Map.copyOf(next));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MachineState s && s.parts.equals(parts);
    }

    @Override
    public int hashCode() {
        return parts.hashCode();
    }

    @Override
    public String toString() {
        return "MachineState" + parts;
    }
}
