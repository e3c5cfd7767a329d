package org.hybridv.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * One value of a {@link JsonDocument} with its place: a JSON pointer (for the line and column) and a readable path
 * such as {@code entry.frame} (for messages). What {@link Binder} binds and where its errors are placed; the values
 * themselves are read by Jackson with the rules of {@link Values}.
 */
public final class JsonValue {
    private final JsonDocument document;
    private final JsonNode node;
    private final String pointer;
    private final String path;

    JsonValue(JsonDocument document, JsonNode node, String pointer, String path) {
        this.document = document;
        this.node = node;
        this.pointer = pointer;
        this.path = path;
    }

    /** The Jackson node (read-only by convention). */
    public JsonNode node() {
        return node;
    }

    /** The readable path relative to the enclosing step or document, e.g. {@code entry.frame}; "" for the root. */
    public String path() {
        return path;
    }

    /** Where this value starts in the file, when known. */
    public SourceLocation location() {
        return document.locationOf(pointer);
    }

    /** Where the name of the field holding this value starts (for "unknown field"), else where the value starts. */
    public SourceLocation nameLocation() {
        return document.nameLocationOf(pointer);
    }

    /** The value of field {@code name} of this object, or null when absent (or when this is not an object). */
    public JsonValue field(String name) {
        JsonNode child = node.get(name);
        if (child == null || !node.isObject()) {
            return null;
        }
        return new JsonValue(document, child, pointer + "/" + JsonDocument.escape(name),
                path.isEmpty() ? name : path + "." + name);
    }

    /** The elements of this array (each with path {@code name[i]}); an error if this is not an array. */
    public List<JsonValue> elements() {
        if (!node.isArray()) {
            throw error("expected an array, found " + Values.describe(node));
        }
        List<JsonValue> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            out.add(new JsonValue(document, node.get(i), pointer + "/" + i, path + "[" + i + "]"));
        }
        return out;
    }

    /** This value as the root of a new path context (a step's fields are named relative to the step). */
    public JsonValue asContextRoot() {
        return new JsonValue(document, node, pointer, "");
    }

    /** An input error located at this value, prefixed with this value's path. */
    public ScenarioInputException error(String message) {
        return new ScenarioInputException(path.isEmpty() ? message : path + ": " + message, location());
    }

    /**
     * An input error at a value below this one ({@code place}: field names and array indices), or at its field's name
     * when {@code atName}; the message is prefixed with this value's path and {@code shown} ({@code entry.frame: …}).
     */
    ScenarioInputException errorAt(java.util.List<String> shown, String message, java.util.List<String> place,
            boolean atName) {
        StringBuilder p = new StringBuilder(path);
        for (String s : shown) {
            p.append(s.chars().allMatch(Character::isDigit) ? "[" + s + "]" : (p.length() == 0 ? "" : ".") + s);
        }
        String where = pointer + Binder.pointer(place);
        return new ScenarioInputException(p.length() == 0 ? message : p + ": " + message,
                atName ? document.nameLocationOf(where) : document.locationOf(where));
    }
}
