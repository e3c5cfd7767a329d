package org.hybridv.vmx;

/**
 * Whether RDMSR or WRMSR in VMX non-root operation causes a VM exit (Intel SDM Vol. 3C §25.1.3).
 */
public final class MsrExits {
    private MsrExits() {}

    /**
     * SDM 25.1.3, RDMSR (WRMSR alike, with the write bitmaps): "causes a VM exit if any of the following are true:
     * The 'use MSR bitmaps' VM-execution control is 0. The value of ECX is not in the ranges 00000000H – 00001FFFH
     * and C0000000H – C0001FFFH. The value of ECX is in the range 00000000H – 00001FFFH and bit n in read bitmap for
     * low MSRs is 1, where n is the value of ECX. The value of ECX is in the range C0000000H – C0001FFFH and bit n in
     * read bitmap for high MSRs is 1, where n is the value of ECX &amp; 00001FFFH."
     *
     * @param msr   the value of ECX, 0..0xFFFFFFFF
     * @param write WRMSR (true) or RDMSR (false)
     */
    public static boolean exits(PrimaryControls p, MsrBitmap bitmap, long msr, boolean write) {
        if (msr < 0 || msr > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("MSR index (ECX) = 0x" + Long.toHexString(msr)
                    + " is outside 0..0xffffffff");
        }
        if (!p.useMsrBitmaps()) {
            return true;
        }
        if (!MsrBitmap.covers(msr)) {
            return true;
        }
        return bitmap.bitFor(msr, write);
    }
}
