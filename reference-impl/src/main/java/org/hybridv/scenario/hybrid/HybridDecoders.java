package org.hybridv.scenario.hybrid;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.GuestSystem;
import org.hybridv.guest.KernelState;
import org.hybridv.guest.XenPlatform;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.Layout;
import org.hybridv.guest.Loader;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.SwitchRoot;
import org.hybridv.scenario.DecodeContext;
import org.hybridv.scenario.Fields;
import org.hybridv.scenario.JsonValue;
import org.hybridv.scenario.MachineSpec;
import org.hybridv.scenario.x86.Render;
import org.hybridv.scenario.xen.XenModule;
import org.hybridv.x86.AccessKind;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/** Decodes the {@code kernel} section and the hybrid steps; strict like the other layers. */
final class HybridDecoders {
    private HybridDecoders() {}

    static final List<String> SECTION = List.of("platform", "frames", "xenFrames", "domain");

    /** A decoded {@code kernel} section: the lockstep pair, and whether its machine is the hypervisor section's. */
    record Section(Lockstep lockstep, boolean shared) {}
    static final List<String> KERNEL = List.of("do", "to", "pid", "page", "writable", "linear", "kind", "value",
            "root", "mfn", "fromUser", "force", "expect");
    static final List<String> CHECK = List.of("expect");
    static final List<String> INVARIANTS = List.of("I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8");

    static final Map<String, String> PLATFORMS = Map.of("native", "native", "shadow", "shadow", "hap", "hap");
    static final Map<String, BootStage> STAGES = stages();
    static final Map<String, SwitchRoot> ROOTS = new TreeMap<>(Map.of("kernelBuilt", SwitchRoot.KERNEL_BUILT,
            "superpage", SwitchRoot.SUPERPAGE, "writablePageTable", SwitchRoot.WRITABLE_PAGE_TABLE, "foreignFrame",
            SwitchRoot.FOREIGN_FRAME, "xenSlot", SwitchRoot.XEN_SLOT, "writableSelfMap",
            SwitchRoot.WRITABLE_SELF_MAP, "explicit", SwitchRoot.EXPLICIT));
    static final Map<String, AccessKind> KINDS = Map.of("read", AccessKind.READ, "write", AccessKind.WRITE, "fetch",
            AccessKind.FETCH);
    /** Each {@code do} and the fields it takes besides {@code do} and {@code expect}. */
    static final Map<String, List<String>> DOS = dos();
    /** Each result word and the facts an expectation may name for it (besides result, stage, exits, faults). */
    static final Map<String, List<String>> RESULTS = results();

    private static Map<String, BootStage> stages() {
        Map<String, BootStage> m = new TreeMap<>();
        for (BootStage s : BootStage.values()) {
            m.put(s.name(), s);
        }
        return m;
    }

    private static Map<String, List<String>> dos() {
        Map<String, List<String>> m = new TreeMap<>();
        m.put("boot", List.of("to"));
        m.put("newProcess", List.of());
        m.put("switchTo", List.of("pid"));
        m.put("map", List.of("page", "writable"));
        m.put("unmap", List.of("page"));
        m.put("user", List.of("linear", "kind", "value"));
        m.put("kernelAccess", List.of("linear", "kind", "value"));
        m.put("syscall", List.of());
        m.put("idle", List.of());
        m.put("switchMmu", List.of("root", "mfn", "fromUser", "force"));
        return m;
    }

    private static Map<String, List<String>> results() {
        Map<String, List<String>> m = new TreeMap<>();
        m.put("done", List.of());
        m.put("created", List.of("pid"));
        m.put("read", List.of("value"));
        m.put("killed", List.of("pid", "vector", "errorCode", "cr2"));
        m.put("oops", List.of());
        m.put("booted", List.of());
        m.put("switched", List.of("root"));
        m.put("switchRefused", List.of("errno", "rule"));
        m.put("idled", List.of());
        m.put("notApplicable", List.of());
        return m;
    }

    /**
     * The {@code kernel} section: a kernel at reset, under the hypervisor in a mode or on bare metal, and its twin.
     * The hypervisor carries the scenario's seeded faults ({@link MachineSpec#faults()}).
     */
    static Section section(JsonValue value, MachineSpec base) {
        Fields f = Fields.of(value, "kernel", SECTION);
        if (f.has("domain")) {
            return inHypervisor(f, base);
        }
        return new Section(ownMachine(f, base), false);
    }

    /**
     * {@code "kernel": {"domain": d}}: the kernel runs in domain d of the {@code hypervisor} section, built there with
     * {@code "kernel": {"vpid": n}}; its twin runs on bare metal with as many frames.
     */
    private static Section inHypervisor(Fields f, MachineSpec base) {
        for (String other : List.of("platform", "frames", "xenFrames")) {
            if (f.has(other)) {
                throw f.error(other, "with \"domain\" the hypervisor section builds the kernel's domain: no \""
                        + other + "\"");
            }
        }
        XenMachine m = base.section(XenModule.SECTION, XenMachine.class).orElseThrow(() -> f.error("domain",
                "\"domain\" names a domain of the hypervisor section, and there is none"));
        int d = (int) f.integer("domain", 0, FrameInfo.MAX_DOMAIN, "domain ids");
        if (!m.domains().containsKey(d) || m.domain(d).vcpus().size() != 1
                || m.domain(d).vcpu(0).vmcs().guest().cpu().cr0().pe()) {
            throw f.error("domain", "d" + d + " is not a kernel domain of the hypervisor section (build it with"
                    + " \"kernel\": {\"vpid\": n})");
        }
        int frames = m.domain(d).p2m().size();
        GuestSystem guest = new GuestSystem(KernelState.initial(frames), new XenPlatform(m, new VcpuId(d, 0)));
        return new Section(new Lockstep(guest, Loader.onBareMetal(frames), false), true);
    }

    private static Lockstep ownMachine(Fields f, MachineSpec base) {
        String platform = f.choice("platform", PLATFORMS);
        int frames = (int) f.optionalInteger("frames", Layout.MIN_FRAMES, Layout.MAX_FRAMES - 1, "the direct map is"
                + " one page table: " + Layout.MIN_FRAMES + ".." + (Layout.MAX_FRAMES - 1) + " frames").orElse(64);
        int xen = (int) f.optionalInteger("xenFrames", 8, 4096, "frames for shadow tables and the EPT: 8..4096")
                .orElse(64);
        if (platform.equals("native")) {
            if (f.has("xenFrames")) {
                throw f.error("xenFrames", "a native kernel has no hypervisor");
            }
            return new Lockstep(Loader.onBareMetal(frames), Loader.onBareMetal(frames), false);
        }
        return Lockstep.start(platform.equals("hap") ? MmuMode.HAP : MmuMode.SHADOW, frames, xen, base.faults());
    }

    static KernelStepSpec.KernelOp kernel(Fields f, DecodeContext c) {
        String what = f.choice("do", words(DOS.keySet()));
        List<String> allowed = new ArrayList<>(DOS.get(what));
        allowed.add("op");
        allowed.add("do");
        allowed.add("expect");
        for (String name : f.present()) {
            if (!allowed.contains(name)) {
                throw f.error(name, "\"" + name + "\" does not apply to do \"" + what + "\" (it takes "
                        + DOS.get(what) + ")");
            }
        }
        GuestOp op;
        String text;
        switch (what) {
            case "boot" -> {
                BootStage to = f.choice("to", STAGES);
                op = new GuestOp.Boot(to);
                text = "boot to " + to;
            }
            case "newProcess" -> {
                op = new GuestOp.NewProcess();
                text = "new process";
            }
            case "switchTo" -> {
                int pid = (int) f.integer("pid", 0, 4096, "pid 0 (the kernel's tables) or a process");
                op = new GuestOp.SwitchTo(pid);
                text = "switch to pid " + pid;
            }
            case "map" -> {
                int page = page(f);
                boolean w = f.bool("writable", true);
                op = new GuestOp.Map(page, w);
                text = "map user page " + page + (w ? " writable" : " read-only");
            }
            case "unmap" -> {
                int page = page(f);
                op = new GuestOp.Unmap(page);
                text = "unmap user page " + page;
            }
            case "user", "kernelAccess" -> {
                long linear = f.unsigned("linear", 64);
                if ((linear & 7) != 0) {
                    throw f.error("linear", "accesses are 8-byte aligned quadwords");
                }
                AccessKind kind = f.choice("kind", KINDS);
                long value = kind == AccessKind.WRITE ? f.optionalUnsigned("value", 64).orElse(0) : 0;
                if (kind != AccessKind.WRITE && f.has("value")) {
                    throw f.error("value", "only a write carries a value");
                }
                op = what.equals("user") ? new GuestOp.UserAccess(linear, kind, value)
                        : new GuestOp.KernelAccess(linear, kind, value);
                text = (what.equals("user") ? "user " : "kernel ") + kind.name().toLowerCase(java.util.Locale.ROOT)
                        + " " + Render.hex(linear) + (kind == AccessKind.WRITE ? " value " + Render.hex(value) : "");
            }
            case "syscall" -> {
                op = new GuestOp.Syscall();
                text = "syscall getpid";
            }
            case "idle" -> {
                op = new GuestOp.Idle();
                text = "idle (HLT)";
            }
            default -> {
                SwitchRoot root = f.optionalChoice("root", ROOTS).orElse(SwitchRoot.KERNEL_BUILT);
                boolean needsMfn = root == SwitchRoot.EXPLICIT || root == SwitchRoot.FOREIGN_FRAME;
                if (needsMfn != f.has("mfn")) {
                    throw f.error(needsMfn ? "root" : "mfn", needsMfn ? "root \"" + f.text("root")
                            + "\" needs \"mfn\" (the root, or the foreign frame)" : "\"mfn\" only goes with root"
                                    + " \"explicit\" or \"foreignFrame\"");
                }
                long mfn = needsMfn ? f.unsigned("mfn", 40) : 0;
                boolean user = f.bool("fromUser", false);
                boolean force = f.bool("force", false);
                op = new GuestOp.SwitchMmu(root, mfn, user, force);
                text = "SWITCH_MMU root " + f.optionalText("root").orElse("kernelBuilt")
                        + (needsMfn ? " " + Render.hex(mfn) : "") + (user ? " from CPL 3" : "")
                        + (force ? " (forced)" : "");
            }
        }
        return new KernelStepSpec.KernelOp(op, text, expectation(f));
    }

    private static int page(Fields f) {
        return (int) f.integer("page", 0, Layout.USER_PAGES - 1, "user pages 0.." + (Layout.USER_PAGES - 1));
    }

    private static <T> Map<String, String> words(java.util.Collection<String> ws) {
        Map<String, String> m = new TreeMap<>();
        ws.forEach(w -> m.put(w, w));
        return m;
    }

    static Map<String, String> expectation(Fields step) {
        Optional<JsonValue> v = step.find("expect");
        if (v.isEmpty()) {
            return Map.of();
        }
        List<String> all = new ArrayList<>(List.of("result", "stage", "exits", "faults", "pfExits"));
        RESULTS.values().forEach(l -> l.stream().filter(x -> !all.contains(x)).forEach(all::add));
        Fields e = Fields.of(v.get(), "expect", all);
        Map<String, String> out = new LinkedHashMap<>();
        e.optionalChoice("result", words(RESULTS.keySet())).ifPresent(r -> {
            out.put("result", r);
            for (String name : e.present()) {
                if (RESULTS.containsKey(r) && RESULTS.values().stream().anyMatch(l -> l.contains(name))
                        && !RESULTS.get(r).contains(name)) {
                    throw e.error(name, "\"" + name + "\" does not apply to result \"" + r + "\"");
                }
            }
        });
        e.optionalChoice("stage", STAGES).ifPresent(s -> out.put("stage", s.name()));
        e.optionalInteger("exits", 0, 1_000_000, "a count").ifPresent(x -> out.put("exits", Long.toString(x)));
        e.optionalInteger("faults", 0, 1_000, "a count").ifPresent(x -> out.put("faults", Long.toString(x)));
        e.optionalInteger("pfExits", 0, 1_000, "a count").ifPresent(x -> out.put("pfExits", Long.toString(x)));
        e.optionalInteger("pid", 0, 4096, "a pid").ifPresent(x -> out.put("pid", Long.toString(x)));
        e.optionalInteger("vector", 0, 31, "exception vectors 0..31").ifPresent(x -> out.put("vector",
                Long.toString(x)));
        e.optionalUnsigned("errorCode", 32).ifPresent(x -> out.put("errorCode", Render.hex(x)));
        for (String name : List.of("value", "cr2", "root")) {
            e.optionalUnsigned(name, 64).ifPresent(x -> out.put(name, Render.hex(x)));
        }
        for (String name : List.of("errno", "rule")) {
            e.optionalText(name).ifPresent(x -> out.put(name, x));
        }
        if (out.isEmpty()) {
            throw e.error("an expectation names at least one of " + all);
        }
        return out;
    }

    static KernelStepSpec.CheckHybrid checkHybrid(Fields f, DecodeContext c) {
        Map<String, String> out = new LinkedHashMap<>();
        f.optionalObject("expect", "expect", INVARIANTS).ifPresent(e -> {
            e.requireAny(INVARIANTS);
            for (String i : INVARIANTS) {
                e.optionalChoice(i, Map.of("holds", "holds", "violated", "violated")).ifPresent(x -> out.put(i, x));
            }
        });
        return new KernelStepSpec.CheckHybrid(out);
    }
}
