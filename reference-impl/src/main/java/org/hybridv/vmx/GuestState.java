package org.hybridv.vmx;

import org.hybridv.x86.CpuState;

/**
 * The guest-state area of the VMCS (Intel SDM Vol. 3C §24.4) as far as this reference models it: the control
 * registers, IA32_EFER (as if the "load IA32_EFER" entry control were 1), RFLAGS.AC and CPL. The record reuses
 * {@link CpuState}, whose CR2 and PKRU are not VMCS fields: a VM entry never loads them and a VM exit leaves the
 * processor's own values (SDM 26.3.2, 27.3.1); the two slots hold what the processor had at the last exit, and the
 * hypervisor model keeps each vCPU's saved CR2 and PKRU there (Xen rule CTX-1).
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
