package org.hybridv.scenario.xen;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hybridv.scenario.Check;
import org.hybridv.scenario.Values.Hex;
import org.hybridv.scenario.x86.Render;

/**
 * An outcome's facts held as a record (any record) of its expectation's own type (an expectation is that record with the facts it
 * does not check left null): shown in the trace as the format writes them, and compared with an expectation as
 * values, one check per fact it names.
 */
public final class Facts {
    private Facts() {}

    /** The non-null facts of {@code observed} by their names in files, as text (hex for {@link Hex} numbers). */
    public static Map<String, String> of(Object observed) {
        Map<String, String> out = new LinkedHashMap<>();
        for (RecordComponent c : observed.getClass().getRecordComponents()) {
            Object v = value(c, observed);
            if (v != null) {
                out.put(name(c), render(c, v));
            }
        }
        return out;
    }

    /**
     * A check per fact {@code expected} names (in declaration order), against {@code observed}'s; a fact the outcome
     * does not have is observed as "absent".
     */
    public static List<Check> compare(Object expected, Object observed) {
        List<Check> out = new ArrayList<>();
        for (RecordComponent c : expected.getClass().getRecordComponents()) {
            Object e = value(c, expected);
            Object o = value(c, observed);
            if (e != null) {
                out.add(new Check(name(c), render(c, e), o == null ? "absent" : render(c, o), e.equals(o)));
            }
        }
        return out;
    }

    private static Object value(RecordComponent c, Object r) {
        try {
            return c.getAccessor().invoke(r);
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String name(RecordComponent c) {
        JsonProperty p = c.getAccessor().getAnnotation(JsonProperty.class);
        return p != null ? p.value() : c.getName();
    }

    private static String render(RecordComponent c, Object v) {
        return v instanceof Number n && c.getAnnotation(Hex.class) != null ? Render.hex(n.longValue())
                : String.valueOf(v);
    }
}
