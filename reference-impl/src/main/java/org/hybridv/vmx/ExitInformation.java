package org.hybridv.vmx;

/**
 * The VM-exit information fields (Intel SDM Vol. 3C §24.9) this reference fills.
 *
 * @param reason                the basic exit reason (§24.9.1)
 * @param entryFailure          bit 31 of the exit-reason field: the exit is a VM-entry failure (§26.7)
 * @param qualification         the exit qualification (§27.2.1)
 * @param guestLinearAddress    the guest-linear-address field (EPT violations with a valid linear address)
 * @param guestPhysicalAddress  the guest-physical-address field (EPT violations and misconfigurations)
 * @param interruption          the VM-exit interruption information (§24.9.2)
 * @param interruptionErrorCode the VM-exit interruption error code (§24.9.2)
 * @param instructionLength     the VM-exit instruction length, opaque here (§24.9.4)
 */
public record ExitInformation(ExitReason reason, boolean entryFailure, long qualification, long guestLinearAddress,
        long guestPhysicalAddress, InterruptionInfo interruption, int interruptionErrorCode, long instructionLength) {
    public ExitInformation {
        if (reason == null || interruption == null) {
            throw new IllegalArgumentException("exit reason and interruption information must not be null");
        }
    }

    /** An exit with only a reason and a qualification. */
    public static ExitInformation of(ExitReason reason, long qualification) {
        return new ExitInformation(reason, false, qualification, 0, 0, InterruptionInfo.NONE, 0, 0);
    }

    /** The 32-bit exit-reason field: the basic reason in bits 15:0, bit 31 for a VM-entry failure. */
    public int exitReasonField() {
        return reason.number() | (entryFailure ? 1 << 31 : 0);
    }
}
