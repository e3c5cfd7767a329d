package org.hybridv.guest;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.xen.CpuidIdentity;
import org.hybridv.xen.Faults;
import org.hybridv.xen.MmuMode;

/**
 * The exit rows of one block request (docs/hybrid.md, "Exit accounting"; {@code hybridv exits}): what a sector read
 * and a sector write cost in VM exits and hypercalls per platform — the split driver's PV path (BLK-1..6) against the
 * emulated ATA disk (EMU-7). Each configuration boots, does one block read that sets the driver up (its cost is its
 * own row), then the request measured. Deterministic: the same bytes every run.
 */
public final class BlockAccounting {
    private BlockAccounting() {}

    /** One measured configuration. */
    public record Row(String configuration, String path, KernelStep setUp, KernelStep read, KernelStep write) {
        /** The hypercalls (VMCALLs) of a step. */
        public static int hypercalls(KernelStep k) {
            return (int) k.trace().stream().filter(e -> e.instruction() instanceof GuestInstruction.Vmcall).count();
        }

        /** The port accesses of a step. */
        public static int portAccesses(KernelStep k) {
            return (int) k.trace().stream().filter(e -> e.instruction() instanceof GuestInstruction.Io).count();
        }
    }

    /** The configurations, in table order: name, path, how to start it, the boot target. */
    private record Config(String name, String path, GuestSystem system, BootStage target) {}

    private static List<Config> configs() {
        int frames = 64;
        return List.of(
                new Config("native", "ATA PIO", Loader.onBareMetal(frames), BootStage.NATIVE),
                new Config("shadow", "split driver", Loader.underXenWithBlockBackEnd(MmuMode.SHADOW, frames, 64,
                        Faults.NONE, CpuidIdentity.XEN), BootStage.HYPERCALL_PAGE_INSTALLED),
                new Config("direct", "split driver", Loader.underXenWithBlockBackEnd(MmuMode.SHADOW, frames, 64,
                        Faults.NONE, CpuidIdentity.XEN), BootStage.DIRECT),
                new Config("HAP", "split driver", Loader.underXenWithBlockBackEnd(MmuMode.HAP, frames, 64,
                        Faults.NONE, CpuidIdentity.XEN), BootStage.HYPERCALL_PAGE_INSTALLED),
                new Config("HAP/KVM", "emulated ATA", Loader.underXen(MmuMode.HAP, frames, 64, Faults.NONE,
                        CpuidIdentity.KVM), BootStage.DIRECT),
                new Config("shadow, no back-end", "emulated ATA", Loader.underXen(MmuMode.SHADOW, frames, 64),
                        BootStage.DIRECT));
    }

    /** Boots each configuration, sets the driver up with a read of sector 0, then reads sector 1 and writes it. */
    public static List<Row> measure() {
        List<Row> rows = new ArrayList<>();
        for (Config c : configs()) {
            GuestSystem s = Kernel.apply(c.system(), new GuestOp.Boot(c.target())).post();
            KernelStep setUp = Kernel.apply(s, new GuestOp.BlockRead(0));
            KernelStep read = Kernel.apply(setUp.post(), new GuestOp.BlockRead(1));
            KernelStep write = Kernel.apply(read.post(), new GuestOp.BlockWrite(1, 0x100));
            rows.add(new Row(c.name(), c.path(), setUp, read, write));
        }
        return rows;
    }

    /** The rows as fixed-width text. */
    public static String table() {
        List<Row> rows = measure();
        String fmt = "%-20s %-13s %6s %6s %7s %7s %6s%n";
        StringBuilder b = new StringBuilder();
        b.append("One block request (one sector; the driver set up by an earlier request):")
                .append(System.lineSeparator());
        b.append(String.format(fmt, "VM exits", "path", "read", "write", "set-up", "hcalls", "ports"));
        for (Row r : rows) {
            b.append(String.format(fmt, r.configuration(), r.path(), r.read().exits().total(),
                    r.write().exits().total(), r.setUp().exits().total(), Row.hypercalls(r.read()),
                    Row.portAccesses(r.read())));
        }
        b.append("(hcalls, ports: the read's hypercalls and port accesses; set-up: the first").append(
                System.lineSeparator());
        b.append("request, which also places the grant table, grants the ring, allocates the").append(
                System.lineSeparator());
        b.append("port and connects the back-end; the shared-info page is the one the kernel").append(
                System.lineSeparator());
        b.append("placed at boot, BOOT-8.)").append(System.lineSeparator());
        b.append("Split driver: grant the buffer and write the request with plain stores, one").append(
                System.lineSeparator());
        b.append("EVTCHNOP_send (the VMCALL); the back-end domain's step costs the kernel no exit.").append(
                System.lineSeparator());
        b.append("Emulated ATA: 6 task-file OUTs, 2 status INs, 128 data-port INs or OUTs,").append(
                System.lineSeparator());
        b.append("each an I/O exit (EMU-2, EMU-7).").append(System.lineSeparator());
        return b.toString();
    }
}
