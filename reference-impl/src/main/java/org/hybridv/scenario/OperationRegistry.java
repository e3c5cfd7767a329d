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
 * components with their initial values; plus the preconditions modules put on operations, their own or another
 * module's. Immutable once built; built by installing {@link ScenarioModule}s.
 *
 * <p>A precondition says when a step cannot run at all in the current state, whatever its fields: the x86 layer's
 * bare-processor {@code access} has no meaning while the VMX layer runs a guest, which has its own op for that. The
 * module that knows the reason declares it, so the op's owner does not learn about later layers.
 */
public final class OperationRegistry {
    private final Map<String, Operation> operations;
    private final Map<Component<?>, Function<MachineSpec, ?>> components;
    private final Map<String, List<Function<MachineState, String>>> preconditions;
    private final Map<String, MachineSection> sections;
    private final com.fasterxml.jackson.databind.ObjectMapper mapper;

    /**
     * Decodes a further section of the scenario's {@code machine} object that a module declares (the hypervisor's
     * domains, say). It runs at parse time, after the base fields, so its errors are located input errors; the value
     * it returns must be immutable and is available to component initialisers as {@link MachineSpec#section}.
     */
    @FunctionalInterface
    public interface MachineSection {
        Object decode(JsonValue value, MachineSpec base);
    }

    private OperationRegistry(Map<String, Operation> operations, Map<Component<?>, Function<MachineSpec, ?>> c,
            Map<String, List<Function<MachineState, String>>> preconditions, Map<String, MachineSection> sections) {
        this.operations = operations;
        this.components = c;
        this.preconditions = preconditions;
        this.sections = sections;
        this.mapper = ScenarioJson.binding().copy();
        for (Operation op : operations.values()) {
            mapper.registerSubtypes(new com.fasterxml.jackson.databind.jsontype.NamedType(op.type(), op.name()));
        }
    }

    /** The mapper that reads and writes this registry's steps (its record ops registered as subtypes of Step). */
    public com.fasterxml.jackson.databind.ObjectMapper mapper() {
        return mapper;
    }

    /** The further sections of {@code machine} the installed modules declare, by name. */
    public Map<String, MachineSection> machineSections() {
        return sections;
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

    /**
     * Why a step of op {@code name} cannot run in {@code state}: the first precondition registered for it (in
     * installation order) that reports a problem, or null when every one holds (or there are none). The message is
     * in the scenario's words and says what to do instead; {@link Replayer} reports it as unusable input.
     */
    public String problem(String name, MachineState state) {
        for (Function<MachineState, String> p : preconditions.getOrDefault(name, List.of())) {
            String problem = p.apply(state);
            if (problem != null) {
                return problem;
            }
        }
        return null;
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
        private final Map<String, List<Function<MachineState, String>>> preconditions = new LinkedHashMap<>();
        private final Map<String, MachineSection> sections = new LinkedHashMap<>();

        private Builder() {}

        /** The ops registered so far (by modules installed earlier), sorted. */
        public List<String> operationNames() {
            return List.copyOf(operations.keySet());
        }

        /** A further field {@code name} of {@code machine}, optional in every scenario, and its decoder. */
        public Builder machineSection(String name, MachineSection decoder) {
            if (ScenarioParser.MACHINE_FIELDS.contains(name) || sections.putIfAbsent(name, decoder) != null) {
                throw new IllegalArgumentException("machine section \"" + name + "\" is registered twice");
            }
            return this;
        }

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

        /**
         * A condition a step of op {@code op} needs before it runs: {@code problem} maps the state before the step to
         * null (the step may run) or to a message saying why not and what to use instead. Any module may constrain any
         * op, its own or one an earlier module registered; {@link #build()} rejects a precondition on an op that no
         * installed module registers.
         */
        public Builder precondition(String op, Function<MachineState, String> problem) {
            if (op == null || problem == null) {
                throw new IllegalArgumentException("a precondition needs an op name and a function");
            }
            preconditions.computeIfAbsent(op, k -> new ArrayList<>()).add(problem);
            return this;
        }

        public OperationRegistry build() {
            for (String op : preconditions.keySet()) {
                if (!operations.containsKey(op)) {
                    throw new IllegalArgumentException("a precondition names op \"" + op + "\", which no installed"
                            + " module registers");
                }
            }
            Map<String, List<Function<MachineState, String>>> p = new HashMap<>();
            preconditions.forEach((op, list) -> p.put(op, List.copyOf(list)));
            return new OperationRegistry(java.util.Collections.unmodifiableMap(new TreeMap<>(operations)),
                    java.util.Collections.unmodifiableMap(new LinkedHashMap<>(components)),
                    java.util.Collections.unmodifiableMap(p),
                    java.util.Collections.unmodifiableMap(new LinkedHashMap<>(sections)));
        }
    }
}
