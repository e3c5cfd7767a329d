package org.hybridv.compare;

import java.util.Map;
import org.hybridv.guest.Executed;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.GuestSystem;
import org.hybridv.guest.KernelStep;
import org.hybridv.guest.NativePlatform;
import org.hybridv.guest.Observed;
import org.hybridv.guest.PvEvents;
import org.hybridv.guest.PvPlatform;
import org.hybridv.guest.XenPlatform;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.ErrorCode;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.X86Machine;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.Pcpu;
import org.hybridv.xen.Vcpu;

/**
 * Counts the {@link Events} of one kernel operation from what the model executed — its trace of instructions, the VM
 * exits each cost, and, on the PV platform, the platform's own counts of what has no instruction (traps, {@code iret},
 * page-table toggles):
 * <ul>
 * <li>kernel work: one {@code op:*} per operation, one {@code work:page-fault} per user #PF the kernel handled by
 * demand paging;</li>
 * <li>ring transitions (rule of {@code Kernel}: every operation starts and ends in the kernel): each user-mode
 * instruction runs inside one round trip (return to user, then the next kernel entry — by its own exception or the
 * next event), and a system call is two round trips ({@code Kernel.syscall}: the process enters with SYSCALL,
 * SYSRET, the next entry);</li>
 * <li>VM exits by reason (the kernel's {@code Executed.exits}, as {@code hybridv exits} counts them) and the
 * hypercall kind of each VMCALL;</li>
 * <li>CR3 switches and flushes: a retired MOV to CR3 is a switch and a full flush (the model's kernel uses no global
 * pages and no PCIDs), INVLPG and {@code update_va_mapping} with {@code UVMF_INVLPG} flush one page; on PV the
 * platform's counts;</li>
 * <li>TLB misses, under the adversarial TLB (every translation is kept until an operation the SDM names invalidates
 * it; unlimited capacity): a memory access misses when the processor's TLB holds no translation of its page for the
 * context before the access — bare metal: the processor's TLB; a VMX domain: the physical CPU's TLB, entries tagged
 * with the vCPU's VPID; PV: the x86 layer's own hit flag. Each miss costs {@link Target#walkRefs()} memory
 * references.</li>
 * </ul>
 */
public final class EventCounter {
    private EventCounter() {}

    /** The events of {@code step}, which ran on {@code target} from the system {@code pre}. */
    public static Events count(Target target, GuestSystem pre, KernelStep step) {
        Events e = Events.NONE.plus(opKind(step.op()), 1);
        if (step.op() instanceof GuestOp.Syscall) {
            e = e.plus("ring:entry", 2).plus("ring:exit", 2);
        }
        long misses = 0;
        for (Executed x : step.trace()) {
            GuestInstruction i = x.instruction();
            if (x.pre().cpl() == 3) {
                e = e.plus("ring:entry", 1).plus("ring:exit", 1);
            }
            if (x.observed() instanceof Observed.Fault f) {
                e = e.plus("exception", 1);
                if (f.isPageFault() && (f.errorCode() & ErrorCode.US) != 0 && (f.errorCode() & ErrorCode.P) == 0
                        && step.op() instanceof GuestOp.UserAccess) {
                    e = e.plus("work:page-fault", 1);
                }
            }
            for (Map.Entry<String, Integer> r : x.exits().byReason().entrySet()) {
                e = e.plus("vmexit:" + r.getKey(), r.getValue());
            }
            if (x.pre() instanceof PvPlatform) {
                continue; // the PV platform counts its own events (below)
            }
            if (i instanceof GuestInstruction.Vmcall) {
                e = e.plus("hypercall:" + hypercallKind(x.regs().number()), 1);
                if (x.regs().number() == Hypercalls.HYPERVISOR_UPDATE_VA_MAPPING
                        && (x.regs().arg(2) & Hypercalls.UVMF_FLUSHTYPE_MASK) == Hypercalls.UVMF_INVLPG) {
                    e = e.plus("tlb-flush:page", 1);
                }
            }
            if (i instanceof GuestInstruction.MovToCr m && m.cr() == 3 && x.observed() instanceof Observed.Value) {
                e = e.plus("cr3-switch", 1).plus("tlb-flush:full", 1);
            }
            if (i instanceof GuestInstruction.Invlpg && x.observed() instanceof Observed.Value) {
                e = e.plus("tlb-flush:page", 1);
            }
            if (i instanceof GuestInstruction.MemoryAccess a && miss(x, a.access().linear())) {
                misses++;
            }
        }
        if (pre.platform() instanceof PvPlatform before && step.post().platform() instanceof PvPlatform after) {
            PvEvents d = after.events().since(before.events());
            for (Map.Entry<String, Integer> k : d.byKind().entrySet()) {
                String kind = k.getKey();
                int n = k.getValue();
                if (kind.startsWith(PvEvents.HYPERCALL)) {
                    e = e.plus("hypercall:" + kind.substring(PvEvents.HYPERCALL.length()), n).plus("pv:hypercall", n);
                } else if (kind.startsWith("trap:")) {
                    e = e.plus("pv:" + kind, n);
                } else if (kind.equals(PvEvents.TLB_MISS)) {
                    misses += n;
                } else {
                    e = e.plus(kind, n);
                }
            }
        }
        return e.plus("tlb-miss", misses).plus("walk-ref", misses * target.walkRefs());
    }

    /** The kernel-work event of an operation. */
    static String opKind(GuestOp op) {
        if (op instanceof GuestOp.Syscall) {
            return "op:syscall";
        }
        if (op instanceof GuestOp.SwitchTo) {
            return "op:switch";
        }
        if (op instanceof GuestOp.NewProcess) {
            return "op:new-process";
        }
        if (op instanceof GuestOp.Map) {
            return "op:map";
        }
        if (op instanceof GuestOp.Unmap) {
            return "op:unmap";
        }
        if (op instanceof GuestOp.UserAccess) {
            return "op:user";
        }
        if (op instanceof GuestOp.KernelAccess) {
            return "op:kernel-access";
        }
        if (op instanceof GuestOp.Idle) {
            return "op:idle";
        }
        if (op instanceof GuestOp.TimerTick) {
            return "op:timer-tick";
        }
        throw new IllegalArgumentException("not a workload operation: " + op);
    }

    /** The hypercall's name as Xen's {@code hypercall_table} has it (48 is this project's SWITCH_MMU). */
    static String hypercallKind(long nr) {
        if (nr == Hypercalls.HYPERVISOR_MMU_UPDATE) {
            return "mmu_update";
        }
        if (nr == Hypercalls.HYPERVISOR_UPDATE_VA_MAPPING) {
            return "update_va_mapping";
        }
        if (nr == Hypercalls.HYPERVISOR_MMUEXT_OP) {
            return "mmuext_op";
        }
        if (nr == Hypercalls.HYPERVISOR_MEMORY_OP) {
            return "memory_op";
        }
        if (nr == Hypercalls.HYPERVISOR_SWITCH_MMU) {
            return "switch_mmu";
        }
        return "other";
    }

    /** Whether the access of {@code x} found no cached translation of its page before it ran. */
    static boolean miss(Executed x, long linear) {
        if (x.pre() instanceof NativePlatform n) {
            X86Machine m = n.machine();
            return m.tlb().lookup(m.tlbTag(), m.cpu().currentPcid(), linear) == null;
        }
        if (x.pre() instanceof XenPlatform xp) {
            Vcpu v = xp.machine().vcpu(xp.vcpu());
            Pcpu p = xp.machine().pcpu(v.pcpu());
            for (TlbEntry t : p.tlb().entries()) {
                if (t.tag().vpid() == v.vpid() && t.covers(linear)) {
                    return false;
                }
            }
            return true;
        }
        throw new IllegalArgumentException("not a VMX or bare-metal platform: " + x.pre().name());
    }
}
