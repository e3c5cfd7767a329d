package org.hybridv.vmx;

/**
 * The MSR bitmap (Intel SDM Vol. 3C §24.6.9): four contiguous 1-KByte bitmaps — read bitmap for low MSRs
 * (00000000H–00001FFFH), read bitmap for high MSRs (C0000000H–C0001FFFH), write bitmap for low MSRs, write bitmap for
 * high MSRs — one bit per MSR.
 */
public record MsrBitmap(Bitmap readLow, Bitmap readHigh, Bitmap writeLow, Bitmap writeHigh) {
    public static final int MSRS_PER_REGION = 0x2000;
    public static final long LOW_BASE = 0x0000_0000L;
    public static final long HIGH_BASE = 0xC000_0000L;

    public MsrBitmap {
        for (Bitmap b : new Bitmap[] {readLow, readHigh, writeLow, writeHigh}) {
            if (b == null || b.size() != MSRS_PER_REGION) {
                throw new IllegalArgumentException("each MSR bitmap region must hold " + MSRS_PER_REGION + " bits");
            }
        }
    }

    /** All four regions clear: no MSR in range exits. */
    public static MsrBitmap none() {
        Bitmap c = Bitmap.clear(MSRS_PER_REGION);
        return new MsrBitmap(c, c, c, c);
    }

    /** All four regions set: every MSR exits. */
    public static MsrBitmap all() {
        Bitmap s = Bitmap.allSet(MSRS_PER_REGION);
        return new MsrBitmap(s, s, s, s);
    }

    /** Whether {@code msr} lies in one of the two ranges the bitmap covers. */
    public static boolean covers(long msr) {
        return (msr >= LOW_BASE && msr < LOW_BASE + MSRS_PER_REGION)
                || (msr >= HIGH_BASE && msr < HIGH_BASE + MSRS_PER_REGION);
    }

    /** The bit for an access to {@code msr}, which must be {@link #covers covered}. */
    public boolean bitFor(long msr, boolean write) {
        int offset = offset(msr);
        boolean low = msr < HIGH_BASE;
        Bitmap region = write ? (low ? writeLow : writeHigh) : (low ? readLow : readHigh);
        return region.get(offset);
    }

    /** This bitmap with the bit for ({@code msr}, {@code write}) set to {@code intercept}. */
    public MsrBitmap with(long msr, boolean write, boolean intercept) {
        int offset = offset(msr);
        boolean low = msr < HIGH_BASE;
        if (write) {
            return low ? new MsrBitmap(readLow, readHigh, writeLow.with(offset, intercept), writeHigh)
                    : new MsrBitmap(readLow, readHigh, writeLow, writeHigh.with(offset, intercept));
        }
        return low ? new MsrBitmap(readLow.with(offset, intercept), readHigh, writeLow, writeHigh)
                : new MsrBitmap(readLow, readHigh.with(offset, intercept), writeLow, writeHigh);
    }

    private static int offset(long msr) {
        if (!covers(msr)) {
            throw new IllegalArgumentException("MSR 0x" + Long.toHexString(msr) + " is outside the ranges the MSR"
                    + " bitmap covers (0..0x1fff, 0xc0000000..0xc0001fff)");
        }
        return (int) (msr < HIGH_BASE ? msr - LOW_BASE : msr - HIGH_BASE);
    }
}
