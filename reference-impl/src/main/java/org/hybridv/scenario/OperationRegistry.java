package org.hybridv.scenario;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The operations a parser accepts and the state they run on: op name → {@link Operation}, and the machine
 * components with their initial values. Immutable once built; built by installing {@link ScenarioModule}s.
 */
public final class OperationRegistry {
    private final Map<String, Operation> operations;
    private final Map<Component<?>, Function<MachineSpec, ?>> components;

    private OperationRegistry(Map<String, Operation> operations, Map<Component<?>, Function<MachineSpec, ?>> c) {
        this.operations = operations;
        this.components = c;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The operation named {@code name}, if registered. */
    public Optional<Operation> operation(String name) {
        return Optional.ofNullable(operations.get(name));
    }

    /** Every operation, sorted by name. */
    public List<Operation> operations() {
        return List.copyOf(operations.values());
    }

    /** Every op name, sorted. */
    public List<String> names() {
        return List.copyOf(operations.keySet());
    }

    /** The state every scenario on {@code spec} starts from: each component's initial value. */
    public MachineState initialState(MachineSpec spec) {
        Map<Component<?>, Object> parts = new HashMap<>();
        components.forEach((c, init) -> parts.put(c, init.apply(spec)));
        return MachineState.of(parts);
    }

    /** Collects components and operations; each name may be registered once. */
    public static final class Builder {
        private final Map<String, Operation> operations = new TreeMap<>();
        private final Map<Component<?>, Function<MachineSpec, ?>> components = new LinkedHashMap<>();
        private final List<String> modules = new ArrayList<>();

        private Builder() {}

        /** Registers module {@code m} (its components and operations). */
        public Builder install(ScenarioModule m) {
            if (modules.contains(m.name())) {
                throw new IllegalArgumentException("module " + m.name() + " is installed twice");
            }
            modules.add(m.name());
            m.register(this);
            return this;
        }

        /** A component and how to build its initial value from the machine spec. */
        public <T> Builder component(Component<T> component, Function<MachineSpec, T> initial) {
            if (components.putIfAbsent(component, initial) != null) {
                throw new IllegalArgumentException("component " + component.name() + " is registered twice");
            }
            return this;
        }

        public Builder operation(Operation op) {
            if (operations.putIfAbsent(op.name(), op) != null) {
                throw new IllegalArgumentException("op \"" + op.name() + "\" is registered twice");
            }
            return this;
        }

        public OperationRegistry build() {
            return new OperationRegistry(java.util.Collections.unmodifiableMap(new TreeMap<>(operations)),
                    java.util.Collections.unmodifiableMap(new LinkedHashMap<>(components)));
        }
    }
}
