package org.hybridv.vmx;

import org.hybridv.x86.CpuState;

/**
 * The guest-state area of the VMCS (Intel SDM Vol. 3C §24.4) as far as this reference models it: the control
 * registers, IA32_EFER, RFLAGS.AC, CPL, CR2 is not part of it (CR2 is not saved or loaded by VM transitions, SDM
 * 27.3.1), but is kept by the processor across them.
 *
 * @param cpu the guest's architectural state (CR0, CR3, CR4, EFER, RFLAGS.AC, CPL, PKRU, MAXPHYADDR)
 * @param rip the guest RIP, an opaque value
 */
public record GuestState(CpuState cpu, long rip) {
    public GuestState {
        if (cpu == null) {
            throw new IllegalArgumentException("guest CPU state must not be null");
        }
    }
}
