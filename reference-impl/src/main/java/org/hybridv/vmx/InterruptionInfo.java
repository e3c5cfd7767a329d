package org.hybridv.vmx;

/**
 * The VM-exit interruption-information field (Intel SDM Vol. 3C §24.9.2, table 24-15): bits 7:0 vector, bits 10:8
 * interruption type (3 = hardware exception), bit 11 error code valid, bit 31 valid.
 */
public record InterruptionInfo(int vector, int type, boolean errorCodeValid, boolean valid) {
    /** Interruption type 3: hardware exception. */
    public static final int HARDWARE_EXCEPTION = 3;
    public static final InterruptionInfo NONE = new InterruptionInfo(0, 0, false, false);

    public InterruptionInfo {
        if (vector < 0 || vector > 255) {
            throw new IllegalArgumentException("vector = " + vector + " is outside 0..255");
        }
        if (type < 0 || type > 7) {
            throw new IllegalArgumentException("interruption type = " + type + " is outside 0..7");
        }
    }

    /** A hardware exception with the given vector (and an error code, if {@code errorCodeValid}). */
    public static InterruptionInfo hardwareException(int vector, boolean errorCodeValid) {
        return new InterruptionInfo(vector, HARDWARE_EXCEPTION, errorCodeValid, true);
    }

    public int bits() {
        return vector | (type << 8) | (errorCodeValid ? 1 << 11 : 0) | (valid ? 1 << 31 : 0);
    }
}
