package org.hybridv.check;

import java.util.Optional;
import org.hybridv.guest.Executed;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.GuestSystem;
import org.hybridv.guest.KernelResult;
import org.hybridv.guest.KernelStep;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.Observed;
import org.hybridv.guest.PvEvents;
import org.hybridv.guest.PvPlatform;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.ErrorCode;

/**
 * The event budget of the software-only PV platform, BUD-11 of docs/rules/hybrid.md: per kernel operation, what
 * x86-64 PV must cost — no VM exit; per kernel round trip (a user-mode instruction runs inside one, a system call is
 * two) exactly one {@code HYPERVISOR_iret} and one trap through Xen (a kernel entry, or the user instruction's own
 * fault bounced); one page-table switch per entry, per exit and per base-pointer change; and per operation the
 * hypercalls its pv-ops name, no more. It counts what the step shows — the trace's instructions and guest modes, and
 * the platform's own event counts — and calls no decision of the platform.
 */
public final class PvEventBudgets {
    private PvEventBudgets() {}

    /** The budget broken by {@code step}, run from {@code pre} on the PV platform, if any. */
    public static Optional<EventBudgets.Violation> check(GuestSystem pre, KernelStep step) {
        if (!(pre.platform() instanceof PvPlatform before) || !(step.post().platform() instanceof PvPlatform after)) {
            throw new IllegalArgumentException("not a step on the PV platform");
        }
        PvEvents d = after.events().since(before.events());
        GuestOp op = step.op();
        while (op instanceof GuestOp.OnCpu on) {
            op = on.op(); // the one CPU of the PV platform: the operation's budget is its own
        }
        if (step.exits().total() != 0) {
            return bad(op + ": " + step.exits() + " on a platform without VMX");
        }
        long roundTrips = op instanceof GuestOp.Syscall ? 2 : 0;
        long userTraps = 0;
        long baseChanges = 0;
        for (Executed e : step.trace()) {
            if (e.pre().cpl() == 3) {
                roundTrips++;
                if (e.observed() instanceof Observed.Fault) {
                    userTraps++; // the fault bounced by Xen is the round trip's entry (a SYSCALL is trap:entry)
                }
            } else if (e.instruction() instanceof GuestInstruction.MovToCr m && m.cr() == 3
                    && e.observed() instanceof Observed.Value) {
                baseChanges++;
            }
        }
        long irets = d.of(PvEvents.HYPERCALL + "iret");
        if (irets != roundTrips) {
            return bad(op + ": " + irets + " HYPERVISOR_iret for " + roundTrips + " returns to user mode");
        }
        long entries = d.of(PvEvents.TRAP_ENTRY) + userTraps;
        if (entries != roundTrips) {
            return bad(op + ": " + entries + " traps into the kernel for " + roundTrips + " kernel entries");
        }
        if (d.of(PvEvents.CR3_SWITCH) != 2 * roundTrips + baseChanges) {
            return bad(op + ": " + d.of(PvEvents.CR3_SWITCH) + " page-table switches for " + roundTrips
                    + " round trips and " + baseChanges + " base-pointer changes");
        }
        int mmu = d.of(PvEvents.HYPERCALL + "mmu_update");
        int uva = d.of(PvEvents.HYPERCALL + "update_va_mapping");
        int ext = d.of(PvEvents.HYPERCALL + "mmuext_op");
        int sched = d.of(PvEvents.HYPERCALL + "sched_op");
        int others = d.hypercalls() - (int) irets - mmu - uva - ext - sched;
        boolean done = !(step.result() instanceof KernelResult.NotApplicable)
                && !(step.result() instanceof KernelResult.Oops);
        int[] max = budget(op, step.result());
        String[] names = {"mmu_update", "update_va_mapping", "mmuext_op", "sched_op", "other hypercalls"};
        int[] got = {mmu, uva, ext, sched, others};
        for (int i = 0; i < got.length; i++) {
            if (got[i] > max[i]) {
                return bad(op + " (" + step.result() + "): " + got[i] + " " + names[i] + ", at most " + max[i]);
            }
        }
        if (done && exact(op) && (mmu != max[0] || uva != max[1] || ext != max[2] || sched != max[3])) {
            return bad(op + " (" + step.result() + "): mmu_update " + mmu + ", update_va_mapping " + uva
                    + ", mmuext_op " + ext + ", sched_op " + sched + "; the pv-ops name " + max[0] + ", " + max[1]
                    + ", " + max[2] + ", " + max[3]);
        }
        return Optional.empty();
    }

    /** Whether the operation's hypercalls are exactly its budget when it completes. */
    private static boolean exact(GuestOp op) {
        return op instanceof GuestOp.Map || op instanceof GuestOp.Unmap || op instanceof GuestOp.NewProcess
                || op instanceof GuestOp.SwitchTo || op instanceof GuestOp.Idle || op instanceof GuestOp.Syscall;
    }

    /**
     * The most {@code mmu_update}, {@code update_va_mapping}, {@code mmuext_op}, {@code sched_op} and other
     * hypercalls an operation may issue: {@code set_pte} is one {@code mmu_update}; an unmap adds one
     * {@code MMUEXT_INVLPG_LOCAL}; a new process four {@code update_va_mapping} ({@code alloc_pt}) and one pin; a
     * context switch one {@code mmuext_op} (both base pointers); a user access at most a demand-paging
     * {@code mmu_update} and, if the process is killed, the switch to the kernel's tables; idle one
     * {@code SCHEDOP_block}; a system call and a kernel access none. Boot issues none (the kernel starts in long mode);
     * SWITCH_MMU, which PV does not have, at most one lookup per frame and the refused call.
     */
    private static int[] budget(GuestOp op, KernelResult result) {
        if (result instanceof KernelResult.NotApplicable) {
            return new int[] {0, 0, 0, 0, 0};
        }
        if (op instanceof GuestOp.Map) {
            return new int[] {1, 0, 0, 0, 0};
        }
        if (op instanceof GuestOp.Unmap) {
            return new int[] {1, 0, 1, 0, 0};
        }
        if (op instanceof GuestOp.NewProcess) {
            return new int[] {0, 4, 1, 0, 0};
        }
        if (op instanceof GuestOp.SwitchTo) {
            return new int[] {0, 0, 1, 0, 0};
        }
        if (op instanceof GuestOp.UserAccess) {
            return new int[] {1, 0, 1, 0, 0};
        }
        if (op instanceof GuestOp.Idle) {
            return new int[] {0, 0, 0, 1, 0};
        }
        if (op instanceof GuestOp.SwitchMmu) {
            return new int[] {0, 0, 0, 0, Integer.MAX_VALUE};
        }
        return new int[] {0, 0, 0, 0, 0}; // Syscall, KernelAccess, Boot
    }

    private static Optional<EventBudgets.Violation> bad(String why) {
        return Optional.of(new EventBudgets.Violation("BUD-11", why));
    }

    /**
     * Whether {@code s} is the one observation x86-64 PV changes by design: a user access to the kernel half killed
     * the process on both sides with the same #PF but for P — 0 under PV (the user L4 does not map the kernel), 1
     * natively (a present supervisor page).
     */
    public static boolean isThePvKernelAddressFault(Lockstep.LockstepStep s) {
        if (!(s.guest().op() instanceof GuestOp.UserAccess a) || a.linear() >= 0) { // the kernel (upper) half
            return false;
        }
        if (!(s.guest().result() instanceof KernelResult.Killed g)
                || !(s.twin().result() instanceof KernelResult.Killed t) || !(g.why() instanceof Observed.Fault gf)
                || !(t.why() instanceof Observed.Fault tf)) {
            return false;
        }
        return gf.vector() == 14 && tf.vector() == 14 && gf.cr2() == tf.cr2()
                && (gf.errorCode() & ErrorCode.P) == 0 && (tf.errorCode() & ErrorCode.P) != 0
                && (gf.errorCode() | ErrorCode.P) == tf.errorCode();
    }
}
