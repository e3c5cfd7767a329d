package org.hybridv.xen;

import org.hybridv.vmx.Vmcs;
import org.hybridv.x86.Checks;

/**
 * A virtual CPU: its VMCS (controls, guest state, host state, last exit) and the VMCS launch state, and whether it is
 * blocked (it executed HLT and waits for an event; events are not modelled). The VPID is the VMCS field
 * {@code controls().vpid()} (distinct per vCPU, never 0: {@link XenMachine}).
 *
 * @param id       domain and index
 * @param vmcs     the vCPU's VMCS; while the vCPU is current it equals the processor's current VMCS
 * @param launched the launch state: clear until the first VMLAUNCH (SDM 24.1), so the next entry is VMRESUME
 * @param blocked  HLT was executed and the vCPU waits (Xen {@code hvm_hlt} → {@code vcpu_block})
 * @param shadow   shadow mode: the guest's CR3 and the shadow table frames ({@link ShadowState#NONE} otherwise)
 * @param pcpu     the physical CPU it runs on (Xen {@code v->processor}; 0 unless scheduled elsewhere, docs/smp.md)
 * @param continuation the registers a preempted hypercall left in the vCPU's saved guest registers for the guest to
 *                 re-execute its VMCALL with (Xen {@code hypercall_create_continuation} rewrites
 *                 {@code guest_cpu_user_regs()} and rewinds RIP; Xen rule MU-8, {@link MmuBatch#preempt}), or null
 *                 when there is none; consumed when the vCPU executes its VMCALL again ({@link MmuBatch#start})
 */
public record Vcpu(VcpuId id, Vmcs vmcs, boolean launched, boolean blocked, ShadowState shadow, int pcpu,
        Hypercall continuation) {
    public Vcpu {
        Checks.notNull("vCPU id", id);
        Checks.notNull("VMCS", vmcs);
        Checks.notNull("shadow state", shadow);
        Checks.inRange("pCPU", pcpu, 0, XenMachine.MAX_PCPUS - 1);
    }

    /** A vCPU with no continuation pending. */
    public Vcpu(VcpuId id, Vmcs vmcs, boolean launched, boolean blocked, ShadowState shadow, int pcpu) {
        this(id, vmcs, launched, blocked, shadow, pcpu, null);
    }

    /** A vCPU on pCPU 0. */
    public Vcpu(VcpuId id, Vmcs vmcs, boolean launched, boolean blocked, ShadowState shadow) {
        this(id, vmcs, launched, blocked, shadow, 0);
    }

    public Vcpu(VcpuId id, Vmcs vmcs, boolean launched, boolean blocked) {
        this(id, vmcs, launched, blocked, ShadowState.NONE);
    }

    public Vcpu withShadow(ShadowState s) {
        return new Vcpu(id, vmcs, launched, blocked, s, pcpu, continuation);
    }

    /** This vCPU placed on pCPU {@code q} (nothing else changes: {@link Hypervisor#schedule} is the migration). */
    public Vcpu withPcpu(int q) {
        return new Vcpu(id, vmcs, launched, blocked, shadow, q, continuation);
    }

    public int vpid() {
        return vmcs.controls().vpid();
    }

    public Vcpu withVmcs(Vmcs v) {
        return new Vcpu(id, v, launched, blocked, shadow, pcpu, continuation);
    }

    public Vcpu withLaunched(boolean l) {
        return new Vcpu(id, vmcs, l, blocked, shadow, pcpu, continuation);
    }

    public Vcpu withBlocked(boolean b) {
        return new Vcpu(id, vmcs, launched, b, shadow, pcpu, continuation);
    }

    /** This vCPU with {@code c} as its pending continuation (null: none), MU-8. */
    public Vcpu withContinuation(Hypercall c) {
        return new Vcpu(id, vmcs, launched, blocked, shadow, pcpu, c);
    }
}
