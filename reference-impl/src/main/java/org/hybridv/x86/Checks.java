package org.hybridv.x86;

/** Argument checks shared by the x86 layer: each names the bad value and the limit it broke. */
final class Checks {
    private Checks() {}

    static long inRange(String what, long value, long minInclusive, long maxInclusive) {
        if (value < minInclusive || value > maxInclusive) {
            throw new IllegalArgumentException(what + " = " + value + " is outside " + minInclusive + ".."
                    + maxInclusive);
        }
        return value;
    }

    static int inRange(String what, int value, int minInclusive, int maxInclusive) {
        return (int) inRange(what, (long) value, minInclusive, maxInclusive);
    }

    static long aligned(String what, long value, long alignment) {
        if ((value & (alignment - 1)) != 0) {
            throw new IllegalArgumentException(what + " = " + Hex.of(value) + " is not aligned to " + alignment
                    + " bytes");
        }
        return value;
    }

    static <T> T notNull(String what, T value) {
        if (value == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        return value;
    }
}
