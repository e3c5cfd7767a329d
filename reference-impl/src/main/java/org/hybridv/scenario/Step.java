package org.hybridv.scenario;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonTypeName;

/**
 * One step of a scenario: an immutable record that is its own JSON form. Jackson binds a step object to the record
 * whose {@link JsonTypeName} is its {@code op} (the op name exists only there), and writes the record back the same
 * way; the record's compact constructor makes the checks a value of one field cannot (fields that go together,
 * required fields), by throwing {@link Bad}.
 *
 * <p>Deliberately not sealed here: each layer declares its own sealed family of steps (the x86 layer's is
 * {@code org.hybridv.scenario.x86.X86Step}) and switches exhaustively over it in its executor; the closed list of
 * ops a parser accepts is what the installed modules register ({@link OperationRegistry}).
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "op")
public interface Step {
    /** The op name as written in the file ({@code "pte"}, {@code "access"} …). */
    default String op() {
        JsonTypeName name = getClass().getAnnotation(JsonTypeName.class);
        if (name == null) {
            throw new IllegalStateException(getClass().getName() + " has no @JsonTypeName");
        }
        return name.value();
    }

    /**
     * The checks of this step that need the scenario's machine (a domain that the {@code hypervisor} section has,
     * say), made by the parser right after binding: throws {@link Bad}, placed at the field it names. None by default.
     */
    default void check(MachineSpec machine) {}

    /** What the step does, in a few words for the replay trace ({@code "write 0x0 at CPL 3"}). */
    String describe();
}
