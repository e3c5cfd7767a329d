package org.hybridv.scenario.hybrid;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.Layout;
import org.hybridv.guest.Loader;
import org.hybridv.guest.SwitchRoot;
import org.hybridv.scenario.Bad;
import org.hybridv.scenario.Step;
import org.hybridv.scenario.Values.Dec;
import org.hybridv.scenario.Values.Hex;
import org.hybridv.scenario.x86.Render;
import org.hybridv.scenario.x86.X86Step;
import org.hybridv.scenario.xen.XenStep;
import org.hybridv.scenario.xen.XenStep.InvariantState;
import org.hybridv.x86.AccessKind;

/**
 * The steps of the hybrid kernel (docs/scenario-format.md, "Hybrid kernel"; docs/hybrid.md, the rules in
 * docs/rules/hybrid.md): one record per op, its own JSON form, run by {@link HybridExecutors} in lockstep with the
 * kernel's native twin.
 */
public sealed interface HybridStep extends Step {
    String PID_WHY = "pid 0 (the kernel's tables) or a process";
    String COUNT_WHY = "a count";

    /** The kernel operations a {@code kernel} step names, with the fields each takes and needs. */
    enum Do {
        @JsonProperty("boot") BOOT(List.of("to"), "to"),
        @JsonProperty("newProcess") NEW_PROCESS(List.of("cpu")),
        @JsonProperty("switchTo") SWITCH_TO(List.of("pid", "cpu"), "pid"),
        @JsonProperty("map") MAP(List.of("page", "writable", "cpu"), "page"),
        @JsonProperty("unmap") UNMAP(List.of("page", "cpu"), "page"),
        @JsonProperty("user") USER(List.of("linear", "kind", "value", "cpu"), "linear", "kind"),
        @JsonProperty("kernelAccess") KERNEL_ACCESS(List.of("linear", "kind", "value", "cpu"), "linear", "kind"),
        @JsonProperty("syscall") SYSCALL(List.of("cpu")),
        @JsonProperty("idle") IDLE(List.of("ticks", "pv", "cpu")),
        @JsonProperty("switchMmu") SWITCH_MMU(List.of("root", "mfn", "fromUser", "force")),
        /** The SMP kernel: bring up application processor {@code cpu} (docs/smp.md). */
        @JsonProperty("startAp") START_AP(List.of("cpu"), "cpu"),
        /** Read a sector of the disk into a kernel buffer (docs/pv-interfaces.md, "The split block driver"). */
        @JsonProperty("blockRead") BLOCK_READ(List.of("sector", "cpu"), "sector"),
        /** Write a sector with the words value + i from a kernel buffer. */
        @JsonProperty("blockWrite") BLOCK_WRITE(List.of("sector", "value", "cpu"), "sector", "value"),
        /** One timer tick: program, time passes, the interrupt or event handled (BOOT-9, docs/hybrid.md). */
        @JsonProperty("timerTick") TIMER_TICK(List.of("ticks", "pv", "cpu"), "ticks");

        final List<String> takes;
        final List<String> needs;

        Do(List<String> takes, String... needs) {
            this.takes = takes;
            this.needs = List.of(needs);
        }

        @Override
        public String toString() {
            return XenStep.word(this);
        }
    }

    /** The roots SWITCH_MMU may be given: the kernel's own (PRE-2), or that root with one defect. */
    enum Root {
        @JsonProperty("kernelBuilt") KERNEL_BUILT(SwitchRoot.KERNEL_BUILT),
        @JsonProperty("superpage") SUPERPAGE(SwitchRoot.SUPERPAGE),
        @JsonProperty("writablePageTable") WRITABLE_PAGE_TABLE(SwitchRoot.WRITABLE_PAGE_TABLE),
        @JsonProperty("foreignFrame") FOREIGN_FRAME(SwitchRoot.FOREIGN_FRAME),
        @JsonProperty("xenSlot") XEN_SLOT(SwitchRoot.XEN_SLOT),
        @JsonProperty("writableSelfMap") WRITABLE_SELF_MAP(SwitchRoot.WRITABLE_SELF_MAP),
        @JsonProperty("explicit") EXPLICIT(SwitchRoot.EXPLICIT);

        public final SwitchRoot root;

        Root(SwitchRoot root) {
            this.root = root;
        }

        /** Whether the root takes {@code mfn}: the root itself, or the foreign frame. */
        boolean takesMfn() {
            return this == EXPLICIT || this == FOREIGN_FRAME;
        }

        @Override
        public String toString() {
            return XenStep.word(this);
        }
    }

    /**
     * {@code kernel}: one operation of the hybrid kernel ({@code do}), run in lockstep with its native twin and
     * checked against I1–I8: {@code boot} to a stage (BOOT-*, PRE-*), {@code newProcess}, {@code switchTo} a pid
     * ({@code write_cr3}), {@code map}/{@code unmap} a user page ({@code set_pte}/{@code pte_clear} + INVLPG),
     * {@code user}/{@code kernelAccess} (a CPL-3 / CPL-0 aligned quadword access, SDM Vol. 3A §4.6),
     * {@code syscall}, {@code idle} (HLT; with {@code ticks} an idle period woken by the kernel's timer, BOOT-10),
     * {@code timerTick} (BOOT-9), {@code switchMmu} (the SWITCH_MMU hypercall with the named root, POST-*).
     * {@code pv} (default true) false: a kernel configured not to use the PV timer and idle.
     *
     * @param what   the operation ({@code "do"} in the file)
     * @param to     the boot stage to reach
     * @param root   SWITCH_MMU's root (default kernelBuilt), {@code mfn} for explicit and foreignFrame
     * @param expect the facts the step must show, or null
     */
    @com.fasterxml.jackson.annotation.JsonTypeName("kernel")
    record Kernel(@JsonProperty("do") Do what, BootStage to, @Dec(max = 4096, why = PID_WHY) Integer pid,
            @Dec(max = Layout.USER_PAGES - 1, why = "user pages 0.." + (Layout.USER_PAGES - 1)) Integer page,
            Boolean writable, @Hex Long linear, X86Step.Kind kind, @Hex Long value, Root root,
            @Dec(bits = 40) Long mfn, Boolean fromUser, Boolean force,
            @Dec(max = Loader.MAX_CPUS - 1, why = "the SMP kernel's processors 0.." + (Loader.MAX_CPUS - 1)) Integer cpu,
            @Dec(max = org.hybridv.xen.Blkif.DISK_SECTORS - 1, why = "the disk's sectors 0.."
                    + (org.hybridv.xen.Blkif.DISK_SECTORS - 1)) Long sector,
            KernelExpect expect,
            @Dec(min = 1, max = 0xFFFF_FFFFL, why = "timer ticks: the APIC timer's count is 32 bits") Long ticks,
            Boolean pv) implements HybridStep {
        static final List<String> OPERANDS = List.of("to", "pid", "page", "writable", "linear", "kind", "value",
                "root", "mfn", "fromUser", "force", "cpu", "sector", "ticks", "pv");

        /** A step of an operation that takes no sector, ticks or pv. */
        public Kernel(Do what, BootStage to, Integer pid, Integer page, Boolean writable, Long linear,
                X86Step.Kind kind, Long value, Root root, Long mfn, Boolean fromUser, Boolean force, Integer cpu,
                KernelExpect expect) {
            this(what, to, pid, page, writable, linear, kind, value, root, mfn, fromUser, force, cpu, null, expect,
                    null, null);
        }

        public Kernel {
            Bad.required(what, "do", "kernel step");
            String form = "kernel step (do " + what + ", which takes " + (what.takes.isEmpty() ? "no fields"
                    : String.join(", ", what.takes)) + ")";
            Object[] operands = {to, pid, page, writable, linear, kind, value, root, mfn, fromUser, force, cpu, sector,
                ticks, pv};
            for (int i = 0; i < operands.length; i++) {
                if (!what.takes.contains(OPERANDS.get(i))) {
                    Bad.absent(form, List.of(OPERANDS.get(i)), operands[i]);
                }
            }
            for (String n : what.needs) {
                Bad.required(operands[OPERANDS.indexOf(n)], n, form);
            }
            if (what == Do.START_AP && cpu == 0) {
                throw Bad.at("cpu", "CPU 0 is the boot processor: startAp brings up an application processor, 1.."
                        + (Loader.MAX_CPUS - 1));
            }
            if (what == Do.USER || what == Do.KERNEL_ACCESS) {
                X86Step.MemoryAccess.checkAccess(form, linear, kind, value, null);
            }
            if (pv != null && ticks == null) {
                throw Bad.at("pv", "\"pv\" goes with \"ticks\": it chooses the timer and idle of a timed period");
            }
            if (what == Do.MAP && writable == null) {
                writable = true;
            }
            if (what == Do.SWITCH_MMU) {
                root = root == null ? Root.KERNEL_BUILT : root;
                if (root.takesMfn() && mfn == null) {
                    throw Bad.at("root", "root \"" + root + "\" needs \"mfn\" (the root, or the foreign frame)");
                }
                if (!root.takesMfn() && mfn != null) {
                    throw Bad.at("mfn", "\"mfn\" only goes with root \"explicit\" or \"foreignFrame\"");
                }
            }
        }

        /** The step doing {@code op}; inverse of {@link #operation()} (a read or fetch carries no value). */
        public static Kernel of(GuestOp op) {
            if (op instanceof GuestOp.OnCpu o) {
                return of(o.op()).withCpu(o.cpu());
            }
            if (op instanceof GuestOp.StartAp a) {
                return new Kernel(Do.START_AP, null, null, null, null, null, null, null, null, null, null, null,
                        a.cpu(), null);
            }
            if (op instanceof GuestOp.Boot b) {
                return new Kernel(Do.BOOT, b.target(), null, null, null, null, null, null, null, null, null, null, null,
                        null);
            } else if (op instanceof GuestOp.SwitchTo t) {
                return new Kernel(Do.SWITCH_TO, null, t.pid(), null, null, null, null, null, null, null, null, null,
                        null, null);
            } else if (op instanceof GuestOp.Map m) {
                return new Kernel(Do.MAP, null, null, m.page(), m.writable(), null, null, null, null, null, null, null,
                        null, null);
            } else if (op instanceof GuestOp.Unmap u) {
                return new Kernel(Do.UNMAP, null, null, u.page(), null, null, null, null, null, null, null, null, null,
                        null);
            } else if (op instanceof GuestOp.UserAccess a) {
                return access(Do.USER, a.linear(), a.kind(), a.value());
            } else if (op instanceof GuestOp.KernelAccess a) {
                return access(Do.KERNEL_ACCESS, a.linear(), a.kind(), a.value());
            } else if (op instanceof GuestOp.SwitchMmu m) {
                Root root = XenStep.find(Root.class, r -> r.root, m.root());
                return new Kernel(Do.SWITCH_MMU, null, null, null, null, null, null, null, root,
                        root.takesMfn() ? m.explicitRoot() : null, m.fromUser() ? true : null, m.force() ? true : null,
                        null, null);
            }
            if (op instanceof GuestOp.TimerTick t) {
                return new Kernel(Do.TIMER_TICK, null, null, null, null, null, null, null, null, null, null, null, null,
                        null, null, t.ticks(), t.pv() ? null : false);
            }
            if (op instanceof GuestOp.Idle i && i.ticks() > 0) {
                return new Kernel(Do.IDLE, null, null, null, null, null, null, null, null, null, null, null, null, null,
                        null, i.ticks(), i.pv() ? null : false);
            }
            if (op instanceof GuestOp.BlockRead b) {
                return new Kernel(Do.BLOCK_READ, null, null, null, null, null, null, null, null, null, null, null, null,
                        b.sector(), null, null, null);
            }
            if (op instanceof GuestOp.BlockWrite b) {
                return new Kernel(Do.BLOCK_WRITE, null, null, null, null, null, null, b.value(), null, null, null, null,
                        null, b.sector(), null, null, null);
            }
            Do what = op instanceof GuestOp.NewProcess ? Do.NEW_PROCESS : op instanceof GuestOp.Syscall ? Do.SYSCALL
                    : Do.IDLE;
            return new Kernel(what, null, null, null, null, null, null, null, null, null, null, null, null, null);
        }

        /** This step expecting {@code e} of its result. */
        public Kernel withExpect(KernelExpect e) {
            return new Kernel(what, to, pid, page, writable, linear, kind, value, root, mfn, fromUser, force, cpu,
                    sector, e, ticks, pv);
        }

        /** This step on processor {@code c} (the SMP kernel; {@link GuestOp.OnCpu}). */
        Kernel withCpu(int c) {
            return new Kernel(what, to, pid, page, writable, linear, kind, value, root, mfn, fromUser, force, c, sector,
                    expect, ticks, pv);
        }

        private static Kernel access(Do what, long linear, AccessKind kind, long value) {
            return new Kernel(what, null, null, null, null, linear, X86Step.Kind.of(kind),
                    kind == AccessKind.WRITE ? value : null, null, null, null, null, null, null);
        }

        /** The kernel operation. */
        public GuestOp operation() {
            GuestOp op = bare();
            return cpu == null || what == Do.START_AP ? op : new GuestOp.OnCpu(cpu, op);
        }

        private GuestOp bare() {
            long v = value == null ? 0 : value;
            return switch (what) {
                case START_AP -> new GuestOp.StartAp(cpu);
                case BOOT -> new GuestOp.Boot(to);
                case NEW_PROCESS -> new GuestOp.NewProcess();
                case SWITCH_TO -> new GuestOp.SwitchTo(pid);
                case MAP -> new GuestOp.Map(page, writable);
                case UNMAP -> new GuestOp.Unmap(page);
                case USER -> new GuestOp.UserAccess(linear, kind.kind, v);
                case KERNEL_ACCESS -> new GuestOp.KernelAccess(linear, kind.kind, v);
                case SYSCALL -> new GuestOp.Syscall();
                case IDLE -> ticks == null ? new GuestOp.Idle() : new GuestOp.Idle(ticks, !Boolean.FALSE.equals(pv));
                case TIMER_TICK -> new GuestOp.TimerTick(ticks, !Boolean.FALSE.equals(pv));
                case SWITCH_MMU -> new GuestOp.SwitchMmu(root.root, mfn == null ? 0 : mfn,
                        Boolean.TRUE.equals(fromUser), Boolean.TRUE.equals(force));
                case BLOCK_READ -> new GuestOp.BlockRead(sector);
                case BLOCK_WRITE -> new GuestOp.BlockWrite(sector, v);
            };
        }

        @Override
        public String describe() {
            return (cpu == null || what == Do.START_AP ? "" : "on CPU " + cpu + ": ") + switch (what) {
                case START_AP -> "bring up CPU " + cpu;
                case BOOT -> "boot to " + to;
                case NEW_PROCESS -> "new process";
                case SWITCH_TO -> "switch to pid " + pid;
                case MAP -> "map user page " + page + (writable ? " writable" : " read-only");
                case UNMAP -> "unmap user page " + page;
                case USER, KERNEL_ACCESS -> (what == Do.USER ? "user " : "kernel ") + XenStep.word(kind) + " "
                        + Render.hex(linear) + (kind == X86Step.Kind.WRITE ? " value " + Render.hex(value == null ? 0
                                : value) : "");
                case SYSCALL -> "syscall getpid";
                case IDLE -> ticks == null ? "idle (HLT)" : "idle for " + ticks + " ticks" + (Boolean.FALSE.equals(pv)
                        ? " (no PV)" : "");
                case TIMER_TICK -> "timer tick after " + ticks + (Boolean.FALSE.equals(pv) ? " (no PV timer)" : "");
                case SWITCH_MMU -> "SWITCH_MMU root " + root + (root.takesMfn() ? " " + Render.hex(mfn) : "")
                        + (Boolean.TRUE.equals(fromUser) ? " from CPL 3" : "")
                        + (Boolean.TRUE.equals(force) ? " (forced)" : "");
                case BLOCK_READ -> "read disk sector " + sector;
                case BLOCK_WRITE -> "write disk sector " + sector + " with " + Render.hex(value == null ? 0 : value)
                        + " + i";
            };
        }
    }

    /** A kernel operation's result (the guest's {@code KernelResult}), with the facts an expectation may add for it. */
    enum Result {
        @JsonProperty("done") DONE,
        @JsonProperty("created") CREATED("pid"),
        @JsonProperty("read") READ("value"),
        @JsonProperty("killed") KILLED("pid", "vector", "errorCode", "cr2"),
        @JsonProperty("oops") OOPS,
        @JsonProperty("booted") BOOTED,
        @JsonProperty("switched") SWITCHED("root"),
        @JsonProperty("switchRefused") SWITCH_REFUSED("errno", "rule"),
        @JsonProperty("idled") IDLED,
        /** A timer tick handled: the kernel's tick count and clock (BOOT-9). */
        @JsonProperty("ticked") TICKED("jiffies", "clock"),
        @JsonProperty("notApplicable") NOT_APPLICABLE,
        /** A block read's sector; {@code value} is its first word. */
        @JsonProperty("sector") SECTOR("value");

        final List<String> facts;

        Result(String... facts) {
            this.facts = List.of(facts);
        }

        @Override
        public String toString() {
            return XenStep.word(this);
        }
    }

    /**
     * What a kernel step must show; at least one fact. {@code stage} (after the step), {@code exits} (VM exits of the
     * whole operation), {@code faults} (exceptions the guest received), {@code pfExits} (exits of the instructions
     * whose outcome was a #PF the guest received) go with any result; the others only with the results that have
     * them ({@link Result}).
     */
    record KernelExpect(Result result, BootStage stage, @Dec(max = 1_000_000, why = COUNT_WHY) Integer exits,
            @Dec(max = 1_000, why = COUNT_WHY) Integer faults, @Dec(max = 1_000, why = COUNT_WHY) Integer pfExits,
            @Dec(max = 4096, why = "a pid") Integer pid, @Dec(max = 31, why = "exception vectors 0..31") Integer vector,
            @Hex(32) Long errorCode, @Hex Long value, @Hex Long cr2, @Hex Long root, String errno, String rule,
            @Dec(why = "a tick count") Long jiffies, @Dec(why = "the kernel's clock in ticks") Long clock) {
        static final List<String> FACTS = List.of("pid", "vector", "errorCode", "value", "cr2", "root", "errno",
                "rule", "jiffies", "clock");

        /**
         * The expectation of exactly {@code r}: its result word and the facts it carries (pid, #PF vector, error code
         * and CR2, value, root, tick count and clock); an oops or a refusal by its word alone.
         */
        public static KernelExpect of(org.hybridv.guest.KernelResult r) {
            org.hybridv.guest.Observed.Fault f = r instanceof org.hybridv.guest.KernelResult.Killed k
                    && k.why() instanceof org.hybridv.guest.Observed.Fault x ? x : null;
            return new KernelExpect(XenStep.find(Result.class, Object::toString, HybridExecutors.word(r)), null,
                    null, null, null,
                    r instanceof org.hybridv.guest.KernelResult.Created c ? Integer.valueOf(c.pid())
                            : r instanceof org.hybridv.guest.KernelResult.Killed k ? Integer.valueOf(k.pid()) : null,
                    f == null ? null : f.vector(), f == null ? null : f.errorCode() & 0xFFFF_FFFFL,
                    r instanceof org.hybridv.guest.KernelResult.Read v ? Long.valueOf(v.value())
                            : r instanceof org.hybridv.guest.KernelResult.Sector sec ? sec.words().get(0) : null,
                    f == null ? null : f.cr2(),
                    r instanceof org.hybridv.guest.KernelResult.Switched sw ? Long.valueOf(sw.root()) : null, null,
                    null, r instanceof org.hybridv.guest.KernelResult.Ticked t ? Long.valueOf(t.jiffies()) : null,
                    r instanceof org.hybridv.guest.KernelResult.Ticked t ? Long.valueOf(t.clock()) : null);
        }

        public KernelExpect {
            Bad.requireAny("expect", List.of("result", "stage", "exits", "faults", "pfExits", "pid", "vector",
                    "errorCode", "value", "cr2", "root", "errno", "rule", "jiffies", "clock"), result, stage, exits,
                    faults, pfExits, pid, vector, errorCode, value, cr2, root, errno, rule, jiffies, clock);
            Object[] facts = {pid, vector, errorCode, value, cr2, root, errno, rule, jiffies, clock};
            for (int i = 0; result != null && i < facts.length; i++) {
                if (!result.facts.contains(FACTS.get(i))) {
                    Bad.absent("expect (result " + result + ")", List.of(FACTS.get(i)), facts[i]);
                }
            }
        }
    }

    /** The verdicts a {@code checkHybrid} step expects; at least one. */
    record HybridInvariants(@JsonProperty("I1") InvariantState I1, @JsonProperty("I2") InvariantState I2,
            @JsonProperty("I3") InvariantState I3, @JsonProperty("I4") InvariantState I4,
            @JsonProperty("I5") InvariantState I5, @JsonProperty("I6") InvariantState I6,
            @JsonProperty("I7") InvariantState I7, @JsonProperty("I8") InvariantState I8) {
        static final List<String> NAMES = List.of("I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8");

        public HybridInvariants {
            Bad.requireAny("expect", NAMES, I1, I2, I3, I4, I5, I6, I7, I8);
        }

        /** The expected verdicts, in invariant order (null: not expected). */
        List<InvariantState> all() {
            return java.util.Arrays.asList(I1, I2, I3, I4, I5, I6, I7, I8);
        }
    }

    /** {@code checkHybrid}: I1–I8 over every kernel step so far (the first violation of each is kept). */
    @com.fasterxml.jackson.annotation.JsonTypeName("checkHybrid")
    record CheckHybrid(HybridInvariants expect) implements HybridStep {
        /** A step expecting {@code invariant} (I1–I8) to be in {@code state}. */
        public static CheckHybrid of(String invariant, InvariantState state) {
            InvariantState[] v = new InvariantState[8];
            v[HybridInvariants.NAMES.indexOf(invariant)] = state;
            return new CheckHybrid(new HybridInvariants(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]));
        }

        @Override
        public String describe() {
            return "I1–I8 over the kernel steps";
        }
    }
}
