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
            b = new EmulatedDevices(a.lvtTimer(), a.initCount(), a.curCount(), a.divConf(), a.eois() + 1, a.uartTx(),
                    a.uartLcr());
        } else if (msr == DeviceIntercepts.IA32_X2APIC_LVT_TIMER) {
            b = new EmulatedDevices(value & LVT_TIMER_BITS, a.initCount(), a.curCount(), a.divConf(), a.eois(),
                    a.uartTx(), a.uartLcr());
        } else if (msr == DeviceIntercepts.IA32_X2APIC_INIT_COUNT) {
            long count = value & 0xFFFF_FFFFL;
            b = new EmulatedDevices(a.lvtTimer(), count, count, a.divConf(), a.eois(), a.uartTx(), a.uartLcr());
        } else if (msr == DeviceIntercepts.IA32_X2APIC_DIV_CONF) {
            b = new EmulatedDevices(a.lvtTimer(), a.initCount(), a.curCount(), value & DIV_CONF_BITS, a.eois(),
                    a.uartTx(), a.uartLcr());
        } else {
            return Hypervisor.inject(m, ExitReason.MSR_WRITE, GeneralProtection.VECTOR, 0, true, 0, "EMU-3",
                    "WRMSR " + Hex.of(msr) + " = " + Hex.of(value) + ": not a writable x2APIC register of the model");
        }
        return new HvStep(new VcpuOutcome.Resumed(ExitReason.MSR_WRITE, 0, "EMU-3"),
                m.withDomain(d.withDevices(b.withAta(a.ata()))));
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
}
