package org.hybridv.xen;

/**
 * The registers of the devices the hypervisor emulates for a domain (docs/emulation.md): the x2APIC timer of its
 * vCPU 0 (the hybrid kernel has one vCPU; the model keeps one local APIC per domain) and a UART at COM1. Values, not
 * objects: {@link X2ApicEmulation} and {@link UartEmulation} return a new one.
 *
 * @param lvtTimer  IA32_X2APIC_LVT_TIMER: vector (7:0), mask (16), timer mode (18:17); reset value: masked
 * @param initCount IA32_X2APIC_INIT_COUNT
 * @param curCount  IA32_X2APIC_CUR_COUNT (the model's time does not pass between instructions: it is the initial
 *                  count until the timer is re-armed)
 * @param divConf   IA32_X2APIC_DIV_CONF, bits 0, 1 and 3
 * @param eois      EOIs the local APIC accepted
 * @param uartTx    bytes written to the UART's transmit register (3F8H)
 * @param uartLcr   the UART's line control (command) register (3FBH)
 * @param ata       the ATA PIO disk at 1F0H–1F7H ({@link AtaDisk}, EMU-7); the seven-value constructor leaves it at
 *                  {@link AtaDisk#RESET}, so a device that builds its registers with it carries the disk over with
 *                  {@link #withAta}
 */
public record EmulatedDevices(long lvtTimer, long initCount, long curCount, long divConf, long eois, long uartTx,
        long uartLcr, AtaDisk ata) {
    public EmulatedDevices {
        org.hybridv.x86.Checks.notNull("ATA disk", ata);
    }

    /** The x2APIC and UART registers with the ATA disk after reset. */
    public EmulatedDevices(long lvtTimer, long initCount, long curCount, long divConf, long eois, long uartTx,
            long uartLcr) {
        this(lvtTimer, initCount, curCount, divConf, eois, uartTx, uartLcr, AtaDisk.RESET);
    }

    /** These registers with the ATA disk {@code d}. */
    public EmulatedDevices withAta(AtaDisk d) {
        return new EmulatedDevices(lvtTimer, initCount, curCount, divConf, eois, uartTx, uartLcr, d);
    }

    /** The LVT mask bit (SDM Vol. 3A §10.5.1): set at reset. */
    public static final long LVT_MASKED = 1L << 16;
    /** After reset (SDM Vol. 3A §10.4.7.1: LVT entries masked, counts 0). */
    public static final EmulatedDevices RESET = new EmulatedDevices(LVT_MASKED, 0, 0, 0, 0, 0, 0);
}
