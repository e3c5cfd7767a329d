package org.hybridv.scenario;

/**
 * A typed slot of a {@link MachineState}: each layer that runs scenario steps owns the slots of its state (the x86
 * layer's is its {@code X86Machine}) and registers how to build them from the {@link MachineSpec}.
 *
 * <p>Slots are compared by identity: declare each once, as a constant of the module that owns it.
 *
 * @param <T> the (immutable) state type held in the slot
 */
public final class Component<T> {
    private final String name;
    private final Class<T> type;

    private Component(String name, Class<T> type) {
        this.name = name;
        this.type = type;
    }

    public static <T> Component<T> of(String name, Class<T> type) {
        if (name == null || type == null) {
            throw new IllegalArgumentException("a component needs a name and a type");
        }
        return new Component<>(name, type);
    }

    public String name() {
        return name;
    }

    T cast(Object value) {
        return type.cast(value);
    }

    @Override
    public String toString() {
        return "Component[" + name + "]";
    }
}
