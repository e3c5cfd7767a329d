package org.hybridv.scenario;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.databind.DatabindException;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * Jackson data binding of one part of a scenario (a step, the machine's sections) to its record, with every
 * failure turned into a located {@link ScenarioInputException} in the scenario's words: the place comes from the
 * failure's path in the {@link JsonDocument}'s location index, the message from the failure's kind (an unknown field
 * with the closest known one, a missing field, a value that does not fit its field, an unknown name).
 */
public final class Binder {
    private Binder() {}

    /**
     * Binds a part of the file that is not a step (a section of {@code machine}, say) to record {@code type}, with the
     * same rules and messages as steps; {@code machine} is what is known of the machine so far (for
     * {@link Values.MemoryFrame}).
     */
    public static <T> T bind(JsonValue value, Class<T> type, MachineSpec machine, String what) {
        return bind(ScenarioJson.binding().readerFor(type).withAttribute(Values.MACHINE, machine), value, what);
    }

    /**
     * Binds {@code value} (described as {@code what}, e.g. "pte step") with {@code reader}.
     */
    static <T> T bind(ObjectReader reader, JsonValue value, String what) {
        List<String> nullAt = firstNull(value.node(), new ArrayList<>(), value.node().isObject()
                && value.path().isEmpty() && value.node().has("format"));
        if (nullAt != null) {
            // Jackson reads null as "absent" for a field of object, list or enum type; the format has no null
            throw value.errorAt(nullAt, "null is not a value in a scenario (leave the field out to mean absent)",
                    nullAt, false);
        }
        try {
            return reader.readValue(value.node());
        } catch (DatabindException e) {
            throw translate((JsonMappingException) e, value, what);
        } catch (IOException e) {
            throw value.error("cannot read: " + e.getMessage());
        }
    }

    private static ScenarioInputException translate(JsonMappingException e, JsonValue at, String what) {
        List<String> segments = new ArrayList<>();
        for (JsonMappingException.Reference r : e.getPath()) {
            segments.add(r.getFieldName() != null ? r.getFieldName() : Integer.toString(r.getIndex()));
        }
        Bad bad = bad(e);
        if (e instanceof ValueInstantiationException v && v.getType() != null) {
            // Jackson builds a record before it reports the object's unknown fields: a misspelt field shows as a
            // missing one. Report the misspelling, which is the cause.
            JsonNode object = at.node().at(pointer(segments));
            List<String> known = fieldsOf(v.getType().getRawClass());
            for (var names = object.fieldNames(); names.hasNext();) {
                String name = names.next();
                if (!known.contains(name)) {
                    segments.add(name);
                    return unknownField(at, segments, name, known, what);
                }
            }
        }
        if (bad != null) {
            if (bad.field() != null && e instanceof ValueInstantiationException) {
                segments.addAll(List.of(bad.field().split("/")));
            }
            return at.errorAt(shown(segments, bad.atName()), bad.getMessage(), segments, bad.atName());
        }
        if (e instanceof UnrecognizedPropertyException u) {
            return unknownField(at, segments, u.getPropertyName(), fieldsOf(u.getReferringClass()), what);
        }
        if (e instanceof InvalidTypeIdException t) {
            String property = typeProperty(t.getBaseType().getRawClass());
            List<String> ids = TypeIds.of(t.getBaseType().getRawClass());
            if (t.getTypeId() == null) {
                String in = segments.isEmpty() ? what : segments.get(segments.size() - 1);
                return at.errorAt(segments, "missing required field \"" + property + "\" in " + in
                        + "; one of: " + String.join(", ", ids), segments, false);
            }
            segments.add(property);
            return at.errorAt(segments, choiceMessage(t.getTypeId(), ids), segments, false);
        }
        if (e instanceof InvalidFormatException f && f.getTargetType() != null && f.getTargetType().isEnum()) {
            JsonNode found = at.node().at(pointer(segments));
            String message = found.isTextual() ? choiceMessage(found.textValue(), TypeIds.ofEnum(f.getTargetType()))
                    : "expected a string, found " + Values.describe(found);
            return at.errorAt(segments, message, segments, false);
        }
        JsonNode found = at.node().at(pointer(segments));
        JavaType target = null;
        if (e instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException m && m.getTargetType() != null) {
            target = com.fasterxml.jackson.databind.type.TypeFactory.defaultInstance().constructType(m.getTargetType());
        }
        String expected = target == null ? "another kind of value" : target.isCollectionLikeType() ? "an array"
                : target.isEnumType() || target.getRawClass() == String.class ? "a string" : "an object";
        return at.errorAt(segments, "expected " + expected + ", found " + Values.describe(found), segments, false);
    }

    private static ScenarioInputException unknownField(JsonValue at, List<String> segments, String name,
            List<String> known, String what) {
        String where = segments.size() <= 1 ? " in " + what : "";
        return at.errorAt(shown(segments, true), "unknown field \"" + Values.quote(name) + "\"" + where
                + suggestion(name, known) + "; known fields: " + String.join(", ", known), segments, true);
    }

    /**
     * The path of the first null in {@code n} (document order), or null when there is none; with {@code skipSteps}
     * (the top level of a file) the steps are not looked at: each is bound, and placed, as its own step.
     */
    private static List<String> firstNull(JsonNode n, List<String> path, boolean skipSteps) {
        if (n.isNull()) {
            return path;
        }
        var fields = n.fields();
        while (n.isObject() && fields.hasNext()) {
            var f = fields.next();
            if (skipSteps && f.getKey().equals("steps")) {
                continue;
            }
            path.add(f.getKey());
            if (firstNull(f.getValue(), path, false) != null) {
                return path;
            }
            path.remove(path.size() - 1);
        }
        for (int i = 0; n.isArray() && i < n.size(); i++) {
            path.add(Integer.toString(i));
            if (firstNull(n.get(i), path, false) != null) {
                return path;
            }
            path.remove(path.size() - 1);
        }
        return null;
    }

    private static Bad bad(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof Bad b) {
                return b;
            }
        }
        return null;
    }

    /** The segments named in the message: all of them, or those of the object when the place is a field's name. */
    private static List<String> shown(List<String> segments, boolean atName) {
        return atName && !segments.isEmpty() ? segments.subList(0, segments.size() - 1) : segments;
    }

    static String pointer(List<String> segments) {
        StringBuilder s = new StringBuilder();
        segments.forEach(x -> s.append('/').append(JsonDocument.escape(x)));
        return s.toString();
    }

    /** "\"x\" is not one of a, b, c (did you mean \"y\"?)": a name that is not one of {@code known}. */
    public static String choiceMessage(String given, List<String> known) {
        List<String> sorted = new ArrayList<>(known);
        sorted.sort(null);
        return "\"" + Values.quote(given) + "\" is not one of " + String.join(", ", sorted)
                + suggestion(given, sorted);
    }

    /**
     * The fields an object of {@code type} may have, in declaration order: the type property of its polymorphic
     * family first ({@code op}, {@code result} …), then the record's components.
     */
    static List<String> fieldsOf(Class<?> type) {
        List<String> out = new ArrayList<>();
        String property = typeProperty(type);
        if (property != null) {
            out.add(property);
        }
        if (type.isRecord()) {
            Arrays.stream(type.getRecordComponents()).map(Binder::name).forEach(out::add);
        }
        return List.copyOf(out);
    }

    /** A component's name in files: its {@code @JsonProperty} name if it has one ({@code "do"}), else its own. */
    private static String name(RecordComponent c) {
        com.fasterxml.jackson.annotation.JsonProperty p = c.getAccessor().getAnnotation(
                com.fasterxml.jackson.annotation.JsonProperty.class);
        return p != null && !p.value().isEmpty() ? p.value() : c.getName();
    }

    /**
     * The checks of a bound step that need the machine ({@link Step#check}), a {@link Bad} placed as a binding one is
     * ({@code at}: the step's value).
     */
    static void check(Step step, JsonValue at, MachineSpec machine) {
        try {
            step.check(machine);
        } catch (Bad bad) {
            List<String> segments = bad.field() == null ? List.of() : List.of(bad.field());
            throw at.errorAt(shown(segments, bad.atName()), bad.getMessage(), segments, bad.atName());
        }
    }

    /** The type property ({@link JsonTypeInfo#property()}) of the family {@code type} belongs to, or null. */
    static String typeProperty(Class<?> type) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            JsonTypeInfo info = c.getAnnotation(JsonTypeInfo.class);
            if (info != null) {
                return info.property();
            }
            for (Class<?> i : c.getInterfaces()) {
                String p = typeProperty(i);
                if (p != null) {
                    return p;
                }
            }
        }
        return null;
    }

    /** Names used in files: the type ids of a polymorphic family and the constants of an enum. */
    static final class TypeIds {
        private TypeIds() {}

        static List<String> of(Class<?> base) {
            com.fasterxml.jackson.annotation.JsonSubTypes subtypes = base.getAnnotation(
                    com.fasterxml.jackson.annotation.JsonSubTypes.class);
            if (subtypes == null) {
                return List.of();
            }
            return Arrays.stream(subtypes.value()).map(t -> !t.name().isEmpty() ? t.name()
                    : t.value().getAnnotation(com.fasterxml.jackson.annotation.JsonTypeName.class).value()).toList();
        }

        static List<String> ofEnum(Class<?> type) {
            List<String> out = new ArrayList<>();
            for (java.lang.reflect.Field f : type.getFields()) {
                if (f.isEnumConstant()) {
                    com.fasterxml.jackson.annotation.JsonProperty p = f.getAnnotation(
                            com.fasterxml.jackson.annotation.JsonProperty.class);
                    out.add(p != null ? p.value() : f.getName());
                }
            }
            return out;
        }

        static Collection<String> sorted(Collection<String> c) {
            return c.stream().sorted().toList();
        }
    }

    /** " (did you mean "x"?)" when a known name is within edit distance 2 of {@code given}, else "". */
    static String suggestion(String given, List<String> known) {
        String best = null;
        int bestDistance = 3;
        for (String k : known) {
            int d = distance(given.toLowerCase(java.util.Locale.ROOT), k.toLowerCase(java.util.Locale.ROOT));
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        return best == null ? "" : " (did you mean \"" + best + "\"?)";
    }

    /** Levenshtein distance; long inputs are not compared (no work proportional to hostile input). */
    private static int distance(String a, String b) {
        if (a.length() > 64 || b.length() > 64) {
            return Integer.MAX_VALUE;
        }
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
