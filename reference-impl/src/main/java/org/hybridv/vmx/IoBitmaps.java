package org.hybridv.vmx;

/**
 * I/O bitmaps A and B (Intel SDM Vol. 3C §24.6.4): "I/O bitmap A contains one bit for each I/O port in the range
 * 0000H through 7FFFH; I/O bitmap B contains bits for ports in the range 8000H through FFFFH."
 */
public record IoBitmaps(Bitmap a, Bitmap b) {
    public static final int PORTS_PER_BITMAP = 0x8000;

    public IoBitmaps {
        if (a == null || b == null || a.size() != PORTS_PER_BITMAP || b.size() != PORTS_PER_BITMAP) {
            throw new IllegalArgumentException("I/O bitmaps A and B must each hold " + PORTS_PER_BITMAP + " bits");
        }
    }

    /** Both bitmaps clear: no port exits through the bitmaps. */
    public static IoBitmaps none() {
        return new IoBitmaps(Bitmap.clear(PORTS_PER_BITMAP), Bitmap.clear(PORTS_PER_BITMAP));
    }

    /** Both bitmaps set: every port exits. */
    public static IoBitmaps all() {
        return new IoBitmaps(Bitmap.allSet(PORTS_PER_BITMAP), Bitmap.allSet(PORTS_PER_BITMAP));
    }

    /** The bit for {@code port}: bitmap A for 0000H–7FFFH, bitmap B for 8000H–FFFFH. */
    public boolean bitFor(int port) {
        checkPort(port);
        return port < PORTS_PER_BITMAP ? a.get(port) : b.get(port - PORTS_PER_BITMAP);
    }

    /** These bitmaps with the bit for {@code port} set to {@code intercept}. */
    public IoBitmaps with(int port, boolean intercept) {
        checkPort(port);
        return port < PORTS_PER_BITMAP ? new IoBitmaps(a.with(port, intercept), b)
                : new IoBitmaps(a, b.with(port - PORTS_PER_BITMAP, intercept));
    }

    static void checkPort(int port) {
        if (port < 0 || port > 0xFFFF) {
            throw new IllegalArgumentException("port = " + port + " is outside 0..0xffff");
        }
    }
}
