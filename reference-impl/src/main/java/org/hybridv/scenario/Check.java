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

    /** "errorCode: expected 0x5 (P|U), observed 0x7 (P|W|U)". */
    @Override
    public String toString() {
        return what + ": expected " + expected + ", observed " + observed;
    }
}
