package org.hybridv.xen;

import org.hybridv.vmx.ExitReason;
import org.hybridv.x86.GeneralProtection;
import org.hybridv.x86.Hex;

/**
 * The emulated local APIC timer and EOI, reached through the x2APIC MSRs that the MSR bitmap intercepts (EMU-1,
 * EMU-3 of docs/rules/xen.md; Intel SDM Vol. 3A §10.5.4 "APIC Timer", §10.12.1.2 "x2APIC Register Address Space",
 * Table 10-6). Xen's {@code vlapic_msr_write}/{@code guest_rdmsr_x2apic}, KVM's {@code kvm_x2apic_msr_write} do the
 * same for every register; the model emulates the timer's four registers and EOI, and answers #GP(0) for the rest.
 * <ul>
 * <li>EOI (80BH): write-only; a write of 0 is accepted (the in-service interrupt ends), a non-zero value is #GP(0)
 * (SDM §10.12.1.2, x2APIC EOI).</li>
 * <li>LVT timer (832H): read/write; vector 7:0, mask 16, timer mode 18:17 are kept, other bits read 0.</li>
 * <li>Initial count (838H): read/write; a write (re)arms the timer: the current count becomes the initial count.</li>
 * <li>Current count (839H): read-only (a write is #GP(0)).</li>
 * <li>Divide configuration (83EH): read/write, bits 0, 1 and 3.</li>
 * </ul>
 */
public final class X2ApicEmulation {
    private X2ApicEmulation() {}

    /** LVT bits a write keeps: vector, mask, timer mode. */
    static final long LVT_TIMER_BITS = 0xFFL | (1L << 16) | (3L << 17);
    /** Divide configuration bits 0, 1, 3. */
    static final long DIV_CONF_BITS = 0b1011;

    /** WRMSR exit of an x2APIC MSR of vCPU {@code id}. */
    static HvStep wrmsr(XenMachine m, VcpuId id, long msr, long value) {
        Domain d = m.domain(id.domain());
        EmulatedDevices a = d.devices();
        EmulatedDevices b;
        if (msr == DeviceIntercepts.IA32_X2APIC_EOI && value == 0) {
            // the EOI ends the interrupt in service (EMU-5), and a PV EOI the guest did not use is void (EMU-6)
            EmulatedDevices.TimerInterrupt i = a.interrupt();
            b = a.withEois(a.eois() + 1).withInterrupt(new EmulatedDevices.TimerInterrupt(i.requested(), 0, i.pvEoi(),
                    false, i.injected()));
        } else if (msr == DeviceIntercepts.IA32_X2APIC_LVT_TIMER) {
            b = a.withLvtTimer(value & LVT_TIMER_BITS);
        } else if (msr == DeviceIntercepts.IA32_X2APIC_INIT_COUNT) {
            b = a.withInitCount(value & 0xFFFF_FFFFL);
        } else if (msr == DeviceIntercepts.IA32_X2APIC_DIV_CONF) {
            // the divider's phase is kept, folded into the new divide value's range
            b = a.withDivConf(value & DIV_CONF_BITS).withTimer(a.curCount(),
                    a.timerPhase() % divisor(value & DIV_CONF_BITS));
        } else {
            return Hypervisor.inject(m, ExitReason.MSR_WRITE, GeneralProtection.VECTOR, 0, true, 0, "EMU-3",
                    "WRMSR " + Hex.of(msr) + " = " + Hex.of(value) + ": not a writable x2APIC register of the model");
        }
        return new HvStep(new VcpuOutcome.Resumed(ExitReason.MSR_WRITE, 0, "EMU-3"),
                m.withDomain(d.withDevices(b)));
    }

    /** RDMSR exit of an x2APIC MSR of vCPU {@code id}. */
    static HvStep rdmsr(XenMachine m, VcpuId id, long msr) {
        EmulatedDevices a = m.domain(id.domain()).devices();
        long v;
        if (msr == DeviceIntercepts.IA32_X2APIC_LVT_TIMER) {
            v = a.lvtTimer();
        } else if (msr == DeviceIntercepts.IA32_X2APIC_INIT_COUNT) {
            v = a.initCount();
        } else if (msr == DeviceIntercepts.IA32_X2APIC_CUR_COUNT) {
            v = a.curCount();
        } else if (msr == DeviceIntercepts.IA32_X2APIC_DIV_CONF) {
            v = a.divConf();
        } else {
            return Hypervisor.inject(m, ExitReason.MSR_READ, GeneralProtection.VECTOR, 0, true, 0, "EMU-3",
                    "RDMSR " + Hex.of(msr) + ": not a readable x2APIC register of the model");
        }
        return new HvStep(new VcpuOutcome.Resumed(ExitReason.MSR_READ, v, "EMU-3"), m);
    }

    /** LVT timer mode (bits 18:17): one-shot 00, periodic 01 (SDM Vol. 3A §10.5.4, Figure 10-8). */
    static final long MODE_PERIODIC = 1L << 17;
    /** {@code KVM_PV_EOI_ENABLED}: bit 0 of the PV EOI word (Linux include/uapi/asm/kvm_para.h). */
    public static final long PV_EOI_PENDING_BIT = 1;

    /**
     * The divide value of divide configuration {@code divConf} (SDM Vol. 3A §10.5.4, Figure 10-10): bits 3, 1, 0 as a
     * three-bit number n; 111 divides by 1, the others by 2^(n+1).
     */
    public static long divisor(long divConf) {
        int n = (int) (((divConf >>> 1) & 0b100) | (divConf & 0b11));
        return n == 0b111 ? 1 : 1L << (n + 1);
    }

    /**
     * EMU-5, machine time passing for the emulated local APIC timers ({@link VirtualTime#advanceTime} calls it): the
     * current count of each domain's armed timer decreases by one per {@link #divisor} ticks (SDM Vol. 3A §10.5.4:
     * the count decrements at the bus clock divided by the divide configuration), the ticks short of a whole divide
     * value carried over to the next step ({@link EmulatedDevices#timerPhase}). When it reaches zero the timer
     * expires: in one-shot mode it stays at zero, in periodic mode it reloads the initial count and counts on with the
     * decrements the step has left; unless the LVT entry
     * is masked the timer's vector is requested (its IRR bit) and vCPU 0 is kicked (Xen's {@code vlapic} timer
     * callback, {@code vcpu_kick}): a vCPU halted or blocked wakes up. A count of zero does not run. The TSC-deadline
     * mode is not modelled (the kernel programs the initial count).
     */
    public static XenMachine countDown(XenMachine m, long ticks) {
        XenMachine after = m;
        for (Domain d : m.domains().values()) {
            EmulatedDevices a = d.devices();
            if (a.curCount() == 0) {
                continue;
            }
            // the divider: the clocks short of a whole divide value carry over (timerPhase)
            long div = divisor(a.divConf());
            long dec = (a.timerPhase() + ticks) / div;
            long phase = (a.timerPhase() + ticks) % div;
            if (dec < a.curCount()) {
                after = after.withDomain(after.domain(d.id()).withDevices(a.withTimer(a.curCount() - dec, phase)));
                continue;
            }
            boolean periodic = (a.lvtTimer() & (3L << 17)) == MODE_PERIODIC;
            // periodic: reloaded at 0 and counting on with the decrements left (every further expiry requests the
            // same vector, already requested); one-shot: stays at 0, and so does its phase
            long left = dec - a.curCount();
            EmulatedDevices b = periodic ? a.withTimer(a.initCount() - left % a.initCount(), phase)
                    : a.withTimer(0, 0);
            boolean masked = (a.lvtTimer() & EmulatedDevices.LVT_MASKED) != 0;
            if (!masked) {
                EmulatedDevices.TimerInterrupt i = a.interrupt();
                b = b.withInterrupt(new EmulatedDevices.TimerInterrupt(true, i.inService(), i.pvEoi(),
                        i.pvEoiPending(), i.injected()));
            }
            after = after.withDomain(after.domain(d.id()).withDevices(b));
            if (!masked && !d.vcpus().isEmpty()) {
                after = EventChannels.kick(after, new VcpuId(d.id(), 0));
            }
        }
        return after;
    }

    /** Whether the emulated local APIC of {@code v} has the timer's vector requested (a pending interrupt). */
    static boolean timerRequested(XenMachine m, VcpuId v) {
        return v.vcpu() == 0 && m.domain(v.domain()).devices().interrupt().requested();
    }

    /**
     * EMU-5 and EMU-6 at the VM entry of vCPU {@code v} ({@link Hypervisor#run} calls it after
     * {@link EventDelivery#atVmEntry}; nothing happens when no entry follows). First the PV EOI (EMU-6, KVM's
     * {@code apic_sync_pv_eoi_from_guest}): if the hypervisor set the PV EOI word's bit 0 at the last injection and the
     * guest has cleared it since, that clearing was the guest's EOI: the vector in service ends without the EOI
     * register's exit. KVM looks at the word after each VM exit; the model at the entry that follows it, which is the
     * same for the guest: nothing is injected in between. Then delivery (EMU-5): a requested timer vector is injected as an external interrupt through the
     * VM-entry interruption-information field ({@link EventDelivery#entryInterruptionInformation}) if no vector is in
     * service (SDM Vol. 3A §10.8.3.1: an interrupt is not delivered while one of its priority class is in service — the
     * timer is the only source here) and the guest's RFLAGS.IF is 1 (SDM Vol. 3C §26.3.1.5), which the delivery through
     * an interrupt gate clears (SDM Vol. 3A §6.12.1.3). The vector moves from requested to in service; with PV EOI
     * enabled the word's bit 0 is set ({@code pv_eoi_set_pending}) so the guest may end the interrupt by clearing it.
     */
    public static XenMachine atVmEntry(XenMachine m, VcpuId v) {
        if (v.vcpu() != 0 || m.running(v) || m.vcpu(v).blocked()) {
            return m;
        }
        Domain d = m.domain(v.domain());
        EmulatedDevices a = d.devices();
        EmulatedDevices.TimerInterrupt i = a.interrupt();
        XenMachine after = m;
        if (i.pvEoiPending() && (pvEoiWord(m, d, i.pvEoi()) & PV_EOI_PENDING_BIT) == 0) {
            i = new EmulatedDevices.TimerInterrupt(i.requested(), 0, i.pvEoi(), false, i.injected());
            a = a.withEois(a.eois() + 1).withInterrupt(i);
            after = after.withDomain(d.withDevices(a));
        }
        DomainPv dp = after.pv().domain(v.domain());
        VcpuPv p = dp.vcpu(0);
        if (!i.requested() || i.inService() != 0 || !p.interruptFlag()) {
            return after;
        }
        int vector = (int) (a.lvtTimer() & 0xFF);
        boolean pvEoi = i.pvEoi() >= 0 && d.machineFrame(i.pvEoi() >>> 12) >= 0;
        after = after.withDomain(after.domain(d.id()).withDevices(a.withInterrupt(new EmulatedDevices.TimerInterrupt(
                false, vector, i.pvEoi(), pvEoi, i.injected() + 1))));
        after = after.withPv(after.pv().with(v.domain(), dp.withVcpu(0, p.withInterruptFlag(false))));
        if (pvEoi) {
            after = setPvEoiWord(after, d, i.pvEoi(), pvEoiWord(after, d, i.pvEoi()) | PV_EOI_PENDING_BIT);
        }
        return after;
    }

    /** The 32-bit PV EOI word at guest-physical {@code gpa} of {@code d} (4-byte aligned: KvmMsrs checks). */
    static long pvEoiWord(XenMachine m, Domain d, long gpa) {
        long mfn = d.machineFrame(gpa >>> 12);
        if (mfn < 0) {
            return 0;
        }
        long q = m.memory().read(mfn, (int) ((gpa & 0xFFF) >>> 3));
        return (gpa & 4) != 0 ? q >>> 32 : q & 0xFFFF_FFFFL;
    }

    private static XenMachine setPvEoiWord(XenMachine m, Domain d, long gpa, long word) {
        long mfn = d.machineFrame(gpa >>> 12);
        int idx = (int) ((gpa & 0xFFF) >>> 3);
        long q = m.memory().read(mfn, idx);
        long n = (gpa & 4) != 0 ? (q & 0xFFFF_FFFFL) | (word << 32) : (q & ~0xFFFF_FFFFL) | (word & 0xFFFF_FFFFL);
        return EventChannels.withMemory(m, m.memory().write(mfn, idx, n));
    }
}
