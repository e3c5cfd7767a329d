package org.hybridv.check;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.hybridv.x86.Checks;

/**
 * What a campaign reached: for each label ("mode", "TLB", "switch" …) how often each value was collected — the
 * statistics a property classifies its runs by (MMU modes, refusal rules, #PF classes, TLB use, SWITCH_MMU outcomes),
 * and the {@link Floor}s that make a campaign that missed them incomplete. One definition for both users: the jqwik
 * properties of {@code mvn verify} forward each value to jqwik's statistics, {@code hybridv check} counts them here.
 * Counting commutes, so merging per-try coverages in any order gives the same counts (workers stay deterministic).
 */
public final class Coverage {
    /** Receives one classified value per event. */
    @FunctionalInterface
    public interface Sink {
        void collect(String label, String value);

        /** A sink that drops everything. */
        Sink NONE = (label, value) -> { };
    }

    /**
     * A coverage floor: of the values collected under {@code label}, those matching {@code pattern} (a regular
     * expression over the whole value) must make up at least {@code percent} % — or, with {@code strictly}, more
     * than {@code percent} % (a floor of "more than 0" says the case was reached at all).
     */
    public record Floor(String label, String pattern, double percent, boolean strictly) {
        public Floor {
            Checks.notNull("label", label);
            Checks.notNull("pattern", pattern);
            Pattern.compile(pattern);
        }

        /** At least {@code percent} % of the label's values equal {@code value}. */
        public static Floor atLeast(String label, String value, double percent) {
            return new Floor(label, Pattern.quote(value), percent, false);
        }

        /** At least {@code percent} % of the label's values match {@code regex}. */
        public static Floor matchingAtLeast(String label, String regex, double percent) {
            return new Floor(label, regex, percent, false);
        }

        /** {@code value} was collected under {@code label} at least once. */
        public static Floor reached(String label, String value) {
            return new Floor(label, Pattern.quote(value), 0, true);
        }

        /** The percentage {@code c} observed for this floor (0 when the label was never collected). */
        public double observed(Coverage c) {
            Map<String, Long> values = c.counts.getOrDefault(label, Map.of());
            long total = 0;
            long matching = 0;
            Pattern p = Pattern.compile(pattern);
            for (Map.Entry<String, Long> e : values.entrySet()) {
                total += e.getValue();
                if (p.matcher(e.getKey()).matches()) {
                    matching += e.getValue();
                }
            }
            return total == 0 ? 0 : 100.0 * matching / total;
        }

        public boolean met(Coverage c) {
            double o = observed(c);
            return strictly ? o > percent : o >= percent;
        }

        /** "TLB: DIRECT hit, stale > 0 %" — the value shown unquoted when the pattern is a quoted literal. */
        @Override
        public String toString() {
            String shown = pattern.startsWith("\\Q") && pattern.endsWith("\\E") && pattern.indexOf("\\E") == pattern
                    .length() - 2 ? pattern.substring(2, pattern.length() - 2) : "/" + pattern + "/";
            return label + ": " + shown + (strictly ? " > " : " >= ") + fmt(percent) + " %";
        }
    }

    private final Map<String, Map<String, Long>> counts = new TreeMap<>();

    /** Counts {@code value} under {@code label}. */
    public void collect(String label, String value) {
        counts.computeIfAbsent(label, k -> new TreeMap<>()).merge(value, 1L, Long::sum);
    }

    /** This coverage as a sink. */
    public Sink sink() {
        return this::collect;
    }

    /** Adds {@code other}'s counts to this one. */
    public void add(Coverage other) {
        other.counts.forEach((label, values) -> values.forEach((v, n) -> counts.computeIfAbsent(label,
                k -> new TreeMap<>()).merge(v, n, Long::sum)));
    }

    /** Label → value → count, sorted by label and value. */
    public Map<String, Map<String, Long>> counts() {
        Map<String, Map<String, Long>> copy = new TreeMap<>();
        counts.forEach((l, v) -> copy.put(l, Collections.unmodifiableMap(new TreeMap<>(v))));
        return Collections.unmodifiableMap(copy);
    }

    /** The floors of {@code floors} this coverage does not meet, in their order. */
    public List<Floor> missed(List<Floor> floors) {
        List<Floor> out = new ArrayList<>();
        for (Floor f : floors) {
            if (!f.met(this)) {
                out.add(f);
            }
        }
        return out;
    }

    /** A percentage with one decimal unless it is whole: "40", "0.5", "12.3". */
    public static String fmt(double percent) {
        return percent == Math.rint(percent) ? Long.toString((long) percent)
                : String.format(java.util.Locale.ROOT, "%.1f", percent);
    }
}
