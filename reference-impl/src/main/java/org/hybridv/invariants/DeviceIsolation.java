package org.hybridv.invariants;

import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.xen.Domain;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.XenMachine;

/**
 * Device isolation: a guest's port I/O and MSR accesses either exit or touch only what the rulebook assigns to it
 * (EMU-1, EMU-2 of docs/rules/xen.md; docs/emulation.md). Stated from the rules over the VMCS of every vCPU, with the
 * rules' own constants — it calls none of the code that builds the bitmaps ({@code DeviceIntercepts},
 * {@code VmcsSetup}):
 * <ul>
 * <li><b>EMU-1</b> — with "use MSR bitmaps" set, the read and the write bit of every MSR 800H–8FFH (the x2APIC range,
 * Intel SDM Vol. 3A §10.12.1.2) are set: with the control clear every RDMSR/WRMSR exits (SDM Vol. 3C §25.1.3), and
 * MSRs outside the two bitmap ranges always exit, so no hypervisor MSR of another range needs a bit;</li>
 * <li><b>EMU-2</b> — port I/O exits for every port: "use I/O bitmaps" with every bit of bitmaps A and B set, or,
 * without the bitmaps, "unconditional I/O exiting" (SDM Vol. 3C §25.1.3); no port is the guest's.</li>
 * </ul>
 * {@link #checkAccess} states the same over one executed instruction: an RDMSR/WRMSR or IN/OUT that completed in the
 * guest without a VM exit touched only what the rules leave to the guest.
 */
public final class DeviceIsolation {
    private DeviceIsolation() {}

    private static final long X2APIC_FIRST = 0x800;
    private static final long X2APIC_LAST = 0x8FF;
    private static final int PORTS = 0x10000;
    private static final int PORTS_PER_BITMAP = 0x8000;

    /** EMU-1, EMU-2 over the controls of every vCPU of {@code m}. */
    public static InvariantResult check(XenMachine m) {
        for (Domain d : m.domains().values()) {
            for (Vcpu v : d.vcpus()) {
                String bad = controls(v.vmcs().controls());
                if (bad != null) {
                    return new InvariantResult.Violated(bad.startsWith("port") ? "EMU-2" : "EMU-1", "d" + d.id()
                            + " vCPU " + v.id().vcpu() + ": " + bad);
                }
            }
        }
        return InvariantResult.HOLDS;
    }

    /** What in {@code c} lets a guest access pass the hypervisor, or null. */
    static String controls(ExecutionControls c) {
        if (c.primary().useMsrBitmaps()) {
            for (long msr = X2APIC_FIRST; msr <= X2APIC_LAST; msr++) {
                if (!c.msrBitmap().readLow().get((int) msr)) {
                    return "RDMSR " + Long.toHexString(msr) + "H (x2APIC) does not exit: its read bit is clear";
                }
                if (!c.msrBitmap().writeLow().get((int) msr)) {
                    return "WRMSR " + Long.toHexString(msr) + "H (x2APIC) does not exit: its write bit is clear";
                }
            }
        }
        if (c.primary().useIoBitmaps()) {
            for (int port = 0; port < PORTS; port++) {
                boolean set = port < PORTS_PER_BITMAP ? c.ioBitmaps().a().get(port)
                        : c.ioBitmaps().b().get(port - PORTS_PER_BITMAP);
                if (!set) {
                    return "port " + Integer.toHexString(port) + "H does not exit: its I/O-bitmap bit is clear";
                }
            }
        } else if (!c.primary().unconditionalIoExiting()) {
            return "port I/O does not exit: neither I/O bitmaps nor unconditional I/O exiting";
        }
        return null;
    }

    /**
     * EMU-1, EMU-2 over one instruction that completed in the guest with {@code exits} VM exits: port I/O without an
     * exit touched a port, an x2APIC RDMSR/WRMSR without an exit touched the local APIC.
     */
    public static InvariantResult checkAccess(GuestInstruction insn, int exits) {
        if (exits > 0) {
            return InvariantResult.HOLDS;
        }
        if (insn instanceof GuestInstruction.Io io) {
            return new InvariantResult.Violated("EMU-2", (io.in() ? "IN" : "OUT") + " port "
                    + Integer.toHexString(io.port()) + "H completed in the guest without a VM exit");
        }
        long msr = insn instanceof GuestInstruction.Rdmsr r ? r.msr() : insn instanceof GuestInstruction.Wrmsr w
                ? w.msr() : -1;
        if (msr >= X2APIC_FIRST && msr <= X2APIC_LAST) {
            return new InvariantResult.Violated("EMU-1", (insn instanceof GuestInstruction.Rdmsr ? "RDMSR " : "WRMSR ")
                    + Long.toHexString(msr) + "H (x2APIC) completed in the guest without a VM exit");
        }
        return InvariantResult.HOLDS;
    }
}
