package org.hybridv.vmx;

import org.hybridv.x86.CpuState;

/**
 * The host-state area of the VMCS (Intel SDM Vol. 3C §24.5): what a VM exit loads (§27.5). The host always runs at
 * CPL 0.
 *
 * @param cpu the host's control registers and EFER (CPL must be 0)
 * @param rip the host RIP, an opaque value
 */
public record HostState(CpuState cpu, long rip) {
    public HostState {
        if (cpu == null) {
            throw new IllegalArgumentException("host CPU state must not be null");
        }
        if (cpu.cpl() != 0) {
            throw new IllegalArgumentException("host CPL = " + cpu.cpl() + "; a VM exit loads CPL 0 (SDM 27.5.1)");
        }
    }
}
