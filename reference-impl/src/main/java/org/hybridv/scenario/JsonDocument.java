package org.hybridv.scenario;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSON document read with Jackson's streaming {@link JsonParser}, kept as a Jackson tree plus the line and column
 * of every field and array element, so that every error, however deep, can say where it is. This is not a JSON
 * parser: Jackson tokenizes (and rejects malformed JSON and duplicate fields); this class only records where each
 * token was while it builds the tree.
 */
public final class JsonDocument {
    /** Deepest nesting accepted; a scenario needs 4 (root, steps, step, entry). */
    public static final int MAX_DEPTH = 64;
    /**
     * Most steps a scenario may have. A hand-written scenario has tens of steps and a shrunk counterexample hundreds;
     * the limit keeps a replay of any file the size limit admits within a small heap (docs/scenario-format.md).
     */
    public static final int MAX_STEPS = 50_000;
    /**
     * Most JSON values (objects, arrays, strings, numbers, booleans, nulls together) a file may hold: each costs a
     * node and its location while the file is decoded. 20 per step on average at {@link #MAX_STEPS}.
     */
    public static final int MAX_VALUES = 1_000_000;

    private final JsonNode root;
    /** Where each value starts, by JSON pointer. */
    private final Map<String, SourceLocation> locations;
    /** Where each field's name starts, by the field value's JSON pointer. */
    private final Map<String, SourceLocation> names;

    private JsonDocument(JsonNode root, Map<String, SourceLocation> locations, Map<String, SourceLocation> names) {
        this.root = root;
        this.locations = locations;
        this.names = names;
    }

    /**
     * Reads one JSON value from {@code bytes} (UTF-8, UTF-16 or UTF-32, detected by Jackson).
     *
     * @throws ScenarioInputException for malformed JSON, an empty input, nesting beyond {@link #MAX_DEPTH}, or
     *                                anything after the value; the exception carries the location and, inside the
     *                                {@code steps} array, the step number
     */
    public static JsonDocument parse(byte[] bytes) {
        Builder b = new Builder();
        try (JsonParser p = ScenarioJson.factory().createParser(bytes)) {
            if (p.nextToken() == null) {
                throw new ScenarioInputException("the file is empty: expected a JSON object", null);
            }
            JsonNode root = b.read(p, 0);
            JsonToken after = p.nextToken();
            if (after != null) {
                throw new ScenarioInputException("malformed JSON: unexpected " + describe(after)
                        + " after the end of the top-level value", location(p.currentTokenLocation()));
            }
            return new JsonDocument(root, Map.copyOf(b.locations), Map.copyOf(b.names));
        } catch (StreamConstraintsException e) {
            throw new ScenarioInputException("input exceeds a limit: " + withoutJavaNames(e.getOriginalMessage()),
                    orElse(location(e.getLocation()), b.last), b.currentStep(), e);
        } catch (JsonProcessingException e) {
            throw new ScenarioInputException("malformed JSON: " + withoutJavaNames(e.getOriginalMessage()),
                    orElse(location(e.getLocation()), b.last), b.currentStep(), e);
        } catch (IOException e) {
            // CharConversionException and friends: bytes that are not text in any JSON encoding
            throw new ScenarioInputException("malformed JSON: " + e.getMessage(), b.last, b.currentStep(), e);
        } catch (IllegalArgumentException | IllegalStateException e) {
            // a number Jackson could tokenize but not convert, or a similar corner of the tokenizer
            throw new ScenarioInputException("malformed JSON: " + e.getMessage(), null, b.currentStep(), e);
        }
    }

    /** The top-level value. */
    public JsonValue root() {
        return new JsonValue(this, root, "", "");
    }

    /** Where the name of the field whose value is at {@code pointer} starts, or else where the value starts. */
    SourceLocation nameLocationOf(String pointer) {
        SourceLocation l = names.get(pointer);
        return l != null ? l : locationOf(pointer);
    }

    /** The location recorded for a JSON pointer, or that of its nearest enclosing value, or null. */
    SourceLocation locationOf(String pointer) {
        String p = pointer;
        while (true) {
            SourceLocation l = locations.get(p);
            if (l != null || p.isEmpty()) {
                return l;
            }
            p = p.substring(0, p.lastIndexOf('/'));
        }
    }

    private static SourceLocation orElse(SourceLocation a, SourceLocation b) {
        return a != null ? a : b;
    }

    /** Jackson's messages, minus the hints at its Java API ("from `StreamReadConstraints…`"). */
    static String withoutJavaNames(String message) {
        if (message == null) {
            return "(no detail)";
        }
        return message
                .replaceAll("\\[Source: [^;\\]]*; line: (\\d+), column: (\\d+)\\]", "line $1, column $2")
                .replaceAll(",? *from `[^`]*`", "")
                .replace("expected close marker for Object", "the file ends before this object is closed")
                .replace("expected close marker for Array", "the file ends before this array is closed")
                .replace("start marker at line", "it starts at line")
                .replace("in VALUE_STRING", "inside a string")
                .replace("in FIELD_NAME", "inside a field name")
                .replaceAll("\\(\\)", "").trim();
    }

    static SourceLocation location(JsonLocation l) {
        if (l == null || l.getLineNr() <= 0) {
            return null;
        }
        return new SourceLocation(l.getLineNr(), Math.max(1, l.getColumnNr()));
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case START_OBJECT -> "'{'";
            case START_ARRAY -> "'['";
            case VALUE_STRING -> "string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "number";
            case VALUE_TRUE, VALUE_FALSE -> "boolean";
            case VALUE_NULL -> "null";
            default -> t.asString() == null ? t.name() : "'" + t.asString() + "'";
        };
    }

    /** Escapes a field name for use in a JSON pointer (RFC 6901). */
    static String escape(String name) {
        return name.replace("~", "~0").replace("/", "~1");
    }

    private static final class Builder {
        final Map<String, SourceLocation> locations = new HashMap<>();
        final Map<String, SourceLocation> names = new HashMap<>();
        /** Pointer segments of the value being read, for attributing an error to a step. */
        final List<String> path = new ArrayList<>();
        /** The location of the last token read: where an error without a location of its own happened. */
        SourceLocation last;
        /** How many values have been read. */
        int values;

        JsonNode read(JsonParser p, int depth) throws IOException {
            JsonToken t = p.currentToken();
            String pointer = pointer();
            last = location(p.currentTokenLocation());
            if (++values > MAX_VALUES) {
                throw new ScenarioInputException("the file holds more than " + MAX_VALUES + " JSON values, the limit"
                        + " for a scenario file", last, currentStep(), null);
            }
            locations.put(pointer, last);
            JsonNodeFactory nodes = JsonNodeFactory.instance;
            switch (t) {
                case START_OBJECT -> {
                    checkDepth(p, depth);
                    ObjectNode o = nodes.objectNode();
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String name = p.currentName();
                        path.add(escape(name));
                        last = location(p.currentTokenLocation());
                        names.put(pointer(), last);
                        p.nextToken();
                        o.set(name, read(p, depth + 1));
                        path.remove(path.size() - 1);
                    }
                    return o;
                }
                case START_ARRAY -> {
                    checkDepth(p, depth);
                    ArrayNode a = nodes.arrayNode();
                    boolean steps = path.size() == 1 && path.get(0).equals("steps");
                    int i = 0;
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        if (steps && i == MAX_STEPS) {
                            throw new ScenarioInputException("more than " + MAX_STEPS + " steps; a scenario has at"
                                    + " most " + MAX_STEPS + " (split a longer run into several files)",
                                    location(p.currentTokenLocation()), 0, null);
                        }
                        path.add(Integer.toString(i++));
                        a.add(read(p, depth + 1));
                        path.remove(path.size() - 1);
                    }
                    return a;
                }
                case VALUE_STRING -> {
                    return nodes.textNode(p.getText());
                }
                case VALUE_NUMBER_INT -> {
                    return switch (p.getNumberType()) {
                        case INT -> nodes.numberNode(p.getIntValue());
                        case LONG -> nodes.numberNode(p.getLongValue());
                        default -> nodes.numberNode(p.getBigIntegerValue());
                    };
                }
                case VALUE_NUMBER_FLOAT -> {
                    // never an acceptable value here (every number in a scenario is an integer); keep it cheap
                    return nodes.numberNode(p.getDoubleValue());
                }
                case VALUE_TRUE -> {
                    return nodes.booleanNode(true);
                }
                case VALUE_FALSE -> {
                    return nodes.booleanNode(false);
                }
                case VALUE_NULL -> {
                    return nodes.nullNode();
                }
                default -> throw new ScenarioInputException("malformed JSON: unexpected token " + t,
                        location(p.currentTokenLocation()), currentStep(), null);
            }
        }

        private void checkDepth(JsonParser p, int depth) {
            if (depth >= MAX_DEPTH) {
                throw new ScenarioInputException("JSON nested deeper than " + MAX_DEPTH + " levels",
                        location(p.currentTokenLocation()), currentStep(), null);
            }
        }

        String pointer() {
            return path.isEmpty() ? "" : "/" + String.join("/", path);
        }

        /** The 1-based step whose value is being read, when inside the top-level "steps" array; else 0. */
        int currentStep() {
            if (path.size() >= 2 && path.get(0).equals("steps")) {
                try {
                    return Integer.parseInt(path.get(1)) + 1;
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
            return 0;
        }
    }
}
