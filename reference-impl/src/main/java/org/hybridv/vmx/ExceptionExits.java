package org.hybridv.vmx;

/**
 * Whether an exception in VMX non-root operation causes a VM exit (Intel SDM Vol. 3C §25.2 "Other Causes of VM
 * Exits", with the fields of §24.6.3).
 */
public final class ExceptionExits {
    /** The #PF vector, whose exit decision also consults PFEC_MASK and PFEC_MATCH. */
    public static final int PAGE_FAULT = 14;

    private ExceptionExits() {}

    /**
     * SDM 25.2, "Exceptions": "Exceptions (faults, traps, and aborts) cause VM exits based on the exception bitmap
     * (see Section 24.6.3). If an exception occurs, its vector (in the range 0–31) is used to select a bit in the
     * exception bitmap. If the bit is 1, a VM exit occurs; if the bit is 0, the exception is delivered normally
     * through the guest IDT." Page faults are the exception to that sentence: see {@link #pageFaultExits}.
     */
    public static boolean exits(ExecutionControls c, int vector, int errorCode) {
        if (vector < 0 || vector > 31) {
            throw new IllegalArgumentException("exception vector = " + vector + " is outside 0..31");
        }
        if (vector == PAGE_FAULT) {
            return pageFaultExits(c.exceptionBitmap(), c.pfecMask(), c.pfecMatch(), errorCode);
        }
        return bit(c.exceptionBitmap(), vector);
    }

    /**
     * SDM 24.6.3: "The exception bitmap and these two fields [PFEC_MASK, PFEC_MATCH] determine which page faults
     * cause VM exits … Consider the following equality: (PFEC AND PFEC_MASK) = PFEC_MATCH. If the equality holds, a
     * page fault causes a VM exit if bit 14 of the exception bitmap is 1 (and does not cause a VM exit if that bit is
     * 0). If the equality does not hold, a page fault causes a VM exit if bit 14 of the exception bitmap is 0 (and
     * does not cause a VM exit if that bit is 1)."
     */
    public static boolean pageFaultExits(int exceptionBitmap, int pfecMask, int pfecMatch, int errorCode) {
        boolean equality = (errorCode & pfecMask) == pfecMatch;
        boolean bit14 = bit(exceptionBitmap, PAGE_FAULT);
        return equality ? bit14 : !bit14;
    }

    private static boolean bit(int bitmap, int n) {
        return ((bitmap >>> n) & 1) != 0;
    }
}
