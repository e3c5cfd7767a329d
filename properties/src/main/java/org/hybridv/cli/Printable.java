package org.hybridv.cli;

import org.hybridv.scenario.InputText;

/**
 * Text that came from input, made safe to print on a terminal. Control characters (C0, DEL, C1) and the Unicode
 * bidirectional and invisible formatting characters (U+061C, U+200B–U+200F, U+2028–U+202E, U+2066–U+2069, U+FEFF)
 * are written as escapes, the way {@code git} quotes unusual path names, so that a scenario title or a file name can
 * neither move the cursor, set the window title nor reverse the text that follows it. Tabs and newlines are escaped
 * too: every string from input prints on the one line it was given.
 *
 * <p>The rule itself lives in {@link InputText}, where the scenario layer's error messages use it too.
 */
public final class Printable {
    private Printable() {}

    /** The longest stretch of an offending value an error message quotes. */
    public static final int QUOTE_LIMIT = InputText.QUOTE_LIMIT;

    /** {@code s} with every control, bidi and invisible formatting character escaped ({@code \e}, {@code \u202e} …). */
    public static String escape(String s) {
        return InputText.escape(s);
    }

    /**
     * {@code s} escaped and cut to at most {@link #QUOTE_LIMIT} characters of the original, with the number of
     * characters left out: for quoting an offending value in an error message.
     */
    public static String quote(String s) {
        return InputText.quote(s);
    }
}
