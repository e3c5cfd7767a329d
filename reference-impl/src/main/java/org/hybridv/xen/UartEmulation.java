package org.hybridv.xen;

import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;

/**
 * The emulated UART at COM1, ports 3F8H–3FFH, reached through port I/O that the I/O bitmaps intercept (EMU-2, EMU-4 of
 * docs/rules/xen.md): a data/command/status register triple of a 16550 — the transmit register (3F8H: a write sends a
 * byte, counted; a read returns 0, nothing received), the line control register (3FBH, read/write: the "command"),
 * the line status register (3FDH, read-only: 60H, transmitter empty and holding register empty, no data ready). The
 * other ports of the range read 0 and ignore writes. Deterministic: the device has no time and no input.
 */
public final class UartEmulation {
    private UartEmulation() {}

    public static final int COM1 = 0x3F8;
    public static final int DATA = COM1;
    public static final int LCR = COM1 + 3;
    public static final int LSR = COM1 + 5;
    /** LSR: THRE (bit 5) and TEMT (bit 6). */
    public static final long LSR_IDLE = 0x60;

    /** Whether {@code port} is the UART's. */
    public static boolean owns(int port) {
        return port >= COM1 && port <= COM1 + 7;
    }

    /** The I/O exit of an access to the UART (one byte; a wider access covers the ports above it, ignored). */
    static HvStep io(XenMachine m, VcpuId id, GuestInstruction.Io io) {
        Domain d = m.domain(id.domain());
        EmulatedDevices a = d.devices();
        if (io.in()) {
            long v = io.port() == LSR ? LSR_IDLE : io.port() == LCR ? a.uartLcr() : 0;
            return new HvStep(new VcpuOutcome.Resumed(ExitReason.IO_INSTRUCTION, v, "EMU-4"), m);
        }
        EmulatedDevices b = a;
        if (io.port() == DATA) {
            b = a.withUart(a.uartTx() + 1, a.uartLcr());
        } else if (io.port() == LCR) {
            b = a.withUart(a.uartTx(), io.value() & 0xFF);
        }
        return new HvStep(new VcpuOutcome.Resumed(ExitReason.IO_INSTRUCTION, 0, "EMU-4"),
                m.withDomain(d.withDevices(b)));
    }
}
