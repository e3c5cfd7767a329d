package org.hybridv.xen;

import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;

/**
 * EMU-7 (docs/rules/xen.md, docs/emulation.md): the hypervisor plays the ATA PIO disk of {@link AtaDisk} for a
 * domain's port I/O at 1F0H–1F7H, which the I/O bitmaps intercept (EMU-2) — the device model of an HVM guest's
 * emulated IDE disk (Xen's ioreq to QEMU, KVM's to its userspace), here in the hypervisor. Each access is one
 * I/O-instruction exit; the device's state is the domain's ({@link EmulatedDevices#ata}).
 */
public final class AtaEmulation {
    private AtaEmulation() {}

    /** The I/O exit of an access to the disk's registers. */
    static HvStep io(XenMachine m, VcpuId id, GuestInstruction.Io io) {
        Domain d = m.domain(id.domain());
        AtaDisk.Access a = d.devices().ata().io(io);
        XenMachine after = a.disk().equals(d.devices().ata()) ? m
                : m.withDomain(d.withDevices(d.devices().withAta(a.disk())));
        return new HvStep(new VcpuOutcome.Resumed(ExitReason.IO_INSTRUCTION, a.value(), "EMU-7"), after);
    }
}
