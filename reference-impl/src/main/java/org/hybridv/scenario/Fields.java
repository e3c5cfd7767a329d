package org.hybridv.scenario;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A JSON object being decoded, with the set of fields it may have. Construction rejects a non-object and any field
 * not in the list (naming the closest known one); each accessor rejects a missing required field or a value of the
 * wrong type or range. Every failure is a {@link ScenarioInputException} located at the offending field.
 */
public final class Fields {
    private final JsonValue object;
    private final String what;
    private final List<String> known;

    private Fields(JsonValue object, String what, List<String> known) {
        this.object = object;
        this.what = what;
        this.known = List.copyOf(known);
    }

    /**
     * The object {@code value}, described as {@code what} in messages ("pte step", "entry", "machine"), which may
     * have only the fields {@code known}.
     */
    public static Fields of(JsonValue value, String what, List<String> known) {
        if (!value.node().isObject()) {
            throw value.error("expected " + what + " as an object, found " + JsonValue.describe(value.node()));
        }
        Iterator<String> names = value.node().fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!known.contains(name)) {
                // inside a step or object: "entry: unknown field …"; at a step's top: "unknown field … in pte step"
                String where = value.path().isEmpty() ? " in " + what : "";
                String prefix = value.path().isEmpty() ? "" : value.path() + ": ";
                throw new ScenarioInputException(prefix + "unknown field \"" + JsonValue.abbreviate(name) + "\""
                        + where + suggestion(name, known) + "; known fields: " + String.join(", ", known),
                        value.field(name).nameLocation());
            }
        }
        return new Fields(value, what, known);
    }

    /** The object itself. */
    public JsonValue value() {
        return object;
    }

    /** The fields present, in file order. */
    public List<String> present() {
        List<String> out = new ArrayList<>();
        object.node().fieldNames().forEachRemaining(out::add);
        return out;
    }

    public boolean has(String name) {
        return object.node().has(name);
    }

    /** The value of a required field. */
    public JsonValue get(String name) {
        checkKnown(name);
        JsonValue v = object.field(name);
        if (v == null) {
            throw object.error("missing required field \"" + name + "\" in " + what);
        }
        return v;
    }

    /** The value of an optional field. */
    public Optional<JsonValue> find(String name) {
        checkKnown(name);
        return Optional.ofNullable(object.field(name));
    }

    public String text(String name) {
        return get(name).asText();
    }

    public Optional<String> optionalText(String name) {
        return find(name).map(JsonValue::asText);
    }

    public boolean bool(String name, boolean absent) {
        return find(name).map(JsonValue::asBoolean).orElse(absent);
    }

    /** A boolean, or null when absent ("leave unchanged" / "do not check"). */
    public Boolean optionalBool(String name) {
        return find(name).map(JsonValue::asBoolean).orElse(null);
    }

    /** A non-negative integer of at most {@code bits} bits. */
    public long unsigned(String name, int bits) {
        return get(name).asUnsigned(bits);
    }

    public OptionalLong optionalUnsigned(String name, int bits) {
        Optional<JsonValue> v = find(name);
        return v.isPresent() ? OptionalLong.of(v.get().asUnsigned(bits)) : OptionalLong.empty();
    }

    /** An integer in {@code min..max}; {@code why} (may be null) explains the limit. */
    public long integer(String name, long min, long max, String why) {
        return get(name).asInteger(min, max, why);
    }

    public OptionalLong optionalInteger(String name, long min, long max, String why) {
        Optional<JsonValue> v = find(name);
        return v.isPresent() ? OptionalLong.of(v.get().asInteger(min, max, why)) : OptionalLong.empty();
    }

    /** One of a fixed set of strings, mapped to its meaning. */
    public <T> T choice(String name, Map<String, T> choices) {
        return choiceOf(get(name), choices);
    }

    public <T> Optional<T> optionalChoice(String name, Map<String, T> choices) {
        return find(name).map(v -> choiceOf(v, choices));
    }

    /** A nested object with its own known fields. */
    public Fields object(String name, String nestedWhat, List<String> nestedKnown) {
        return of(get(name), nestedWhat, nestedKnown);
    }

    public Optional<Fields> optionalObject(String name, String nestedWhat, List<String> nestedKnown) {
        return find(name).map(v -> of(v, nestedWhat, nestedKnown));
    }

    /** An error located at field {@code name} (or at the object when the field is absent). */
    public ScenarioInputException error(String name, String message) {
        JsonValue v = object.field(name);
        return v == null ? object.error(message) : v.error(message);
    }

    /** An error about the object as a whole. */
    public ScenarioInputException error(String message) {
        return object.error(message);
    }

    /** Requires at least one of {@code names} to be present. */
    public void requireAny(List<String> names) {
        for (String n : names) {
            if (has(n)) {
                return;
            }
        }
        throw object.error(what + " needs at least one of: " + String.join(", ", names));
    }

    private void checkKnown(String name) {
        if (!known.contains(name)) {
            throw new IllegalArgumentException("decoder bug: field \"" + name + "\" is not declared for " + what);
        }
    }

    private static <T> T choiceOf(JsonValue v, Map<String, T> choices) {
        String s = v.asText();
        T t = choices.get(s);
        if (t == null) {
            List<String> names = new ArrayList<>(choices.keySet());
            names.sort(null);
            throw v.error("\"" + JsonValue.abbreviate(s) + "\" is not one of " + String.join(", ", names)
                    + suggestion(s, names));
        }
        return t;
    }

    /** " (did you mean "x"?)" when a known name is within edit distance 2, else "". */
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

    /** Levenshtein distance, capped work for long inputs. */
    static int distance(String a, String b) {
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
