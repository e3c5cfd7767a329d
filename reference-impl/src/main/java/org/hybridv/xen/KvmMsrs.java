package org.hybridv.xen;

import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.GeneralProtection;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PhysicalMemory;

/**
 * The KVM personality's paravirtual MSRs (BOOT-7, docs/rules/hybrid.md): the same Xen-like machine, run for a domain
 * whose {@link CpuidIdentity} is KVM's, answers the KVM MSRs of Linux's include/uapi/asm/kvm_para.h instead of
 * Xen's hypercall-page MSR. Bit 0 of each value is {@code KVM_MSR_ENABLED}; the rest is a guest-physical address.
 * <ul>
 * <li>{@code MSR_KVM_SYSTEM_TIME_NEW} (0x4b564d01, feature {@code KVM_FEATURE_CLOCKSOURCE2}): KVM's
 * {@code kvm_write_system_time} then {@code kvm_guest_time_update} fill a {@code pvclock_vcpu_time_info} at the
 * address. The model fills it once, when the clock is enabled, deterministically: {@code version} 2 (even: no
 * update in progress, one update done), {@code tsc_timestamp} 0, {@code system_time} 0, {@code tsc_to_system_mul}
 * 2^31 with {@code tsc_shift} 0 (a 2 GHz TSC), {@code flags} {@code PVCLOCK_TSC_STABLE_BIT}. Later updates (KVM
 * refreshes the structure at VM entries after a clock request) are not modelled.</li>
 * <li>{@code MSR_KVM_PV_EOI_EN} (0x4b564d04, feature {@code KVM_FEATURE_PV_EOI}): the address must be 4-byte aligned,
 * else #GP ({@code kvm_lapic_set_pv_eoi}); with bit 0 set the address must be the domain's RAM, else #GP too (KVM's
 * {@code kvm_gfn_to_hva_cache_init} fails and {@code kvm_lapic_set_pv_eoi} returns the error); the model clears the
 * EOI word (no interrupt is pending). With bit 0 clear PV EOI is turned off ({@code pv_eoi.msr_val} without
 * {@code KVM_MSR_ENABLED}): the hypervisor no longer sets or watches the word.</li>
 * </ul>
 * A system-time address that is not the domain's RAM is accepted and nothing is written (KVM's cache activation
 * fails and the clock stays off; {@code kvm_write_system_time} cannot fail). Any other MSR that exits → #GP(0), as for
 * an MSR KVM does not know.
 */
public final class KvmMsrs {
    private KvmMsrs() {}

    /** {@code MSR_KVM_SYSTEM_TIME_NEW}. */
    public static final long MSR_KVM_SYSTEM_TIME_NEW = 0x4b56_4d01L;
    /** {@code MSR_KVM_PV_EOI_EN}. */
    public static final long MSR_KVM_PV_EOI_EN = 0x4b56_4d04L;
    /** {@code KVM_MSR_ENABLED}: bit 0 of the MSR values. */
    public static final long KVM_MSR_ENABLED = 1;
    /** The pvclock version after the one update the model performs. */
    public static final long PVCLOCK_VERSION = 2;
    /** {@code tsc_to_system_mul}: 2^31 with shift 0, i.e. 0.5 ns per TSC tick. */
    public static final long PVCLOCK_MUL = 1L << 31;
    /** {@code PVCLOCK_TSC_STABLE_BIT} in {@code flags}. */
    public static final long PVCLOCK_TSC_STABLE = 1;

    /** WRMSR exit of a KVM-personality domain. */
    static HvStep wrmsr(XenMachine m, VcpuId id, GuestInstruction.Wrmsr w) {
        Domain d = m.domain(id.domain());
        long gpa = w.value() & ~KVM_MSR_ENABLED;
        boolean enable = (w.value() & KVM_MSR_ENABLED) != 0;
        if (w.msr() == MSR_KVM_SYSTEM_TIME_NEW) {
            if (!enable || (gpa & 7) != 0 || d.machineFrame(gpa >>> 12) < 0 || (gpa & 0xFFF) > 0xFE0) {
                return new HvStep(new VcpuOutcome.Resumed(ExitReason.MSR_WRITE, 0, "kvm_write_system_time"), m);
            }
            long mfn = d.machineFrame(gpa >>> 12);
            int q = (int) ((gpa & 0xFFF) >>> 3);
            PhysicalMemory mem = m.paging().memory().write(mfn, q, PVCLOCK_VERSION).write(mfn, q + 1, 0)
                    .write(mfn, q + 2, 0).write(mfn, q + 3, PVCLOCK_MUL | (PVCLOCK_TSC_STABLE << 40));
            return new HvStep(new VcpuOutcome.Resumed(ExitReason.MSR_WRITE, 0, "kvm_guest_time_update"),
                    m.withPaging(m.paging().withMemory(mem)));
        }
        if (w.msr() == MSR_KVM_PV_EOI_EN) {
            if ((gpa & 3) != 0) {
                return Hypervisor.inject(m, ExitReason.MSR_WRITE, GeneralProtection.VECTOR, 0, true, 0,
                        "kvm_lapic_set_pv_eoi", "WRMSR " + Hex.of(w.msr()) + " = " + Hex.of(w.value())
                                + ": the PV EOI address is not 4-byte aligned");
            }
            if (enable && d.machineFrame(gpa >>> 12) < 0) {
                return Hypervisor.inject(m, ExitReason.MSR_WRITE, GeneralProtection.VECTOR, 0, true, 0,
                        "kvm_lapic_set_pv_eoi", "WRMSR " + Hex.of(w.msr()) + " = " + Hex.of(w.value())
                                + ": the PV EOI address is not the domain's RAM");
            }
            if (!enable) {
                // PV EOI off: the address is forgotten, the word no longer set at injections nor watched (EMU-6)
                EmulatedDevices.TimerInterrupt i = d.devices().interrupt();
                Domain nd = d.withDevices(d.devices().withInterrupt(new EmulatedDevices.TimerInterrupt(
                        i.requested(), i.inService(), -1, false, i.injected())));
                return new HvStep(new VcpuOutcome.Resumed(ExitReason.MSR_WRITE, 0, "kvm_lapic_set_pv_eoi"),
                        m.withDomain(nd));
            }
            long mfn = d.machineFrame(gpa >>> 12);
            int q = (int) ((gpa & 0xFFF) >>> 3);
            long old = m.paging().memory().read(mfn, q);
            long cleared = (gpa & 4) != 0 ? old & 0xFFFF_FFFFL : old & ~0xFFFF_FFFFL;
            PhysicalMemory mem = m.paging().memory().write(mfn, q, cleared);
            // EMU-6: the address is kept; the next injection of the timer's vector sets the word's bit 0
            EmulatedDevices.TimerInterrupt i = d.devices().interrupt();
            Domain nd = d.withDevices(d.devices().withInterrupt(new EmulatedDevices.TimerInterrupt(i.requested(),
                    i.inService(), gpa, false, i.injected())));
            return new HvStep(new VcpuOutcome.Resumed(ExitReason.MSR_WRITE, 0, "kvm_lapic_set_pv_eoi"),
                    m.withPaging(m.paging().withMemory(mem)).withDomain(nd));
        }
        return Hypervisor.inject(m, ExitReason.MSR_WRITE, GeneralProtection.VECTOR, 0, true, 0, "kvm_set_msr",
                "WRMSR " + Hex.of(w.msr()) + ": not an MSR KVM emulates");
    }
}
