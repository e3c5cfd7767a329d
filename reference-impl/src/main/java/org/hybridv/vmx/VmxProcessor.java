package org.hybridv.vmx;

import org.hybridv.x86.X86Machine;

/**
 * A logical processor in VMX operation with its current VMCS (Intel SDM Vol. 3C §23–24). In root operation
 * {@code machine.cpu()} is the host's state; in non-root operation it is the guest's, and the machine's TLB tag is the
 * guest's VPID (and EP4TA with EPT).
 *
 * @param machine  memory, current CPU state, TLB and current TLB tag
 * @param mode     root or non-root operation
 * @param vmcs     the current VMCS
 * @param launched     the VMCS launch state: clear until the first successful VMLAUNCH (§24.1)
 * @param capabilities what the processor reports in IA32_VMX_EPT_VPID_CAP (Appendix A.10)
 */
public record VmxProcessor(X86Machine machine, VmxMode mode, Vmcs vmcs, boolean launched,
        VmxCapabilities capabilities) {
    public VmxProcessor {
        if (machine == null || mode == null || vmcs == null || capabilities == null) {
            throw new IllegalArgumentException("machine, mode, VMCS and capabilities must not be null");
        }
    }

    /** A processor with {@link VmxCapabilities#FULL} capabilities. */
    public VmxProcessor(X86Machine machine, VmxMode mode, Vmcs vmcs, boolean launched) {
        this(machine, mode, vmcs, launched, VmxCapabilities.FULL);
    }

    /** A processor in root operation running {@code machine} with {@code vmcs} current and clear. */
    public static VmxProcessor root(X86Machine machine, Vmcs vmcs) {
        return new VmxProcessor(machine, VmxMode.ROOT, vmcs, false);
    }

    public VmxProcessor withMachine(X86Machine m) {
        return new VmxProcessor(m, mode, vmcs, launched, capabilities);
    }

    public VmxProcessor withVmcs(Vmcs v) {
        return new VmxProcessor(machine, mode, v, launched, capabilities);
    }

    /** This processor reporting {@code c}. */
    public VmxProcessor withCapabilities(VmxCapabilities c) {
        return new VmxProcessor(machine, mode, vmcs, launched, c);
    }
}
