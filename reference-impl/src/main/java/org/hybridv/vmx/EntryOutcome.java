package org.hybridv.vmx;

/** What VMLAUNCH or VMRESUME did (Intel SDM Vol. 3C chapter 26). */
public sealed interface EntryOutcome {
    /** The VM entry succeeded: the processor is in non-root operation with the guest state loaded. */
    record Entered() implements EntryOutcome {}

    /**
     * VMfailValid: the instruction failed before entering, the processor stays in root operation unchanged and the
     * VM-instruction error field holds {@code error} (SDM Vol. 3C §30.4, table 30-1).
     */
    record VmFailValid(int error, String reason) implements EntryOutcome {}

    /**
     * A VM-entry failure due to invalid guest state (SDM 26.3, 26.7): a VM exit with basic reason 33 and bit 31 set;
     * the processor loads host state and stays in root operation.
     */
    record EntryFailed(ExitInformation exit, String reason) implements EntryOutcome {}
}
