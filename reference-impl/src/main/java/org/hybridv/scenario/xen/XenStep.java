package org.hybridv.scenario.xen;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonTypeName;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.hybridv.scenario.Bad;
import org.hybridv.scenario.MachineSpec;
import org.hybridv.scenario.Step;
import org.hybridv.scenario.Values;
import org.hybridv.scenario.Values.Dec;
import org.hybridv.scenario.Values.Hex;
import org.hybridv.scenario.Values.MemoryFrame;
import org.hybridv.scenario.x86.EntryBits;
import org.hybridv.scenario.x86.Render;
import org.hybridv.scenario.x86.X86Step;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.Entry;
import org.hybridv.xen.Errno;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.PageType;
import org.hybridv.xen.XenMachine;

/**
 * The steps of the hypervisor layer (docs/scenario-format.md, "Hypervisor"; the rules are docs/rules/xen.md): one
 * record per op, which is its own JSON form, run by {@link XenExecutors}. A vCPU step names a domain and a vCPU of the
 * machine's {@code hypervisor} section ({@link #check}).
 */
public sealed interface XenStep extends Step {
    String INDEX_WHY = "512 entries per paging structure";
    String DOMAIN_WHY = "domain ids 0..0x7fef";
    String CPL_WHY = "privilege levels 0..3";

    /** The word a file uses for {@code e}: its {@link JsonProperty} name (one place for every name table). */
    static String word(Enum<?> e) {
        return Values.word(e);
    }

    /** The constant of {@code type} that {@code pick} maps to {@code value}, or null. */
    static <E extends Enum<E>, V> E find(Class<E> type, java.util.function.Function<E, V> pick, V value) {
        return Arrays.stream(type.getEnumConstants()).filter(e -> pick.apply(e).equals(value)).findFirst()
                .orElse(null);
    }

    /** Domain {@code d} and its vCPU {@code v} exist in the machine's hypervisor section (if it has one). */
    private static void checkVcpu(MachineSpec machine, int d, int v) {
        XenMachine m = machine.section(XenModule.SECTION, XenMachine.class).orElse(null);
        if (m == null) {
            return; // the op's precondition reports the missing section when the step runs
        }
        if (!m.domains().containsKey(d)) {
            throw Bad.at("domain", "no domain d" + d + " in machine.hypervisor; domains: " + m.domains().keySet());
        }
        int n = m.domain(d).vcpus().size();
        if (v >= n) {
            throw Bad.at("vcpu", "d" + d + " has " + n + " vCPU" + (n == 1 ? "" : "s") + " (0.." + (n - 1) + ")");
        }
    }

    /** For the fields of {@code names} a form does not take ({@code takes}): the first present one is a problem. */
    private static void onlyTaken(String form, List<String> names, List<String> takes, Object... values) {
        for (int i = 0; i < values.length; i++) {
            if (!takes.contains(names.get(i))) {
                Bad.absent(form, List.of(names.get(i)), values[i]);
            }
        }
    }

    private static String vcpuText(int domain, int vcpu, Integer cpl) {
        return "d" + domain + "v" + vcpu + (cpl == null ? "" : " at CPL " + cpl);
    }

    /**
     * {@code domainPte}: the domain builder (or a device) stores a quadword into machine memory, unchecked: no page
     * type, reference count or TLB changes (what OWN-1 and TYP-1 govern for guests does not apply to it).
     */
    @JsonTypeName("domainPte")
    record DomainPte(@MemoryFrame Long table, @Dec(max = 511, why = INDEX_WHY) Integer index, EntryBits entry)
            implements XenStep {
        public DomainPte {
            Bad.required(table, "table", "domainPte step");
            Bad.required(index, "index", "domainPte step");
            Bad.required(entry, "entry", "domainPte step");
        }

        @Override
        public String describe() {
            return "frame " + Render.hex(table) + "[" + index + "] := " + Render.entry(entry.value());
        }
    }

    /** {@code expectDomainEntry}: the quadword at {@code table[index]} of machine memory equals {@code entry}. */
    @JsonTypeName("expectDomainEntry")
    record ExpectDomainEntry(@MemoryFrame Long table, @Dec(max = 511, why = INDEX_WHY) Integer index,
            EntryBits entry) implements XenStep {
        public ExpectDomainEntry {
            Bad.required(table, "table", "expectDomainEntry step");
            Bad.required(index, "index", "expectDomainEntry step");
            Bad.required(entry, "entry", "expectDomainEntry step");
        }

        @Override
        public String describe() {
            return "frame " + Render.hex(table) + "[" + index + "]";
        }
    }

    /** The hypercalls a {@code hypercall} step names (Xen's public {@code xen.h} numbers). */
    enum Call {
        @JsonProperty("mmu_update") MMU_UPDATE,
        @JsonProperty("mmuext_op") MMUEXT_OP,
        @JsonProperty("update_va_mapping") UPDATE_VA_MAPPING,
        /** Any number, RAX only (an unknown one, or a call whose arguments the format does not name). */
        @JsonProperty("other") OTHER;

        @Override
        public String toString() {
            return word(this);
        }
    }

    /** What an mmuext command's second register carries (Xen {@code struct mmuext_op}'s {@code arg1}). */
    enum Argument { MFN, LINEAR, NONE }

    /** The MMUEXT_OP commands a scenario names (Xen's public {@code xen.h}; docs/rules/xen.md, LN, MX and SP rules). */
    enum MmuextCmd {
        @JsonProperty("pinL1Table") PIN_L1_TABLE(Hypercalls.MMUEXT_PIN_L1_TABLE, Argument.MFN),
        @JsonProperty("pinL2Table") PIN_L2_TABLE(Hypercalls.MMUEXT_PIN_L2_TABLE, Argument.MFN),
        @JsonProperty("pinL3Table") PIN_L3_TABLE(Hypercalls.MMUEXT_PIN_L3_TABLE, Argument.MFN),
        @JsonProperty("pinL4Table") PIN_L4_TABLE(Hypercalls.MMUEXT_PIN_L4_TABLE, Argument.MFN),
        @JsonProperty("unpinTable") UNPIN_TABLE(Hypercalls.MMUEXT_UNPIN_TABLE, Argument.MFN),
        @JsonProperty("newBaseptr") NEW_BASEPTR(Hypercalls.MMUEXT_NEW_BASEPTR, Argument.MFN),
        @JsonProperty("tlbFlushLocal") TLB_FLUSH_LOCAL(Hypercalls.MMUEXT_TLB_FLUSH_LOCAL, Argument.NONE),
        @JsonProperty("invlpgLocal") INVLPG_LOCAL(Hypercalls.MMUEXT_INVLPG_LOCAL, Argument.LINEAR),
        @JsonProperty("tlbFlushAll") TLB_FLUSH_ALL(Hypercalls.MMUEXT_TLB_FLUSH_ALL, Argument.NONE),
        @JsonProperty("invlpgAll") INVLPG_ALL(Hypercalls.MMUEXT_INVLPG_ALL, Argument.LINEAR),
        @JsonProperty("markSuper") MARK_SUPER(Hypercalls.MMUEXT_MARK_SUPER, Argument.MFN),
        @JsonProperty("unmarkSuper") UNMARK_SUPER(Hypercalls.MMUEXT_UNMARK_SUPER, Argument.MFN);

        public final int number;
        public final Argument argument;

        MmuextCmd(int number, Argument argument) {
            this.number = number;
            this.argument = argument;
        }

        @Override
        public String toString() {
            return word(this);
        }
    }

    /** update_va_mapping's flags: the flush type and whether it reaches every vCPU (UVA-2; Xen's UVMF_*). */
    enum Uvmf {
        @JsonProperty("none") NONE(Hypercalls.UVMF_NONE),
        @JsonProperty("tlbFlush") TLB_FLUSH(Hypercalls.UVMF_TLB_FLUSH),
        @JsonProperty("invlpg") INVLPG(Hypercalls.UVMF_INVLPG),
        @JsonProperty("tlbFlushAll") TLB_FLUSH_ALL(Hypercalls.UVMF_TLB_FLUSH | Hypercalls.UVMF_ALL),
        @JsonProperty("invlpgAll") INVLPG_ALL(Hypercalls.UVMF_INVLPG | Hypercalls.UVMF_ALL);

        public final long bits;

        Uvmf(long bits) {
            this.bits = bits;
        }

        @Override
        public String toString() {
            return word(this);
        }
    }

    /**
     * {@code hypercall}: vCPU {@code vcpu} of domain {@code domain} executes VMCALL with the hypercall's number in RAX
     * and its arguments in registers (one request per call). {@code call} chooses the form, and the form the fields:
     * <ul>
     * <li>{@code mmu_update} (L1-*, LN-*, SLOT-*): {@code ptr}, or {@code table} and {@code index} (ptr = table ×
     * 4096 + index × 8, MMU_NORMAL_PT_UPDATE); {@code value}, the new entry;</li>
     * <li>{@code mmuext_op}: {@code cmd}, with {@code mfn} (pin, unpin, newBaseptr MX-3, mark/unmarkSuper) or
     * {@code linear} (invlpg*) or nothing (TLB flushes);</li>
     * <li>{@code update_va_mapping} (UVA-*): {@code va}, {@code value}, {@code flags} (default none);</li>
     * <li>{@code other}: {@code number}, no arguments.</li>
     * </ul>
     *
     * @param cpl    the guest CPL for this step only (XSA-76), or null
     * @param expect the result or refusal (errno, rule), or null to check nothing
     */
    @JsonTypeName("hypercall")
    record Hypercall(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain,
            @Dec(max = 0xFFFF, why = "vCPU indices") Integer vcpu, @Dec(max = 3, why = CPL_WHY) Integer cpl, Call call,
            @Hex Long ptr, @Dec(bits = 40) Long table, @Dec(max = 511, why = "512 entries per page table") Integer index,
            EntryBits value, MmuextCmd cmd, @Dec(bits = 40) Long mfn, @Hex Long linear, @Hex Long va, Uvmf flags,
            @Dec(bits = 32) Long number, HypercallExpect expect) implements XenStep {
        static final List<String> OPERANDS = List.of("ptr", "table", "index", "value", "cmd", "mfn", "linear", "va",
                "flags", "number");

        public Hypercall {
            Bad.required(domain, "domain", "hypercall step");
            vcpu = vcpu == null ? 0 : vcpu;
            Bad.required(call, "call", "hypercall step");
            String form = "hypercall step (call " + call + ")";
            List<String> takes = switch (call) {
                case MMU_UPDATE -> List.of("ptr", "table", "index", "value");
                case MMUEXT_OP -> List.of("cmd", "mfn", "linear");
                case UPDATE_VA_MAPPING -> List.of("va", "value", "flags");
                case OTHER -> List.of("number");
            };
            onlyTaken(form, OPERANDS, takes, ptr, table, index, value, cmd, mfn, linear, va, flags, number);
            switch (call) {
                case MMU_UPDATE -> {
                    if (ptr != null && (table != null || index != null)) {
                        throw Bad.at("ptr", "give either \"ptr\" or \"table\" and \"index\", not both");
                    }
                    if (ptr == null && (table == null || index == null)) {
                        throw Bad.object("mmu_update needs \"ptr\" or both \"table\" and \"index\"");
                    }
                    Bad.required(value, "value", form);
                }
                case MMUEXT_OP -> {
                    Bad.required(cmd, "cmd", form);
                    String cmdForm = "hypercall step (call mmuext_op, cmd " + cmd + ")";
                    Bad.absent(cmdForm, List.of("mfn"), cmd.argument == Argument.MFN ? null : mfn);
                    Bad.absent(cmdForm, List.of("linear"), cmd.argument == Argument.LINEAR ? null : linear);
                    if (cmd.argument != Argument.NONE) {
                        Bad.required(cmd.argument == Argument.MFN ? mfn : linear,
                                cmd.argument.name().toLowerCase(Locale.ROOT), cmdForm);
                    }
                }
                case UPDATE_VA_MAPPING -> {
                    Bad.required(va, "va", form);
                    Bad.required(value, "value", form);
                }
                case OTHER -> Bad.required(number, "number", form);
            }
        }

        /**
         * The step that makes vCPU {@code vcpu} of domain {@code domain} issue {@code h}: the inverse of
         * {@link #hypercall()}, except that the argument an mmuext command does not take is not written (Xen never reads
         * it). A call the format cannot say (an unknown flag, arguments of an unnamed call) is refused.
         */
        public static Hypercall of(int domain, int vcpu, org.hybridv.xen.Hypercall h) {
            long nr = h.number();
            MmuextCmd cmd = nr == Hypercalls.HYPERVISOR_MMUEXT_OP ? find(MmuextCmd.class, c -> (long) c.number,
                    h.arg(0)) : null;
            Uvmf flags = nr == Hypercalls.HYPERVISOR_UPDATE_VA_MAPPING ? find(Uvmf.class, f -> f.bits, h.arg(2))
                    : null;
            if (nr == Hypercalls.HYPERVISOR_MMU_UPDATE) {
                return new Hypercall(domain, vcpu, null, Call.MMU_UPDATE, h.arg(0), null, null, raw(h.arg(1)), null,
                        null, null, null, null, null, null);
            } else if (flags != null) {
                return new Hypercall(domain, vcpu, null, Call.UPDATE_VA_MAPPING, null, null, null, raw(h.arg(1)),
                        null, null, null, h.arg(0), flags, null, null);
            } else if (cmd != null) {
                Long arg = cmd.argument == Argument.NONE ? null : h.arg(1);
                return new Hypercall(domain, vcpu, null, Call.MMUEXT_OP, null, null, null, null, cmd,
                        cmd.argument == Argument.MFN ? arg : null, cmd.argument == Argument.LINEAR ? arg : null, null,
                        null, null, null);
            } else if (h.args().stream().allMatch(a -> a == 0)) {
                return new Hypercall(domain, vcpu, null, Call.OTHER, null, null, null, null, null, null, null, null,
                        null, nr, null);
            }
            throw new IllegalArgumentException("a hypercall step has no form for " + h);
        }

        private static EntryBits raw(long v) {
            return EntryBits.of(new Entry(v));
        }

        /** The {@code ptr} of an mmu_update: as given, or from {@code table} and {@code index}. */
        long request() {
            return ptr != null ? ptr : (table << 12) | ((long) index << 3) | Hypercalls.MMU_NORMAL_PT_UPDATE;
        }

        /** The registers the guest loads before VMCALL. */
        public org.hybridv.xen.Hypercall hypercall() {
            return switch (call) {
                case MMU_UPDATE -> org.hybridv.xen.Hypercall.mmuUpdate(request(), value.value().raw());
                case MMUEXT_OP -> org.hybridv.xen.Hypercall.mmuextOp(cmd.number, mfn != null ? mfn
                        : linear != null ? linear : 0);
                case UPDATE_VA_MAPPING -> org.hybridv.xen.Hypercall.updateVaMapping(va, value.value().raw(),
                        flags == null ? Hypercalls.UVMF_NONE : flags.bits);
                case OTHER -> org.hybridv.xen.Hypercall.of(number);
            };
        }

        @Override
        public void check(MachineSpec machine) {
            checkVcpu(machine, domain, vcpu);
        }

        @Override
        public String describe() {
            String args = switch (call) {
                case MMU_UPDATE -> "ptr " + Render.hex(request()) + " (frame " + Render.hex(request() >>> 12) + "["
                        + ((request() & 0xFFF) >>> 3) + "]) := " + Render.entry(value.value());
                case MMUEXT_OP -> cmd + (mfn != null ? " mfn " + Render.hex(mfn)
                        : linear != null ? " " + Render.hex(linear) : "");
                case UPDATE_VA_MAPPING -> Render.hex(va) + " := " + Render.entry(value.value()) + ", flags "
                        + (flags == null ? Uvmf.NONE : flags);
                case OTHER -> "number " + number;
            };
            return vcpuText(domain, vcpu, cpl) + " " + call + " " + args;
        }
    }

    /**
     * What a hypercall must do: {@code ok} (RAX = 0) or {@code refused} with the errno (RAX = −errno) and the rule of
     * docs/rules/xen.md that refused it, both optional.
     */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "result")
    @JsonSubTypes({@JsonSubTypes.Type(HypercallExpect.Ok.class), @JsonSubTypes.Type(HypercallExpect.Refused.class),
        @JsonSubTypes.Type(HypercallExpect.Waiting.class), @JsonSubTypes.Type(HypercallExpect.Preempted.class)})
    sealed interface HypercallExpect {
        @JsonTypeName("ok")
        record Ok() implements HypercallExpect {}

        @JsonTypeName("refused")
        record Refused(Errno errno, String rule) implements HypercallExpect {}

        /**
         * The hypercall sent flush IPIs and waits inside the hypervisor for the acknowledgements of the pCPUs
         * {@code awaiting} (optional, ascending; Xen rules IPI-1, IPI-2): it returns in the {@code deliverIpi} step
         * of the last of them.
         */
        @JsonTypeName("waiting")
        record Waiting(@Dec(max = 3, why = PCPU_WHY) List<Integer> awaiting) implements HypercallExpect {}

        /**
         * A batched {@code mmu_update} preempted between two requests (Xen rule MU-8): {@code done} requests applied
         * in all (also written to {@code *pdone}); the continuation its VMCALL is re-executed with starts at
         * {@code req} with {@code count} requests left (all optional).
         */
        @JsonTypeName("preempted")
        record Preempted(@Dec(bits = 32) Long done, @Hex Long req, @Dec(bits = 31) Long count)
                implements HypercallExpect {}
    }

    /** The instructions a {@code guest} step names (VMCALL is the {@code hypercall} step). */
    enum Insn {
        @JsonProperty("access") ACCESS(List.of("linear", "kind", "value", "implicitSupervisor"), "linear", "kind"),
        @JsonProperty("cpuid") CPUID(List.of("leaf", "subleaf"), "leaf"),
        @JsonProperty("rdmsr") RDMSR(List.of("msr"), "msr"),
        @JsonProperty("wrmsr") WRMSR(List.of("msr", "value"), "msr", "value"),
        @JsonProperty("movToCr0") MOV_TO_CR0(List.of("value"), "value"),
        @JsonProperty("movToCr3") MOV_TO_CR3(List.of("value"), "value"),
        @JsonProperty("movToCr4") MOV_TO_CR4(List.of("value"), "value"),
        @JsonProperty("invlpg") INVLPG(List.of("linear"), "linear"),
        @JsonProperty("hlt") HLT(List.of()),
        @JsonProperty("wrpkru") WRPKRU(List.of("value", "ecx", "edx"), "value"),
        @JsonProperty("rdpkru") RDPKRU(List.of("ecx"));

        final List<String> takes;
        final List<String> needs;

        Insn(List<String> takes, String... needs) {
            this.takes = takes;
            this.needs = List.of(needs);
        }

        /** The control register of a MOV to CR, or -1. */
        int cr() {
            return this == MOV_TO_CR0 ? 0 : this == MOV_TO_CR3 ? 3 : this == MOV_TO_CR4 ? 4 : -1;
        }

        @Override
        public String toString() {
            return word(this);
        }
    }

    /**
     * {@code guest}: vCPU {@code vcpu} of domain {@code domain} executes one instruction through
     * {@code Hypervisor.run}: it retires, raises an exception delivered through the guest IDT (SDM Vol. 3A §6.12),
     * or exits (SDM Vol. 3C §26–27) and is handled by the hypervisor (MX-*, PTW-*, HAP-* and SH-* rules). {@code insn}
     * chooses the operands: {@code access} ({@code linear}, {@code kind}, {@code value}, {@code implicitSupervisor}
     * as for {@code access}), {@code cpuid} ({@code leaf}, {@code subleaf}), {@code rdmsr} ({@code msr}),
     * {@code wrmsr} ({@code msr}, {@code value}), {@code movToCr0/3/4} ({@code value}), {@code invlpg}
     * ({@code linear}), {@code hlt}, {@code wrpkru} ({@code value} for EAX, {@code ecx}, {@code edx}: 0 when
     * absent), {@code rdpkru} ({@code ecx}: 0 when absent).
     *
     * @param cpl    the guest CPL for this instruction only, or null
     * @param expect the outcome, or null to check nothing
     */
    @JsonTypeName("guest")
    record Guest(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain,
            @Dec(max = 0xFFFF, why = "vCPU indices") Integer vcpu, Insn insn, @Hex Long linear, X86Step.Kind kind,
            @Hex Long value, @Dec(max = 3, why = CPL_WHY) Integer cpl, Boolean implicitSupervisor, @Hex(32) Long leaf,
            @Hex(32) Long subleaf, @Hex(32) Long msr, @Hex(32) Long ecx, @Hex(32) Long edx, GuestExpect expect)
            implements XenStep {
        static final List<String> OPERANDS = List.of("linear", "kind", "value", "implicitSupervisor", "leaf",
                "subleaf", "msr", "ecx", "edx");

        public Guest {
            Bad.required(domain, "domain", "guest step");
            vcpu = vcpu == null ? 0 : vcpu;
            Bad.required(insn, "insn", "guest step");
            String form = "guest step (insn " + insn + ")";
            onlyTaken(form, OPERANDS, insn.takes, linear, kind, value, implicitSupervisor, leaf, subleaf, msr, ecx,
                    edx);
            Object[] operands = {linear, kind, value, implicitSupervisor, leaf, subleaf, msr, ecx, edx};
            for (String n : insn.needs) {
                Bad.required(operands[OPERANDS.indexOf(n)], n, form);
            }
            if (insn == Insn.ACCESS) {
                X86Step.MemoryAccess.checkAccess(form, linear, kind, value, implicitSupervisor);
            }
        }

        /** The step that makes vCPU {@code vcpu} of domain {@code domain} execute {@code insn}; inverse of
         * {@link #instruction()}. An instruction the format cannot say (VMCALL, MOV to CR8 …) is refused. */
        public static Guest of(int domain, int vcpu, GuestInstruction insn) {
            Insn i;
            Long linear = null;
            X86Step.Kind kind = null;
            Long value = null;
            Boolean implicit = null;
            Long leaf = null;
            Long subleaf = null;
            Long msr = null;
            Long ecx = null;
            Long edx = null;
            if (insn instanceof GuestInstruction.MemoryAccess a) {
                Access x = a.access();
                i = Insn.ACCESS;
                linear = x.linear();
                kind = X86Step.Kind.of(x.kind());
                value = x.isWrite() ? x.value() : null;
                implicit = x.implicitSupervisor() ? true : null;
            } else if (insn instanceof GuestInstruction.MovToCr m && m.register() == 0
                    && find(Insn.class, Insn::cr, m.cr()) != null) {
                i = find(Insn.class, Insn::cr, m.cr());
                value = m.value();
            } else if (insn instanceof GuestInstruction.Invlpg x) {
                i = Insn.INVLPG;
                linear = x.linear();
            } else if (insn instanceof GuestInstruction.Cpuid c) {
                i = Insn.CPUID;
                leaf = c.leaf();
                subleaf = c.subleaf() != 0 ? c.subleaf() : null;
            } else if (insn instanceof GuestInstruction.Rdmsr r) {
                i = Insn.RDMSR;
                msr = r.msr();
            } else if (insn instanceof GuestInstruction.Wrmsr w) {
                i = Insn.WRMSR;
                msr = w.msr();
                value = w.value();
            } else if (insn instanceof GuestInstruction.Hlt) {
                i = Insn.HLT;
            } else if (insn instanceof GuestInstruction.Wrpkru w) {
                i = Insn.WRPKRU;
                value = w.eax();
                ecx = w.ecx() != 0 ? w.ecx() : null;
                edx = w.edx() != 0 ? w.edx() : null;
            } else if (insn instanceof GuestInstruction.Rdpkru r) {
                i = Insn.RDPKRU;
                ecx = r.ecx() != 0 ? r.ecx() : null;
            } else {
                throw new IllegalArgumentException("a guest step has no form for " + insn + " (VMCALL is a"
                        + " hypercall step; MOV to CR uses register 0)");
            }
            return new Guest(domain, vcpu, i, linear, kind, value, null, implicit, leaf, subleaf, msr, ecx, edx, null);
        }

        /** The instruction the vCPU executes. */
        public GuestInstruction instruction() {
            return switch (insn) {
                case ACCESS -> new GuestInstruction.MemoryAccess(new Access(linear, kind.kind,
                        Boolean.TRUE.equals(implicitSupervisor), value == null ? 0 : value));
                case CPUID -> new GuestInstruction.Cpuid(leaf, subleaf == null ? 0 : subleaf);
                case RDMSR -> new GuestInstruction.Rdmsr(msr);
                case WRMSR -> new GuestInstruction.Wrmsr(msr, value);
                case MOV_TO_CR0, MOV_TO_CR3, MOV_TO_CR4 -> new GuestInstruction.MovToCr(insn.cr(), value, 0);
                case INVLPG -> new GuestInstruction.Invlpg(linear);
                case HLT -> new GuestInstruction.Hlt();
                case WRPKRU -> new GuestInstruction.Wrpkru(value, ecx == null ? 0 : ecx, edx == null ? 0 : edx);
                case RDPKRU -> new GuestInstruction.Rdpkru(ecx == null ? 0 : ecx);
            };
        }

        @Override
        public void check(MachineSpec machine) {
            checkVcpu(machine, domain, vcpu);
        }

        @Override
        public String describe() {
            String text = switch (insn) {
                case ACCESS -> word(kind) + " " + Render.hex(linear) + (kind == X86Step.Kind.WRITE ? " value "
                        + Render.hex(value == null ? 0 : value) : "");
                case CPUID -> "CPUID EAX " + Render.hex(leaf);
                case RDMSR -> "RDMSR " + Render.hex(msr);
                case WRMSR -> "WRMSR " + Render.hex(msr) + " value " + Render.hex(value);
                case MOV_TO_CR0, MOV_TO_CR3, MOV_TO_CR4 -> "MOV CR" + insn.cr() + ", " + Render.hex(value);
                case INVLPG -> "INVLPG " + Render.hex(linear);
                case HLT -> "HLT";
                case WRPKRU -> "WRPKRU EAX " + Render.hex(value) + (ecx != null ? " ECX " + Render.hex(ecx) : "")
                        + (edx != null ? " EDX " + Render.hex(edx) : "");
                case RDPKRU -> "RDPKRU" + (ecx != null ? " ECX " + Render.hex(ecx) : "");
            };
            return vcpuText(domain, vcpu, cpl) + " " + text;
        }
    }

    /**
     * What a {@code guest} step must do: the {@code VcpuOutcome} by its word, with its facts (every one optional),
     * and {@code exits}, the VM exits the processor went through for this vCPU in the step (0..5: a shadow-mode access
     * takes a #PF exit per shadow fill, SH-*).
     */
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "result")
    @JsonSubTypes({@JsonSubTypes.Type(GuestExpect.Retired.class), @JsonSubTypes.Type(GuestExpect.Delivered.class),
        @JsonSubTypes.Type(GuestExpect.Resumed.class), @JsonSubTypes.Type(GuestExpect.Cpuid.class),
        @JsonSubTypes.Type(GuestExpect.Emulated.class), @JsonSubTypes.Type(GuestExpect.Injected.class),
        @JsonSubTypes.Type(GuestExpect.Blocked.class), @JsonSubTypes.Type(GuestExpect.GuestError.class),
        @JsonSubTypes.Type(GuestExpect.NotModelled.class), @JsonSubTypes.Type(GuestExpect.EntryFailed.class),
        @JsonSubTypes.Type(GuestExpect.InHypercall.class)})
    sealed interface GuestExpect {
        String EXITS_WHY = "a guest step causes at most five VM exits (shadow fills)";
        String VECTOR_WHY = "exception vectors 0..31";

        Integer exits();

        /** The result word ({@code "retired"} …). */
        default String result() {
            return getClass().getAnnotation(JsonTypeName.class).value();
        }

        /** Completed in the guest, no exit: the data read or the register loaded. */
        @JsonTypeName("retired")
        record Retired(@Hex Long value, @Dec(max = 5, why = EXITS_WHY) Integer exits) implements GuestExpect {}

        /** An exception delivered through the guest IDT without an exit (a #PF wrote CR2; SDM Vol. 3A §4.7). */
        @JsonTypeName("delivered")
        record Delivered(@Dec(max = 31, why = VECTOR_WHY) Integer vector, @Hex(32) Long errorCode, @Hex Long cr2,
                @Dec(max = 5, why = EXITS_WHY) Integer exits) implements GuestExpect {}

        /** An exit handled and the guest resumed (e.g. MSR_WRITE, CR_ACCESS with MX-3). */
        @JsonTypeName("resumed")
        record Resumed(ExitReason reason, @Hex Long value, String rule, @Dec(max = 5, why = EXITS_WHY) Integer exits)
                implements GuestExpect {}

        /** The CPUID exit's registers (the hypervisor's leaves 0x40000000…). */
        @JsonTypeName("cpuid")
        record Cpuid(@Hex(32) Long eax, @Hex(32) Long ebx, @Hex(32) Long ecx, @Hex(32) Long edx,
                @Dec(max = 5, why = EXITS_WHY) Integer exits) implements GuestExpect {}

        /** A #PF exit emulated as a page-table write (PTW-1..3). */
        @JsonTypeName("emulated")
        record Emulated(@Hex Long linear, @Hex Long value, String rule, @Dec(max = 5, why = EXITS_WHY) Integer exits)
                implements GuestExpect {}

        /** The handler injected an exception (for #PF after writing CR2). */
        @JsonTypeName("injected")
        record Injected(ExitReason reason, @Dec(max = 31, why = VECTOR_WHY) Integer vector, @Hex(32) Long errorCode,
                @Hex Long cr2, String rule, @Dec(max = 5, why = EXITS_WHY) Integer exits) implements GuestExpect {}

        /** HLT: the vCPU waits. */
        @JsonTypeName("blocked")
        record Blocked(@Dec(max = 5, why = EXITS_WHY) Integer exits) implements GuestExpect {}

        /** An EPT violation the hypervisor does not resolve (HAP-*; Xen crashes the domain). */
        @JsonTypeName("guestError")
        record GuestError(ExitReason reason, @Hex Long guestPhysical, String rule,
                @Dec(max = 5, why = EXITS_WHY) Integer exits) implements GuestExpect {}

        /** What the reference does not model. */
        @JsonTypeName("notModelled")
        record NotModelled(ExitReason reason, @Dec(max = 5, why = EXITS_WHY) Integer exits) implements GuestExpect {}

        /** VM entry failed (SDM Vol. 3C §26.2–26.8). */
        @JsonTypeName("entryFailed")
        record EntryFailed(@Dec(max = 5, why = EXITS_WHY) Integer exits) implements GuestExpect {}

        /**
         * Nothing ran: the pCPU is inside vCPU {@code vcpu}'s hypercall, which waits for flush acknowledgements (Xen
         * rule IPI-5; the vCPU itself or another placed on that pCPU).
         */
        @JsonTypeName("inHypercall")
        record InHypercall(String vcpu, @Dec(max = 5, why = EXITS_WHY) Integer exits) implements GuestExpect {}
    }

    /** An invariant's verdict as {@code expect} names it. */
    enum InvariantState {
        @JsonProperty("holds") HOLDS,
        @JsonProperty("violated") VIOLATED;

        public static InvariantState of(boolean holds) {
            return holds ? HOLDS : VIOLATED;
        }

        @Override
        public String toString() {
            return word(this);
        }
    }

    /** The verdicts a {@code checkInvariants} step expects; at least one. */
    record XenInvariants(@JsonProperty("I1") InvariantState I1, @JsonProperty("I2") InvariantState I2,
            @JsonProperty("I6") InvariantState I6, @JsonProperty("I7") InvariantState I7) {
        public XenInvariants {
            Bad.requireAny("expect", List.of("I1", "I2", "I6", "I7"), I1, I2, I6, I7);
        }
    }

    /**
     * {@code checkInvariants}: I1 isolation, I2 page-table integrity (then translation integrity), I6 TLB coherence
     * on the state, and I7 exit correctness over every vCPU step so far (docs/hypervisor.md); {@code expect} gives a
     * verdict per invariant, or is absent (the step only shows).
     */
    @JsonTypeName("checkInvariants")
    record CheckInvariants(XenInvariants expect) implements XenStep {
        /** A step expecting {@code invariant} (I1, I2, I6 or I7) to be in {@code state}. */
        public static CheckInvariants of(String invariant, InvariantState state) {
            return new CheckInvariants(new XenInvariants(invariant.equals("I1") ? state : null,
                    invariant.equals("I2") ? state : null, invariant.equals("I6") ? state : null,
                    invariant.equals("I7") ? state : null));
        }

        @Override
        public String describe() {
            return "I1 isolation, I2 page-table integrity, I6 TLB coherence, I7 exit correctness";
        }
    }

    String PCPU_WHY = "pCPUs 0..3 (XenMachine.MAX_PCPUS = 4)";

    /** pCPU {@code q} exists in the machine's hypervisor section (if it has one). */
    private static void checkPcpu(MachineSpec machine, int q) {
        XenMachine m = machine.section(XenModule.SECTION, XenMachine.class).orElse(null);
        if (m != null && q >= m.pcpuCount()) {
            throw Bad.at("pcpu", "the machine has " + m.pcpuCount() + " pCPU" + (m.pcpuCount() == 1 ? "" : "s")
                    + " (0.." + (m.pcpuCount() - 1) + "; machine.hypervisor.pcpus)");
        }
    }

    /**
     * What a {@code schedule} step expects (at least one fact): the pCPU the vCPU left ({@code from}), its VMCS launch
     * state after the step ({@code launched}: false means the next entry is VMLAUNCH, MIG-1), how many entries tagged
     * with its VPID the destination's TLB holds after the step ({@code vpidEntries}, MIG-2), and the verdict of the
     * step's MIG-1/MIG-2 post-conditions ({@code migration}).
     */
    record ScheduleExpect(@Dec(max = 3, why = PCPU_WHY) Integer from, Boolean launched,
            @Dec(max = Integer.MAX_VALUE, why = "a count") Integer vpidEntries, InvariantState migration) {
        public ScheduleExpect {
            Bad.requireAny("expect", List.of("from", "launched", "vpidEntries", "migration"), from, launched,
                    vpidEntries, migration);
        }
    }

    /**
     * {@code schedule}: the hypervisor's scheduler places vCPU {@code vcpu} of domain {@code domain} on pCPU
     * {@code pcpu} (docs/smp.md; MIG-1, MIG-2); the vCPU does not run. The step's post-conditions are checked and a
     * violation is kept for {@code checkInvariants}' I6.
     */
    @JsonTypeName("schedule")
    record Schedule(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain,
            @Dec(max = 0xFFFF, why = "vCPU indices") Integer vcpu, @Dec(max = 3, why = PCPU_WHY) Integer pcpu,
            ScheduleExpect expect) implements XenStep {
        public Schedule {
            Bad.required(domain, "domain", "schedule step");
            vcpu = vcpu == null ? 0 : vcpu;
            Bad.required(pcpu, "pcpu", "schedule step");
        }

        @Override
        public void check(MachineSpec machine) {
            checkVcpu(machine, domain, vcpu);
            checkPcpu(machine, pcpu);
        }

        @Override
        public String describe() {
            return vcpuText(domain, vcpu, null) + " → pCPU " + pcpu;
        }
    }

    /**
     * {@code expectPcpu}: what pCPU {@code pcpu} holds: the vCPU whose VMCS is current on it ({@code current}, "d1v0"
     * or "none"), how many TLB entries it holds ({@code entries}; with {@code vpid}, those tagged with that VPID),
     * its TLB-flush clock time ({@code clockTime}: the clock's value at its last whole flush, Xen rule TLB-8) and the
     * domains whose dirty CPU mask holds it ({@code dirtyFor}, ascending; Xen rule TLB-9).
     */
    @JsonTypeName("expectPcpu")
    record ExpectPcpu(@Dec(max = 3, why = PCPU_WHY) Integer pcpu, String current,
            @Dec(max = 0xFFFF, why = "VPIDs 0..0xffff") Integer vpid,
            @Dec(max = Integer.MAX_VALUE, why = "a count") Integer entries,
            @Dec(max = 0xFFFFFFFFL, why = "a 32-bit clock value") Long clockTime,
            @Dec(max = FrameInfo.MAX_DOMAIN, why = "domain ids") List<Integer> dirtyFor,
            @Dec(max = Integer.MAX_VALUE, why = "a count") Integer pendingIpis, String inHypercall)
            implements XenStep {
        /** The expectations of the single-IPI model (no pending IPIs or waiting hypercall checked). */
        public ExpectPcpu(Integer pcpu, String current, Integer vpid, Integer entries, Long clockTime,
                List<Integer> dirtyFor) {
            this(pcpu, current, vpid, entries, clockTime, dirtyFor, null, null);
        }

        public ExpectPcpu {
            Bad.required(pcpu, "pcpu", "expectPcpu step");
            Bad.requireAny("expectPcpu step", List.of("current", "entries", "clockTime", "dirtyFor", "pendingIpis",
                    "inHypercall"), current, entries, clockTime, dirtyFor, pendingIpis, inHypercall);
            if (inHypercall != null && !inHypercall.equals("none") && !inHypercall.matches("d[0-9]+v[0-9]+")) {
                throw Bad.at("inHypercall", "a vCPU as \"d1v0\" (domain 1, vCPU 0) or \"none\", not \""
                        + Values.quote(inHypercall) + "\"");
            }
            if (vpid != null && entries == null) {
                throw Bad.at("vpid", "\"vpid\" chooses which entries \"entries\" counts: give \"entries\" too");
            }
            if (current != null && !current.equals("none") && !current.matches("d[0-9]+v[0-9]+")) {
                throw Bad.at("current", "a vCPU as \"d1v0\" (domain 1, vCPU 0) or \"none\", not \""
                        + Values.quote(current) + "\"");
            }
        }

        @Override
        public void check(MachineSpec machine) {
            checkPcpu(machine, pcpu);
        }

        @Override
        public String describe() {
            return "pCPU " + pcpu;
        }
    }

    /**
     * What a {@code deliverIpi} step expects (at least one fact): how many flush requests the handler handled
     * ({@code handled}), the vCPUs whose hypercall the acknowledgement completed ({@code completed}, "d1v0", in vCPU
     * order) and each one's result word ({@code results}: "ok", "refused" or "waiting" when a type change executed
     * again sent IPIs again).
     */
    record DeliverExpect(@Dec(max = Integer.MAX_VALUE, why = "a count") Integer handled, List<String> completed,
            List<String> results) {
        public DeliverExpect {
            Bad.requireAny("expect", List.of("handled", "completed", "results"), handled, completed, results);
            for (String c : completed == null ? List.<String>of() : completed) {
                if (!c.matches("d[0-9]+v[0-9]+")) {
                    throw Bad.at("completed", "a vCPU as \"d1v0\" (domain 1, vCPU 0), not \"" + Values.quote(c)
                            + "\"");
                }
            }
            for (String r : results == null ? List.<String>of() : results) {
                if (!List.of("ok", "refused", "waiting").contains(r)) {
                    throw Bad.at("results", "\"ok\", \"refused\" or \"waiting\", not \"" + Values.quote(r) + "\"");
                }
            }
        }
    }

    /**
     * {@code deliverIpi}: pCPU {@code pcpu} takes the flush IPIs pending on it (Xen rule IPI-1: the handler flushes in
     * each request's scope and acknowledges); a hypercall whose last acknowledgement this is completes (IPI-2, IPI-3).
     * Nothing pending: nothing happens (result {@code "none"}).
     */
    @JsonTypeName("deliverIpi")
    record DeliverIpi(@Dec(max = 3, why = PCPU_WHY) Integer pcpu, DeliverExpect expect) implements XenStep {
        public DeliverIpi {
            Bad.required(pcpu, "pcpu", "deliverIpi step");
        }

        @Override
        public void check(MachineSpec machine) {
            checkPcpu(machine, pcpu);
        }

        @Override
        public String describe() {
            return "flush IPIs on pCPU " + pcpu;
        }
    }

    /**
     * {@code continueHypercall}: vCPU {@code vcpu} of domain {@code domain}, inside a hypercall that goes on entry by
     * entry, takes its next step on its pCPU (Xen rule TYP-8: a pin on several pCPUs validates its table one entry per
     * step, then validates and pins it and returns). {@code expect} as a {@code hypercall} step's: {@code waiting}
     * while entries remain, then {@code ok} or {@code refused}.
     */
    @JsonTypeName("continueHypercall")
    record ContinueHypercall(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain,
            @Dec(max = 0xFFFF, why = "vCPU indices") Integer vcpu, HypercallExpect expect) implements XenStep {
        public ContinueHypercall {
            Bad.required(domain, "domain", "continueHypercall step");
            vcpu = vcpu == null ? 0 : vcpu;
        }

        @Override
        public void check(MachineSpec machine) {
            checkVcpu(machine, domain, vcpu);
        }

        @Override
        public String describe() {
            return vcpuText(domain, vcpu, null) + " continues its hypercall";
        }
    }

    /** Page types as a scenario names them (TYP-1: a frame has one type at a time). */
    enum FrameType {
        @JsonProperty("none") NONE(PageType.NONE),
        @JsonProperty("writable") WRITABLE(PageType.WRITABLE),
        @JsonProperty("L1") L1(PageType.L1),
        @JsonProperty("L2") L2(PageType.L2),
        @JsonProperty("L3") L3(PageType.L3),
        @JsonProperty("L4") L4(PageType.L4);

        public final PageType type;

        FrameType(PageType type) {
            this.type = type;
        }

        @Override
        public String toString() {
            return word(this);
        }
    }

    /** A frame's owner (OWN-1): a domain id, {@code "xen"} (dom_xen) or {@code "free"}. */
    record Owner(int id) {
        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        static Owner read(JsonNode n) {
            if (n.isTextual() && !Values.HEX.matcher(n.textValue()).matches()) {
                return switch (n.textValue()) {
                    case "xen" -> new Owner(FrameInfo.XEN);
                    case "free" -> new Owner(FrameInfo.FREE);
                    default -> throw Bad.at(null, "an owner is a domain id or \"xen\" (dom_xen) or \"free\", not \""
                            + Values.quote(n.textValue()) + "\"");
                };
            }
            return new Owner((int) Values.inRange(n, 0, FrameInfo.MAX_DOMAIN, DOMAIN_WHY));
        }

        @JsonValue
        Object written() {
            return id == FrameInfo.XEN ? "xen" : id == FrameInfo.FREE ? "free" : (Object) id;
        }

        @Override
        public String toString() {
            return id == FrameInfo.XEN ? "xen" : id == FrameInfo.FREE ? "free" : "d" + id;
        }
    }

    /**
     * {@code expectFrame}: the frame table's entry for machine frame {@code mfn} (Xen's {@code struct page_info}: owner
     * OWN-*, type and type count TYP-*, general count, validated, pinned); at least one field besides {@code mfn}.
     */
    @JsonTypeName("expectFrame")
    record ExpectFrame(@MemoryFrame Long mfn, Owner owner, FrameType type,
            @Dec(max = Integer.MAX_VALUE, why = "a count") Integer typeCount,
            @Dec(max = Integer.MAX_VALUE, why = "a count") Integer count, Boolean validated, Boolean pinned)
            implements XenStep {
        public ExpectFrame {
            Bad.required(mfn, "mfn", "expectFrame step");
            Bad.requireAny("expectFrame step", List.of("owner", "type", "typeCount", "count", "validated", "pinned"),
                    owner, type, typeCount, count, validated, pinned);
        }

        @Override
        public String describe() {
            return "frame " + Render.hex(mfn);
        }
    }

    /** The vCPU-mask commands of {@code mmuext_op} (Xen rule MX-7). */
    enum MultiCmd {
        @JsonProperty("tlbFlushMulti") TLB_FLUSH_MULTI(Hypercalls.MMUEXT_TLB_FLUSH_MULTI),
        @JsonProperty("invlpgMulti") INVLPG_MULTI(Hypercalls.MMUEXT_INVLPG_MULTI);

        public final int number;

        MultiCmd(int number) {
            this.number = number;
        }

        @Override
        public String toString() {
            return word(this);
        }
    }

    /**
     * {@code mmuextMulti}: vCPU {@code vcpu} of domain {@code domain} issues {@code mmuext_op} with
     * {@code tlbFlushMulti} or {@code invlpgMulti} ({@code linear}) for the vCPUs of its domain named by
     * {@code vcpumask} (bit i: vCPU i; Xen rule MX-7: the pCPUs those vCPUs run on are flushed, and only those), with
     * its result or refusal as a {@code hypercall} step's.
     */
    @JsonTypeName("mmuextMulti")
    record MmuextMulti(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain,
            @Dec(max = 0xFFFF, why = "vCPU indices") Integer vcpu, MultiCmd cmd, @Hex Long linear,
            @Hex Long vcpumask, HypercallExpect expect) implements XenStep {
        public MmuextMulti {
            Bad.required(domain, "domain", "mmuextMulti step");
            vcpu = vcpu == null ? 0 : vcpu;
            Bad.required(cmd, "cmd", "mmuextMulti step");
            Bad.required(vcpumask, "vcpumask", "mmuextMulti step");
            String form = "mmuextMulti step (cmd " + cmd + ")";
            if (cmd == MultiCmd.INVLPG_MULTI) {
                Bad.required(linear, "linear", form);
            } else {
                Bad.absent(form, List.of("linear"), linear);
            }
        }

        /** The registers the guest loads before VMCALL: (cmd, linear, vcpumask). */
        public org.hybridv.xen.Hypercall hypercall() {
            return org.hybridv.xen.Hypercall.mmuextMulti(cmd.number, linear == null ? 0 : linear, vcpumask);
        }

        @Override
        public void check(MachineSpec machine) {
            checkVcpu(machine, domain, vcpu);
        }

        @Override
        public String describe() {
            return vcpuText(domain, vcpu, null) + " mmuext_op " + cmd + (linear != null ? " " + Render.hex(linear)
                    : "") + " vCPUs " + Render.hex(vcpumask);
        }
    }

    /**
     * {@code mmuUpdateBatch}: vCPU {@code vcpu} of domain {@code domain} issues the batched {@code mmu_update(req,
     * count, pdone, DOMID_SELF)} (Xen rule MU-7): {@code count} 16-byte requests ({@code ptr}, {@code val}) at
     * guest-linear {@code req}, read through the vCPU's translation; {@code pdone} (optional) receives the count done;
     * {@code preempted} (default false) sets {@code MMU_UPDATE_PREEMPTED}: the VMCALL re-executed with a preempted
     * batch's continuation (MU-8). Its result as a {@code hypercall} step's: on several pCPUs {@code waiting} while
     * requests remain ({@code continueHypercall} applies the next; {@code preemptHypercall} returns to the guest).
     */
    @JsonTypeName("mmuUpdateBatch")
    record MmuUpdateBatch(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain,
            @Dec(max = 0xFFFF, why = "vCPU indices") Integer vcpu, @Hex Long req,
            @Dec(bits = 31) Long count, @Hex Long pdone, Boolean preempted, HypercallExpect expect)
            implements XenStep {
        public MmuUpdateBatch {
            Bad.required(domain, "domain", "mmuUpdateBatch step");
            vcpu = vcpu == null ? 0 : vcpu;
            Bad.required(req, "req", "mmuUpdateBatch step");
            Bad.required(count, "count", "mmuUpdateBatch step");
        }

        /** The registers the guest loads before VMCALL: (req, count, pdone, DOMID_SELF). */
        public org.hybridv.xen.Hypercall hypercall() {
            return org.hybridv.xen.MmuBatch.batch(req, count | (Boolean.TRUE.equals(preempted)
                    ? org.hybridv.xen.MmuBatch.MMU_UPDATE_PREEMPTED : 0), pdone == null ? 0 : pdone);
        }

        @Override
        public void check(MachineSpec machine) {
            checkVcpu(machine, domain, vcpu);
        }

        @Override
        public String describe() {
            return vcpuText(domain, vcpu, null) + " mmu_update of " + count + " request" + (count == 1 ? "" : "s")
                    + " at " + Render.hex(req) + (pdone != null ? ", done to " + Render.hex(pdone) : "")
                    + (Boolean.TRUE.equals(preempted) ? " (a continuation)" : "");
        }
    }

    /**
     * {@code preemptHypercall}: vCPU {@code vcpu} of domain {@code domain}, inside a batched {@code mmu_update} between
     * two requests, is preempted (Xen rule MU-8, {@code hypercall_create_continuation}): {@code *pdone} receives the
     * count done and the vCPU returns to its guest with the continuation's registers. {@code expect}: a
     * {@code hypercall} step's, {@code preempted} (with the count done and the continuation's {@code req} and
     * {@code count}).
     */
    @JsonTypeName("preemptHypercall")
    record PreemptHypercall(@Dec(max = FrameInfo.MAX_DOMAIN, why = DOMAIN_WHY) Integer domain,
            @Dec(max = 0xFFFF, why = "vCPU indices") Integer vcpu, HypercallExpect expect) implements XenStep {
        public PreemptHypercall {
            Bad.required(domain, "domain", "preemptHypercall step");
            vcpu = vcpu == null ? 0 : vcpu;
        }

        @Override
        public void check(MachineSpec machine) {
            checkVcpu(machine, domain, vcpu);
        }

        @Override
        public String describe() {
            return vcpuText(domain, vcpu, null) + " is preempted inside its hypercall";
        }
    }
}
