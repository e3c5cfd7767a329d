package org.hybridv.vmx;

/** What a guest instruction did in VMX non-root operation. */
public sealed interface GuestOutcome {
    /**
     * The instruction completed in the guest without a VM exit.
     *
     * @param value the value produced (data read, register loaded, IN result), or the value written; 0 otherwise
     */
    record Retired(long value) implements GuestOutcome {}

    /**
     * An exception was delivered to the guest through its IDT, without a VM exit. For #PF the processor wrote CR2.
     *
     * @param vector         the exception vector
     * @param errorCode      the error code pushed, if {@code errorCodeValid}
     * @param errorCodeValid whether the exception pushes an error code (SDM Vol. 3A §6.13)
     * @param cr2            the linear address written to CR2 for a #PF (0 otherwise)
     */
    record Delivered(int vector, int errorCode, boolean errorCodeValid, long cr2) implements GuestOutcome {}

    /** A VM exit: the processor is now in root operation with the host state loaded. */
    record Exited(ExitInformation exit) implements GuestOutcome {}
}
