package org.hybridv.scenario.vmx;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonTypeName;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.hybridv.ept.EptEntry;
import org.hybridv.ept.Eptp;
import org.hybridv.ept.InveptType;
import org.hybridv.scenario.Bad;
import org.hybridv.scenario.Step;
import org.hybridv.scenario.Values;
import org.hybridv.scenario.Values.Dec;
import org.hybridv.scenario.Values.Hex;
import org.hybridv.scenario.Values.MemoryFrame;
import org.hybridv.scenario.x86.Render;
import org.hybridv.scenario.x86.X86Step;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.InvvpidType;
import org.hybridv.vmx.MsrBitmap;
import org.hybridv.vmx.VmxMode;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.CpuState;

/**
 * The steps of the VMX and EPT layer (Intel SDM Vol. 3C chapters 24–28): one record per op, which is its own JSON
 * form (docs/scenario-format.md, "VMX and EPT"), run by {@link VmxExecutors}.
 */
public sealed interface VmxStep extends Step {
    String CPL_WHY = "privilege levels 0..3";

    /**
     * {@code vmcs}: write the VMCS fields the step names, by their SDM names (chapter 24), leaving every other field
     * as it is — what a hypervisor's VMWRITEs do, in VMX root operation. Guest and host state are written as VMCS
     * fields, with no MOV semantics: nothing is flushed, nothing is checked until VM entry (§26.2, §26.3), except that
     * the reference cannot hold a state it does not model (such as CR0.PG = 1 with CR0.PE = 0).
     *
     * @param cr3TargetValues the CR3-target values; their number is the CR3-target count (§24.6.7)
     * @param eptp            the EPTP (§24.6.11)
     */
    @JsonTypeName("vmcs")
    record Vmcs(PinBits pinBased, PrimaryBits primary, SecondaryBits secondary, @Hex(32) Integer exceptionBitmap,
            @Hex(32) Integer pfecMask, @Hex(32) Integer pfecMatch, @Hex Long cr0GuestHostMask,
            @Hex Long cr0ReadShadow, @Hex Long cr4GuestHostMask, @Hex Long cr4ReadShadow,
            @Hex List<Long> cr3TargetValues, IoBitmapChange ioBitmap, MsrBitmapChange msrBitmap, EptpFields eptp,
            @Dec(max = 0xFFFF, why = "16 bits") Integer vpid, GuestState guest, HostState host) implements VmxStep {
        /** At most this many CR3-target values in a file: enough to exceed the 4 VM entry accepts (§26.2.1.1). */
        static final int MAX_CR3_TARGETS_IN_FILE = 8;

        public Vmcs {
            Bad.requireAny("vmcs step", List.of("pinBased", "primary", "secondary", "exceptionBitmap", "pfecMask",
                    "pfecMatch", "cr0GuestHostMask", "cr0ReadShadow", "cr4GuestHostMask", "cr4ReadShadow",
                    "cr3TargetValues", "ioBitmap", "msrBitmap", "eptp", "vpid", "guest", "host"), pinBased, primary,
                    secondary, exceptionBitmap, pfecMask, pfecMatch, cr0GuestHostMask, cr0ReadShadow,
                    cr4GuestHostMask, cr4ReadShadow, cr3TargetValues, ioBitmap, msrBitmap, eptp, vpid, guest, host);
            if (cr3TargetValues != null && cr3TargetValues.size() > MAX_CR3_TARGETS_IN_FILE) {
                throw Bad.at("cr3TargetValues", cr3TargetValues.size() + " values; at most "
                        + MAX_CR3_TARGETS_IN_FILE + " in a file (VM entry accepts a CR3-target count of at most 4, SDM"
                        + " §26.2.1.1; up to 8 lets a scenario show that check)");
            }
            cr3TargetValues = cr3TargetValues == null ? null : List.copyOf(cr3TargetValues);
        }

        @Override
        public String describe() {
            List<String> parts = new ArrayList<>();
            add(parts, "pinBased", pinBased);
            add(parts, "primary", primary);
            add(parts, "secondary", secondary);
            add(parts, "exceptionBitmap", u32(exceptionBitmap));
            add(parts, "pfecMask", u32(pfecMask));
            add(parts, "pfecMatch", u32(pfecMatch));
            add(parts, "cr0GuestHostMask", hex(cr0GuestHostMask));
            add(parts, "cr0ReadShadow", hex(cr0ReadShadow));
            add(parts, "cr4GuestHostMask", hex(cr4GuestHostMask));
            add(parts, "cr4ReadShadow", hex(cr4ReadShadow));
            add(parts, "cr3TargetValues", cr3TargetValues == null ? null : hexList(cr3TargetValues));
            add(parts, "ioBitmap", ioBitmap);
            add(parts, "msrBitmap", msrBitmap);
            add(parts, "eptp", eptp == null ? null : Render.hex(eptp.value()));
            add(parts, "vpid", vpid == null ? null : Render.hex(vpid));
            add(parts, "guest", guest);
            add(parts, "host", host);
            return String.join(", ", parts);
        }

        private static String u32(Integer v) {
            return v == null ? null : Render.hex(v & 0xFFFF_FFFFL);
        }

        private static String hex(Long v) {
            return v == null ? null : Render.hex(v);
        }
    }

    private static void add(List<String> parts, String name, Object value) {
        if (value != null) {
            parts.add(name + " " + value);
        }
    }

    static String hexList(List<Long> values) {
        return "[" + String.join(", ", values.stream().map(Render::hex).toList()) + "]";
    }

    private static boolean or(Boolean v, boolean old) {
        return v != null ? v : old;
    }

    /** Pin-based controls (§24.6.1); null leaves a control unchanged. */
    record PinBits(Boolean externalInterruptExiting, Boolean nmiExiting) {
        public PinBits {
            Bad.requireAny("pinBased", List.of("externalInterruptExiting", "nmiExiting"), externalInterruptExiting,
                    nmiExiting);
        }

        org.hybridv.vmx.PinBasedControls applyTo(org.hybridv.vmx.PinBasedControls old) {
            return new org.hybridv.vmx.PinBasedControls(or(externalInterruptExiting, old.externalInterruptExiting()),
                    or(nmiExiting, old.nmiExiting()));
        }

        @Override
        public String toString() {
            return Render.flags(new String[] {"externalInterruptExiting", "nmiExiting"}, externalInterruptExiting,
                    nmiExiting);
        }
    }

    /** Primary processor-based controls (§24.6.2); null leaves a control unchanged. */
    record PrimaryBits(Boolean hltExiting, Boolean invlpgExiting, Boolean cr3LoadExiting, Boolean cr3StoreExiting,
            Boolean unconditionalIoExiting, Boolean useIoBitmaps, Boolean useMsrBitmaps,
            Boolean activateSecondaryControls) {
        static final String[] NAMES = {"hltExiting", "invlpgExiting", "cr3LoadExiting", "cr3StoreExiting",
            "unconditionalIoExiting", "useIoBitmaps", "useMsrBitmaps", "activateSecondaryControls"};

        public PrimaryBits {
            Bad.requireAny("primary", List.of(NAMES), hltExiting, invlpgExiting, cr3LoadExiting, cr3StoreExiting,
                    unconditionalIoExiting, useIoBitmaps, useMsrBitmaps, activateSecondaryControls);
        }

        org.hybridv.vmx.PrimaryControls applyTo(org.hybridv.vmx.PrimaryControls o) {
            return new org.hybridv.vmx.PrimaryControls(or(hltExiting, o.hltExiting()),
                    or(invlpgExiting, o.invlpgExiting()), or(cr3LoadExiting, o.cr3LoadExiting()),
                    or(cr3StoreExiting, o.cr3StoreExiting()), or(unconditionalIoExiting, o.unconditionalIoExiting()),
                    or(useIoBitmaps, o.useIoBitmaps()), or(useMsrBitmaps, o.useMsrBitmaps()),
                    or(activateSecondaryControls, o.activateSecondaryControls()));
        }

        @Override
        public String toString() {
            return Render.flags(NAMES, hltExiting, invlpgExiting, cr3LoadExiting, cr3StoreExiting,
                    unconditionalIoExiting, useIoBitmaps, useMsrBitmaps, activateSecondaryControls);
        }
    }

    /** Secondary processor-based controls (§24.6.2); null leaves a control unchanged. */
    record SecondaryBits(Boolean enableEpt, Boolean enableVpid, Boolean unrestrictedGuest, Boolean enableInvpcid) {
        static final String[] NAMES = {"enableEpt", "enableVpid", "unrestrictedGuest", "enableInvpcid"};

        public SecondaryBits {
            Bad.requireAny("secondary", List.of(NAMES), enableEpt, enableVpid, unrestrictedGuest, enableInvpcid);
        }

        org.hybridv.vmx.SecondaryControls applyTo(org.hybridv.vmx.SecondaryControls o) {
            return new org.hybridv.vmx.SecondaryControls(or(enableEpt, o.enableEpt()), or(enableVpid, o.enableVpid()),
                    or(unrestrictedGuest, o.unrestrictedGuest()), or(enableInvpcid, o.enableInvpcid()));
        }

        @Override
        public String toString() {
            return Render.flags(NAMES, enableEpt, enableVpid, unrestrictedGuest, enableInvpcid);
        }
    }

    /**
     * Changes to I/O bitmaps A and B (§24.6.4): start from all bits set ({@code all} true), all clear (false) or the
     * current bitmaps (absent); then set the bit of each port in {@code ports} and clear the bit of each in
     * {@code clear}.
     */
    record IoBitmapChange(Boolean all, @Dec(max = 0xFFFF, why = "I/O ports 0..0xffff") List<Integer> ports,
            @Dec(max = 0xFFFF, why = "I/O ports 0..0xffff") List<Integer> clear) {
        public IoBitmapChange {
            Bad.requireAny("ioBitmap", List.of("all", "ports", "clear"), all, ports, clear);
            ports = ports == null ? List.of() : List.copyOf(ports);
            clear = clear == null ? List.of() : List.copyOf(clear);
        }

        org.hybridv.vmx.IoBitmaps applyTo(org.hybridv.vmx.IoBitmaps old) {
            var b = all == null ? old : all ? org.hybridv.vmx.IoBitmaps.all() : org.hybridv.vmx.IoBitmaps.none();
            for (int port : ports) {
                b = b.with(port, true);
            }
            for (int port : clear) {
                b = b.with(port, false);
            }
            return b;
        }

        @Override
        public String toString() {
            List<String> parts = new ArrayList<>();
            if (all != null) {
                parts.add(all ? "all set" : "all clear");
            }
            if (!ports.isEmpty()) {
                parts.add("set " + hexList(ports.stream().map(Integer::longValue).toList()));
            }
            if (!clear.isEmpty()) {
                parts.add("clear " + hexList(clear.stream().map(Integer::longValue).toList()));
            }
            return String.join(", ", parts);
        }
    }

    /**
     * Changes to the MSR bitmap (§24.6.9): start from all four regions set ({@code all} true), clear (false) or the
     * current bitmap (absent); then set the read bit of each MSR in {@code read} and the write bit of each in
     * {@code write}.
     */
    record MsrBitmapChange(Boolean all, @Hex(32) List<Long> read, @Hex(32) List<Long> write) {
        public MsrBitmapChange {
            Bad.requireAny("msrBitmap", List.of("all", "read", "write"), all, read, write);
            read = covered("read", read);
            write = covered("write", write);
        }

        private static List<Long> covered(String field, List<Long> msrs) {
            for (int i = 0; msrs != null && i < msrs.size(); i++) {
                long msr = msrs.get(i);
                if (!MsrBitmap.covers(msr)) {
                    throw Bad.at(field + "/" + i, Render.hex(msr) + " is not covered by the MSR bitmap, which has bits for MSRs"
                            + " 0x0..0x1fff and 0xc0000000..0xc0001fff; RDMSR and WRMSR of any other MSR always exit"
                            + " (SDM §25.1.3)");
                }
            }
            return msrs == null ? List.of() : List.copyOf(msrs);
        }

        MsrBitmap applyTo(MsrBitmap old) {
            MsrBitmap b = all == null ? old : all ? MsrBitmap.all() : MsrBitmap.none();
            for (long msr : read) {
                b = b.with(msr, false, true);
            }
            for (long msr : write) {
                b = b.with(msr, true, true);
            }
            return b;
        }

        @Override
        public String toString() {
            List<String> parts = new ArrayList<>();
            if (all != null) {
                parts.add(all ? "all set" : "all clear");
            }
            if (!read.isEmpty()) {
                parts.add("read " + hexList(read));
            }
            if (!write.isEmpty()) {
                parts.add("write " + hexList(write));
            }
            return String.join(", ", parts);
        }
    }

    /** An EPTP by {@code frame} and {@code accessedDirty} (write-back, page-walk length 4) or as {@code raw}. */
    record EptpFields(@Dec(bits = 40) Long frame, Boolean accessedDirty, @Hex Long raw) {
        public EptpFields {
            if (raw != null) {
                rawAlone("the EPTP", List.of("frame", "accessedDirty"), frame, accessedDirty);
            } else {
                Bad.required(frame, "frame", "eptp");
            }
        }

        public static EptpFields of(long raw) {
            return new EptpFields(null, null, raw);
        }

        public long value() {
            return raw != null ? raw : Eptp.ofFrame(frame, Boolean.TRUE.equals(accessedDirty)).raw();
        }
    }

    private static void rawAlone(String what, List<String> names, Object... values) {
        for (int i = 0; i < values.length; i++) {
            if (values[i] != null) {
                throw Bad.at(names.get(i), "\"raw\" gives every bit of " + what + "; it cannot be combined with \""
                        + names.get(i) + "\"");
            }
        }
    }

    /** CR3 in a state area: the PML4 frame and bits 11:0. */
    record Cr3Fields(@Dec(bits = 40) Long frame, @Dec(bits = 12) Integer pcid) {
        public Cr3Fields {
            Bad.requireAny("cr3", List.of("frame", "pcid"), frame, pcid);
        }
    }

    /**
     * Guest-state fields (§24.4): the control registers (only the named bits change), CR3, IA32_EFER, the CPL,
     * RFLAGS.AC and RIP; absent fields are unchanged. PKRU is in no VMCS area.
     */
    record GuestState(X86Step.Cr0Bits cr0, Cr3Fields cr3, X86Step.Cr4Bits cr4, X86Step.EferBits efer,
            @Dec(max = 3, why = CPL_WHY) Integer cpl, Boolean ac, @Hex Long rip, Object pkru) {
        public GuestState {
            if (pkru != null) {
                throw Bad.misplaced("pkru", "no \"pkru\" here: PKRU is not a VMCS field (SDM §24.4); VM entries and exits"
                        + " leave it alone — set it with a cpu step before vmlaunch, as a hypervisor restores it in"
                        + " software");
            }
            Bad.requireAny("guest", List.of("cr0", "cr3", "cr4", "efer", "cpl", "ac", "rip"), cr0, cr3, cr4, efer,
                    cpl, ac, rip);
        }

        CpuState applyTo(CpuState old) {
            return state(old, cr0, cr3, cr4, efer, cpl, ac);
        }

        @Override
        public String toString() {
            return VmxStep.toString(cr0, cr3, cr4, efer, cpl, ac, rip);
        }
    }

    /**
     * Host-state fields (§24.5): no CPL, RFLAGS or PKRU — a VM exit loads CPL 0 and clears RFLAGS (§27.5).
     */
    record HostState(X86Step.Cr0Bits cr0, Cr3Fields cr3, X86Step.Cr4Bits cr4, X86Step.EferBits efer, @Hex Long rip,
            Object cpl, Object ac, Object pkru) {
        public HostState {
            Object[] absent = {cpl, ac, pkru};
            String[] names = {"cpl", "ac", "pkru"};
            for (int i = 0; i < absent.length; i++) {
                if (absent[i] != null) {
                    throw Bad.misplaced(names[i], "no \"" + names[i] + "\" here: the host-state area has no CPL, RFLAGS or"
                            + " PKRU; a VM exit loads CPL 0 and clears RFLAGS (SDM §27.5)");
                }
            }
            Bad.requireAny("host", List.of("cr0", "cr3", "cr4", "efer", "rip"), cr0, cr3, cr4, efer, rip);
        }

        CpuState applyTo(CpuState old) {
            return state(old, cr0, cr3, cr4, efer, null, null);
        }

        @Override
        public String toString() {
            return VmxStep.toString(cr0, cr3, cr4, efer, null, null, rip);
        }
    }

    /** {@code old} with these fields; the reference's CpuState rejects a state it does not model. */
    private static CpuState state(CpuState old, X86Step.Cr0Bits cr0, Cr3Fields cr3, X86Step.Cr4Bits cr4,
            X86Step.EferBits efer, Integer cpl, Boolean ac) {
        Cr3 c3 = cr3 == null ? old.cr3() : new Cr3(cr3.frame() != null ? cr3.frame() << 12 : old.cr3().pml4Base(),
                cr3.pcid() != null ? cr3.pcid() : old.cr3().pcid());
        return new CpuState(cr0 != null ? cr0.applyTo(old.cr0()) : old.cr0(), old.cr2(), c3,
                cr4 != null ? cr4.applyTo(old.cr4()) : old.cr4(), efer != null ? efer.applyTo(old.efer()) : old.efer(),
                ac != null ? ac : old.ac(), cpl != null ? cpl : old.cpl(), old.pkru(), old.maxPhysAddr());
    }

    private static String toString(X86Step.Cr0Bits cr0, Cr3Fields cr3, X86Step.Cr4Bits cr4, X86Step.EferBits efer,
            Integer cpl, Boolean ac, Long rip) {
        List<String> parts = new ArrayList<>();
        if (cr0 != null) {
            parts.add("cr0 " + cr0);
        }
        if (cr3 != null) {
            parts.add("cr3" + (cr3.frame() != null ? " frame " + Render.hex(cr3.frame()) : "")
                    + (cr3.pcid() != null ? " pcid " + Render.hex(cr3.pcid()) : ""));
        }
        if (cr4 != null) {
            parts.add("cr4 " + cr4);
        }
        if (efer != null) {
            parts.add("efer " + efer);
        }
        if (cpl != null) {
            parts.add("cpl " + cpl);
        }
        if (ac != null) {
            parts.add("ac " + (ac ? 1 : 0));
        }
        if (rip != null) {
            parts.add("rip " + Render.hex(rip));
        }
        return String.join(" ", parts);
    }

    /** {@code vmlaunch} and {@code vmresume}: VM entry (§26), its expectation. */
    sealed interface VmEntry extends VmxStep {
        EntryExpect expect();

        default boolean resume() {
            return this instanceof Vmresume;
        }

        @Override
        default String describe() {
            return resume() ? "VMRESUME" : "VMLAUNCH";
        }
    }

    /** {@code vmlaunch}: VM entry with a clear VMCS. */
    @JsonTypeName("vmlaunch")
    record Vmlaunch(EntryExpect expect) implements VmEntry {}

    /** {@code vmresume}: VM entry with a launched VMCS. */
    @JsonTypeName("vmresume")
    record Vmresume(EntryExpect expect) implements VmEntry {}

    /** What a VM entry must do; absent: enter. */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "result")
    @JsonSubTypes({@JsonSubTypes.Type(EntryExpect.Entered.class), @JsonSubTypes.Type(EntryExpect.VmFail.class),
        @JsonSubTypes.Type(EntryExpect.EntryFailure.class)})
    sealed interface EntryExpect {
        /** The guest runs. */
        @JsonTypeName("entered")
        record Entered() implements EntryExpect {}

        /** VMfailValid with the VM-instruction error (§30.4), if given. */
        @JsonTypeName("vmFail")
        record VmFail(@Dec(bits = 32) Integer error) implements EntryExpect {}

        /** A VM-entry failure during or after loading guest state (§26.8): reason INVALID_GUEST_STATE, if given. */
        @JsonTypeName("entryFailure")
        record EntryFailure(String reason) implements EntryExpect {
            public EntryFailure {
                VmxStep.reason(reason, Set.of(ExitReason.INVALID_GUEST_STATE));
            }
        }

        default String result() {
            return getClass().getAnnotation(JsonTypeName.class).value();
        }
    }

    /** A guest instruction (VMX non-root operation, §25): its instruction, the CPL for it, what it must do. */
    sealed interface GuestOp extends VmxStep {
        GuestInstruction instruction();

        GuestExpect expect();

        /** The CPL for this one instruction, or null for the guest's. */
        default Integer cpl() {
            return null;
        }

        @Override
        default String describe() {
            return VmxRender.instruction(instruction(), cpl());
        }
    }

    /** {@code guestAccess}: the guest's aligned quadword access through its paging (and EPT). */
    @JsonTypeName("guestAccess")
    record GuestAccess(@Hex Long linear, X86Step.Kind kind, @Hex Long value, @Dec(max = 3, why = CPL_WHY) Integer cpl,
            Boolean implicitSupervisor, GuestExpect expect) implements GuestOp {
        public GuestAccess {
            X86Step.MemoryAccess.checkAccess("guestAccess step", linear, kind, value, implicitSupervisor);
        }

        @Override
        public GuestInstruction instruction() {
            return new GuestInstruction.MemoryAccess(new org.hybridv.x86.Access(linear, kind.kind,
                    Boolean.TRUE.equals(implicitSupervisor), value == null ? 0 : value));
        }
    }

    /** {@code guestInvlpg}: the guest's INVLPG. */
    @JsonTypeName("guestInvlpg")
    record GuestInvlpg(@Hex Long linear, GuestExpect expect) implements GuestOp {
        public GuestInvlpg {
            Bad.required(linear, "linear", "guestInvlpg step");
        }

        @Override
        public GuestInstruction instruction() {
            return new GuestInstruction.Invlpg(linear);
        }
    }

    /**
     * {@code guestInvpcid}: the guest's INVPCID (#UD without "enable INVPCID"; #GP at CPL &gt; 0; a VM exit with
     * "INVLPG exiting"; otherwise it executes with the x86 {@code invpcid} step's operands and scopes, for the guest's
     * VPID).
     */
    @JsonTypeName("guestInvpcid")
    record GuestInvpcid(@Dec(bits = 32) Long type, @Hex Long pcid, @Hex Long linear, GuestExpect expect)
            implements GuestOp {
        public GuestInvpcid {
            Bad.required(type, "type", "guestInvpcid step");
            Bad.required(pcid, "pcid", "guestInvpcid step");
        }

        @Override
        public GuestInstruction instruction() {
            return new GuestInstruction.Invpcid(type, pcid, linear == null ? 0 : linear);
        }
    }

    private static int checkCr(Integer cr, String what) {
        Bad.required(cr, "cr", what);
        if (cr != 0 && cr != 3 && cr != 4) {
            throw Bad.at("cr", "CR" + cr + " is not modelled: cr is 0, 3 or 4");
        }
        return cr;
    }

    /** {@code guestMovToCr}: the guest's MOV to CR0, CR3 or CR4 from a general-purpose register. */
    @JsonTypeName("guestMovToCr")
    record GuestMovToCr(@Dec(max = 8, why = "a control register number") Integer cr, @Hex Long value,
            @Dec(max = 15, why = "general-purpose registers 0 = RAX .. 15 = R15") Integer register,
            GuestExpect expect) implements GuestOp {
        public GuestMovToCr {
            checkCr(cr, "guestMovToCr step");
            Bad.required(value, "value", "guestMovToCr step");
        }

        @Override
        public GuestInstruction instruction() {
            return new GuestInstruction.MovToCr(cr, value, register == null ? 0 : register);
        }
    }

    /** {@code guestMovFromCr}: the guest's MOV from CR0, CR3 or CR4 to a general-purpose register. */
    @JsonTypeName("guestMovFromCr")
    record GuestMovFromCr(@Dec(max = 8, why = "a control register number") Integer cr,
            @Dec(max = 15, why = "general-purpose registers 0 = RAX .. 15 = R15") Integer register,
            GuestExpect expect) implements GuestOp {
        public GuestMovFromCr {
            checkCr(cr, "guestMovFromCr step");
        }

        @Override
        public GuestInstruction instruction() {
            return new GuestInstruction.MovFromCr(cr, register == null ? 0 : register);
        }
    }

    /** The direction of an I/O instruction. */
    enum Direction {
        @JsonProperty("in") IN,
        @JsonProperty("out") OUT
    }

    /** {@code io}: the guest's IN, OUT, INS or OUTS (§25.1.3, I/O bitmaps §24.6.4). */
    @JsonTypeName("io")
    record Io(@Dec(max = 0xFFFF, why = "I/O ports 0..0xffff") Integer port,
            @Dec(min = 1, max = 4, why = "1, 2 or 4 bytes") Integer size, Direction direction, Boolean string,
            Boolean rep, Boolean immediate, @Hex Long value, GuestExpect expect) implements GuestOp {
        public Io {
            Bad.required(port, "port", "io step");
            Bad.required(size, "size", "io step");
            Bad.required(direction, "direction", "io step");
            if (size == 3) {
                throw Bad.at("size", "3 is not an I/O access size: 1, 2 or 4 bytes");
            }
            if (Boolean.TRUE.equals(immediate) && Boolean.TRUE.equals(string)) {
                throw Bad.at("immediate", "INS and OUTS take the port from DX; an immediate port is for IN and OUT");
            }
            if (Boolean.TRUE.equals(immediate) && port > 0xFF) {
                throw Bad.at("port", Render.hex(port) + " cannot be an immediate operand: IN and OUT encode ports"
                        + " 0..0xff in an imm8; use DX (immediate: false)");
            }
            if (Boolean.TRUE.equals(rep) && !Boolean.TRUE.equals(string)) {
                throw Bad.at("rep", "a REP prefix repeats a string instruction (INS, OUTS); set \"string\": true");
            }
            if (value != null && direction == Direction.IN) {
                throw Bad.at("value", "only an OUT has a value (this is an IN)");
            }
            if (value != null && size < 8 && (value >>> (8 * size)) != 0) {
                throw Bad.at("value", Render.hex(value) + " does not fit in " + (8 * size) + " bits (at most "
                        + Render.hex((1L << (8 * size)) - 1) + ")");
            }
        }

        @Override
        public GuestInstruction instruction() {
            return new GuestInstruction.Io(port, size, direction == Direction.IN, Boolean.TRUE.equals(string),
                    Boolean.TRUE.equals(rep), Boolean.TRUE.equals(immediate), value == null ? 0 : value);
        }
    }

    /** {@code rdmsr}: the guest's RDMSR of MSR {@code msr} (ECX). */
    @JsonTypeName("rdmsr")
    record Rdmsr(@Hex(32) Long msr, GuestExpect expect) implements GuestOp {
        public Rdmsr {
            Bad.required(msr, "msr", "rdmsr step");
        }

        @Override
        public GuestInstruction instruction() {
            return new GuestInstruction.Rdmsr(msr);
        }
    }

    /** {@code wrmsr}: the guest's WRMSR of {@code value} to MSR {@code msr}. */
    @JsonTypeName("wrmsr")
    record Wrmsr(@Hex(32) Long msr, @Hex Long value, GuestExpect expect) implements GuestOp {
        public Wrmsr {
            Bad.required(msr, "msr", "wrmsr step");
            Bad.required(value, "value", "wrmsr step");
        }

        @Override
        public GuestInstruction instruction() {
            return new GuestInstruction.Wrmsr(msr, value);
        }
    }

    /** {@code cpuid}: the guest's CPUID with EAX = {@code leaf}, ECX = {@code subleaf}. */
    @JsonTypeName("cpuid")
    record Cpuid(@Hex(32) Long leaf, @Hex(32) Long subleaf, GuestExpect expect) implements GuestOp {
        public Cpuid {
            Bad.required(leaf, "leaf", "cpuid step");
        }

        @Override
        public GuestInstruction instruction() {
            return new GuestInstruction.Cpuid(leaf, subleaf == null ? 0 : subleaf);
        }
    }

    /** {@code vmcall}: the guest's VMCALL. */
    @JsonTypeName("vmcall")
    record Vmcall(GuestExpect expect) implements GuestOp {
        @Override
        public GuestInstruction instruction() {
            return new GuestInstruction.Vmcall();
        }
    }

    /** {@code hlt}: the guest's HLT. */
    @JsonTypeName("hlt")
    record Hlt(GuestExpect expect) implements GuestOp {
        @Override
        public GuestInstruction instruction() {
            return new GuestInstruction.Hlt();
        }
    }

    /** What a guest instruction must do; absent: nothing is checked. */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "result")
    @JsonSubTypes({@JsonSubTypes.Type(GuestExpect.Retired.class), @JsonSubTypes.Type(GuestExpect.Delivered.class),
        @JsonSubTypes.Type(GuestExpect.VmExit.class)})
    sealed interface GuestExpect {
        /** It retires; {@code value} is what it read (a MOV from CR, RDMSR, IN …). */
        @JsonTypeName("retired")
        record Retired(@Hex Long value) implements GuestExpect {}

        /** An exception delivered to the guest through its IDT, without a VM exit. */
        @JsonTypeName("delivered")
        record Delivered(@Dec(max = 31, why = "exception vectors 0..31") Integer vector, @Hex(32) Long errorCode,
                @Hex Long cr2) implements GuestExpect {}

        /** A VM exit with this information (§27.2). */
        @JsonTypeName("vmExit")
        record VmExit(String reason, Qualification qualification, @Hex Long guestPhysical, @Hex Long guestLinear,
                Interruption interruption) implements GuestExpect {
            public VmExit {
                VmxStep.pattern(reason, null, qualification, guestPhysical, guestLinear, interruption, GUEST_REASONS);
            }

            public ExitPattern pattern() {
                return VmxStep.pattern(reason, null, qualification, guestPhysical, guestLinear, interruption,
                        GUEST_REASONS);
            }
        }

        default String result() {
            return getClass().getAnnotation(JsonTypeName.class).value();
        }
    }

    /** The exit reasons a guest instruction can cause in this reference, by SDM name (appendix C). */
    Set<ExitReason> GUEST_REASONS = Set.of(ExitReason.EXCEPTION_OR_NMI, ExitReason.EPT_VIOLATION,
            ExitReason.EPT_MISCONFIG, ExitReason.IO_INSTRUCTION, ExitReason.MSR_READ, ExitReason.MSR_WRITE,
            ExitReason.CPUID, ExitReason.VMCALL, ExitReason.HLT, ExitReason.INVLPG, ExitReason.CR_ACCESS,
            ExitReason.INVPCID);

    /** The reasons the VMCS can hold after a step: a guest instruction's, or a VM-entry failure's. */
    Set<ExitReason> VMCS_REASONS = Set.of(ExitReason.EXCEPTION_OR_NMI, ExitReason.EPT_VIOLATION,
            ExitReason.EPT_MISCONFIG, ExitReason.IO_INSTRUCTION, ExitReason.MSR_READ, ExitReason.MSR_WRITE,
            ExitReason.CPUID, ExitReason.VMCALL, ExitReason.HLT, ExitReason.INVLPG, ExitReason.CR_ACCESS,
            ExitReason.INVPCID, ExitReason.INVALID_GUEST_STATE);

    /**
     * An exit qualification: a number, or (for EPT_VIOLATION) an object naming its bits (SDM table 27-7).
     */
    @JsonDeserialize(using = Qualification.Reader.class)
    record Qualification(Long bits, EptQualification ept) {
        @JsonValue
        Object json() {
            return bits != null ? Values.hex(bits) : ept;
        }

        static final class Reader extends Values.NumberOr<EptQualification, Qualification> {
            Reader() {
                super(64, EptQualification.class);
            }

            @Override
            protected Qualification make(Long number, EptQualification fields) {
                return new Qualification(number, fields);
            }
        }
    }

    /** The bits of an EPT-violation qualification (SDM table 27-7); absent bits are not checked. */
    record EptQualification(Boolean read, Boolean write, Boolean fetch, Boolean readable, Boolean writable,
            Boolean executable, Boolean linearValid, Boolean translatedAccess) {
        static final List<String> NAMES = List.of("read", "write", "fetch", "readable", "writable", "executable",
                "linearValid", "translatedAccess");

        public EptQualification {
            Bad.requireAny("qualification", NAMES, read, write, fetch, readable, writable, executable, linearValid,
                    translatedAccess);
        }
    }

    /** The VM-exit interruption information (§24.9.2): a number, or an object naming its fields. */
    @JsonDeserialize(using = Interruption.Reader.class)
    record Interruption(Long bits, InterruptionFields fields) {
        @JsonValue
        Object json() {
            return bits != null ? Values.hex(bits) : fields;
        }

        static final class Reader extends Values.NumberOr<InterruptionFields, Interruption> {
            Reader() {
                super(32, InterruptionFields.class);
            }

            @Override
            protected Interruption make(Long number, InterruptionFields fields) {
                return new Interruption(number, fields);
            }
        }
    }

    /** The fields of the interruption information; absent fields are not checked. */
    record InterruptionFields(@Dec(max = 255, why = "bits 7:0") Integer vector,
            @Dec(max = 7, why = "bits 10:8; 3 = hardware exception") Integer type, Boolean errorCodeValid,
            @Hex(32) Long errorCode) {
        public InterruptionFields {
            Bad.requireAny("interruption", List.of("vector", "type", "errorCodeValid", "errorCode"), vector, type,
                    errorCodeValid, errorCode);
        }
    }

    /**
     * {@code ept}: store an EPT paging-structure entry (a plain memory write; nothing cached is touched).
     */
    @JsonTypeName("ept")
    record Ept(@MemoryFrame Long table, @Dec(max = 511, why = "512 entries per EPT paging structure") Integer index,
            EptEntryBits entry) implements VmxStep {
        public Ept {
            Bad.required(table, "table", "ept step");
            Bad.required(index, "index", "ept step");
            Bad.required(entry, "entry", "ept step");
        }

        @Override
        public String describe() {
            return "EPT table " + Render.hex(table) + "[" + index + "] := " + VmxRender.eptEntry(entry.value());
        }
    }

    /** An EPT entry by named fields (absent flags are 0) or as {@code raw}, not both (SDM §28.2.2). */
    record EptEntryBits(Boolean read, Boolean write, Boolean execute,
            @Dec(max = 7, why = "bits 5:3, a 3-bit memory type") Integer memoryType, Boolean ignorePat,
            Boolean largePage, Boolean accessed, Boolean dirty, @Dec(bits = 40) Long frame, @Hex Long raw) {
        public EptEntryBits {
            if (raw != null) {
                rawAlone("the entry", List.of("read", "write", "execute", "memoryType", "ignorePat", "largePage",
                        "accessed", "dirty", "frame"), read, write, execute, memoryType, ignorePat, largePage,
                        accessed, dirty, frame);
            }
        }

        public EptEntry value() {
            if (raw != null) {
                return new EptEntry(raw);
            }
            return EptEntry.NOT_PRESENT.withReadable(t(read)).withWritable(t(write)).withExecutable(t(execute))
                    .withMemoryType(memoryType == null ? 0 : memoryType).withIgnorePat(t(ignorePat))
                    .withLargePage(t(largePage)).withAccessed(t(accessed)).withDirty(t(dirty))
                    .withFrame(frame == null ? 0 : frame);
        }

        private static boolean t(Boolean b) {
            return Boolean.TRUE.equals(b);
        }
    }

    /** INVVPID types (§30, INVVPID) as a scenario names them. */
    enum InvvpidKind {
        @JsonProperty("individualAddress") INDIVIDUAL_ADDRESS,
        @JsonProperty("singleContext") SINGLE_CONTEXT,
        @JsonProperty("allContext") ALL_CONTEXT,
        @JsonProperty("singleContextRetainingGlobals") SINGLE_CONTEXT_RETAINING_GLOBALS;

        InvvpidType type() {
            return InvvpidType.valueOf(name());
        }
    }

    /** {@code invvpid}: INVVPID in root operation (§28.3.3.1). */
    @JsonTypeName("invvpid")
    record Invvpid(InvvpidKind type, @Dec(max = 0xFFFF, why = "16 bits") Integer vpid, @Hex Long linear,
            RootExpect expect) implements VmxStep {
        public Invvpid {
            Bad.required(type, "type", "invvpid step");
            if (type != InvvpidKind.ALL_CONTEXT) {
                Bad.required(vpid, "vpid", "invvpid step");
            }
            if (type == InvvpidKind.INDIVIDUAL_ADDRESS) {
                Bad.required(linear, "linear", "invvpid step");
            } else if (linear != null) {
                throw Bad.at("linear", "only the individualAddress type uses the descriptor's linear address");
            }
        }

        @Override
        public String describe() {
            return VmxRender.invvpidType(type.type()) + " VPID " + Render.hex(vpid == null ? 0 : vpid)
                    + (type == InvvpidKind.INDIVIDUAL_ADDRESS ? " linear " + Render.hex(linear) : "");
        }
    }

    /** INVEPT types as a scenario names them. */
    enum InveptKind {
        @JsonProperty("singleContext") SINGLE_CONTEXT,
        @JsonProperty("allContext") ALL_CONTEXT;

        InveptType type() {
            return InveptType.valueOf(name());
        }
    }

    /** {@code invept}: INVEPT in root operation (§28.3.3.1). */
    @JsonTypeName("invept")
    record Invept(InveptKind type, EptpFields eptp, RootExpect expect) implements VmxStep {
        public Invept {
            Bad.required(type, "type", "invept step");
            if (type == InveptKind.SINGLE_CONTEXT) {
                Bad.required(eptp, "eptp", "invept step");
            }
        }

        @Override
        public String describe() {
            return type == InveptKind.SINGLE_CONTEXT ? "single-context EPTP " + Render.hex(eptp.value())
                    : "all-context";
        }
    }

    /** What INVVPID or INVEPT must do; absent: succeed. */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "result")
    @JsonSubTypes({@JsonSubTypes.Type(RootExpect.Succeeded.class), @JsonSubTypes.Type(RootExpect.VmFail.class)})
    sealed interface RootExpect {
        @JsonTypeName("succeeded")
        record Succeeded() implements RootExpect {}

        /** VMfailValid with the VM-instruction error, if given. */
        @JsonTypeName("vmFail")
        record VmFail(@Dec(bits = 32) Integer error) implements RootExpect {}

        default String result() {
            return getClass().getAnnotation(JsonTypeName.class).value();
        }
    }

    /** The VMX modes as a scenario names them. */
    enum Mode {
        @JsonProperty("root") ROOT,
        @JsonProperty("nonRoot") NON_ROOT;

        static Mode of(VmxMode m) {
            return m == VmxMode.ROOT ? ROOT : NON_ROOT;
        }

        String word() {
            return Values.word(this);
        }
    }

    /**
     * {@code expectVmcs}: check the VMX mode, the launch state, the last exit's information and the VMCS guest-state
     * area; absent fields are not checked.
     */
    @JsonTypeName("expectVmcs")
    record ExpectVmcs(Mode mode, Boolean launched, ExitFields exit, GuestFields guest) implements VmxStep {
        public ExpectVmcs {
            Bad.requireAny("expectVmcs step", List.of("mode", "launched", "exit", "guest"), mode, launched, exit,
                    guest);
        }

        @Override
        public String describe() {
            return "VMX state";
        }
    }

    /** The exit information {@code expectVmcs} checks. */
    record ExitFields(String reason, Boolean entryFailure, Qualification qualification, @Hex Long guestPhysical,
            @Hex Long guestLinear, Interruption interruption) {
        public ExitFields {
            Bad.requireAny("exit", List.of("reason", "entryFailure", "qualification", "guestPhysical", "guestLinear",
                    "interruption"), reason, entryFailure, qualification, guestPhysical, guestLinear, interruption);
            pattern();
        }

        public ExitPattern pattern() {
            return VmxStep.pattern(reason, entryFailure, qualification, guestPhysical, guestLinear, interruption,
                    VMCS_REASONS);
        }
    }

    /** The exit reason named {@code name} (SDM appendix C), which must be one of {@code allowed}; null for null. */
    static ExitReason reason(String name, Set<ExitReason> allowed) {
        List<String> names = allowed.stream().map(ExitReason::name).toList();
        if (name != null && !names.contains(name)) {
            throw Bad.at("reason", org.hybridv.scenario.Binder.choiceMessage(name, names));
        }
        return name == null ? null : ExitReason.valueOf(name);
    }

    static ExitPattern pattern(String reason, Boolean entryFailure, Qualification qualification,
            Long guestPhysical, Long guestLinear, Interruption interruption, Set<ExitReason> allowed) {
        return new ExitPattern(reason(reason, allowed), entryFailure, qualification, guestPhysical, guestLinear,
                interruption);
    }

    /** The guest-state area fields {@code expectVmcs} checks (architectural values). */
    record GuestFields(@Hex Long cr0, @Hex Long cr3, @Hex Long cr4, @Hex Long efer,
            @Dec(max = 3, why = CPL_WHY) Integer cpl, Boolean ac, @Hex Long rip) {
        public GuestFields {
            Bad.requireAny("guest", List.of("cr0", "cr3", "cr4", "efer", "cpl", "ac", "rip"), cr0, cr3, cr4, efer,
                    cpl, ac, rip);
        }
    }
}
