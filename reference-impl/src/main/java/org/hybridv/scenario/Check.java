package org.hybridv.scenario;

/**
 * One expectation of a step compared with what happened.
 *
 * @param what     what is checked ({@code "result"}, {@code "errorCode"}, {@code "accessed"} …)
 * @param expected the expected value as text
 * @param observed the observed value as text
 * @param holds    whether they agree
 */
public record Check(String what, String expected, String observed, boolean holds) {
    /** A check that holds when the two renderings are equal. */
    public static Check of(String what, String expected, String observed) {
        return new Check(what, expected, observed, expected.equals(observed));
    }

    /** A check of two values, equal or not as values; {@code render} shows them ({@code Render::hex}). */
    public static Check value(String what, long expected, long observed, java.util.function.LongFunction<String> render) {
        return new Check(what, render.apply(expected), render.apply(observed), expected == observed);
    }

    /** A check of two values of any type, equal or not as values ({@link Object#equals}), shown as text. */
    public static Check equal(String what, Object expected, Object observed) {
        return new Check(what, String.valueOf(expected), String.valueOf(observed),
                java.util.Objects.equals(expected, observed));
    }

    /** Adds a check of a flag when it is expected (not null). */
    public static void flag(java.util.List<Check> checks, String what, Boolean expected, boolean observed) {
        if (expected != null) {
            checks.add(new Check(what, String.valueOf(expected), String.valueOf(observed), expected == observed));
        }
    }

    /** Adds a check of a value when it is expected (not null). */
    public static void value(java.util.List<Check> checks, String what, Long expected, long observed,
            java.util.function.LongFunction<String> render) {
        if (expected != null) {
            checks.add(value(what, expected, observed, render));
        }
    }

    /** "errorCode: expected 0x5 (P|U), observed 0x7 (P|W|U)". */
    @Override
    public String toString() {
        return what + ": expected " + expected + ", observed " + observed;
    }
}
