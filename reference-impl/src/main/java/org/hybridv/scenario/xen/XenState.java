package org.hybridv.scenario.xen;

import org.hybridv.xen.XenMachine;

/**
 * The hypervisor layer's part of a scenario's state: the whole {@link XenMachine} (its processor, machine memory,
 * TLB, frame table, domains and vCPUs), or none when the scenario's {@code machine} has no {@code hypervisor}
 * section. With a hypervisor the x86 and VMX components are left at their initial values and unused: the
 * XenMachine owns the processor, and the ops of those layers are refused (preconditions of {@link XenModule}).
 *
 * @param machine the hypervisor's state, or null when no hypervisor is configured
 */
public record XenState(XenMachine machine) {
    /** A scenario without a hypervisor. */
    public static final XenState NONE = new XenState(null);

    public boolean configured() {
        return machine != null;
    }
}
