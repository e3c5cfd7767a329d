package org.hybridv.guest;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.hybridv.x86.Checks;

/**
 * VM exits counted by reason (the names of {@link org.hybridv.vmx.ExitReason}, SDM Vol. 3C Appendix C), in a sorted
 * map so that tables print the same bytes every time.
 */
public record ExitCount(SortedMap<String, Integer> byReason) {
    public static final ExitCount NONE = new ExitCount(new TreeMap<>());

    public ExitCount {
        Checks.notNull("exits by reason", byReason);
        for (Map.Entry<String, Integer> e : byReason.entrySet()) {
            if (e.getValue() <= 0) {
                throw new IllegalArgumentException("exit count " + e.getValue() + " for " + e.getKey());
            }
        }
        byReason = Collections.unmodifiableSortedMap(new TreeMap<>(byReason));
    }

    /** {@code n} exits of {@code reason} (none if n = 0). */
    public static ExitCount of(String reason, int n) {
        Checks.notNull("reason", reason);
        if (n < 0) {
            throw new IllegalArgumentException("exit count " + n);
        }
        SortedMap<String, Integer> m = new TreeMap<>();
        if (n > 0) {
            m.put(reason, n);
        }
        return new ExitCount(m);
    }

    public ExitCount plus(ExitCount other) {
        SortedMap<String, Integer> m = new TreeMap<>(byReason);
        other.byReason.forEach((k, v) -> m.merge(k, v, Integer::sum));
        return new ExitCount(m);
    }

    public int total() {
        return byReason.values().stream().mapToInt(Integer::intValue).sum();
    }

    public int of(String reason) {
        return byReason.getOrDefault(reason, 0);
    }

    @Override
    public String toString() {
        return total() == 0 ? "0 exits" : total() + " exits " + byReason;
    }
}
