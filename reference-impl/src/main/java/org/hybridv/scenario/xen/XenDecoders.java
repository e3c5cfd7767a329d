package org.hybridv.scenario.xen;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.TreeMap;
import org.hybridv.guest.Layout;
import org.hybridv.guest.Loader;
import org.hybridv.scenario.DecodeContext;
import org.hybridv.scenario.Fields;
import org.hybridv.scenario.JsonValue;
import org.hybridv.scenario.MachineSpec;
import org.hybridv.scenario.x86.X86Decoders.AccessOperands;
import org.hybridv.scenario.x86.Render;
import org.hybridv.scenario.x86.X86Decoders;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Entry;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.xen.Domains;
import org.hybridv.xen.Errno;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.HvResult;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.XenMachine;

/**
 * Decodes the {@code hypervisor} section of {@code machine} (building the {@link XenMachine} with the reference's
 * domain builder, so a refused construction is an input error at the offending field with the reference's reason)
 * and the hypervisor steps. Strict like the other layers: unknown fields, fields that do not belong to the chosen
 * hypercall or instruction, and out-of-range values are located errors.
 */
final class XenDecoders {
    private XenDecoders() {}

    static final List<String> HYPERVISOR = List.of("xenFrames", "domains");
    static final List<String> DOMAIN = List.of("id", "mode", "frames", "p2m", "memory", "vcpus", "kernel");
    static final List<String> VCPU = List.of("vpid", "cr3", "cpl");
    static final List<String> MEMORY = List.of("table", "index", "entry");
    static final List<String> DOMAIN_PTE = List.of("table", "index", "entry");
    static final List<String> HYPERCALL = List.of("domain", "vcpu", "cpl", "call", "ptr", "table", "index", "value",
            "cmd", "mfn", "linear", "va", "flags", "number", "expect");
    static final List<String> GUEST = List.of("domain", "vcpu", "insn", "linear", "kind", "value", "cpl",
            "implicitSupervisor", "leaf", "subleaf", "msr", "expect");
    static final List<String> CHECK_INVARIANTS = List.of("expect");
    static final List<String> EXPECT_FRAME = List.of("mfn", "owner", "type", "typeCount", "count", "validated",
            "pinned");

    static final Map<String, MmuMode> MODES = Map.of("shadow", MmuMode.SHADOW, "direct", MmuMode.DIRECT, "hap",
            MmuMode.HAP);
    static final Map<String, Integer> MMUEXT = new TreeMap<>(Map.ofEntries(
            Map.entry("pinL1Table", Hypercalls.MMUEXT_PIN_L1_TABLE),
            Map.entry("pinL2Table", Hypercalls.MMUEXT_PIN_L2_TABLE),
            Map.entry("pinL3Table", Hypercalls.MMUEXT_PIN_L3_TABLE),
            Map.entry("pinL4Table", Hypercalls.MMUEXT_PIN_L4_TABLE),
            Map.entry("unpinTable", Hypercalls.MMUEXT_UNPIN_TABLE),
            Map.entry("newBaseptr", Hypercalls.MMUEXT_NEW_BASEPTR),
            Map.entry("tlbFlushLocal", Hypercalls.MMUEXT_TLB_FLUSH_LOCAL),
            Map.entry("invlpgLocal", Hypercalls.MMUEXT_INVLPG_LOCAL),
            Map.entry("tlbFlushAll", Hypercalls.MMUEXT_TLB_FLUSH_ALL),
            Map.entry("invlpgAll", Hypercalls.MMUEXT_INVLPG_ALL),
            Map.entry("markSuper", Hypercalls.MMUEXT_MARK_SUPER),
            Map.entry("unmarkSuper", Hypercalls.MMUEXT_UNMARK_SUPER)));
    /** The guest's MOV to CR{@code n} instructions by {@code insn} name. */
    static final Map<String, Integer> MOV_TO_CR = Map.of("movToCr0", 0, "movToCr3", 3, "movToCr4", 4);

    /** The field carrying an mmuext command's argument ({@code mfn} or {@code linear}), or null if it takes none. */
    static String mmuextArgument(int cmd) {
        if (cmd <= Hypercalls.MMUEXT_NEW_BASEPTR || cmd == Hypercalls.MMUEXT_MARK_SUPER
                || cmd == Hypercalls.MMUEXT_UNMARK_SUPER) {
            return "mfn";
        }
        return cmd == Hypercalls.MMUEXT_INVLPG_LOCAL || cmd == Hypercalls.MMUEXT_INVLPG_ALL ? "linear" : null;
    }

    static final Map<String, Long> UVMF = Map.of("none", Hypercalls.UVMF_NONE, "tlbFlush", Hypercalls.UVMF_TLB_FLUSH,
            "invlpg", Hypercalls.UVMF_INVLPG, "tlbFlushAll", Hypercalls.UVMF_TLB_FLUSH | Hypercalls.UVMF_ALL,
            "invlpgAll", Hypercalls.UVMF_INVLPG | Hypercalls.UVMF_ALL);
    static final Map<String, String> ERRNO = errnos();
    static final Map<String, String> PAGE_TYPES = Map.of("none", "none", "writable", "writable", "L1", "L1", "L2",
            "L2", "L3", "L3", "L4", "L4");

    private static final int FRAME_BITS = 40;

    private static Map<String, String> errnos() {
        Map<String, String> m = new TreeMap<>();
        for (Errno e : Errno.values()) {
            m.put(e.name(), e.name());
        }
        return m;
    }

    // ------------------------------------------------------------------ the machine's hypervisor section

    /**
     * The {@code hypervisor} section: {@link XenMachine#boot} with {@code xenFrames}, then per domain in order
     * {@link Domains#create}, its {@code memory} writes (the builder's, before any vCPU exists), and
     * {@link Domains#addVcpu} per vCPU (in direct mode the vCPU's CR3 is validated as MMUEXT_NEW_BASEPTR would). The
     * scenario's seeded faults ({@link MachineSpec#faults()}) are injected right after boot.
     */
    static XenMachine hypervisor(JsonValue value, MachineSpec base) {
        Fields f = Fields.of(value, "hypervisor", HYPERVISOR);
        if (base.maxPhysAddr() != XenMachine.MAX_PHYS_ADDR) {
            throw f.error("a machine with a hypervisor has maxPhysAddr " + XenMachine.MAX_PHYS_ADDR
                    + " (the reference's XenMachine.MAX_PHYS_ADDR), not " + base.maxPhysAddr());
        }
        if (base.tlb() != TlbPolicy.ADVERSARIAL) {
            throw f.error("a machine with a hypervisor has the adversarial TLB (XenMachine.boot); remove \"tlb\"");
        }
        JsonValue xf = f.get("xenFrames");
        List<JsonValue> xenList = xf.elements();
        if (xenList.isEmpty()) {
            throw xf.error("the hypervisor needs at least one frame (the first holds its page tables)");
        }
        long[] xen = new long[xenList.size()];
        for (int i = 0; i < xen.length; i++) {
            xen[i] = machineFrame(xenList.get(i), base);
        }
        XenMachine m;
        try {
            m = XenMachine.boot(base.memoryFrames(), xen).withFaults(base.faults());
        } catch (IllegalArgumentException e) {
            throw xf.error(e.getMessage());
        }
        for (JsonValue dv : f.get("domains").elements()) {
            m = domain(m, dv, base);
        }
        return m;
    }

    private static long machineFrame(JsonValue v, MachineSpec base) {
        return v.asInteger(0, base.memoryFrames() - 1, "memoryFrames = " + base.memoryFrames() + ": frames 0.."
                + (base.memoryFrames() - 1));
    }

    /**
     * A domain running the hybrid kernel ({@code "kernel": {"vpid": n}}): built by the kernel's loader
     * ({@code Loader.addDomain}: the p2m reversed over {@code frames}, the image loaded through it, one vCPU at reset).
     * The machine's {@code kernel} section then names this domain and drives it with {@code kernel} steps.
     */
    private static XenMachine kernelDomain(XenMachine m, Fields d, int id, MmuMode mode, long[] frames) {
        for (String f : List.of("p2m", "memory", "vcpus")) {
            if (d.has(f)) {
                throw d.error(f, "a kernel domain is built by the kernel's loader: no \"" + f + "\"");
            }
        }
        if (mode == MmuMode.DIRECT) {
            throw d.error("mode", "the hybrid kernel starts in shadow or hap mode (it reaches direct paging with"
                    + " SWITCH_MMU)");
        }
        if (frames.length < Layout.MIN_FRAMES || frames.length > Layout.MAX_FRAMES) {
            throw d.error("frames", "a kernel domain has " + Layout.MIN_FRAMES + ".." + Layout.MAX_FRAMES
                    + " frames, not " + frames.length);
        }
        Fields k = d.object("kernel", "kernel", List.of("vpid"));
        int vpid = (int) k.integer("vpid", 1, 0xFFFF, "VPIDs 1..0xffff (0 is the host's)");
        try {
            return Loader.addDomain(m, id, mode, frames, vpid);
        } catch (IllegalStateException e) {
            throw d.error(e.getMessage());
        }
    }

    private static XenMachine domain(XenMachine m, JsonValue dv, MachineSpec base) {
        Fields d = Fields.of(dv, "domain", DOMAIN);
        int id = (int) d.integer("id", 0, FrameInfo.MAX_DOMAIN, "domain ids 0..0x7fef (DOMID_FIRST_RESERVED - 1)");
        MmuMode mode = d.choice("mode", MODES);
        List<Long> frameList = new ArrayList<>();
        for (JsonValue e : d.get("frames").elements()) {
            if (e.node().isObject()) {
                Fields r = Fields.of(e, "frame range", List.of("from", "to"));
                long from = machineFrame(r.get("from"), base);
                long to = machineFrame(r.get("to"), base);
                if (to < from) {
                    throw r.error("to", "a range ends at or after its start (" + Render.hex(from) + ")");
                }
                for (long x = from; x <= to; x++) {
                    frameList.add(x);
                }
            } else {
                frameList.add(machineFrame(e, base));
            }
        }
        long[] frames = frameList.stream().mapToLong(Long::longValue).toArray();
        if (d.has("kernel")) {
            return kernelDomain(m, d, id, mode, frames);
        }
        SortedMap<Long, Long> p2m;
        if (d.has("p2m")) {
            p2m = new TreeMap<>();
            for (JsonValue e : d.get("p2m").elements()) {
                Fields pe = Fields.of(e, "p2m entry", List.of("gfn", "mfn"));
                long gfn = pe.unsigned("gfn", FRAME_BITS);
                if (p2m.put(gfn, pe.unsigned("mfn", FRAME_BITS)) != null) {
                    throw pe.error("gfn", "gfn " + Render.hex(gfn) + " is mapped twice");
                }
            }
        } else if (mode == MmuMode.DIRECT) {
            p2m = Domains.identity(frames);
        } else {
            p2m = new TreeMap<>();
            for (int i = 0; i < frames.length; i++) {
                p2m.put((long) i, frames[i]);
            }
        }
        HvResult r = Domains.create(m, id, mode, frames, p2m);
        if (r instanceof HvResult.Refused x) {
            throw d.error("the hypervisor refuses to create d" + id + ": -" + x.errno() + " (" + x.rule() + "): "
                    + x.reason());
        }
        m = ((HvResult.Done) r).machine();
        if (d.has("memory")) {
            for (JsonValue e : d.get("memory").elements()) {
                Fields w = Fields.of(e, "memory write", MEMORY);
                long table = machineFrame(w.get("table"), base);
                if (m.frames().get(table).owner() != id) {
                    throw w.error("table", "frame " + Render.hex(table) + " is not d" + id + "'s: the builder writes"
                            + " only the domain's own frames");
                }
                int index = (int) w.integer("index", 0, 511, "512 entries per frame");
                Entry entry = X86Decoders.entry(w.object("entry", "entry", X86Decoders.ENTRY_FIELDS));
                m = m.withPaging(m.paging().write(table, index, entry));
            }
        }
        for (JsonValue e : d.get("vcpus").elements()) {
            Fields v = Fields.of(e, "vcpu", VCPU);
            int vpid = (int) v.integer("vpid", 1, 0xFFFF, "VPIDs 1..0xffff (0 is the host's)");
            // CR3 bits 63:MAXPHYADDR are reserved (SDM Vol. 3A §4.5, Table 4-12): the root frame is below
            // 2^(MAXPHYADDR - 12)
            long cr3 = v.integer("cr3", 0, (1L << (XenMachine.MAX_PHYS_ADDR - 12)) - 1,
                    "a frame number below 2^(MAXPHYADDR - 12); MAXPHYADDR = " + XenMachine.MAX_PHYS_ADDR);
            int cpl = (int) v.optionalInteger("cpl", 0, 3, "privilege levels 0..3").orElse(0);
            CpuState guest = CpuState.longMode(cr3, XenMachine.MAX_PHYS_ADDR).withCpl(cpl);
            HvResult a = Domains.addVcpu(m, id, vpid, guest);
            if (a instanceof HvResult.Refused x) {
                throw v.error("the hypervisor refuses the vCPU: -" + x.errno() + " (" + x.rule() + "): "
                        + x.reason());
            }
            m = ((HvResult.Done) a).machine();
        }
        return m;
    }

    // ------------------------------------------------------------------ steps

    static XenStep.DomainPte domainPte(Fields f, DecodeContext c) {
        return new XenStep.DomainPte(c.memoryFrame(f, "table"), (int) f.integer("index", 0, 511,
                "512 entries per paging structure"), X86Decoders.entry(f.object("entry", "entry",
                        X86Decoders.ENTRY_FIELDS)));
    }

    static XenStep.ExpectDomainEntry expectDomainEntry(Fields f, DecodeContext c) {
        return new XenStep.ExpectDomainEntry(c.memoryFrame(f, "table"), (int) f.integer("index", 0, 511,
                "512 entries per paging structure"), X86Decoders.entry(f.object("entry", "entry",
                        X86Decoders.ENTRY_FIELDS)));
    }

    /** Domain and vCPU index, checked against the configured hypervisor when the scenario has one. */
    private static int[] vcpu(Fields f, DecodeContext c) {
        int d = (int) f.integer("domain", 0, FrameInfo.MAX_DOMAIN, "domain ids 0..0x7fef");
        int v = (int) f.optionalInteger("vcpu", 0, 0xFFFF, "vCPU indices").orElse(0);
        Optional<XenMachine> m = c.machine().section(XenModule.SECTION, XenMachine.class);
        if (m.isPresent()) {
            if (!m.get().domains().containsKey(d)) {
                throw f.error("domain", "no domain d" + d + " in machine.hypervisor; domains: "
                        + m.get().domains().keySet());
            }
            int n = m.get().domain(d).vcpus().size();
            if (v >= n) {
                throw f.error("vcpu", "d" + d + " has " + n + " vCPU" + (n == 1 ? "" : "s") + " (0.." + (n - 1) + ")");
            }
        }
        return new int[] {d, v};
    }

    private static void only(Fields f, String what, List<String> allowed) {
        for (String name : f.present()) {
            if (!allowed.contains(name)) {
                throw f.error(name, "not a field of " + what + "; its fields: "
                        + String.join(", ", allowed));
            }
        }
    }

    static XenStep.HypercallStep hypercall(Fields f, DecodeContext c) {
        int[] dv = vcpu(f, c);
        String name = f.choice("call", Map.of("mmu_update", "mmu_update", "mmuext_op", "mmuext_op",
                "update_va_mapping", "update_va_mapping", "other", "other"));
        List<String> common = List.of("op", "domain", "vcpu", "cpl", "call", "expect");
        Integer cpl = cpl(f);
        Hypercall call;
        String args;
        switch (name) {
            case "mmu_update" -> {
                only(f, "an mmu_update hypercall", concat(common, "ptr", "table", "index", "value"));
                long ptr;
                if (f.has("ptr")) {
                    if (f.has("table") || f.has("index")) {
                        throw f.error("ptr", "give either \"ptr\" or \"table\" and \"index\", not both");
                    }
                    ptr = f.unsigned("ptr", 64);
                } else {
                    if (!f.has("table") || !f.has("index")) {
                        throw f.error("mmu_update needs \"ptr\" or both \"table\" and \"index\"");
                    }
                    long table = f.unsigned("table", FRAME_BITS);
                    int index = (int) f.integer("index", 0, 511, "512 entries per page table");
                    ptr = (table << 12) | ((long) index << 3) | Hypercalls.MMU_NORMAL_PT_UPDATE;
                }
                Entry value = entry(f, "value");
                call = Hypercall.mmuUpdate(ptr, value.raw());
                args = "ptr " + Render.hex(ptr) + " (frame " + Render.hex(ptr >>> 12) + "[" + ((ptr & 0xFFF) >>> 3)
                        + "]) := " + Render.entry(value);
            }
            case "mmuext_op" -> {
                int cmd = f.choice("cmd", MMUEXT);
                String cmdName = f.text("cmd");
                long arg = 0;
                String field = mmuextArgument(cmd);
                if (field == null) {
                    only(f, "mmuext_op " + cmdName, concat(common, "cmd"));
                    args = cmdName;
                } else {
                    only(f, "mmuext_op " + cmdName, concat(common, "cmd", field));
                    arg = f.unsigned(field, field.equals("mfn") ? FRAME_BITS : 64);
                    args = cmdName + (field.equals("mfn") ? " mfn " : " ") + Render.hex(arg);
                }
                call = Hypercall.mmuextOp(cmd, arg);
            }
            case "other" -> {
                // Any other number (an unknown one, or a direct-paging call with raw registers): RAX only.
                only(f, "a hypercall by number", concat(common, "number"));
                long number = f.unsigned("number", 32);
                call = Hypercall.of(number);
                args = "number " + number;
            }
            default -> {
                only(f, "an update_va_mapping hypercall", concat(common, "va", "value", "flags"));
                long va = f.unsigned("va", 64);
                Entry value = entry(f, "value");
                long flags = f.optionalChoice("flags", UVMF).orElse(Hypercalls.UVMF_NONE);
                call = Hypercall.updateVaMapping(va, value.raw(), flags);
                args = Render.hex(va) + " := " + Render.entry(value) + ", flags "
                        + f.optionalText("flags").orElse("none");
            }
        }
        return new XenStep.HypercallStep(dv[0], dv[1], name, call, args, cpl, hypercallExpectation(f));
    }

    private static Entry entry(Fields f, String name) {
        return X86Decoders.entry(f.object(name, name, X86Decoders.ENTRY_FIELDS));
    }

    private static Integer cpl(Fields f) {
        OptionalLong cpl = f.optionalInteger("cpl", 0, 3, "privilege levels 0..3");
        return cpl.isPresent() ? (int) cpl.getAsLong() : null;
    }

    private static List<String> concat(List<String> a, String... b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(List.of(b));
        return out;
    }

    /** {@code {"result": "ok"}} or {@code {"result": "refused", "errno": "EBUSY", "rule": "L1-3"}}. */
    static Map<String, String> hypercallExpectation(Fields step) {
        Optional<JsonValue> v = step.find("expect");
        if (v.isEmpty()) {
            return Map.of();
        }
        Fields e = Fields.of(v.get(), "expect", List.of("result", "errno", "rule"));
        String result = e.choice("result", Map.of("ok", "ok", "refused", "refused"));
        Map<String, String> out = new LinkedHashMap<>();
        out.put("result", result);
        if (result.equals("ok")) {
            only(e, "expect (result ok)", List.of("result"));
        } else {
            e.optionalChoice("errno", ERRNO).ifPresent(x -> out.put("errno", x));
            e.optionalText("rule").ifPresent(x -> out.put("rule", x));
        }
        return out;
    }

    static XenStep.GuestStep guest(Fields f, DecodeContext c) {
        int[] dv = vcpu(f, c);
        String insn = f.choice("insn", Map.of("access", "access", "cpuid", "cpuid", "rdmsr", "rdmsr", "wrmsr", "wrmsr",
                "movToCr0", "movToCr0", "movToCr3", "movToCr3", "movToCr4", "movToCr4", "invlpg", "invlpg", "hlt",
                "hlt"));
        List<String> common = List.of("op", "domain", "vcpu", "insn", "cpl", "expect");
        GuestInstruction instruction;
        String text;
        Integer cpl;
        switch (insn) {
            case "access" -> {
                only(f, "guest access", concat(common, "linear", "kind", "value", "implicitSupervisor"));
                AccessOperands o = AccessOperands.decode(f);
                Access a = o.access();
                instruction = new GuestInstruction.MemoryAccess(a);
                text = a.kind().name().toLowerCase(java.util.Locale.ROOT) + " " + Render.hex(a.linear())
                        + (a.isWrite() ? " value " + Render.hex(a.value()) : "");
                cpl = o.cpl();
            }
            case "cpuid" -> {
                only(f, "guest cpuid", concat(common, "leaf", "subleaf"));
                long leaf = f.unsigned("leaf", 32);
                instruction = new GuestInstruction.Cpuid(leaf, f.optionalUnsigned("subleaf", 32).orElse(0));
                text = "CPUID EAX " + Render.hex(leaf);
                cpl = cpl(f);
            }
            case "rdmsr" -> {
                only(f, "guest rdmsr", concat(common, "msr"));
                long msr = f.unsigned("msr", 32);
                instruction = new GuestInstruction.Rdmsr(msr);
                text = "RDMSR " + Render.hex(msr);
                cpl = cpl(f);
            }
            case "wrmsr" -> {
                only(f, "guest wrmsr", concat(common, "msr", "value"));
                long msr = f.unsigned("msr", 32);
                long value = f.unsigned("value", 64);
                instruction = new GuestInstruction.Wrmsr(msr, value);
                text = "WRMSR " + Render.hex(msr) + " value " + Render.hex(value);
                cpl = cpl(f);
            }
            case "movToCr0", "movToCr3", "movToCr4" -> {
                only(f, "guest " + insn, concat(common, "value"));
                long value = f.unsigned("value", 64);
                int cr = MOV_TO_CR.get(insn);
                instruction = new GuestInstruction.MovToCr(cr, value, 0);
                text = "MOV CR" + cr + ", " + Render.hex(value);
                cpl = cpl(f);
            }
            case "invlpg" -> {
                only(f, "guest invlpg", concat(common, "linear"));
                long linear = f.unsigned("linear", 64);
                instruction = new GuestInstruction.Invlpg(linear);
                text = "INVLPG " + Render.hex(linear);
                cpl = cpl(f);
            }
            default -> {
                only(f, "guest hlt", common);
                instruction = new GuestInstruction.Hlt();
                text = "HLT";
                cpl = cpl(f);
            }
        }
        return new XenStep.GuestStep(dv[0], dv[1], insn, instruction, cpl, text, guestExpectation(f));
    }

    /** The outcome words and the fields each may check (besides {@code result} and {@code exits}). */
    static final Map<String, List<String>> OUTCOMES = outcomes();

    private static Map<String, List<String>> outcomes() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put("retired", List.of("value"));
        m.put("delivered", List.of("vector", "errorCode", "cr2"));
        m.put("resumed", List.of("reason", "value", "rule"));
        m.put("cpuid", List.of("eax", "ebx", "ecx", "edx"));
        m.put("emulated", List.of("linear", "value", "rule"));
        m.put("injected", List.of("reason", "vector", "errorCode", "cr2", "rule"));
        m.put("blocked", List.of());
        m.put("guestError", List.of("reason", "guestPhysical", "rule"));
        m.put("notModelled", List.of("reason"));
        m.put("entryFailed", List.of());
        return m;
    }

    static Map<String, String> guestExpectation(Fields step) {
        Optional<JsonValue> v = step.find("expect");
        if (v.isEmpty()) {
            return Map.of();
        }
        List<String> all = new ArrayList<>(List.of("result", "exits"));
        OUTCOMES.values().forEach(l -> l.stream().filter(x -> !all.contains(x)).forEach(all::add));
        Fields e = Fields.of(v.get(), "expect", all);
        Map<String, String> words = new TreeMap<>();
        OUTCOMES.keySet().forEach(k -> words.put(k, k));
        String result = e.choice("result", words);
        List<String> allowed = concat(OUTCOMES.get(result), "result", "exits");
        only(e, "expect (result " + result + ")", allowed);
        Map<String, String> out = new LinkedHashMap<>();
        out.put("result", result);
        // at most one exit per step, but a shadow-mode access may take a #PF exit per shadow fill before it completes
        // (Hypervisor.MAX_SHADOW_FILLS = 4 fills, then the final run)
        e.optionalInteger("exits", 0, 5, "a guest step causes at most five VM exits (shadow fills)")
                .ifPresent(x -> out.put("exits", Long.toString(x)));
        for (String name : OUTCOMES.get(result)) {
            if (!e.has(name)) {
                continue;
            }
            switch (name) {
                case "reason", "rule" -> out.put(name, e.text(name));
                case "vector" -> out.put(name, Long.toString(e.integer(name, 0, 31, "exception vectors 0..31")));
                case "errorCode", "eax", "ebx", "ecx", "edx" -> out.put(name, Render.hex(e.unsigned(name, 32)));
                default -> out.put(name, Render.hex(e.unsigned(name, 64)));
            }
        }
        return out;
    }

    static XenStep.CheckInvariants checkInvariants(Fields f, DecodeContext c) {
        Map<String, String> out = new LinkedHashMap<>();
        List<String> keys = List.of("I1", "I2", "I6", "I7");
        f.optionalObject("expect", "expect", keys).ifPresent(e -> {
            e.requireAny(keys);
            for (String i : keys) {
                e.optionalChoice(i, Map.of("holds", "holds", "violated", "violated")).ifPresent(x -> out.put(i, x));
            }
        });
        return new XenStep.CheckInvariants(out);
    }

    static XenStep.ExpectFrame expectFrame(Fields f, DecodeContext c) {
        long mfn = c.memoryFrame(f, "mfn");
        f.requireAny(List.of("owner", "type", "typeCount", "count", "validated", "pinned"));
        Map<String, String> out = new LinkedHashMap<>();
        f.find("owner").ifPresent(o -> {
            out.put("owner", o.node().isTextual() && !o.asText().startsWith("0x") ? owner(o)
                    : "d" + o.asInteger(0, FrameInfo.MAX_DOMAIN, "domain ids 0..0x7fef"));
        });
        f.optionalChoice("type", PAGE_TYPES).ifPresent(t -> out.put("type", t));
        f.optionalInteger("typeCount", 0, Integer.MAX_VALUE, null).ifPresent(x -> out.put("typeCount",
                Long.toString(x)));
        f.optionalInteger("count", 0, Integer.MAX_VALUE, null).ifPresent(x -> out.put("count", Long.toString(x)));
        Boolean validated = f.optionalBool("validated");
        if (validated != null) {
            out.put("validated", validated.toString());
        }
        Boolean pinned = f.optionalBool("pinned");
        if (pinned != null) {
            out.put("pinned", pinned.toString());
        }
        return new XenStep.ExpectFrame(mfn, out);
    }

    private static String owner(JsonValue o) {
        String s = o.asText();
        if (s.equals("xen") || s.equals("free")) {
            return s;
        }
        throw o.error("an owner is a domain id or \"xen\" (dom_xen) or \"free\", not \"" + (s.length() > 20 ? s.substring(0, 20) + "…" : s) + "\"");
    }
}
