package org.hybridv.x86;

/** Hexadecimal rendering used in messages and explanations ({@code 0x…}, lower case). */
public final class Hex {
    private Hex() {}

    /** {@code 0x} followed by the unsigned hexadecimal digits of {@code value}. */
    public static String of(long value) {
        return "0x" + Long.toHexString(value);
    }
}
