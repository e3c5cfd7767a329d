package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.Layout;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.xen.CpuidIdentity;
import org.hybridv.xen.MmuMode;

/**
 * Runs of the emulation property (docs/emulation.md): a hybrid kernel booted in a domain of every type — shadow,
 * HAP, direct (after SWITCH_MMU), Xen-like or KVM-like — then its MSR and port accesses: the x2APIC timer registers
 * and EOI (with good and bad values), other x2APIC MSRs, the KVM and Xen MSRs, MSRs that pass through (EFER,
 * SYSENTER_CS), and IN/OUT on the PIC, the PIT, the UART at COM1, port 80H and any port.
 */
public final class EmulationCases {
    private EmulationCases() {}

    /** The most accesses in a run. */
    public static final int MAX_ACCESSES = 12;
    /** Xen frames besides the domain's. */
    public static final int XEN_FRAMES = 64;

    /** A run: the domain type, the stage the kernel boots to, the accesses. */
    public record Run(MmuMode mode, CpuidIdentity identity, BootStage boot, List<GuestInstruction> accesses) {
        public Run {
            accesses = List.copyOf(accesses);
        }
    }

    static final long[] X2APIC = {0x80B, 0x832, 0x838, 0x839, 0x83E, 0x808, 0x83F, 0x802, 0x800, 0x8FF};
    static final long[] OTHER_MSRS = {0x4b56_4d01L, 0x4b56_4d04L, 0x4b56_4d00L, 0x4000_0000L, 0x4000_0200L,
        0xC000_0080L, 0x174, 0x10};
    static final int[] PORTS = {0x20, 0x21, 0xA0, 0xA1, 0x40, 0x43, 0x3F8, 0x3FB, 0x3FD, 0x3FF, 0x80, 0xED, 0x60};

    public static Run generate(Choices c) {
        CpuidIdentity id = c.weighted(3, 1) == 0 ? CpuidIdentity.XEN : CpuidIdentity.KVM;
        MmuMode mode = id.personality() == CpuidIdentity.Personality.KVM || c.flag(true, 40) ? MmuMode.HAP
                : MmuMode.SHADOW;
        BootStage boot = id.personality() == CpuidIdentity.Personality.KVM ? BootStage.KVM
                : mode == MmuMode.SHADOW && c.flag(true, 50) ? BootStage.DIRECT : BootStage.HYPERCALL_PAGE_INSTALLED;
        List<GuestInstruction> a = new ArrayList<>();
        int n = 1 + c.below(MAX_ACCESSES);
        for (int i = 0; i < n; i++) {
            a.add(access(c));
        }
        return new Run(mode, id, boot, a);
    }

    static GuestInstruction access(Choices c) {
        switch (c.weighted(4, 4, 2, 2, 4, 1)) {
            case 0: {
                long msr = X2APIC[c.below(X2APIC.length)];
                long value = c.flag(true, 25) ? 0 : c.flag(true, 50) ? 0xEC | ((long) c.below(4) << 16)
                        : c.below(1 << 20);
                return new GuestInstruction.Wrmsr(msr, value);
            }
            case 1:
                return new GuestInstruction.Rdmsr(X2APIC[c.below(X2APIC.length)]);
            case 2:
                return new GuestInstruction.Wrmsr(OTHER_MSRS[c.below(OTHER_MSRS.length)],
                        Layout.entry(Layout.HYPERCALL_PAGE, 0) | c.below(2));
            case 3:
                return new GuestInstruction.Rdmsr(OTHER_MSRS[c.below(OTHER_MSRS.length)]);
            case 4: {
                int port = PORTS[c.below(PORTS.length)];
                return new GuestInstruction.Io(port, 1, c.flag(true, 50), false, false, c.flag(true, 50),
                        c.below(256));
            }
            default:
                return new GuestInstruction.Io(c.below(0x10000), 1 << c.below(3), c.flag(true, 50), false, false,
                        false, c.below(256));
        }
    }
}
