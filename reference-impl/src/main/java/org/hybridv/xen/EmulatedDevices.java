package org.hybridv.xen;

/**
 * The registers of the devices the hypervisor emulates for a domain (docs/emulation.md): the x2APIC timer of its
 * vCPU 0 (the hybrid kernel has one vCPU; the model keeps one local APIC per domain) and a UART at COM1. Values, not
 * objects: {@link X2ApicEmulation} and {@link UartEmulation} return a new one.
 *
 * @param lvtTimer  IA32_X2APIC_LVT_TIMER: vector (7:0), mask (16), timer mode (18:17); reset value: masked
 * @param initCount IA32_X2APIC_INIT_COUNT
 * @param curCount  IA32_X2APIC_CUR_COUNT: it decreases as machine time passes ({@link X2ApicEmulation#countDown}), 0
 *                  when the timer does not run
 * @param divConf   IA32_X2APIC_DIV_CONF, bits 0, 1 and 3
 * @param eois      EOIs the local APIC accepted
 * @param uartTx    bytes written to the UART's transmit register (3F8H)
 * @param uartLcr   the UART's line control (command) register (3FBH)
 * @param interrupt the local APIC's timer interrupt: requested, in service, PV EOI ({@link X2ApicEmulation#countDown},
 *                  {@link X2ApicEmulation#atVmEntry}; EMU-5, EMU-6)
 * @param ata       the ATA PIO disk at 1F0H–1F7H ({@link AtaDisk}, EMU-7); the constructor without it leaves it at
 *                  {@link AtaDisk#RESET}
 * @param timerPhase the bus clocks the timer's divider has counted toward the next decrement of the current count,
 *                  0 up to the divide value minus 1 (SDM Vol. 3A §10.5.4: the count decreases once per divide value
 *                  of bus clocks, so clocks short of a whole divide value carry over to the next time step); 0 when
 *                  the initial count is written
 */
public record EmulatedDevices(long lvtTimer, long initCount, long curCount, long divConf, long eois, long uartTx,
        long uartLcr, TimerInterrupt interrupt, AtaDisk ata, long timerPhase) {
    /** The x2APIC and UART registers and the timer interrupt, with the ATA disk after reset and no divider phase. */
    public EmulatedDevices(long lvtTimer, long initCount, long curCount, long divConf, long eois, long uartTx,
            long uartLcr, TimerInterrupt interrupt) {
        this(lvtTimer, initCount, curCount, divConf, eois, uartTx, uartLcr, interrupt, AtaDisk.RESET, 0);
    }

    /** These registers with the ATA disk {@code d}. */
    public EmulatedDevices withAta(AtaDisk d) {
        return new EmulatedDevices(lvtTimer, initCount, curCount, divConf, eois, uartTx, uartLcr, interrupt, d,
                timerPhase);
    }

    /** These registers with the LVT timer entry {@code v}. */
    public EmulatedDevices withLvtTimer(long v) {
        return new EmulatedDevices(v, initCount, curCount, divConf, eois, uartTx, uartLcr, interrupt, ata, timerPhase);
    }

    /** These registers after a write of {@code count} to the initial count: the timer (re)starts from it. */
    public EmulatedDevices withInitCount(long count) {
        return new EmulatedDevices(lvtTimer, count, count, divConf, eois, uartTx, uartLcr, interrupt, ata, 0);
    }

    /** These registers with the divide configuration {@code v}. */
    public EmulatedDevices withDivConf(long v) {
        return new EmulatedDevices(lvtTimer, initCount, curCount, v, eois, uartTx, uartLcr, interrupt, ata,
                timerPhase);
    }

    /** These registers with {@code n} EOIs accepted. */
    public EmulatedDevices withEois(long n) {
        return new EmulatedDevices(lvtTimer, initCount, curCount, divConf, n, uartTx, uartLcr, interrupt, ata,
                timerPhase);
    }

    /** These registers with the UART's transmit count {@code tx} and line control register {@code lcr}. */
    public EmulatedDevices withUart(long tx, long lcr) {
        return new EmulatedDevices(lvtTimer, initCount, curCount, divConf, eois, tx, lcr, interrupt, ata, timerPhase);
    }

    /** These registers with the timer's current count {@code c} and divider phase {@code phase}. */
    public EmulatedDevices withTimer(long c, long phase) {
        return new EmulatedDevices(lvtTimer, initCount, c, divConf, eois, uartTx, uartLcr, interrupt, ata, phase);
    }

    /** The LVT mask bit (SDM Vol. 3A §10.5.1): set at reset. */
    public static final long LVT_MASKED = 1L << 16;
    /** After reset (SDM Vol. 3A §10.4.7.1: LVT entries masked, counts 0). */
    public static final EmulatedDevices RESET = new EmulatedDevices(LVT_MASKED, 0, 0, 0, 0, 0, 0,
            TimerInterrupt.NONE);

    public EmulatedDevices {
        org.hybridv.x86.Checks.notNull("timer interrupt", interrupt);
        org.hybridv.x86.Checks.notNull("ATA disk", ata);
        if (timerPhase < 0 || timerPhase >= 128) {
            throw new IllegalArgumentException("timer divider phase " + timerPhase + " (0..127)");
        }
    }

    /**
     * The timer interrupt's state in the emulated local APIC (EMU-5, EMU-6).
     *
     * @param requested    the timer's vector is requested (its IRR bit: the count reached zero, not yet delivered)
     * @param inService    the vector in service (ISR: delivered, no EOI yet), 0 if none
     * @param pvEoi        the guest-physical address of the PV EOI word ({@code MSR_KVM_PV_EOI_EN}), -1 if disabled
     * @param pvEoiPending the hypervisor set the PV EOI word's bit 0 at the last injection and has not seen it cleared
     *                     (KVM's {@code KVM_APIC_PV_EOI_PENDING})
     * @param injected     how many times the timer's vector was injected at VM entry
     */
    public record TimerInterrupt(boolean requested, int inService, long pvEoi, boolean pvEoiPending, int injected) {
        public static final TimerInterrupt NONE = new TimerInterrupt(false, 0, -1, false, 0);

        public TimerInterrupt {
            org.hybridv.x86.Checks.inRange("vector in service", inService, 0, 255);
            if (injected < 0 || pvEoi < -1) {
                throw new IllegalArgumentException("injections " + injected + ", PV EOI address " + pvEoi);
            }
        }
    }

    /** These registers with the timer interrupt's state {@code i}. */
    public EmulatedDevices withInterrupt(TimerInterrupt i) {
        return new EmulatedDevices(lvtTimer, initCount, curCount, divConf, eois, uartTx, uartLcr, i, ata, timerPhase);
    }

    /** These registers with the current count {@code c}. */
    public EmulatedDevices withCurCount(long c) {
        return new EmulatedDevices(lvtTimer, initCount, c, divConf, eois, uartTx, uartLcr, interrupt, ata, timerPhase);
    }
}
