package org.hybridv.scenario;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A value that a scenario record refuses, thrown from its compact constructor (or a value deserializer): what is
 * wrong, in the scenario's words, and the field it is about. The parser places it: at the field's value when
 * {@code field} names one the object has, else at the object, and prefixes the path of the object
 * ({@code entry.frame: …}). Never leaves the scenario package's API: the parser turns it into a
 * {@link ScenarioError}.
 */
public final class Bad extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String field;
    private final boolean atName;

    private Bad(String field, String message, boolean atName) {
        super(message);
        this.field = field;
        this.atName = atName;
    }

    /**
     * A problem with the value of {@code field} (placed at the value; "field: message"); an element of an array
     * field is {@code "field/index"}.
     */
    public static Bad at(String field, String message) {
        return new Bad(field, message, false);
    }

    /** A field that does not belong where it is (placed at its name; the message says why and what to do). */
    public static Bad misplaced(String field, String message) {
        return new Bad(field, message, true);
    }

    /** A problem with the object as a whole (placed at the object). */
    public static Bad object(String message) {
        return new Bad(null, message, false);
    }

    /** The field this is about, or null for the object. */
    public String field() {
        return field;
    }

    /** Whether the place is the field's name (a field that must not be there) rather than its value. */
    public boolean atName() {
        return atName;
    }

    /** {@code value}, or a "missing required field" problem at the object ({@code what}: "pte step", "entry"). */
    public static <T> T required(T value, String field, String what) {
        if (value == null) {
            throw object("missing required field \"" + field + "\" in " + what);
        }
        return value;
    }

    /** At least one of {@code values} (named {@code names}, in order) is present. */
    public static void requireAny(String what, List<String> names, Object... values) {
        if (Arrays.stream(values).allMatch(Objects::isNull)) {
            throw object(what + " needs at least one of: " + String.join(", ", names));
        }
    }

    /**
     * The fields {@code names} (with {@code values}, in order) are not taken by this form of the object ({@code form},
     * e.g. "hypercall step (call mmu_update)"): the first present one is a problem at its name.
     */
    public static void absent(String form, List<String> names, Object... values) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                throw new Bad(names.get(i), "field \"" + names.get(i) + "\" is not used by " + form, true);
            }
        }
    }
}
