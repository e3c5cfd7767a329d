package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.vmx.GuestInstruction;

/**
 * Guest accesses to the devices the hypervisor emulates (docs/emulation.md), drawn from {@link Choices} for
 * {@code DeviceEmulationProperties}: the x2APIC MSRs with machine time passing in between (EMU-1, EMU-3, EMU-5), the
 * UART's ports (EMU-4), the ATA disk's task file and data port (EMU-7), and the KVM personality's MSRs (BOOT-7,
 * EMU-6). Every region is drawn: the registers the model emulates, the architectural registers it refuses, reserved
 * addresses, the addresses just outside a range; values that are valid, that set reserved bits, that are out of range;
 * accesses of 1, 2 and 4 bytes, and data transfers that stop short of, reach, or straddle the end of a sector.
 *
 * <p>Choice 0 everywhere gives the simplest run: vCPU K writes 0 to the EOI register; an OUT of 0 to the UART's data
 * port; a sector count of 1 written; MSR_KVM_SYSTEM_TIME_NEW written with 0 (the clock disabled).
 */
public final class DeviceCases {
    private DeviceCases() {}

    /** One step of an x2APIC run: an RDMSR or WRMSR of the kernel's vCPU, or machine time passing. */
    public sealed interface ApicOp {}

    /** The vCPU executes {@code insn} (an RDMSR or a WRMSR). */
    public record Access(GuestInstruction insn) implements ApicOp {
        @Override
        public String toString() {
            return insn.toString();
        }
    }

    /** Machine time passes by {@code ticks} ({@code VirtualTime.advanceTime}). */
    public record Advance(long ticks) implements ApicOp {
        @Override
        public String toString() {
            return "advance " + ticks;
        }
    }

    /** An x2APIC run: vCPU 0 of domain {@code domain} (1 direct, 2 HAP, 3 shadow) executes {@code ops}. */
    public record ApicRun(int domain, List<ApicOp> ops) {
        public ApicRun {
            ops = List.copyOf(ops);
        }
    }

    /** A port run (UART or ATA disk): vCPU 0 of domain {@code domain} executes the port accesses {@code ios}. */
    public record PortRun(int domain, List<GuestInstruction.Io> ios) {
        public PortRun {
            ios = List.copyOf(ios);
        }
    }

    /** One WRMSR of a KVM or Xen personality's domain (d2, HAP) of the MSR {@code msr} with {@code value}. */
    public record KvmCase(boolean kvm, long msr, long value) {}

    /** The x2APIC registers Intel SDM Vol. 3A Table 10-6 defines and the model does not emulate. */
    private static final Long[] ARCHITECTURAL = {0x802L, 0x803L, 0x808L, 0x80AL, 0x80DL, 0x80FL, 0x810L, 0x817L,
        0x818L, 0x81FL, 0x820L, 0x827L, 0x828L, 0x82FL, 0x830L, 0x833L, 0x834L, 0x835L, 0x836L, 0x837L, 0x83FL};
    /** Addresses of the x2APIC range Table 10-6 leaves reserved. */
    private static final Long[] RESERVED = {0x800L, 0x801L, 0x804L, 0x807L, 0x809L, 0x80CL, 0x80EL, 0x829L, 0x82EL,
        0x831L, 0x83AL, 0x83DL, 0x840L, 0x8FFL};

    /** An x2APIC run of 4 to 19 steps. */
    public static ApicRun apic(Choices c) {
        int domain = 1 + c.below(3);
        int n = 4 + c.below(16);
        List<ApicOp> ops = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int kind = c.weighted(45, 30, 25);
            if (kind == 2) {
                long ticks = switch (c.weighted(70, 15, 15)) {
                    case 0 -> c.below(300);
                    case 1 -> 0;
                    default -> 1L << c.below(24);
                };
                ops.add(new Advance(ticks));
                continue;
            }
            long msr = switch (c.weighted(55, 20, 15, 10)) {
                case 0 -> c.oneOf(0x80BL, 0x832L, 0x838L, 0x839L, 0x83EL);
                case 1 -> c.oneOf(ARCHITECTURAL);
                case 2 -> c.flag(true, 30) ? c.oneOf(RESERVED) : 0x840L + c.below(0xC0);
                default -> c.oneOf(0x7FFL, 0x900L);
            };
            ops.add(new Access(kind == 0 ? new GuestInstruction.Wrmsr(msr, apicValue(c, msr))
                    : new GuestInstruction.Rdmsr(msr)));
        }
        return new ApicRun(domain, ops);
    }

    /**
     * A value for an x2APIC WRMSR: 0, a timer set-up, a small count, a divide value, one bit, any 64 bits; for the LVT
     * timer, the initial count and the divide configuration mostly the kind the register takes, so the timer runs.
     */
    private static long apicValue(Choices c, long msr) {
        int usual = msr == 0x832L ? 1 : msr == 0x838L ? 2 : msr == 0x83EL ? 3 : -1;
        if (usual >= 0 && c.flag(true, 40)) {
            return apicValue(c, usual);
        }
        return apicValue(c, c.weighted(20, 25, 20, 10, 10, 15));
    }

    private static long apicValue(Choices c, int kind) {
        return switch (kind) {
            case 0 -> 0;
            case 1 -> ((long) c.below(4) << 17) | (c.flag(false, 30) ? 1L << 16 : 0) | c.below(256);
            case 2 -> 1 + c.below(200);
            case 3 -> c.below(16);
            case 4 -> 1L << c.below(64);
            default -> c.bits64();
        };
    }

    /** A UART run of 4 to 23 accesses, mostly to 3F8H–3FFH, some to the ports either side. */
    public static PortRun uart(Choices c) {
        int domain = 1 + c.below(3);
        int n = 4 + c.below(20);
        List<GuestInstruction.Io> ios = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int port = c.flag(true, 15) ? 0x3F8 + c.below(8) : c.oneOf(0x3F7, 0x400, 0x3F6);
            int size = c.oneOf(1, 1, 2, 4);
            long value = c.flag(true, 40) ? c.below(256) : c.bits64();
            ios.add(io(port, size, c.flag(false, 50), value));
        }
        return new PortRun(domain, ios);
    }

    /**
     * An ATA run of 2 to 6 pieces: a command with its task file (count, LBA 7:0, 15:8, 23:16, device; sometimes read
     * back; the command) and the burst of data-port accesses of its direction (short, a whole sector, or one that
     * straddles the sector's end), a command alone, a few data accesses, the task file written with any bytes and read
     * back, or a single access to any register or to a port either side.
     */
    public static PortRun ata(Choices c) {
        int domain = 1 + c.below(3);
        int n = 2 + c.below(5);
        List<GuestInstruction.Io> ios = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            switch (c.weighted(50, 10, 10, 15, 15)) {
                case 0 -> {
                    int command = command(c, ios);
                    burst(c, ios, command == 0x30 ? false : command == 0x20 || c.flag(true, 50));
                }
                case 1 -> command(c, ios);
                case 2 -> shortBurst(c, ios, c.flag(true, 50));
                case 3 -> {
                    // the task file's registers written with any byte and read back, error and status too
                    for (int port = 0x1F2; port <= 0x1F6; port++) {
                        ios.add(io(port, 1, false, c.below(256)));
                    }
                    for (int port = 0x1F1; port <= 0x1F7; port++) {
                        ios.add(io(port, 1, true, 0));
                    }
                }
                default -> {
                    int port = c.flag(true, 25) ? 0x1F0 + c.below(8) : c.oneOf(0x1EF, 0x1F8);
                    int size = port == 0x1F0 ? c.oneOf(2, 4) : c.oneOf(1, 1, 2, 4);
                    ios.add(io(port, size, c.flag(true, 50), c.flag(true, 30) ? c.below(256) : c.bits64()));
                }
            }
        }
        return new PortRun(domain, ios);
    }

    private static int command(Choices c, List<GuestInstruction.Io> ios) {
        int count = switch (c.weighted(82, 12, 6)) {
            case 0 -> 1;
            case 1 -> 0;
            default -> c.below(256);
        };
        long lba = switch (c.weighted(70, 18, 6, 6)) {
            case 0 -> c.below(16);
            case 1 -> c.oneOf(15L, 16L, 16L, 17L); // the disk's last sector and the two past it
            case 2 -> c.oneOf(0x100L, 0x1_0000L, 0x100_0000L, 0x0F0_0000L | 0x3_0201L);
            default -> c.below(1 << 28);
        };
        int device = (c.flag(true, 5) ? 0xE0 : 0xA0) | (int) (lba >>> 24);
        if (c.flag(false, 8)) {
            device |= 1 + c.below(15); // LBA 27:24 set under a small LBA 23:0: past the disk all the same
        }
        int command = switch (c.weighted(45, 40, 15)) {
            case 0 -> 0x20;
            case 1 -> 0x30;
            default -> c.oneOf(0xEC, 0xE7, 0x24, 0x34, 0xC8, 0x21, 0x31, 0x00, c.below(256));
        };
        ios.add(io(0x1F2, 1, false, count));
        ios.add(io(0x1F3, 1, false, lba & 0xFF));
        ios.add(io(0x1F4, 1, false, (lba >>> 8) & 0xFF));
        ios.add(io(0x1F5, 1, false, (lba >>> 16) & 0xFF));
        ios.add(io(0x1F6, 1, false, device));
        if (c.flag(false, 35)) {
            for (int port = 0x1F1; port <= 0x1F6; port++) {
                ios.add(io(port, 1, true, 0)); // the task file read back before the command
            }
        }
        ios.add(io(0x1F7, 1, false, command));
        if (c.flag(true, 30)) {
            ios.add(io(0x1F7, 1, true, 0));
        }
        return command;
    }

    private static void burst(Choices c, List<GuestInstruction.Io> ios, boolean in) {
        long seed = c.bits64();
        int kind = c.weighted(10, 45, 45);
        int size = kind == 1 && c.flag(false, 20) ? 2 : 4;
        int count = switch (kind) {
            case 0 -> 1 + c.below(8);
            case 1 -> 512 / size;
            default -> 127; // 127 doublewords and a word reach byte 510: the doubleword after straddles the end
        };
        for (int k = 0; k < count; k++) {
            ios.add(io(0x1F0, size, in, seed * (k + 1) ^ (0x9E37_79B9L * k)));
        }
        if (kind == 2) {
            ios.add(io(0x1F0, 2, in, seed >>> 7));
            ios.add(io(0x1F0, 4, in, seed ^ 0xA5A5_A5A5L));
        }
    }

    /** One to eight data-port accesses (a transfer's middle, or data with no transfer). */
    private static void shortBurst(Choices c, List<GuestInstruction.Io> ios, boolean in) {
        int count = 1 + c.below(8);
        for (int k = 0; k < count; k++) {
            ios.add(io(0x1F0, c.oneOf(4, 2), in, c.bits64()));
        }
    }

    /** A WRMSR of a KVM MSR (or Xen's hypercall MSR) in a KVM or Xen personality's domain. */
    public static KvmCase kvm(Choices c) {
        boolean kvm = c.flag(true, 20);
        long msr = switch (c.weighted(35, 35, 20, 10)) {
            case 0 -> 0x4b56_4d01L; // MSR_KVM_SYSTEM_TIME_NEW
            case 1 -> 0x4b56_4d04L; // MSR_KVM_PV_EOI_EN
            case 2 -> c.oneOf(0x4b56_4d00L, 0x4b56_4d02L, 0x4b56_4d03L, 0x4b56_4d05L, 0x4b56_4d06L, 0x4b56_4dffL);
            default -> kvm ? c.oneOf(0x4000_0000L, 0x4000_0200L) : 0x4b56_4d01L;
        };
        boolean enable = c.flag(true, 25);
        long gpa = switch (c.weighted(60, 20, 20)) {
            case 0 -> ((long) c.below(8) << 12) | c.oneOf(0L, 8L, 0x10L, 0x18L, 0x40L, 0xFE0L, 0xFE8L, 0xFF0L,
                    0xFF8L, 4L, 0xCL, 2L, 6L, 0xFFCL, 0xFFEL);
            case 1 -> ((long) (8 + c.below(0x100)) << 12) | (8L * c.below(8));
            default -> c.bits64() & ~1L;
        };
        return new KvmCase(kvm, msr, gpa | (enable ? 1 : 0));
    }

    private static GuestInstruction.Io io(int port, int size, boolean in, long value) {
        long v = size == 4 ? value & 0xFFFF_FFFFL : value & ((1L << (8 * size)) - 1);
        return new GuestInstruction.Io(port, size, in, false, false, false, in ? 0 : v);
    }
}
