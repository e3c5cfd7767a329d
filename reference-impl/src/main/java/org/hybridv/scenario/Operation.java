package org.hybridv.scenario;

import java.util.List;

/**
 * One scenario operation as a module registers it: its name (the {@code op} value), the fields its steps may
 * have, how to decode and run it, and text for {@code hybridv ops} and the docs.
 *
 * @param name     the {@code op} value
 * @param fields   the fields a step of this op may have besides {@code op}, in documentation order
 * @param synopsis one line saying what the step does
 * @param example  a complete example step, as JSON
 * @param decoder  fields → step record
 * @param executor (state, step) → result
 */
public record Operation(String name, List<String> fields, String synopsis, String example, StepDecoder decoder,
        StepExecutor executor, Class<? extends Step> type) {
    public Operation(String name, List<String> fields, String synopsis, String example, StepDecoder decoder,
            StepExecutor executor) {
        this(name, fields, synopsis, example, decoder, executor, null);
    }

    /**
     * The operation whose steps are records of {@code type}, read and written by Jackson: its name is the record's
     * {@link com.fasterxml.jackson.annotation.JsonTypeName}, its fields the record's components.
     */
    public static <S extends Step> Operation of(Class<S> type, String synopsis, String example,
            java.util.function.BiFunction<MachineState, S, StepResult> executor) {
        com.fasterxml.jackson.annotation.JsonTypeName n = type.getAnnotation(
                com.fasterxml.jackson.annotation.JsonTypeName.class);
        if (n == null || !type.isRecord()) {
            throw new IllegalArgumentException(type + " must be a record with @JsonTypeName");
        }
        List<String> fields = Binder.fieldsOf(type);
        return new Operation(n.value(), fields.subList(1, fields.size()), synopsis, example, null,
                (state, step) -> executor.apply(state, type.cast(step)), type);
    }

    public Operation {
        if (name == null || name.isEmpty() || (decoder == null) == (type == null) || executor == null) {
            throw new IllegalArgumentException("an operation needs a name, a decoder or a record type, and an"
                    + " executor");
        }
        if (fields.contains("op")) {
            throw new IllegalArgumentException("operation " + name + ": \"op\" is implied, do not declare it");
        }
        fields = List.copyOf(fields);
    }
}
