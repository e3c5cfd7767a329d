package org.hybridv.scenario;

import com.fasterxml.jackson.annotation.JsonTypeName;
import java.util.List;
import java.util.function.BiFunction;

/**
 * One scenario operation as a module registers it: the record its steps are (which names the op and its fields),
 * how to run it, and text for {@code hybridv ops} and the docs.
 *
 * @param name     the {@code op} value: the record's {@link JsonTypeName}
 * @param fields   the fields a step of this op may have besides {@code op}, in documentation order: the record's
 *                 components
 * @param synopsis one line saying what the step does
 * @param example  a complete example step, as JSON
 * @param executor (state, step) → result
 * @param type     the record
 */
public record Operation(String name, List<String> fields, String synopsis, String example, StepExecutor executor,
        Class<? extends Step> type) {
    /** The operation whose steps are records of {@code type}, run by {@code executor}. */
    public static <S extends Step> Operation of(Class<S> type, String synopsis, String example,
            BiFunction<MachineState, S, StepResult> executor) {
        JsonTypeName n = type.getAnnotation(JsonTypeName.class);
        if (n == null || !type.isRecord()) {
            throw new IllegalArgumentException(type + " must be a record with @JsonTypeName");
        }
        List<String> fields = Binder.fieldsOf(type);
        return new Operation(n.value(), fields.subList(1, fields.size()), synopsis, example,
                (state, step) -> executor.apply(state, type.cast(step)), type);
    }

    public Operation {
        if (name == null || name.isEmpty() || type == null || executor == null) {
            throw new IllegalArgumentException("an operation needs a name, a record type and an executor");
        }
        fields = List.copyOf(fields);
    }
}
