package org.hybridv.x86;

/**
 * Argument checks shared by the reference's layers: each names the bad value and the limit it broke. They are for API
 * misuse only; architectural events are outcome values.
 */
public final class Checks {
    private Checks() {}

    public static long inRange(String what, long value, long minInclusive, long maxInclusive) {
        if (value < minInclusive || value > maxInclusive) {
            throw new IllegalArgumentException(what + " = " + value + " is outside " + minInclusive + ".."
                    + maxInclusive);
        }
        return value;
    }

    public static int inRange(String what, int value, int minInclusive, int maxInclusive) {
        return (int) inRange(what, (long) value, minInclusive, maxInclusive);
    }

    public static long aligned(String what, long value, long alignment) {
        if ((value & (alignment - 1)) != 0) {
            throw new IllegalArgumentException(what + " = " + Hex.of(value) + " is not aligned to " + alignment
                    + " bytes");
        }
        return value;
    }

    public static <T> T notNull(String what, T value) {
        if (value == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        return value;
    }

    /** Bits {@code high}:{@code low} set, all others clear. */
    public static long mask(int high, int low) {
        return (high == 63 ? -1L : (1L << (high + 1)) - 1) & ~((1L << low) - 1);
    }
}
