package org.hybridv.invariants;

import org.hybridv.guest.GuestOp;
import org.hybridv.guest.KernelStep;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.PvPlatform;

/**
 * I3 Native equivalence: what the guest observes is what the same kernel observes on bare metal, whatever the MMU
 * mode (shadow, HAP, direct after SWITCH_MMU). Checked on a {@link Lockstep} step:
 * <ol>
 * <li><b>I3-result</b> — every workload operation (process creation, context switch, map, unmap, user and kernel
 * accesses, system call, idle) returns the same result: values read, pids, the process killed with the same #PF
 * (error code and CR2) or #GP, the same oops;</li>
 * <li><b>I3-faults</b> — the exceptions delivered to the guest during the operation are the same, in the same
 * order, with the same vector, error code and CR2 ("up to the p2m renaming of frames": no observation carries a
 * frame number);</li>
 * <li><b>I3-boot</b> — early initialization is the same: the guest reaches long mode iff the twin does.</li>
 * </ol>
 * What the guest chose to para-virtualize is not compared: CPUID's hypervisor leaves, the hypercall page, SWITCH_MMU
 * and the stages after detection; how the timer is programmed, how the CPU idles and how its interrupt arrives
 * (BOOT-9, BOOT-10) — the tick count and clock the kernel reads back are compared. The software-only PV platform
 * models no time and no events: its timer operations are not applicable and not compared. After an explicit
 * SWITCH_MMU root was accepted the pair is diverged and nothing is compared.
 */
public final class NativeEquivalence {
    private NativeEquivalence() {}

    public static InvariantResult check(Lockstep.LockstepStep s) {
        if (s.pre().diverged()) {
            return InvariantResult.HOLDS;
        }
        KernelStep g = s.guest();
        KernelStep t = s.twin();
        GuestOp op = g.op();
        if (op instanceof GuestOp.Boot) {
            boolean gl = g.post().kernel().stage().pagingOn();
            boolean tl = t.post().kernel().stage().pagingOn();
            return gl == tl ? InvariantResult.HOLDS : new InvariantResult.Violated("I3-boot", op + ": the guest "
                    + (gl ? "reached" : "did not reach") + " long mode (" + g.result() + "), the native twin "
                    + (tl ? "did" : "did not") + " (" + t.result() + ")");
        }
        if (op instanceof GuestOp.SwitchMmu) {
            return InvariantResult.HOLDS;
        }
        GuestOp inner = op instanceof GuestOp.OnCpu o ? o.op() : op;
        if (g.post().platform() instanceof PvPlatform && (inner instanceof GuestOp.TimerTick
                || inner instanceof GuestOp.Idle i && i.ticks() > 0)) {
            // the software-only PV platform models no time and no events: its kernel has no timer to compare
            return InvariantResult.HOLDS;
        }
        if (!g.result().equals(t.result())) {
            return new InvariantResult.Violated("I3-result", op + " on " + g.post().platform().name() + " at stage "
                    + g.post().kernel().stage() + " returned " + g.result() + ", natively " + t.result());
        }
        if (!g.faults().equals(t.faults())) {
            return new InvariantResult.Violated("I3-faults", op + " on " + g.post().platform().name()
                    + ": the guest received " + g.faults() + ", natively " + t.faults());
        }
        return InvariantResult.HOLDS;
    }
}
