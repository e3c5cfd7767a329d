package org.hybridv.x86;

/**
 * A page-fault exception, #PF, vector 14 (Intel SDM Vol. 3A §4.7, §6.15 "Interrupt 14"): its error code and the
 * linear address that caused it, which the processor loads into CR2 when it delivers the exception.
 */
public record PageFault(ErrorCode errorCode, long linearAddress) implements Translation, AccessOutcome {
    /** The exception vector of #PF. */
    public static final int VECTOR = 14;

    public PageFault {
        Checks.notNull("error code", errorCode);
    }

    @Override
    public String toString() {
        return "#PF(" + errorCode + ") at " + Hex.of(linearAddress);
    }
}
