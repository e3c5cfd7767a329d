package org.hybridv.scenario;

/**
 * Text that came from input (a scenario's title, a file name, a value quoted in an error), made safe to print on a
 * terminal. Control characters (C0, DEL, C1) and the Unicode bidirectional, invisible and line-separating formatting
 * characters (U+061C, U+200B–U+200F, U+2028–U+202E, U+2066–U+2069, U+FEFF) are written as escapes, the way
 * {@code git} quotes unusual path names, so that such text can neither move the cursor, set the window title nor
 * reverse the text that follows it. Tabs and newlines are escaped too: every string from input prints on the one line
 * it was given. The result contains no character that {@link #escape} would change, so escaping twice changes
 * nothing.
 *
 * <p>The command line's {@code Printable} (in the properties module) is the entry point for printing; this class
 * is where the rule lives, so that the scenario layer's own messages ({@link ScenarioError#line()}) follow it too.
 */
public final class InputText {
    private InputText() {}

    /** The longest stretch of an offending value an error message quotes. */
    public static final int QUOTE_LIMIT = 40;

    /** {@code s} with every control, bidi and invisible formatting character escaped ({@code \e}, {@code \u202e} …). */
    public static String escape(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String esc = escapeOf(c);
            if (esc != null && b == null) {
                b = new StringBuilder(s.length() + 8).append(s, 0, i);
            }
            if (b != null) {
                if (esc != null) {
                    b.append(esc);
                } else {
                    b.append(c);
                }
            }
        }
        return b == null ? s : b.toString();
    }

    /**
     * {@code s} escaped and cut to at most {@link #QUOTE_LIMIT} characters of the original, with the number of
     * characters left out: for quoting an offending value in an error message.
     */
    public static String quote(String s) {
        if (s == null) {
            return "null";
        }
        if (s.length() <= QUOTE_LIMIT) {
            return escape(s);
        }
        int cut = QUOTE_LIMIT;
        if (Character.isHighSurrogate(s.charAt(cut - 1))) {
            cut--; // never split a character in two
        }
        int left = s.length() - cut;
        return escape(s.substring(0, cut)) + "… (" + left + (left == 1 ? " more character)" : " more characters)");
    }

    private static String escapeOf(char c) {
        switch (c) {
            case '\n':
                return "\\n";
            case '\r':
                return "\\r";
            case '\t':
                return "\\t";
            case 0x1B:
                return "\\e";
            default:
                break;
        }
        boolean control = c < 0x20 || (c >= 0x7F && c <= 0x9F);
        boolean format = c == 0x061C || (c >= 0x200B && c <= 0x200F) || (c >= 0x2028 && c <= 0x202E)
                || (c >= 0x2066 && c <= 0x2069) || c == 0xFEFF;
        if (control) {
            return String.format("\\x%02x", (int) c);
        }
        if (format) {
            return String.format("\\u%04x", (int) c);
        }
        return null;
    }
}
