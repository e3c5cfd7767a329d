package org.hybridv.xen;

import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.VmExits;
import org.hybridv.vmx.VmxProcessor;

/**
 * EVT-9: how an event upcall reaches a hybrid (HVM) vCPU — the callback vector ({@code HVM_PARAM_CALLBACK_IRQ} of
 * type vector) injected as an external interrupt at VM entry, never while the guest has interrupts disabled (Xen
 * {@code vmx_intr_assist}, {@code hvm_vcpu_has_pending_irq}).
 */
public final class EventDelivery {
    private EventDelivery() {}

    /** Interruption type 0 of the VM-entry interruption-information field: external interrupt (SDM Vol. 3C §24.8.3). */
    public static final int EXTERNAL_INTERRUPT = 0;

    /**
     * The VM-entry interruption-information field (Intel SDM Vol. 3C §24.8.3, table 24-16) that injects external
     * interrupt {@code vector}: bits 7:0 the vector, bits 10:8 the type (0), bit 11 no error code, bit 31 valid.
     */
    public static int entryInterruptionInformation(int vector) {
        return (vector & 0xFF) | (EXTERNAL_INTERRUPT << 8) | (1 << 31);
    }

    /**
     * EVT-9 at the VM entry of vCPU {@code v} ({@link Hypervisor#run} calls it before it enters the vCPU; nothing
     * happens when no entry follows: the vCPU runs already or is blocked). With its {@code evtchn_upcall_pending}
     * set and a callback vector set: if the guest's RFLAGS.IF is 1, the vector is injected through the VM-entry
     * interruption-information field ({@link #entryInterruptionInformation}; Intel SDM Vol. 3C §26.6: delivered
     * through the guest IDT as the entry completes, before any guest instruction), which clears IF (an interrupt gate,
     * SDM Vol. 3A §6.12.1.3) and counts one injection; if IF is 0 the interrupt would be blocked (SDM Vol. 3C §26.3.1.5
     * forbids injecting an external interrupt with IF = 0), so instead "interrupt-window exiting" is set (§24.6.2): the
     * guest exits as soon as it sets IF ({@link #setInterruptFlag}) and the next entry injects. The pending bits stay
     * set: only the guest's handler clears them (EVT-10).
     */
    public static XenMachine atVmEntry(XenMachine m, VcpuId v) {
        DomainPv dp = m.pv().domain(v.domain());
        if (dp.sharedInfo() < 0 || dp.callbackVector() == 0 || v.vcpu() >= SharedInfo.MAX_VCPUS
                || !SharedInfo.upcallPending(m.memory(), dp.sharedInfo(), v.vcpu()) || m.running(v)
                || m.vcpu(v).blocked()) {
            return m;
        }
        VcpuPv p = dp.vcpu(v.vcpu());
        VcpuPv after = p.interruptFlag() ? p.withUpcallsInjected(p.upcallsInjected() + 1).withInterruptFlag(false)
                .withInterruptWindowExiting(false) : p.withInterruptWindowExiting(true);
        return m.withPv(m.pv().with(v.domain(), dp.withVcpu(v.vcpu(), after)));
    }

    /**
     * EVT-9, the guest's CLI ({@code enabled} false) or STI: RFLAGS.IF changes without a VM exit (SDM Vol. 3C §25.1.3
     * lists no exit for CLI/STI). An STI that sets IF while the vCPU runs with "interrupt-window exiting" causes a VM
     * exit with reason 7, interrupt window, at the next instruction boundary (after the one-instruction STI blocking,
     * SDM Vol. 3C §25.2; the step stands for STI and that instruction); the handler clears the control and returns to
     * root operation, so the next VM entry injects ({@link #atVmEntry}). Outcome: {@code Resumed(INTERRUPT_WINDOW)}
     * with one exit, else {@code Retired}.
     */
    public static HvStep setInterruptFlag(XenMachine m, VcpuId v, boolean enabled) {
        DomainPv dp = m.pv().domain(v.domain());
        VcpuPv p = dp.vcpu(v.vcpu());
        XenMachine after = m.withPv(m.pv().with(v.domain(), dp.withVcpu(v.vcpu(), p.withInterruptFlag(enabled))));
        if (!enabled || p.interruptFlag() || !p.interruptWindowExiting() || !m.running(v)) {
            return new HvStep(new VcpuOutcome.Retired(0), after, 0);
        }
        int from = after.active();
        XenMachine there = after.withActive(after.vcpu(v).pcpu());
        VmxProcessor out = VmExits.exit(there.processor(), ExitInformation.of(ExitReason.INTERRUPT_WINDOW, 0));
        there = there.withCurrent(v, out);
        DomainPv q = there.pv().domain(v.domain());
        there = there.withPv(there.pv().with(v.domain(), q.withVcpu(v.vcpu(), q.vcpu(v.vcpu())
                .withInterruptWindowExiting(false))));
        return new HvStep(new VcpuOutcome.Resumed(ExitReason.INTERRUPT_WINDOW, 0, "EVT-9"), there.withActive(from), 1);
    }
}
