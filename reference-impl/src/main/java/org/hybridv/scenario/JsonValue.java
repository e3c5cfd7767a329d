package org.hybridv.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One value of a {@link JsonDocument}, with its place: a JSON pointer (for the location) and a readable path such as
 * {@code entry.frame} (for messages). The conversions here are the only way decoders read values, so every value in
 * every scenario is checked with the same words.
 *
 * <p>Numbers: every number in a scenario is a non-negative integer, written either as a JSON integer or as a
 * {@code "0x…"} string of hexadecimal digits (underscores may group digits: {@code "0xffff_8000_0000_0000"}).
 */
public final class JsonValue {
    /** The accepted form of a hexadecimal string. */
    public static final Pattern HEX = Pattern.compile("0[xX][0-9a-fA-F]+(_[0-9a-fA-F]+)*");

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
            throw error("expected an array, found " + describe(node));
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

    public String asText() {
        if (!node.isTextual()) {
            throw error("expected a string, found " + describe(node));
        }
        return node.textValue();
    }

    public boolean asBoolean() {
        if (!node.isBoolean()) {
            throw error("expected true or false, found " + describe(node));
        }
        return node.booleanValue();
    }

    /** A non-negative integer of at most {@code bits} bits (1..64); as a long, so 64-bit values may be negative. */
    public long asUnsigned(int bits) {
        BigInteger v = integer();
        if (v.signum() < 0) {
            throw error("must not be negative (found " + abbreviate(v.toString()) + ")");
        }
        if (v.bitLength() > bits) {
            throw error(bits == 64
                    ? abbreviate(hex(v)) + " sets bits beyond bit 63 (values are at most 64 bits)"
                    : abbreviate(hex(v)) + " does not fit in " + bits + " bits (at most " + hex(maxOf(bits)) + ")");
        }
        return v.longValue();
    }

    /** An integer in {@code min..max}; {@code why}, when not null, explains the limit after the range. */
    public long asInteger(long min, long max, String why) {
        BigInteger v = integer();
        if (v.compareTo(BigInteger.valueOf(min)) < 0 || v.compareTo(BigInteger.valueOf(max)) > 0) {
            throw error(abbreviate(v.toString()) + " is outside " + min + ".." + max
                    + (why == null ? "" : " (" + why + ")"));
        }
        return v.longValue();
    }

    private BigInteger integer() {
        if (node.isIntegralNumber()) {
            return node.bigIntegerValue();
        }
        if (node.isTextual()) {
            String s = node.textValue();
            if (HEX.matcher(s).matches()) {
                return new BigInteger(s.substring(2).replace("_", ""), 16);
            }
            throw error("expected an integer or a \"0x…\" hexadecimal string, found " + describe(node));
        }
        throw error("expected an integer or a \"0x…\" hexadecimal string, found " + describe(node));
    }

    private static BigInteger maxOf(int bits) {
        return BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE);
    }

    private static String hex(BigInteger v) {
        return "0x" + v.toString(16);
    }

    /** How a value is named in "found …" messages. */
    static String describe(JsonNode n) {
        if (n.isObject()) {
            return "an object";
        }
        if (n.isArray()) {
            return "an array";
        }
        if (n.isNull()) {
            return "null";
        }
        if (n.isBoolean()) {
            return String.valueOf(n.booleanValue());
        }
        if (n.isTextual()) {
            return "the string \"" + abbreviate(n.textValue()) + "\"";
        }
        if (n.isIntegralNumber()) {
            return "the integer " + abbreviate(n.bigIntegerValue().toString());
        }
        return "a number with a fraction or exponent (" + abbreviate(n.asText()) + ")";
    }

    /** Input quoted in messages: escaped for the terminal and cut to 40 characters ({@link InputText#quote}). */
    static String abbreviate(String s) {
        return InputText.quote(s);
    }
}
