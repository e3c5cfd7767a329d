package org.hybridv.scenario.vmx;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.ept.EptEntry;
import org.hybridv.ept.EptViolationQualification;
import org.hybridv.scenario.x86.Render;
import org.hybridv.vmx.CrAccessExits;
import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.InterruptionInfo;
import org.hybridv.vmx.InvvpidType;
import org.hybridv.vmx.PinBasedControls;
import org.hybridv.vmx.PrimaryControls;
import org.hybridv.vmx.SecondaryControls;
import org.hybridv.x86.PageFault;

/**
 * How the VMX steps show values in traces and reports: exit reasons with their SDM numbers, exit qualifications
 * decoded, interruption information, EPT entries, VMX controls.
 */
final class VmxRender {
    private VmxRender() {}

    private static final String[] REGISTERS = {"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI", "R8", "R9",
        "R10", "R11", "R12", "R13", "R14", "R15"};
    private static final String[] TYPES = {"external interrupt", "reserved", "NMI", "hardware exception",
        "software interrupt", "privileged software exception", "software exception", "other event"};

    /** {@code EPT_VIOLATION (48)}. */
    static String reason(ExitReason r) {
        return r.name() + " (" + r.number() + ")";
    }

    /** The general-purpose register numbered as in the CR-access qualification (SDM table 27-3): 0 = RAX … 15 = R15. */
    static String register(int n) {
        return n >= 0 && n < REGISTERS.length ? REGISTERS[n] : "register " + n;
    }

    /** {@code 14 (#PF)}. */
    static String vector(int v) {
        String[] names = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "", "#TS", "#NP", "#SS",
            "#GP", "#PF", "", "#MF", "#AC", "#MC", "#XM", "#VE"};
        return v >= 0 && v < names.length && !names[v].isEmpty() ? v + " (" + names[v] + ")" : String.valueOf(v);
    }

    /** {@code 3 (hardware exception)} (SDM table 24-15). */
    static String interruptionType(int t) {
        return t >= 0 && t < TYPES.length ? t + " (" + TYPES[t] + ")" : String.valueOf(t);
    }

    /** An error code, with the #PF flags when the vector is #PF. */
    static String errorCode(int vector, long code) {
        return vector == PageFault.VECTOR ? Render.errorCode(code) : Render.hex(code);
    }

    /** VM-instruction error numbers (SDM Vol. 3C §30.4, table 30-1) this reference produces. */
    static String vmInstructionError(int error) {
        String text = switch (error) {
            case 4 -> "VMLAUNCH with non-clear VMCS";
            case 5 -> "VMRESUME with non-launched VMCS";
            case 7 -> "VM entry with invalid control field(s)";
            case 8 -> "VM entry with invalid host-state field(s)";
            case 28 -> "invalid operand to INVEPT/INVVPID";
            default -> "";
        };
        return text.isEmpty() ? String.valueOf(error) : error + " (" + text + ")";
    }

    static String invvpidType(InvvpidType t) {
        return switch (t) {
            case INDIVIDUAL_ADDRESS -> "individual-address";
            case SINGLE_CONTEXT -> "single-context";
            case ALL_CONTEXT -> "all-context";
            case SINGLE_CONTEXT_RETAINING_GLOBALS -> "single-context retaining globals";
        };
    }

    /** {@code 0x15007 (R W X frame 0x15)}; {@code 0x0 (not present)}. */
    static String eptEntry(EptEntry e) {
        if (!e.present()) {
            return Render.hex(e.raw()) + " (not present)";
        }
        List<String> f = new ArrayList<>();
        if (e.readable()) f.add("R");
        if (e.writable()) f.add("W");
        if (e.executable()) f.add("X");
        if (e.memoryType() != 0) f.add("MT " + e.memoryType());
        if (e.ignorePat()) f.add("IPAT");
        if (e.largePage()) f.add("L");
        if (e.accessed()) f.add("A");
        if (e.dirty()) f.add("D");
        f.add("frame " + Render.hex(e.frame()));
        return Render.hex(e.raw()) + " (" + String.join(" ", f) + ")";
    }

    /** The decoded bits of an EPT-violation qualification: {@code write, readable, linear valid, translated access}. */
    static String eptQualification(long bits) {
        List<String> f = new ArrayList<>();
        String[] names = {"read", "write", "fetch", "readable", "writable", "executable", "", "linear valid",
            "translated access"};
        for (int i = 0; i < names.length; i++) {
            if (!names[i].isEmpty() && ((bits >>> i) & 1) != 0) {
                f.add(names[i]);
            }
        }
        if ((bits & ~EptViolationQualification.MODELLED_BITS) != 0) {
            f.add("other bits " + Render.hex(bits & ~EptViolationQualification.MODELLED_BITS));
        }
        return f.isEmpty() ? "no bit set" : String.join(", ", f);
    }

    /** The I/O qualification (SDM table 27-5): {@code OUT, 1 byte, port 0x80 (DX)}. */
    static String ioQualification(long q) {
        int size = (int) (q & 7) + 1;
        boolean in = ((q >>> 3) & 1) != 0;
        boolean string = ((q >>> 4) & 1) != 0;
        boolean rep = ((q >>> 5) & 1) != 0;
        boolean immediate = ((q >>> 6) & 1) != 0;
        return (rep ? "REP " : "") + (in ? "IN" : "OUT") + (string ? "S" : "") + ", " + size + " byte"
                + (size == 1 ? "" : "s") + ", port " + Render.hex((q >>> 16) & 0xFFFF) + (immediate ? " (immediate)"
                        : " (DX)");
    }

    /** The CR-access qualification (SDM table 27-3): {@code MOV to CR3 from RAX}. */
    static String crQualification(long q) {
        int cr = (int) (q & 0xF);
        int type = (int) ((q >>> 4) & 3);
        String reg = register((int) ((q >>> 8) & 0xF));
        if (type == CrAccessExits.MOV_TO_CR) {
            return "MOV to CR" + cr + " from " + reg;
        }
        if (type == CrAccessExits.MOV_FROM_CR) {
            return "MOV from CR" + cr + " to " + reg;
        }
        return "access type " + type + " to CR" + cr;
    }

    /** {@code 0x80000b0e (vector 14 (#PF), hardware exception, error code 0x3 (P|W))}. */
    static String interruption(InterruptionInfo i, int errorCode) {
        if (!i.valid()) {
            return Render.hex(i.bits() & 0xFFFF_FFFFL) + " (not valid)";
        }
        return Render.hex(i.bits() & 0xFFFF_FFFFL) + " (vector " + vector(i.vector()) + ", "
                + (i.type() >= 0 && i.type() < TYPES.length ? TYPES[i.type()] : "type " + i.type())
                + (i.errorCodeValid() ? ", error code " + errorCode(i.vector(), errorCode & 0xFFFF_FFFFL) : "")
                + ")";
    }

    /** A whole exit, for the trace: {@code VM exit EPT_VIOLATION (48): write, …; GPA 0x9000, GLA 0x0}. */
    static String exit(ExitInformation e) {
        String head = (e.entryFailure() ? "VM-entry failure " : "VM exit ") + reason(e.reason());
        long q = e.qualification();
        String detail = switch (e.reason()) {
            case EXCEPTION_OR_NMI -> "interruption " + interruption(e.interruption(), e.interruptionErrorCode())
                    + (e.interruption().vector() == PageFault.VECTOR ? "; qualification " + Render.hex(q)
                            + " (the linear address)" : "");
            case EPT_VIOLATION -> eptQualification(q) + " (" + Render.hex(q) + "); GPA "
                    + Render.hex(e.guestPhysicalAddress())
                    + (((q >>> EptViolationQualification.BIT_LINEAR_VALID) & 1) != 0
                            ? ", GLA " + Render.hex(e.guestLinearAddress()) : ", no GLA");
            case EPT_MISCONFIG -> "GPA " + Render.hex(e.guestPhysicalAddress());
            case IO_INSTRUCTION -> ioQualification(q) + " (" + Render.hex(q) + ")";
            case CR_ACCESS -> crQualification(q) + " (" + Render.hex(q) + ")";
            case INVLPG -> "linear address " + Render.hex(q) + " (qualification)";
            case INVALID_GUEST_STATE -> "exit reason " + Render.hex(e.exitReasonField() & 0xFFFF_FFFFL)
                    + (q != 0 ? ", qualification " + Render.hex(q) : "");
            default -> q != 0 ? "qualification " + Render.hex(q) : "";
        };
        return detail.isEmpty() ? head : head + ": " + detail;
    }

    static String pin(PinBasedControls c) {
        return named(c.bits(), c.externalInterruptExiting() ? "external-interrupt exiting" : null,
                c.nmiExiting() ? "NMI exiting" : null);
    }

    static String primary(PrimaryControls c) {
        return named(c.bits(), c.hltExiting() ? "HLT exiting" : null, c.invlpgExiting() ? "INVLPG exiting" : null,
                c.cr3LoadExiting() ? "CR3-load exiting" : null, c.cr3StoreExiting() ? "CR3-store exiting" : null,
                c.unconditionalIoExiting() ? "unconditional I/O exiting" : null,
                c.useIoBitmaps() ? "use I/O bitmaps" : null, c.useMsrBitmaps() ? "use MSR bitmaps" : null,
                c.activateSecondaryControls() ? "activate secondary controls" : null);
    }

    static String secondary(SecondaryControls c) {
        return named(c.bits(), c.enableEpt() ? "enable EPT" : null, c.enableVpid() ? "enable VPID" : null,
                c.unrestrictedGuest() ? "unrestricted guest" : null, c.enableInvpcid() ? "enable INVPCID" : null);
    }

    private static String named(long bits, String... names) {
        List<String> set = new ArrayList<>();
        for (String n : names) {
            if (n != null) {
                set.add(n);
            }
        }
        return set.isEmpty() ? Render.hex(bits) : Render.hex(bits) + " (" + String.join(", ", set) + ")";
    }

    /** A guest instruction for the trace, at CPL {@code cpl} if given ("write 0x1000 at CPL 3", "CPUID EAX 0x0"). */
    static String instruction(GuestInstruction instruction, Integer cpl) {
        String at = cpl == null ? "" : " at CPL " + cpl;
        if (instruction instanceof GuestInstruction.MemoryAccess m) {
            return Render.access(m.access(), cpl);
        }
        if (instruction instanceof GuestInstruction.Io io) {
            String name = (io.in() ? "IN" : "OUT") + (io.string() ? "S" : "");
            return (io.rep() ? "REP " : "") + name + " " + io.size() + " byte" + (io.size() == 1 ? "" : "s")
                    + (io.in() ? " from" : " to") + " port " + Render.hex(io.port())
                    + (io.immediate() ? " (immediate)" : " (DX)")
                    + (!io.in() && io.value() != 0 ? " value " + Render.hex(io.value()) : "");
        }
        if (instruction instanceof GuestInstruction.Rdmsr r) {
            return "RDMSR ECX " + Render.hex(r.msr());
        }
        if (instruction instanceof GuestInstruction.Wrmsr w) {
            return "WRMSR ECX " + Render.hex(w.msr()) + " value " + Render.hex(w.value());
        }
        if (instruction instanceof GuestInstruction.Cpuid c) {
            return "CPUID EAX " + Render.hex(c.leaf()) + " ECX " + Render.hex(c.subleaf());
        }
        if (instruction instanceof GuestInstruction.Vmcall) {
            return "VMCALL";
        }
        if (instruction instanceof GuestInstruction.Hlt) {
            return "HLT";
        }
        if (instruction instanceof GuestInstruction.Invlpg i) {
            return "INVLPG " + Render.hex(i.linear());
        }
        if (instruction instanceof GuestInstruction.Invpcid i) {
            return "INVPCID type " + i.type() + ", descriptor (PCID word " + Render.hex(i.descriptorLow())
                    + ", linear " + Render.hex(i.linear()) + ")";
        }
        if (instruction instanceof GuestInstruction.MovToCr m) {
            return "MOV CR" + m.cr() + ", " + VmxRender.register(m.register()) + " = " + Render.hex(m.value());
        }
        GuestInstruction.MovFromCr m = (GuestInstruction.MovFromCr) instruction;
        return "MOV " + VmxRender.register(m.register()) + ", CR" + m.cr();
    }
}
