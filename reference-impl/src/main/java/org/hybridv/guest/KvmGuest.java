package org.hybridv.guest;

import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Hex;
import org.hybridv.xen.CpuidLeaves;
import org.hybridv.xen.KvmMsrs;

/**
 * The kernel's KVM path (BOOT-7, docs/hybrid.md "Detection"): once the scan found KVM's signature at {@code base}, the
 * kernel stays on its own page tables (KVM runs it under HAP: there is no SWITCH_MMU and no PV MMU) and enables what
 * the feature leaf base+1 offers, as Linux's {@code kvm_guest_init} does: the PV clock
 * ({@code kvm_register_clock}: WRMSR {@code MSR_KVM_SYSTEM_TIME_NEW} = the address of its
 * {@code pvclock_vcpu_time_info} | {@code KVM_MSR_ENABLED}) and PV EOI ({@code kvm_guest_cpu_init}: WRMSR
 * {@code MSR_KVM_PV_EOI_EN} = the address of its EOI word | enabled). Both live in the frame
 * {@link Layout#HYPERCALL_PAGE}, which a KVM guest does not need for a hypercall page: the clock at offset 0, the
 * EOI word at {@link #PV_EOI_OFFSET}.
 */
final class KvmGuest {
    private KvmGuest() {}

    /** Where the PV EOI word lies in the frame (4-byte aligned, as KVM requires). */
    static final long PV_EOI_OFFSET = 0x100;

    /** LONG → KVM: the stage, then the feature leaf and the MSR writes; null when it went as planned. */
    static KernelResult enable(Kernel.Run r, long base) {
        r.kernel = r.kernel.withStage(BootStage.KVM);
        Observed o = r.exec(new GuestInstruction.Cpuid(base + 1, 0));
        long features = o instanceof Observed.Cpuid c ? c.eax() : 0;
        long page = Layout.entry(r.kernel.frameOf(Layout.HYPERCALL_PAGE), 0);
        if ((features & CpuidLeaves.KVM_FEATURE_CLOCKSOURCE2) != 0) {
            KernelResult bad = write(r, KvmMsrs.MSR_KVM_SYSTEM_TIME_NEW, page | KvmMsrs.KVM_MSR_ENABLED);
            if (bad != null) {
                return bad;
            }
        }
        if ((features & CpuidLeaves.KVM_FEATURE_PV_EOI) != 0) {
            KernelResult bad = write(r, KvmMsrs.MSR_KVM_PV_EOI_EN, (page + PV_EOI_OFFSET) | KvmMsrs.KVM_MSR_ENABLED);
            // BOOT-9: the EOI path tests this (Linux installs kvm_guest_apic_eoi_write)
            return bad != null ? bad : r.store(Layout.PV_EOI_VAR, 1);
        }
        return null;
    }

    private static KernelResult write(Kernel.Run r, long msr, long value) {
        Observed w = r.exec(new GuestInstruction.Wrmsr(msr, value));
        return w instanceof Observed.Value ? null : new KernelResult.Oops("WRMSR " + Hex.of(msr) + ": " + w);
    }
}
