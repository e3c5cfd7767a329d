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
        StepExecutor executor) {
    public Operation {
        if (name == null || name.isEmpty() || decoder == null || executor == null) {
            throw new IllegalArgumentException("an operation needs a name, a decoder and an executor");
        }
        if (fields.contains("op")) {
            throw new IllegalArgumentException("operation " + name + ": \"op\" is implied, do not declare it");
        }
        fields = List.copyOf(fields);
    }
}
