package org.hybridv.xen;

/**
 * What the para-virtual interface keeps per vCPU beside its {@link Vcpu} (docs/pv-interfaces.md).
 *
 * @param timerDeadline          the single-shot timer's deadline in machine time ticks ({@code VCPUOP_set_singleshot_timer}),
 *                               or {@link #NO_DEADLINE}
 * @param interruptFlag          the guest's RFLAGS.IF (Intel SDM Vol. 3A §6.8.1: maskable interrupts are recognised only
 *                               with IF = 1). The VMX model's guest-state area carries RFLAGS.AC only
 *                               ({@link org.hybridv.vmx.GuestState}); IF lives here, changed by the guest's CLI/STI
 *                               (which cause no VM exit, SDM Vol. 3C §25.1.3 lists none) and cleared by the delivery of
 *                               an interrupt through an interrupt gate (SDM Vol. 3A §6.12.1.3)
 * @param interruptWindowExiting the "interrupt-window exiting" primary processor-based control (bit 2, SDM Vol. 3C §24.6.2,
 *                               table 24-6) of the vCPU's VMCS: a VM exit at the first instruction boundary where IF = 1
 *                               (§25.2). Kept here because {@link org.hybridv.vmx.PrimaryControls} models only the
 *                               controls the MMU needs
 * @param upcallsInjected        how many times the callback vector was injected at VM entry through the VM-entry
 *                               interruption-information field (SDM Vol. 3C §24.8.3, §26.6): the deliveries the guest
 *                               received
 */
public record VcpuPv(long timerDeadline, boolean interruptFlag, boolean interruptWindowExiting, int upcallsInjected) {
    public static final long NO_DEADLINE = -1;

    /** A vCPU with no timer armed, interrupts enabled, no window requested, nothing injected yet. */
    public static final VcpuPv INITIAL = new VcpuPv(NO_DEADLINE, true, false, 0);

    public VcpuPv {
        if (timerDeadline < NO_DEADLINE || upcallsInjected < 0) {
            throw new IllegalArgumentException("deadline " + timerDeadline + ", injections " + upcallsInjected);
        }
    }

    public VcpuPv withTimerDeadline(long t) {
        return new VcpuPv(t, interruptFlag, interruptWindowExiting, upcallsInjected);
    }

    public VcpuPv withInterruptFlag(boolean f) {
        return new VcpuPv(timerDeadline, f, interruptWindowExiting, upcallsInjected);
    }

    public VcpuPv withInterruptWindowExiting(boolean w) {
        return new VcpuPv(timerDeadline, interruptFlag, w, upcallsInjected);
    }

    public VcpuPv withUpcallsInjected(int n) {
        return new VcpuPv(timerDeadline, interruptFlag, interruptWindowExiting, n);
    }
}
