package org.hybridv.gen;

import org.hybridv.vmx.ExecutionControls;

/**
 * The VM-execution controls that decide which guest exceptions cause VM exits (Intel SDM Vol. 3C §24.6.3): the
 * exception bitmap, PFEC_MASK and PFEC_MATCH.
 */
public record PageFaultFilter(int exceptionBitmap, int pfecMask, int pfecMatch) {
    /** Exception-bitmap bit 14, the #PF bit. */
    public static final int BIT14 = 1 << 14;

    /** These three fields written into {@code c}. */
    public ExecutionControls applyTo(ExecutionControls c) {
        return c.withExceptionControls(exceptionBitmap, pfecMask, pfecMatch);
    }

    /** As execution controls with nothing else set. */
    public ExecutionControls controls() {
        return applyTo(ExecutionControls.none());
    }

    @Override
    public String toString() {
        return String.format("PageFaultFilter[bitmap=%08x mask=%08x match=%08x]", exceptionBitmap, pfecMask,
                pfecMatch);
    }
}
