package org.hybridv.scenario.vmx;

/**
 * {@code {"op": "vmlaunch"}} or {@code {"op": "vmresume"}}, with an optional {@code expect}: VM entry with the
 * current VMCS (Intel SDM Vol. 3C chapter 26) — the launch-state, control-field, host-state and guest-state checks,
 * then the guest state is loaded and the processor is in VMX non-root operation.
 *
 * @param resume VMRESUME (true) or VMLAUNCH (false)
 * @param expect what must happen (default: the entry succeeds)
 */
public record VmEntryStep(boolean resume, EntryExpectation expect) implements VmxStep {
    public VmEntryStep {
        if (expect == null) {
            throw new IllegalArgumentException("expect must not be null (default: entered)");
        }
    }

    @Override
    public String op() {
        return resume ? "vmresume" : "vmlaunch";
    }

    @Override
    public String describe() {
        return resume ? "VMRESUME" : "VMLAUNCH";
    }
}
