package org.hybridv.scenario.vmx;

import org.hybridv.vmx.ExitReason;

/**
 * What {@code vmlaunch} or {@code vmresume} is expected to do (Intel SDM Vol. 3C chapter 26). Absent fields are not
 * checked.
 */
public sealed interface EntryExpectation permits EntryExpectation.Enters, EntryExpectation.VmFails,
        EntryExpectation.EntryFails {
    /** {@code {"result": "entered"}}: the processor is in VMX non-root operation with the guest state loaded. */
    record Enters() implements EntryExpectation {}

    /**
     * {@code {"result": "vmFail", "error": …}}: VMfailValid, the processor stays in root operation unchanged.
     *
     * @param error the VM-instruction error number (SDM §30.4, table 30-1), or null
     */
    record VmFails(Integer error) implements EntryExpectation {}

    /**
     * {@code {"result": "entryFailure", "reason": "INVALID_GUEST_STATE"}}: a VM exit with bit 31 of the exit reason
     * set, loading host state (SDM §26.7).
     *
     * @param reason the basic exit reason, or null
     */
    record EntryFails(ExitReason reason) implements EntryExpectation {}

    EntryExpectation ENTERS = new Enters();

    /** The {@code result} word. */
    default String result() {
        if (this instanceof VmFails) {
            return "vmFail";
        }
        return this instanceof EntryFails ? "entryFailure" : "entered";
    }
}
