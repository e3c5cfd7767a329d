package org.hybridv.check;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.hybridv.guest.Executed;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.KernelStep;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.XenPlatform;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.xen.Effect;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.VcpuOutcome;

/**
 * The event budgets of docs/rules/hybrid.md (BUD-1 … BUD-10, BUD-12): per kernel operation and platform, the most VM exits
 * (by reason), hypercalls (by number), trapped-and-emulated writes and TLB-flush obligations the operation may cost.
 * It counts what the step's trace shows — the exits each instruction went through, the VMCALLs the kernel executed
 * with their numbers, the hypervisor outcomes that were emulations, the flush effects they carried — and compares the
 * counts with the budget table below, which restates the rulebook's rows. It calls no decision of the reference
 * (which path the kernel takes, which #PF exits), so a routing slip that stays correct but falls back to a slower
 * path shows as an event over budget.
 */
public final class EventBudgets {
    private EventBudgets() {}

    /** The invariant name of a budget violation in a {@link Verdict.Violated}. */
    public static final String NAME = "budget";

    /** Counter names. */
    static final String EXIT_PF = "exit EXCEPTION_OR_NMI";
    static final String EXIT_VMCALL = "exit VMCALL";
    static final String EXIT_CR = "exit CR_ACCESS";
    static final String EXIT_HLT = "exit HLT";
    static final String EXIT_INVLPG = "exit INVLPG";
    static final String MMU_UPDATE = "hypercall mmu_update";
    static final String UPDATE_VA_MAPPING = "hypercall update_va_mapping";
    static final String MMUEXT_OP = "hypercall mmuext_op";
    static final String MEMORY_OP = "hypercall memory_op";
    static final String SWITCH_MMU = "hypercall switch_mmu";
    static final String EMULATED = "emulated write";
    static final String FLUSH = "TLB flush";
    static final String EXIT_MSR_WRITE = "exit MSR_WRITE";
    static final String VCPU_OP = "hypercall vcpu_op";
    static final String SCHED_OP = "hypercall sched_op";
    static final String HVM_OP = "hypercall hvm_op";
    static final String EVENT_CHANNEL_OP = "hypercall event_channel_op";
    static final String EXIT_IO = "exit IO_INSTRUCTION";
    /** One sector by ATA PIO (EMU-7): 6 task-file OUTs, 2 status INs, 128 doubleword data-port accesses. */
    static final int ATA_PORT_ACCESSES = 136;

    /** A budget broken: the rule, and what was counted against what was allowed. */
    public record Violation(String rule, String explanation) {}

    /** The events of one kernel step, by counter (absent: 0). */
    public static SortedMap<String, Integer> count(KernelStep step) {
        SortedMap<String, Integer> c = new TreeMap<>();
        for (Executed e : step.trace()) {
            e.exits().byReason().forEach((reason, n) -> c.merge("exit " + reason, n, Integer::sum));
            if (e.instruction() instanceof GuestInstruction.Vmcall) {
                c.merge(hypercallName(e.regs().number()), 1, Integer::sum);
            }
            if (e.hv().isPresent()) {
                VcpuOutcome o = e.hv().get().outcome();
                List<Effect> effects = o instanceof VcpuOutcome.HypercallDone d ? d.effects()
                        : o instanceof VcpuOutcome.Emulated m ? m.effects() : List.of();
                if (o instanceof VcpuOutcome.Emulated) {
                    c.merge(EMULATED, 1, Integer::sum);
                }
                for (Effect f : effects) {
                    if (!(f instanceof Effect.TypeChange)) {
                        c.merge(FLUSH, 1, Integer::sum);
                    }
                }
            }
        }
        return c;
    }

    private static String hypercallName(long nr) {
        return switch ((int) nr) {
            case 1 -> MMU_UPDATE;
            case 12 -> MEMORY_OP;
            case 14 -> UPDATE_VA_MAPPING;
            case 26 -> MMUEXT_OP;
            case 48 -> SWITCH_MMU;
            case 24 -> VCPU_OP;
            case 29 -> SCHED_OP;
            case 32 -> EVENT_CHANNEL_OP;
            case 34 -> HVM_OP;
            default -> "hypercall " + nr;
        };
    }

    /** The first budget {@code s} breaks, on the guest side or on its native twin's. */
    public static Optional<Violation> check(Lockstep.LockstepStep s) {
        // BUD-1: bare metal has no hypervisor: no exit, no hypervisor step.
        for (Executed e : s.twin().trace()) {
            if (e.exits().total() > 0 || e.hv().isPresent()) {
                return Optional.of(new Violation("BUD-1", "natively, " + e.instruction() + " cost " + e.exits()
                        + (e.hv().isPresent() ? " and a hypervisor step" : "")));
            }
        }
        if (!(s.pre().guest().platform() instanceof XenPlatform x)) {
            return Optional.empty();
        }
        MmuMode mode = x.mode();
        KernelStep g = s.guest();
        // BUD-3: user-mode instructions (a user #PF above all) cost no exit in direct mode and under HAP.
        if (mode != MmuMode.SHADOW) {
            for (Executed e : g.trace()) {
                if (e.pre().cpl() == 3 && !(e.instruction() instanceof GuestInstruction.Vmcall)
                        && e.exits().total() > 0) {
                    return Optional.of(new Violation("BUD-3", mode + ": the user-mode " + e.instruction()
                            + " (guest saw " + e.observed() + ") cost " + e.exits() + ", budget 0"));
                }
            }
        }
        Budget b = budget(g.op(), mode, s);
        SortedMap<String, Integer> counted = count(g);
        for (Map.Entry<String, Integer> e : counted.entrySet()) {
            if (b.unbudgeted(e.getKey())) {
                continue;
            }
            int max = b.max().getOrDefault(e.getKey(), 0);
            if (e.getValue() > max) {
                return Optional.of(new Violation(b.rule(), g.op().getClass().getSimpleName() + " in " + mode
                        + " mode cost " + e.getValue() + " × " + e.getKey() + ", budget " + max + " (counted "
                        + counted + ")"));
            }
        }
        return Optional.empty();
    }

    /**
     * One row of the table: the rule, the most of each counter (absent: 0) and whether exits other than VMCALL are
     * outside the budget (boot and SWITCH_MMU: the paging-off emulation and the table building are BOOT-1's and
     * SH-4's matter, not a routing choice).
     */
    record Budget(String rule, Map<String, Integer> max, boolean otherExitsFree) {
        boolean unbudgeted(String counter) {
            return otherExitsFree && counter.startsWith("exit ") && !counter.equals(EXIT_VMCALL);
        }
    }

    private static Budget budget(GuestOp op, MmuMode mode, Lockstep.LockstepStep s) {
        boolean shadow = mode == MmuMode.SHADOW;
        boolean direct = mode == MmuMode.DIRECT;
        org.hybridv.guest.KernelState k = s.pre().guest().kernel();
        int cpu = op instanceof GuestOp.OnCpu o ? o.cpu() : 0;
        op = op instanceof GuestOp.OnCpu o ? o.op() : op;
        // the SMP kernel: the other online CPUs that have the operation's address space loaded (BUD-4, BUD-5)
        int others = 0;
        for (int c : k.onlineCpus()) {
            if (c != cpu && k.current(c) != 0 && k.current(c) == k.current(cpu)) {
                others++;
            }
        }
        if (op instanceof GuestOp.Boot || op instanceof GuestOp.SwitchMmu || op instanceof GuestOp.StartAp) {
            // BUD-10: one p2m lookup per frame, one SWITCH_MMU, one pin per other address space; no PV MMU update;
            // one flush per vCPU (its CR3, POST-1) and one for the domain (POST-2)
            int frames = k.frames();
            long live = k.processes().values().stream().filter(p -> !p.killed()).count();
            int vcpus = ((XenPlatform) s.pre().guest().platform()).cpus();
            // BOOT-8: and the shared-info page (one memory_op more), the callback vector, VIRQ_TIMER's port
            return new Budget("BUD-10", Map.of(MEMORY_OP, frames + 1, SWITCH_MMU, 1, MMUEXT_OP, (int) live,
                    HVM_OP, 1, EVENT_CHANNEL_OP, 1, EXIT_VMCALL, frames + 4 + (int) live, FLUSH, vcpus + 1), true);
        }
        boolean idlePeriod = op instanceof GuestOp.Idle i && i.ticks() > 0;
        if (op instanceof GuestOp.TimerTick || idlePeriod) {
            // BUD-12: the timer programmed once (one vcpu_op, or the x2APIC count with its one-time divide and LVT
            // writes), at most one EOI write, and to idle one SCHEDOP_block or one HLT; the upcall and the injection
            // cost nothing; in shadow mode the two pages the operation touches (the kernel's data, the shared-info
            // page) may each need a read fill and a write fill after SH-4 dropped the shadows
            return new Budget("BUD-12", idlePeriod
                    ? Map.of(EXIT_VMCALL, 2, VCPU_OP, 1, SCHED_OP, 1, EXIT_MSR_WRITE, 4, EXIT_HLT, 1, EXIT_PF,
                            shadow ? 4 : 0)
                    : Map.of(EXIT_VMCALL, 1, VCPU_OP, 1, EXIT_MSR_WRITE, 4, EXIT_PF, shadow ? 4 : 0), false);
        }
        if (op instanceof GuestOp.BlockRead || op instanceof GuestOp.BlockWrite) {
            // BUD-13: the split driver (only where the hypervisor offers it: the hypercall page installed and a
            // back-end named) costs at most the set-up's hypercalls — the grant table placed, a p2m lookup per driver
            // frame before SWITCH_MMU, alloc_unbound — and one event_channel_op send per request, no port access;
            // the ATA disk costs its 136 port accesses and no hypercall. In shadow mode each of the five pages the
            // driver touches (its data in the kernel's page, the buffer, the ring, the grant table, the shared-info
            // page) may need a read fill and a write fill.
            boolean ports = count(s.guest()).containsKey(EXIT_IO);
            boolean offered = k.stage().hypercallsAllowed()
                    && ((XenPlatform) s.pre().guest().platform()).xenstoreBlockBackEnd().isPresent();
            int fills = shadow ? 10 : 0;
            return ports || !offered ? new Budget("BUD-13", Map.of(EXIT_IO, ATA_PORT_ACCESSES, EXIT_PF, fills), false)
                    : new Budget("BUD-13", Map.of(EXIT_VMCALL, 6, MEMORY_OP, 4, EVENT_CHANNEL_OP, 2, EXIT_PF, fills),
                            false);
        }
        if (op instanceof GuestOp.Syscall) {
            return new Budget("BUD-2", shadow ? Map.of(EXIT_PF, 1) : Map.of(), false);
        }
        if (op instanceof GuestOp.Map || op instanceof GuestOp.Unmap) {
            boolean unmap = op instanceof GuestOp.Unmap;
            // an unmap of an address space another CPU has loaded: one INVLPG_MULTI in direct mode, one INVLPG exit
            // per such CPU in shadow mode (its flush IPI's handler)
            int multi = unmap && others > 0 ? 1 : 0;
            return new Budget("BUD-4", direct ? Map.of(EXIT_VMCALL, 1 + multi, MMU_UPDATE, 1, MMUEXT_OP, multi,
                    FLUSH, 1 + multi)
                    : shadow ? (unmap ? Map.of(EXIT_PF, 1, EMULATED, 1, EXIT_INVLPG, 1 + others)
                            : Map.of(EXIT_PF, 1, EMULATED, 1))
                    : Map.of(), false);
        }
        if (op instanceof GuestOp.UserAccess) {
            // a kill also moves each other CPU running the process to the kernel's tables (BUD-6 each)
            return new Budget("BUD-5", direct ? Map.of(EXIT_VMCALL, 1, MMU_UPDATE, 1, FLUSH, 1, EXIT_CR, 1 + others)
                    : shadow ? Map.of(EXIT_PF, 3 + others, EMULATED, 1, EXIT_CR, 1 + others) : Map.of(), false);
        }
        if (op instanceof GuestOp.SwitchTo) {
            return new Budget("BUD-6", direct ? Map.of(EXIT_CR, 1) : shadow ? Map.of(EXIT_CR, 1, EXIT_PF, 1)
                    : Map.of(), false);
        }
        if (op instanceof GuestOp.NewProcess) {
            return new Budget("BUD-7", direct ? Map.of(EXIT_VMCALL, 5, UPDATE_VA_MAPPING, 4, MMUEXT_OP, 1, FLUSH, 4)
                    : shadow ? Map.of(EXIT_PF, 4) : Map.of(), false);
        }
        if (op instanceof GuestOp.KernelAccess) {
            return new Budget("BUD-8", mode == MmuMode.HAP ? Map.of() : Map.of(EXIT_PF, 1), false);
        }
        if (op instanceof GuestOp.Idle) {
            return new Budget("BUD-9", Map.of(EXIT_HLT, 1), false);
        }
        throw new IllegalArgumentException("no budget for " + op);
    }
}
