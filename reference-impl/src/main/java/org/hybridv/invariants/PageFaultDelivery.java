package org.hybridv.invariants;

import java.util.List;
import org.hybridv.guest.Executed;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.KernelStep;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.Observed;
import org.hybridv.guest.XenPlatform;
import org.hybridv.x86.ErrorCode;
import org.hybridv.x86.Hex;
import org.hybridv.xen.MmuMode;

/**
 * I4 #PF delivery, over the instructions of one kernel operation under the hypervisor. Every #PF is decided in
 * hardware by the SDM rule (exception bitmap bit 14, PFEC_MASK/MATCH, SDM Vol. 3C §25.2) under the controls I7 checks;
 * what this invariant adds is where each fault ends up:
 * <ol>
 * <li><b>I4-arch</b> — a #PF the guest's own tables cause reaches the guest kernel exactly once, with the
 * architectural error code and CR2: the #PFs the guest received in a workload operation are exactly those its native
 * twin received;</li>
 * <li><b>I4-cr2</b> — after a #PF reached the guest, its CR2 holds the faulting address (SDM Vol. 3A §6.15), whether
 * the processor delivered it or the hypervisor injected it;</li>
 * <li><b>I4-user-direct</b> — in direct mode a user-mode #PF (U/S = 1) causes no VM exit (the hybrid filter);</li>
 * <li><b>I4-shadow</b> — no lost faults in shadow mode: the hardware faults on the shadow tables, so every #PF the
 * guest receives went through the hypervisor (≥ 1 exit, SH-3);</li>
 * <li><b>I4-ptwr</b> — no lost faults in direct mode: a supervisor write to a present page (error code P|W, the
 * writable-page-table case PTW-1) that reaches the guest went through the hypervisor first;</li>
 * <li><b>I4-hap</b> — under HAP no #PF exits (bit 14 = 0, MASK = MATCH = 0).</li>
 * </ol>
 */
public final class PageFaultDelivery {
    private PageFaultDelivery() {}

    public static InvariantResult check(Lockstep.LockstepStep s) {
        InvariantResult r = check(s.guest());
        if (!r.holds() || s.pre().diverged() || s.guest().op() instanceof GuestOp.Boot
                || s.guest().op() instanceof GuestOp.SwitchMmu) {
            return r;
        }
        List<Observed> g = s.guest().faults().stream().filter(Observed::isPageFault).toList();
        List<Observed> t = s.twin().faults().stream().filter(Observed::isPageFault).toList();
        return g.equals(t) ? InvariantResult.HOLDS : new InvariantResult.Violated("I4-arch", s.guest().op()
                + " on " + s.guest().post().platform().name() + ": the guest received #PF " + g + ", natively " + t);
    }

    /** The per-instruction parts (I4-cr2, I4-user-direct, I4-shadow, I4-ptwr, I4-hap). */
    public static InvariantResult check(KernelStep step) {
        for (Executed e : step.trace()) {
            if (!(e.platform() instanceof XenPlatform x) || !(e.observed() instanceof Observed.Fault f)
                    || !f.isPageFault()) {
                continue;
            }
            int ec = f.errorCode();
            int exits = e.exits().total();
            MmuMode mode = x.mode();
            String at = e.instruction() + " in " + mode + " mode: #PF " + new ErrorCode(ec) + " at " + Hex.of(f.cr2())
                    + " with " + e.exits();
            long cr2 = x.machine().guestCpu(x.vcpu()).cr2();
            if (cr2 != f.cr2()) {
                return new InvariantResult.Violated("I4-cr2", at + ", but the guest's CR2 is " + Hex.of(cr2));
            }
            if (mode == MmuMode.DIRECT && (ec & ErrorCode.US) != 0 && exits != 0) {
                return new InvariantResult.Violated("I4-user-direct", at + ": a user-mode #PF must not exit in"
                        + " direct mode (PFEC filter)");
            }
            if (mode == MmuMode.SHADOW && exits == 0) {
                return new InvariantResult.Violated("I4-shadow", at + ": reached the guest without the hypervisor"
                        + " (the hardware walked the shadow; only the hypervisor can tell whether the guest's tables"
                        + " fault)");
            }
            boolean ptwr = (ec & (ErrorCode.P | ErrorCode.WR | ErrorCode.US | ErrorCode.RSVD))
                    == (ErrorCode.P | ErrorCode.WR);
            if (mode == MmuMode.DIRECT && ptwr && exits == 0) {
                return new InvariantResult.Violated("I4-ptwr", at + ": a supervisor write to a present page must"
                        + " exit in direct mode (it may be a page-table write to emulate, PTW-1)");
            }
            if (mode == MmuMode.HAP && exits != 0) {
                return new InvariantResult.Violated("I4-hap", at + ": no #PF exits under HAP");
            }
        }
        return InvariantResult.HOLDS;
    }
}
