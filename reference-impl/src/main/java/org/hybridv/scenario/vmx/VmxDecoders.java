package org.hybridv.scenario.vmx;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.hybridv.ept.EptEntry;
import org.hybridv.ept.Eptp;
import org.hybridv.ept.InveptType;
import org.hybridv.scenario.DecodeContext;
import org.hybridv.scenario.Fields;
import org.hybridv.scenario.JsonValue;
import org.hybridv.scenario.x86.X86Decoders.AccessOperands;
import org.hybridv.scenario.x86.Render;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.InvvpidType;
import org.hybridv.vmx.MsrBitmap;
import org.hybridv.vmx.VmxMode;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessKind;

/**
 * JSON → VMX step records. Each decoder reads only the fields its op declares in {@link VmxModule} and checks every
 * range the reference would otherwise reject as API misuse, so that a bad file is rejected with a message and never
 * reaches the reference. What depends on the state (a guest state the reference cannot hold, the VMX mode) is
 * checked when the step runs.
 */
final class VmxDecoders {
    private VmxDecoders() {}

    static final List<String> VMCS = List.of("pinBased", "primary", "secondary", "exceptionBitmap", "pfecMask",
            "pfecMatch", "cr0GuestHostMask", "cr0ReadShadow", "cr4GuestHostMask", "cr4ReadShadow", "cr3TargetValues",
            "ioBitmap", "msrBitmap", "eptp", "vpid", "guest", "host");
    static final List<String> PIN = List.of("externalInterruptExiting", "nmiExiting");
    static final List<String> PRIMARY = List.of(VmcsStep.PrimaryBits.NAMES);
    static final List<String> SECONDARY = List.of(VmcsStep.SecondaryBits.NAMES);
    static final List<String> IO_BITMAP = List.of("all", "ports", "clear");
    static final List<String> MSR_BITMAP = List.of("all", "read", "write");
    static final List<String> EPTP = List.of("frame", "accessedDirty", "raw");
    static final List<String> GUEST_STATE = List.of("cr0", "cr3", "cr4", "efer", "cpl", "ac", "rip");
    static final List<String> HOST_STATE = List.of("cr0", "cr3", "cr4", "efer", "rip");
    static final List<String> CR4_BITS = List.of("pse", "pae", "pge", "pcide", "smep", "smap", "pke");

    static final List<String> ENTRY = List.of("expect");
    static final List<String> GUEST_ACCESS = List.of("linear", "kind", "value", "cpl", "implicitSupervisor",
            "expect");
    static final List<String> GUEST_INVLPG = List.of("linear", "expect");
    static final List<String> GUEST_MOV_TO_CR = List.of("cr", "value", "register", "expect");
    static final List<String> GUEST_MOV_FROM_CR = List.of("cr", "register", "expect");
    static final List<String> IO = List.of("port", "size", "direction", "string", "rep", "immediate", "value",
            "expect");
    static final List<String> RDMSR = List.of("msr", "expect");
    static final List<String> WRMSR = List.of("msr", "value", "expect");
    static final List<String> CPUID = List.of("leaf", "subleaf", "expect");
    static final List<String> EXPECT_ONLY = List.of("expect");
    static final List<String> EPT = List.of("table", "index", "entry");
    static final List<String> EPT_ENTRY = List.of("read", "write", "execute", "memoryType", "ignorePat",
            "largePage", "accessed", "dirty", "frame", "raw");
    static final List<String> INVVPID = List.of("type", "vpid", "linear", "expect");
    static final List<String> INVEPT = List.of("type", "eptp", "expect");
    static final List<String> EXPECT_VMCS = List.of("mode", "launched", "exit", "guest");
    static final List<String> EXIT = List.of("reason", "entryFailure", "qualification", "guestPhysical",
            "guestLinear", "interruption");
    static final List<String> VMEXIT_EXPECT = List.of("result", "reason", "qualification", "guestPhysical",
            "guestLinear", "interruption");
    static final List<String> INTERRUPTION = List.of("vector", "type", "errorCodeValid", "errorCode");
    static final List<String> VMCS_GUEST = List.of("cr0", "cr3", "cr4", "efer", "cpl", "ac", "rip");

    /** The exit reasons a guest instruction can cause in this reference, by SDM name (appendix C). */
    static final Map<String, ExitReason> GUEST_EXIT_REASONS = reasons(ExitReason.EXCEPTION_OR_NMI,
            ExitReason.EPT_VIOLATION, ExitReason.EPT_MISCONFIG, ExitReason.IO_INSTRUCTION, ExitReason.MSR_READ,
            ExitReason.MSR_WRITE, ExitReason.CPUID, ExitReason.VMCALL, ExitReason.HLT, ExitReason.INVLPG,
            ExitReason.CR_ACCESS);
    /** The reasons the VMCS can hold after a step: a guest instruction's, or a VM-entry failure's. */
    static final Map<String, ExitReason> VMCS_EXIT_REASONS = reasons(ExitReason.EXCEPTION_OR_NMI,
            ExitReason.EPT_VIOLATION, ExitReason.EPT_MISCONFIG, ExitReason.IO_INSTRUCTION, ExitReason.MSR_READ,
            ExitReason.MSR_WRITE, ExitReason.CPUID, ExitReason.VMCALL, ExitReason.HLT, ExitReason.INVLPG,
            ExitReason.CR_ACCESS, ExitReason.INVALID_GUEST_STATE);

    static final Map<String, AccessKind> KINDS = Map.of("read", AccessKind.READ, "write", AccessKind.WRITE, "fetch",
            AccessKind.FETCH);
    static final Map<String, InvvpidType> INVVPID_TYPES = Map.of("individualAddress", InvvpidType.INDIVIDUAL_ADDRESS,
            "singleContext", InvvpidType.SINGLE_CONTEXT, "allContext", InvvpidType.ALL_CONTEXT,
            "singleContextRetainingGlobals", InvvpidType.SINGLE_CONTEXT_RETAINING_GLOBALS);
    static final Map<String, InveptType> INVEPT_TYPES = Map.of("singleContext", InveptType.SINGLE_CONTEXT,
            "allContext", InveptType.ALL_CONTEXT);
    static final Map<String, VmxMode> MODES = Map.of("root", VmxMode.ROOT, "nonRoot", VmxMode.NON_ROOT);

    /** At most this many CR3-target values in a file: enough to exceed the 4 VM entry accepts (SDM §26.2.1.1). */
    static final int MAX_CR3_TARGETS_IN_FILE = 8;
    private static final int FRAME_BITS = 40;
    private static final int INDEX_MAX = 511;
    private static final String INDEX_WHY = "512 entries per EPT paging structure";

    private static Map<String, ExitReason> reasons(ExitReason... rs) {
        Map<String, ExitReason> m = new LinkedHashMap<>();
        for (ExitReason r : rs) {
            m.put(r.name(), r);
        }
        return Map.copyOf(m);
    }

    // ------------------------------------------------------------------ vmcs

    static VmcsStep vmcs(Fields f, DecodeContext c) {
        f.requireAny(VMCS);
        VmcsStep.PinBits pin = f.optionalObject("pinBased", "pinBased", PIN).map(o -> {
            o.requireAny(PIN);
            return new VmcsStep.PinBits(o.optionalBool("externalInterruptExiting"), o.optionalBool("nmiExiting"));
        }).orElse(null);
        VmcsStep.PrimaryBits primary = f.optionalObject("primary", "primary", PRIMARY).map(o -> {
            o.requireAny(PRIMARY);
            Boolean[] b = PRIMARY.stream().map(o::optionalBool).toArray(Boolean[]::new);
            return new VmcsStep.PrimaryBits(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
        }).orElse(null);
        VmcsStep.SecondaryBits secondary = f.optionalObject("secondary", "secondary", SECONDARY).map(o -> {
            o.requireAny(SECONDARY);
            return new VmcsStep.SecondaryBits(o.optionalBool("enableEpt"), o.optionalBool("enableVpid"),
                    o.optionalBool("unrestrictedGuest"));
        }).orElse(null);
        List<Long> targets = f.find("cr3TargetValues").map(v -> {
            List<JsonValue> elements = v.elements();
            if (elements.size() > MAX_CR3_TARGETS_IN_FILE) {
                throw v.error(elements.size() + " values; at most " + MAX_CR3_TARGETS_IN_FILE + " in a file (VM entry"
                        + " accepts a CR3-target count of at most 4, SDM §26.2.1.1; up to 8 lets a scenario show that"
                        + " check)");
            }
            List<Long> out = new ArrayList<>();
            elements.forEach(e -> out.add(e.asUnsigned(64)));
            return out;
        }).orElse(null);
        VmcsStep.IoBitmapChange io = f.optionalObject("ioBitmap", "ioBitmap", IO_BITMAP).map(o -> {
            o.requireAny(IO_BITMAP);
            return new VmcsStep.IoBitmapChange(o.optionalBool("all"), ports(o, "ports"), ports(o, "clear"));
        }).orElse(null);
        VmcsStep.MsrBitmapChange msr = f.optionalObject("msrBitmap", "msrBitmap", MSR_BITMAP).map(o -> {
            o.requireAny(MSR_BITMAP);
            return new VmcsStep.MsrBitmapChange(o.optionalBool("all"), msrs(o, "read"), msrs(o, "write"));
        }).orElse(null);
        Long eptp = f.optionalObject("eptp", "eptp", EPTP).map(VmxDecoders::eptp).orElse(null);
        OptionalLong vpid = f.optionalInteger("vpid", 0, 0xFFFF, "16 bits");
        f.find("guest").ifPresent(v -> {
            if (v.node().isObject() && v.node().has("pkru")) {
                throw v.error("no \"pkru\" here: PKRU is not a VMCS field (SDM §24.4); VM entries and exits leave it"
                        + " alone — set it with a cpu step before vmlaunch, as a hypervisor restores it in software");
            }
        });
        VmcsStep.StateFields guest = f.optionalObject("guest", "guest", GUEST_STATE)
                .map(o -> state(o, GUEST_STATE)).orElse(null);
        f.find("host").ifPresent(v -> {
            for (String name : List.of("cpl", "ac", "pkru")) {
                if (v.node().isObject() && v.node().has(name)) {
                    throw v.error("no \"" + name + "\" here: the host-state area has no CPL, RFLAGS or PKRU; a VM"
                            + " exit loads CPL 0 and clears RFLAGS (SDM §27.5)");
                }
            }
        });
        VmcsStep.StateFields host = f.optionalObject("host", "host", HOST_STATE)
                .map(o -> state(o, HOST_STATE)).orElse(null);
        return new VmcsStep(pin, primary, secondary, u32(f, "exceptionBitmap"), u32(f, "pfecMask"),
                u32(f, "pfecMatch"), boxed(f.optionalUnsigned("cr0GuestHostMask", 64)),
                boxed(f.optionalUnsigned("cr0ReadShadow", 64)), boxed(f.optionalUnsigned("cr4GuestHostMask", 64)),
                boxed(f.optionalUnsigned("cr4ReadShadow", 64)), targets, io, msr, eptp,
                vpid.isPresent() ? (int) vpid.getAsLong() : null, guest, host);
    }

    private static List<Integer> ports(Fields o, String name) {
        List<Integer> out = new ArrayList<>();
        o.find(name).ifPresent(v -> v.elements().forEach(e -> out.add((int) e.asInteger(0, 0xFFFF,
                "I/O ports 0..0xffff"))));
        return out;
    }

    private static List<Long> msrs(Fields o, String name) {
        List<Long> out = new ArrayList<>();
        o.find(name).ifPresent(v -> v.elements().forEach(e -> {
            long msr = e.asUnsigned(32);
            if (!MsrBitmap.covers(msr)) {
                throw e.error(Render.hex(msr) + " is not covered by the MSR bitmap, which has bits for MSRs"
                        + " 0x0..0x1fff and 0xc0000000..0xc0001fff; RDMSR and WRMSR of any other MSR always exit"
                        + " (SDM §25.1.3)");
            }
            out.add(msr);
        }));
        return out;
    }

    /** An EPTP given as {@code {"frame", "accessedDirty"}} (write-back, page-walk length 4) or {@code {"raw"}}. */
    static long eptp(Fields o) {
        if (o.has("raw")) {
            rawAlone(o, "the EPTP");
            return o.unsigned("raw", 64);
        }
        return Eptp.ofFrame(o.unsigned("frame", FRAME_BITS), o.bool("accessedDirty", false)).raw();
    }

    private static void rawAlone(Fields o, String what) {
        for (String name : o.present()) {
            if (!name.equals("raw")) {
                throw o.error(name, "\"raw\" gives every bit of " + what + "; it cannot be combined with \"" + name
                        + "\"");
            }
        }
    }

    private static VmcsStep.StateFields state(Fields o, List<String> names) {
        o.requireAny(names);
        org.hybridv.scenario.x86.X86Step.Cr0Bits cr0 = o.optionalObject("cr0", "cr0", List.of("pe", "wp", "pg")).map(b -> {
            b.requireAny(List.of("pe", "wp", "pg"));
            return new org.hybridv.scenario.x86.X86Step.Cr0Bits(b.optionalBool("pe"), b.optionalBool("wp"), b.optionalBool("pg"));
        }).orElse(null);
        Optional<Fields> cr3 = o.optionalObject("cr3", "cr3", List.of("frame", "pcid"));
        cr3.ifPresent(b -> b.requireAny(List.of("frame", "pcid")));
        Long cr3Frame = cr3.map(b -> boxed(b.optionalUnsigned("frame", FRAME_BITS))).orElse(null);
        Integer cr3Pcid = cr3.map(b -> {
            OptionalLong p = b.optionalUnsigned("pcid", 12);
            return p.isPresent() ? (int) p.getAsLong() : null;
        }).orElse(null);
        org.hybridv.scenario.x86.X86Step.Cr4Bits cr4 = o.optionalObject("cr4", "cr4", CR4_BITS).map(b -> {
            b.requireAny(CR4_BITS);
            return new org.hybridv.scenario.x86.X86Step.Cr4Bits(b.optionalBool("pse"), b.optionalBool("pae"), b.optionalBool("pge"),
                    b.optionalBool("pcide"), b.optionalBool("smep"), b.optionalBool("smap"), b.optionalBool("pke"));
        }).orElse(null);
        org.hybridv.scenario.x86.X86Step.EferBits efer = o.optionalObject("efer", "efer", List.of("lme", "nxe")).map(b -> {
            b.requireAny(List.of("lme", "nxe"));
            return new org.hybridv.scenario.x86.X86Step.EferBits(b.optionalBool("lme"), b.optionalBool("nxe"));
        }).orElse(null);
        boolean guest = names.contains("cpl");
        OptionalLong cpl = guest ? o.optionalInteger("cpl", 0, 3, "privilege levels 0..3") : OptionalLong.empty();
        return new VmcsStep.StateFields(cr0, cr3Frame, cr3Pcid, cr4, efer,
                cpl.isPresent() ? (int) cpl.getAsLong() : null, guest ? o.optionalBool("ac") : null,
                boxed(o.optionalUnsigned("rip", 64)));
    }

    // ------------------------------------------------------------------ VM entry

    static VmEntryStep vmlaunch(Fields f, DecodeContext c) {
        return new VmEntryStep(false, entryExpectation(f));
    }

    static VmEntryStep vmresume(Fields f, DecodeContext c) {
        return new VmEntryStep(true, entryExpectation(f));
    }

    /** The optional {@code expect} of a VM entry; absent means it must enter. */
    static EntryExpectation entryExpectation(Fields step) {
        Optional<JsonValue> e = step.find("expect");
        if (e.isEmpty()) {
            return EntryExpectation.ENTERS;
        }
        String named = resultName(e.get());
        List<String> fields = switch (named) {
            case "entered" -> List.of("result");
            case "vmFail" -> List.of("result", "error");
            case "entryFailure" -> List.of("result", "reason");
            default -> List.of("result", "error", "reason");
        };
        Fields f = Fields.of(e.get(), what(named, fields.size() == 3), fields);
        String result = f.choice("result", Map.of("entered", "entered", "vmFail", "vmFail", "entryFailure",
                "entryFailure"));
        switch (result) {
            case "vmFail" -> {
                OptionalLong error = f.optionalInteger("error", 0, 0xFFFF_FFFFL, "the VM-instruction error field");
                return new EntryExpectation.VmFails(error.isPresent() ? (int) error.getAsLong() : null);
            }
            case "entryFailure" -> {
                return new EntryExpectation.EntryFails(f.optionalChoice("reason",
                        Map.of("INVALID_GUEST_STATE", ExitReason.INVALID_GUEST_STATE)).orElse(null));
            }
            default -> {
                return EntryExpectation.ENTERS;
            }
        }
    }

    // ------------------------------------------------------------------ guest instructions

    static GuestInstructionStep guestAccess(Fields f, DecodeContext c) {
        AccessOperands o = AccessOperands.decode(f);
        return new GuestInstructionStep("guestAccess", new GuestInstruction.MemoryAccess(o.access()), o.cpl(),
                guestExpectation(f));
    }

    static GuestInstructionStep guestInvlpg(Fields f, DecodeContext c) {
        return new GuestInstructionStep("guestInvlpg", new GuestInstruction.Invlpg(f.unsigned("linear", 64)), null,
                guestExpectation(f));
    }

    static GuestInstructionStep guestMovToCr(Fields f, DecodeContext c) {
        return new GuestInstructionStep("guestMovToCr", new GuestInstruction.MovToCr(cr(f), f.unsigned("value", 64),
                register(f)), null, guestExpectation(f));
    }

    static GuestInstructionStep guestMovFromCr(Fields f, DecodeContext c) {
        return new GuestInstructionStep("guestMovFromCr", new GuestInstruction.MovFromCr(cr(f), register(f)), null,
                guestExpectation(f));
    }

    private static int cr(Fields f) {
        int cr = (int) f.integer("cr", 0, 8, "a control register number");
        if (cr != 0 && cr != 3 && cr != 4) {
            throw f.error("cr", "CR" + cr + " is not modelled: cr is 0, 3 or 4");
        }
        return cr;
    }

    private static int register(Fields f) {
        return (int) f.optionalInteger("register", 0, 15, "general-purpose registers 0 = RAX .. 15 = R15")
                .orElse(0);
    }

    static GuestInstructionStep io(Fields f, DecodeContext c) {
        int port = (int) f.integer("port", 0, 0xFFFF, "I/O ports 0..0xffff");
        int size = (int) f.integer("size", 1, 4, "1, 2 or 4 bytes");
        if (size == 3) {
            throw f.error("size", "3 is not an I/O access size: 1, 2 or 4 bytes");
        }
        boolean in = f.choice("direction", Map.of("in", true, "out", false));
        boolean string = f.bool("string", false);
        boolean rep = f.bool("rep", false);
        boolean immediate = f.bool("immediate", false);
        if (immediate && string) {
            throw f.error("immediate", "INS and OUTS take the port from DX; an immediate port is for IN and OUT");
        }
        if (immediate && port > 0xFF) {
            throw f.error("port", Render.hex(port) + " cannot be an immediate operand: IN and OUT encode ports"
                    + " 0..0xff in an imm8; use DX (immediate: false)");
        }
        if (rep && !string) {
            throw f.error("rep", "a REP prefix repeats a string instruction (INS, OUTS); set \"string\": true");
        }
        OptionalLong value = f.optionalUnsigned("value", 8 * size);
        if (value.isPresent() && in) {
            throw f.error("value", "only an OUT has a value (this is an IN)");
        }
        return new GuestInstructionStep("io", new GuestInstruction.Io(port, size, in, string, rep, immediate,
                value.orElse(0)), null, guestExpectation(f));
    }

    static GuestInstructionStep rdmsr(Fields f, DecodeContext c) {
        return new GuestInstructionStep("rdmsr", new GuestInstruction.Rdmsr(f.unsigned("msr", 32)), null,
                guestExpectation(f));
    }

    static GuestInstructionStep wrmsr(Fields f, DecodeContext c) {
        return new GuestInstructionStep("wrmsr", new GuestInstruction.Wrmsr(f.unsigned("msr", 32),
                f.unsigned("value", 64)), null, guestExpectation(f));
    }

    static GuestInstructionStep cpuid(Fields f, DecodeContext c) {
        return new GuestInstructionStep("cpuid", new GuestInstruction.Cpuid(f.unsigned("leaf", 32),
                f.optionalUnsigned("subleaf", 32).orElse(0)), null, guestExpectation(f));
    }

    static GuestInstructionStep vmcall(Fields f, DecodeContext c) {
        return new GuestInstructionStep("vmcall", new GuestInstruction.Vmcall(), null, guestExpectation(f));
    }

    static GuestInstructionStep hlt(Fields f, DecodeContext c) {
        return new GuestInstructionStep("hlt", new GuestInstruction.Hlt(), null, guestExpectation(f));
    }

    /** The optional {@code expect} of a guest instruction; absent means nothing is checked. */
    static GuestExpectation guestExpectation(Fields step) {
        Optional<JsonValue> e = step.find("expect");
        if (e.isEmpty()) {
            return null;
        }
        String named = resultName(e.get());
        List<String> fields = switch (named) {
            case "retired" -> List.of("result", "value");
            case "delivered" -> List.of("result", "vector", "errorCode", "cr2");
            case "vmExit" -> VMEXIT_EXPECT;
            default -> List.of("result", "value", "vector", "errorCode", "cr2", "reason", "qualification",
                    "guestPhysical", "guestLinear", "interruption");
        };
        Fields f = Fields.of(e.get(), what(named, fields.size() > VMEXIT_EXPECT.size()), fields);
        String result = f.choice("result", Map.of("retired", "retired", "delivered", "delivered", "vmExit",
                "vmExit"));
        switch (result) {
            case "retired" -> {
                return new GuestExpectation.Retires(boxed(f.optionalUnsigned("value", 64)));
            }
            case "delivered" -> {
                OptionalLong vector = f.optionalInteger("vector", 0, 31, "exception vectors 0..31");
                return new GuestExpectation.Delivers(vector.isPresent() ? (int) vector.getAsLong() : null,
                        boxed(f.optionalUnsigned("errorCode", 32)), boxed(f.optionalUnsigned("cr2", 64)));
            }
            default -> {
                return new GuestExpectation.Exits(exitPattern(f, GUEST_EXIT_REASONS, false));
            }
        }
    }

    /**
     * The exit-information fields of a {@code vmExit} expectation or of {@code expectVmcs}'s {@code exit}. Fields the
     * SDM defines only for some reasons need that reason named: a qualification object (EPT_VIOLATION), the
     * guest-physical address (EPT_VIOLATION, EPT_MISCONFIG), the guest-linear address (EPT_VIOLATION), the
     * interruption information (EXCEPTION_OR_NMI).
     */
    static ExitPattern exitPattern(Fields f, Map<String, ExitReason> reasons, boolean entryFailureField) {
        ExitReason reason = f.optionalChoice("reason", reasons).orElse(null);
        Boolean entryFailure = entryFailureField ? f.optionalBool("entryFailure") : null;
        Long qualification = null;
        ExitPattern.EptQualification ept = null;
        Optional<JsonValue> q = f.find("qualification");
        if (q.isPresent() && q.get().node().isObject()) {
            requireReason(f, "qualification", reason, Set.of(ExitReason.EPT_VIOLATION),
                    "an object names the bits of an EPT-violation qualification (SDM table 27-7); for other exits"
                            + " give the qualification as a number");
            Fields b = Fields.of(q.get(), "qualification", ExitPattern.EptQualification.NAMES);
            b.requireAny(ExitPattern.EptQualification.NAMES);
            Boolean[] bits = ExitPattern.EptQualification.NAMES.stream().map(b::optionalBool)
                    .toArray(Boolean[]::new);
            ept = new ExitPattern.EptQualification(bits[0], bits[1], bits[2], bits[3], bits[4], bits[5], bits[6],
                    bits[7]);
        } else if (q.isPresent()) {
            qualification = q.get().asUnsigned(64);
        }
        Long guestPhysical = null;
        if (f.has("guestPhysical")) {
            requireReason(f, "guestPhysical", reason, Set.of(ExitReason.EPT_VIOLATION, ExitReason.EPT_MISCONFIG),
                    "the guest-physical address is reported by EPT violations and misconfigurations only (SDM"
                            + " §27.2.1)");
            guestPhysical = f.unsigned("guestPhysical", 64);
        }
        Long guestLinear = null;
        if (f.has("guestLinear")) {
            requireReason(f, "guestLinear", reason, Set.of(ExitReason.EPT_VIOLATION),
                    "this reference reports a guest-linear address for EPT violations only (SDM §27.2.1)");
            guestLinear = f.unsigned("guestLinear", 64);
        }
        Long interruption = null;
        ExitPattern.InterruptionFields interruptionFields = null;
        Optional<JsonValue> i = f.find("interruption");
        if (i.isPresent()) {
            requireReason(f, "interruption", reason, Set.of(ExitReason.EXCEPTION_OR_NMI),
                    "the VM-exit interruption information describes the exception that caused the exit (SDM"
                            + " §24.9.2)");
            if (i.get().node().isObject()) {
                Fields o = Fields.of(i.get(), "interruption", INTERRUPTION);
                o.requireAny(INTERRUPTION);
                OptionalLong vector = o.optionalInteger("vector", 0, 255, "bits 7:0");
                OptionalLong type = o.optionalInteger("type", 0, 7, "bits 10:8; 3 = hardware exception");
                interruptionFields = new ExitPattern.InterruptionFields(
                        vector.isPresent() ? (int) vector.getAsLong() : null,
                        type.isPresent() ? (int) type.getAsLong() : null, o.optionalBool("errorCodeValid"),
                        boxed(o.optionalUnsigned("errorCode", 32)));
            } else {
                interruption = i.get().asUnsigned(32);
            }
        }
        return new ExitPattern(reason, entryFailure, qualification, ept, guestPhysical, guestLinear, interruption,
                interruptionFields);
    }

    private static void requireReason(Fields f, String field, ExitReason reason, Set<ExitReason> allowed,
            String why) {
        if (reason == null || !allowed.contains(reason)) {
            List<String> names = allowed.stream().map(ExitReason::name).sorted().toList();
            throw f.error(field, (reason == null ? "needs \"reason\": " + String.join(" or ", names)
                    : "does not apply to reason " + reason.name()) + ": " + why);
        }
    }

    // ------------------------------------------------------------------ EPT, INVVPID, INVEPT

    static EptStep ept(Fields f, DecodeContext c) {
        long table = c.memoryFrame(f, "table");
        int index = (int) f.integer("index", 0, INDEX_MAX, INDEX_WHY);
        return new EptStep(table, index, eptEntry(f.object("entry", "entry", EPT_ENTRY)));
    }

    /** An EPT entry by named fields (absent flags are 0) or as {@code "raw"}, not both. */
    static EptEntry eptEntry(Fields f) {
        if (f.has("raw")) {
            rawAlone(f, "the entry");
            return new EptEntry(f.unsigned("raw", 64));
        }
        return EptEntry.NOT_PRESENT.withReadable(f.bool("read", false)).withWritable(f.bool("write", false))
                .withExecutable(f.bool("execute", false))
                .withMemoryType((int) f.optionalInteger("memoryType", 0, 7, "bits 5:3, a 3-bit memory type")
                        .orElse(0))
                .withIgnorePat(f.bool("ignorePat", false)).withLargePage(f.bool("largePage", false))
                .withAccessed(f.bool("accessed", false)).withDirty(f.bool("dirty", false))
                .withFrame(f.optionalUnsigned("frame", FRAME_BITS).orElse(0));
    }

    static InvvpidStep invvpid(Fields f, DecodeContext c) {
        InvvpidType type = f.choice("type", INVVPID_TYPES);
        long vpid = type == InvvpidType.ALL_CONTEXT
                ? f.optionalInteger("vpid", 0, 0xFFFF, "16 bits").orElse(0)
                : f.integer("vpid", 0, 0xFFFF, "16 bits");
        long linear = 0;
        if (type == InvvpidType.INDIVIDUAL_ADDRESS) {
            linear = f.unsigned("linear", 64);
        } else if (f.has("linear")) {
            throw f.error("linear", "only the individualAddress type uses the descriptor's linear address");
        }
        return new InvvpidStep(type, (int) vpid, linear, rootExpectation(f));
    }

    static InveptStep invept(Fields f, DecodeContext c) {
        InveptType type = f.choice("type", INVEPT_TYPES);
        long eptp = type == InveptType.SINGLE_CONTEXT ? eptp(f.object("eptp", "eptp", EPTP))
                : f.optionalObject("eptp", "eptp", EPTP).map(VmxDecoders::eptp).orElse(0L);
        return new InveptStep(type, eptp, rootExpectation(f));
    }

    /** The optional {@code expect} of INVVPID/INVEPT; absent means it must succeed. */
    static RootExpectation rootExpectation(Fields step) {
        Optional<JsonValue> e = step.find("expect");
        if (e.isEmpty()) {
            return RootExpectation.SUCCEEDS;
        }
        String named = resultName(e.get());
        List<String> fields = named.equals("succeeded") ? List.of("result") : List.of("result", "error");
        Fields f = Fields.of(e.get(), what(named, !named.equals("succeeded") && !named.equals("vmFail")), fields);
        String result = f.choice("result", Map.of("succeeded", "succeeded", "vmFail", "vmFail"));
        if (result.equals("succeeded")) {
            return RootExpectation.SUCCEEDS;
        }
        OptionalLong error = f.optionalInteger("error", 0, 0xFFFF_FFFFL, "the VM-instruction error field");
        return new RootExpectation.VmFails(error.isPresent() ? (int) error.getAsLong() : null);
    }

    // ------------------------------------------------------------------ expectVmcs

    static ExpectVmcsStep expectVmcs(Fields f, DecodeContext c) {
        f.requireAny(EXPECT_VMCS);
        VmxMode mode = f.optionalChoice("mode", MODES).orElse(null);
        ExitPattern exit = f.optionalObject("exit", "exit", EXIT).map(o -> {
            o.requireAny(EXIT);
            return exitPattern(o, VMCS_EXIT_REASONS, true);
        }).orElse(null);
        ExpectVmcsStep.GuestFields guest = f.optionalObject("guest", "guest", VMCS_GUEST).map(o -> {
            o.requireAny(VMCS_GUEST);
            OptionalLong cpl = o.optionalInteger("cpl", 0, 3, "privilege levels 0..3");
            return new ExpectVmcsStep.GuestFields(boxed(o.optionalUnsigned("cr0", 64)),
                    boxed(o.optionalUnsigned("cr3", 64)), boxed(o.optionalUnsigned("cr4", 64)),
                    boxed(o.optionalUnsigned("efer", 64)), cpl.isPresent() ? (int) cpl.getAsLong() : null,
                    o.optionalBool("ac"), boxed(o.optionalUnsigned("rip", 64)));
        }).orElse(null);
        return new ExpectVmcsStep(mode, f.optionalBool("launched"), exit, guest);
    }

    // ------------------------------------------------------------------ helpers

    /** The {@code result} string of an expectation object, or "" when it has none (the decoder then says so). */
    private static String resultName(JsonValue v) {
        JsonNode n = v.node();
        return n.isObject() && n.path("result").isTextual() ? n.get("result").textValue() : "";
    }

    private static String what(String named, boolean unknown) {
        return named.isEmpty() || unknown ? "expect" : "expect (result " + named + ")";
    }

    private static Integer u32(Fields f, String name) {
        OptionalLong v = f.optionalUnsigned(name, 32);
        return v.isPresent() ? (int) v.getAsLong() : null;
    }

    private static Long boxed(OptionalLong v) {
        return v.isPresent() ? v.getAsLong() : null;
    }
}
