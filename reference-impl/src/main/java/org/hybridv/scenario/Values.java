package org.hybridv.scenario;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.BeanProperty;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.ContextualDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.ContextualSerializer;
import java.io.IOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.math.BigInteger;
import java.util.regex.Pattern;

/**
 * How every scalar of a scenario is read and written, in one place: numbers (a JSON integer or a {@code "0x…"}
 * string, checked against the width or range its field declares with {@link Hex}, {@link Dec} or
 * {@link MemoryFrame}), booleans and strings (no coercion: {@code "true"} is not a boolean, {@code 5} not a string).
 * A value that does not fit is a {@link Bad} at that value.
 */
public final class Values {
    private Values() {}

    /** The accepted form of a hexadecimal string. */
    public static final Pattern HEX = Pattern.compile("0[xX][0-9a-fA-F]+(_[0-9a-fA-F]+)*");

    /** A number of at most {@code bits} bits, written as a {@code "0x…"} string (addresses, register values). */
    @Retention(RetentionPolicy.RUNTIME)
    @Target({ElementType.FIELD, ElementType.PARAMETER, ElementType.METHOD, ElementType.RECORD_COMPONENT})
    public @interface Hex {
        int value() default 64;
    }

    /**
     * A number written in decimal: of at most {@code bits} bits, or, when {@code max} is set, in {@code min..max}
     * ({@code why} explains the range in messages).
     */
    @Retention(RetentionPolicy.RUNTIME)
    @Target({ElementType.FIELD, ElementType.PARAMETER, ElementType.METHOD, ElementType.RECORD_COMPONENT})
    public @interface Dec {
        int bits() default 64;

        long min() default 0;

        long max() default -1;

        String why() default "";
    }

    /** A frame of backed memory a step reads or writes directly: below the scenario's {@code memoryFrames}. */
    @Retention(RetentionPolicy.RUNTIME)
    @Target({ElementType.FIELD, ElementType.PARAMETER, ElementType.METHOD, ElementType.RECORD_COMPONENT})
    public @interface MemoryFrame {}

    /** The Jackson module with the scalar readers and writers. */
    static SimpleModule module() {
        SimpleModule m = new SimpleModule("hybridv-scenario-values");
        Num<Long> longs = new Num<>(Long.class, null);
        Num<Integer> ints = new Num<>(Integer.class, null);
        m.addDeserializer(Long.class, longs).addDeserializer(long.class, longs);
        m.addDeserializer(Integer.class, ints).addDeserializer(int.class, ints);
        Strict<Boolean> bools = new Strict<>("true or false", JsonNode::isBoolean, JsonNode::booleanValue);
        m.addDeserializer(Boolean.class, bools).addDeserializer(boolean.class, bools);
        m.addDeserializer(String.class, new Strict<>("a string", JsonNode::isTextual, JsonNode::textValue));
        m.addSerializer(Long.class, new NumWriter(false)).addSerializer(long.class, new NumWriter(false));
        m.addSerializer(Integer.class, new NumWriter(false)).addSerializer(int.class, new NumWriter(false));
        return m;
    }

    /** A non-negative integer of at most {@code bits} bits; a 64-bit value may come back negative as a long. */
    public static long unsigned(JsonNode n, int bits) {
        BigInteger v = integer(n);
        if (v.bitLength() > bits) {
            throw Bad.at(null, bits == 64
                    ? quote(hex(v)) + " sets bits beyond bit 63 (values are at most 64 bits)"
                    : quote(hex(v)) + " does not fit in " + bits + " bits (at most "
                            + hex(BigInteger.ONE.shiftLeft(bits).subtract(BigInteger.ONE)) + ")");
        }
        return v.longValue();
    }

    /** An integer in {@code min..max}; {@code why} (may be empty) explains the limit. */
    public static long inRange(JsonNode n, long min, long max, String why) {
        BigInteger v = integer(n);
        if (v.compareTo(BigInteger.valueOf(min)) < 0 || v.compareTo(BigInteger.valueOf(max)) > 0) {
            throw Bad.at(null, quote(v.toString()) + " is outside " + min + ".." + max
                    + (why.isEmpty() ? "" : " (" + why + ")"));
        }
        return v.longValue();
    }

    private static BigInteger integer(JsonNode n) {
        BigInteger v = null;
        if (n.isIntegralNumber()) {
            v = n.bigIntegerValue();
        } else if (n.isTextual() && HEX.matcher(n.textValue()).matches()) {
            v = new BigInteger(n.textValue().substring(2).replace("_", ""), 16);
        }
        if (v == null) {
            throw Bad.at(null, "expected an integer or a \"0x…\" hexadecimal string, found " + describe(n));
        }
        if (v.signum() < 0) {
            throw Bad.at(null, "must not be negative (found " + quote(v.toString()) + ")");
        }
        return v;
    }

    /** How a value is named in "found …" messages. */
    public static String describe(JsonNode n) {
        if (n == null || n.isMissingNode()) {
            return "nothing";
        }
        if (n.isObject() || n.isArray()) {
            return n.isObject() ? "an object" : "an array";
        }
        if (n.isNull() || n.isBoolean()) {
            return n.isNull() ? "null" : String.valueOf(n.booleanValue());
        }
        if (n.isTextual()) {
            return "the string \"" + quote(n.textValue()) + "\"";
        }
        if (n.isIntegralNumber()) {
            return "the integer " + quote(n.bigIntegerValue().toString());
        }
        return "a number with a fraction or exponent (" + quote(n.asText()) + ")";
    }

    /** Input quoted in messages: escaped for the terminal and cut ({@link InputText#quote}). */
    public static String quote(String s) {
        return InputText.quote(s);
    }

    /** The word a file uses for enum constant {@code e}: its {@link com.fasterxml.jackson.annotation.JsonProperty} name. */
    public static String word(Enum<?> e) {
        try {
            com.fasterxml.jackson.annotation.JsonProperty p = e.getDeclaringClass().getField(e.name())
                    .getAnnotation(com.fasterxml.jackson.annotation.JsonProperty.class);
            return p != null ? p.value() : e.name();
        } catch (NoSuchFieldException x) {
            throw new IllegalStateException(x);
        }
    }

    /** {@code 0x…}, lower case, no leading zeros. */
    public static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }

    private static String hex(BigInteger v) {
        return "0x" + v.toString(16);
    }

    /** The machine of the scenario being read (for {@link MemoryFrame}), as the reader's attribute. */
    static final String MACHINE = "hybridv.machine";

    private static final class Num<T> extends JsonDeserializer<T> implements ContextualDeserializer {
        private final Class<T> type;
        private final BeanProperty property;

        Num(Class<T> type, BeanProperty property) {
            this.type = type;
            this.property = property;
        }

        @Override
        public JsonDeserializer<?> createContextual(DeserializationContext ctxt, BeanProperty p) {
            return new Num<>(type, p);
        }

        @Override
        public T getNullValue(DeserializationContext ctxt) {
            throw Bad.at(null, "expected an integer or a \"0x…\" hexadecimal string, found null");
        }

        @Override
        public Object getAbsentValue(DeserializationContext ctxt) {
            return null;
        }

        @Override
        public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonNode n = ctxt.readTree(p);
            Hex hex = property == null ? null : property.getAnnotation(Hex.class);
            Dec dec = property == null ? null : property.getAnnotation(Dec.class);
            long v;
            if (property != null && property.getAnnotation(MemoryFrame.class) != null) {
                MachineSpec m = (MachineSpec) ctxt.getAttribute(MACHINE);
                int frames = m == null ? org.hybridv.x86.PhysicalMemory.MAX_FRAMES : m.memoryFrames();
                v = inRange(n, 0, frames - 1, "memoryFrames = " + frames + ": frames 0.." + (frames - 1));
            } else if (dec != null && dec.max() >= 0) {
                v = inRange(n, dec.min(), dec.max(), dec.why());
            } else {
                int bits = hex != null ? hex.value() : dec != null ? dec.bits() : type == Integer.class ? 32 : 64;
                v = unsigned(n, bits);
            }
            Object boxed = type == Integer.class ? (Object) Integer.valueOf((int) v) : (Object) Long.valueOf(v);
            return type.cast(boxed);
        }
    }

    private static final class NumWriter extends JsonSerializer<Number> implements ContextualSerializer {
        private final boolean hex;

        NumWriter(boolean hex) {
            this.hex = hex;
        }

        @Override
        public JsonSerializer<?> createContextual(SerializerProvider prov, BeanProperty p) {
            return new NumWriter(p != null && p.getAnnotation(Hex.class) != null);
        }

        @Override
        public void serialize(Number v, JsonGenerator g, SerializerProvider s) throws IOException {
            if (hex) {
                g.writeString(v instanceof Integer i ? "0x" + Integer.toHexString(i) : hex(v.longValue()));
            } else if (v instanceof Long l && l < 0) {
                g.writeString(hex(l));
            } else {
                g.writeNumber(v.longValue());
            }
        }
    }

    /** A scalar of one JSON kind, never coerced from another: {@code true}/{@code false}, or a string. */
    private static final class Strict<T> extends JsonDeserializer<T> {
        private final String expected;
        private final java.util.function.Predicate<JsonNode> kind;
        private final java.util.function.Function<JsonNode, T> value;

        Strict(String expected, java.util.function.Predicate<JsonNode> kind,
                java.util.function.Function<JsonNode, T> value) {
            this.expected = expected;
            this.kind = kind;
            this.value = value;
        }

        @Override
        public T getNullValue(DeserializationContext ctxt) {
            throw Bad.at(null, "expected " + expected + ", found null");
        }

        @Override
        public Object getAbsentValue(DeserializationContext ctxt) {
            return null;
        }

        @Override
        public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonNode n = ctxt.readTree(p);
            if (!kind.test(n)) {
                throw Bad.at(null, "expected " + expected + ", found " + describe(n));
            }
            return value.apply(n);
        }
    }

    /**
     * A value written either as a number of at most {@code bits} bits or as an object of fields ({@code T}): an exit
     * qualification, the interruption information. Reads into {@code make(number, null)} or {@code make(null,
     * fields)}.
     */
    public abstract static class NumberOr<F, R> extends JsonDeserializer<R> {
        private final int bits;
        private final Class<F> fields;

        protected NumberOr(int bits, Class<F> fields) {
            this.bits = bits;
            this.fields = fields;
        }

        protected abstract R make(Long number, F fields);

        @Override
        public R deserialize(JsonParser p, DeserializationContext c) throws IOException {
            JsonNode n = c.readTree(p);
            return n.isObject() ? make(null, c.readTreeAsValue(n, fields)) : make(unsigned(n, bits), null);
        }
    }
}
