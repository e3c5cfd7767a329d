package org.hybridv.xen;

import org.hybridv.vmx.IoBitmaps;
import org.hybridv.vmx.MsrBitmap;

/**
 * Which MSR and port accesses of a guest the hypervisor keeps for itself (EMU-1, EMU-2 of docs/rules/xen.md;
 * docs/emulation.md). The same for every domain type of this model — shadow, HAP, direct (hybrid), Xen-like or
 * KVM-like: the local APIC, the KVM and Xen MSRs, and every I/O port are the hypervisor's, emulated or refused by it.
 * <ul>
 * <li><b>EMU-1</b>: the MSR bitmap intercepts reads and writes of the whole x2APIC range 800H–8FFH (Intel SDM Vol. 3A
 * §10.12.1.2 and Table 10-6, §11.12 in later editions: EOI 80BH, LVT timer 832H, initial count 838H, current count
 * 839H, divide configuration 83EH among them), since no APIC virtualization is modelled (Xen
 * {@code vmx_vlapic_msr_changed}, KVM {@code vmx_update_msr_bitmap_x2apic} without APICv intercept them all). Every
 * other MSR of the two bitmap ranges passes through. The KVM MSRs ({@code MSR_KVM_*}, 4B564D00H–4B564DFFH) and Xen's
 * (40000000H–400002FFH) lie outside both ranges, so they always exit (SDM Vol. 3C §25.1.3).</li>
 * <li><b>EMU-2</b>: the I/O bitmaps intercept every port (CTL-4) — among them the PIC (20H–21H, A0H–A1H), the PIT
 * (40H–43H) and the emulated UART of {@link UartEmulation} (3F8H–3FFH).</li>
 * </ul>
 */
public final class DeviceIntercepts {
    private DeviceIntercepts() {}

    /** The x2APIC MSR range (SDM Vol. 3A §10.12.1.2). */
    public static final long X2APIC_FIRST = 0x800;
    public static final long X2APIC_LAST = 0x8FF;
    /** x2APIC registers (SDM Vol. 3A Table 10-6). */
    public static final long IA32_X2APIC_TPR = 0x808;
    public static final long IA32_X2APIC_EOI = 0x80B;
    public static final long IA32_X2APIC_LVT_TIMER = 0x832;
    public static final long IA32_X2APIC_INIT_COUNT = 0x838;
    public static final long IA32_X2APIC_CUR_COUNT = 0x839;
    public static final long IA32_X2APIC_DIV_CONF = 0x83E;
    public static final long IA32_X2APIC_SELF_IPI = 0x83F;
    /** The ports of the devices the model names: PIC master and slave, PIT, the emulated UART (COM1). */
    public static final int[][] DEVICE_PORTS = {{0x20, 0x21}, {0xA0, 0xA1}, {0x40, 0x43}, {0x3F8, 0x3FF}};

    /** Whether {@code msr} is an x2APIC MSR. */
    public static boolean isX2Apic(long msr) {
        return msr >= X2APIC_FIRST && msr <= X2APIC_LAST;
    }

    /**
     * EMU-1: the MSR bitmap of every vCPU. Seeded fault {@link Fault#X2APIC_MSR_PASSTHROUGH}: the merged bitmap
     * leaves TPR, EOI and SELF_IPI (808H, 80BH, 83FH) passed through, as a hypervisor with APIC virtualization
     * may, though none is modelled (the class of KVM's CVE-2019-3887).
     */
    public static MsrBitmap msrBitmap(Faults faults) {
        MsrBitmap b = MsrBitmap.none();
        for (long msr = X2APIC_FIRST; msr <= X2APIC_LAST; msr++) {
            b = b.with(msr, false, true).with(msr, true, true);
        }
        if (faults.breaks(Fault.X2APIC_MSR_PASSTHROUGH)) {
            for (long msr : new long[] {IA32_X2APIC_TPR, IA32_X2APIC_EOI, IA32_X2APIC_SELF_IPI}) {
                b = b.with(msr, false, false).with(msr, true, false);
            }
        }
        return b;
    }

    /**
     * EMU-2: the I/O bitmaps of every vCPU: every port. Seeded fault {@link Fault#IO_PORT_RANGE_NOT_INTERCEPTED}: the
     * UART's range 3F8H–3FFH is left open.
     */
    public static IoBitmaps ioBitmaps(Faults faults) {
        IoBitmaps b = IoBitmaps.all();
        if (faults.breaks(Fault.IO_PORT_RANGE_NOT_INTERCEPTED)) {
            for (int port = 0x3F8; port <= 0x3FF; port++) {
                b = b.with(port, false);
            }
        }
        return b;
    }
}
