package org.hybridv.scenario.xen;

import org.hybridv.invariants.InvariantResult;
import org.hybridv.xen.XenMachine;

/**
 * The hypervisor layer's part of a scenario's state: the whole {@link XenMachine} (machine memory, its pCPUs with
 * their TLBs, frame table, domains and vCPUs), or none when the scenario's {@code machine} has no {@code hypervisor}
 * section. With a hypervisor the x86 and VMX components are left at their initial values and unused: the
 * XenMachine owns the processor, and the ops of those layers are refused (preconditions of {@link XenModule}).
 *
 * <p>I7 (exit correctness) is a property of steps, not of one state, so the scenario keeps its history here: every
 * {@code guest} and {@code hypercall} step evaluates it, and the first violation is kept for {@code checkInvariants}.
 *
 * @param machine     the hypervisor's state, or null when no hypervisor is configured
 * @param vcpuSteps   how many {@code guest} / {@code hypercall} steps have run so far
 * @param i7Violation the first I7 violation of those steps ("vCPU step n: explanation"), or null if none violated it
 * @param stepViolation the first violation of a step's I6 post-conditions, or null: MIG-1, MIG-2 over a {@code
 *                    schedule} step (docs/smp.md); TLB-8's clock and filter and IPI-1/IPI-2 over every step that
 *                    changes the machine ({@link org.hybridv.invariants.ShootdownRules})
 */
public record XenState(XenMachine machine, int vcpuSteps, String i7Violation,
        InvariantResult.Violated stepViolation) {
    /** A scenario without a hypervisor. */
    public static final XenState NONE = new XenState(null);

    /** A state with no vCPU step run yet. */
    public XenState(XenMachine machine) {
        this(machine, 0, null, null);
    }

    public boolean configured() {
        return machine != null;
    }

    /** This state with {@code m} as its machine (the step history unchanged). */
    public XenState withMachine(XenMachine m) {
        return new XenState(m, vcpuSteps, i7Violation, stepViolation);
    }

    /** After one more vCPU step, whose I7 explanation is {@code violation} (null if it held); keeps the first. */
    public XenState afterVcpuStep(XenMachine m, String violation) {
        int n = vcpuSteps + 1;
        return new XenState(m, n, i7Violation != null || violation == null ? i7Violation
                : "vCPU step " + n + ": " + violation, stepViolation);
    }

    /** This state with a step's I6 post-condition {@code result} recorded if it was violated; keeps the first. */
    public XenState afterStepRules(InvariantResult result) {
        return stepViolation != null || !(result instanceof InvariantResult.Violated v) ? this
                : new XenState(machine, vcpuSteps, i7Violation, v);
    }
}
