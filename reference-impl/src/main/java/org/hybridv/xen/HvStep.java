package org.hybridv.xen;

import org.hybridv.x86.Checks;

/**
 * One vCPU step: what happened, the hypervisor's state after it, and how many VM exits of that vCPU the processor
 * went through in it.
 *
 * <p>{@code vmExits} counts real VM exits (SDM 27), not {@link VcpuOutcome#exited()} (which is also true for a vCPU
 * that never ran): 0 when the instruction retired or was delivered in the guest, when the vCPU was already blocked
 * (not entered), when it was not run at all ({@code NotModelled} with no exit reason) or when VM entry failed with
 * VMfailValid (SDM 26.2–26.3: the VMLAUNCH/VMRESUME instruction fails, no exit); 1 for a handled exit (HLT → blocked
 * included, an unhandled {@code NotModelled} exit included) and for a VM-entry failure during or after loading guest
 * state (SDM 26.8: the processor loads host state as on a VM exit and stores an exit reason with bit 31 set); one per
 * exit when shadow-mode fills re-run the access. The external-interrupt exit that preempts another running vCPU is
 * that vCPU's, not this step's, and is not counted.
 */
public record HvStep(VcpuOutcome outcome, XenMachine machine, int vmExits) {
    public HvStep {
        Checks.notNull("outcome", outcome);
        if (vmExits < 0) {
            throw new IllegalArgumentException("vmExits " + vmExits);
        }
    }

    /** A step that went through one VM exit if the outcome is a handled exit, else none. */
    public HvStep(VcpuOutcome outcome, XenMachine machine) {
        this(outcome, machine, outcome.exited() ? 1 : 0);
    }
}
