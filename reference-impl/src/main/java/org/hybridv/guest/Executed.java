package org.hybridv.guest;

import java.util.Optional;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Checks;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;

/**
 * One instruction the kernel executed: the platform before and after it, what the guest observed, the VM exits it
 * cost (none on bare metal) by reason, and — under the hypervisor — the hypervisor's own step, which the
 * hypervisor-level invariants (I7) check.
 *
 * @param instruction the instruction
 * @param regs        the registers a VMCALL passed (number 0 and no arguments for other instructions)
 * @param pre         the platform before it
 * @param platform    the platform after it
 * @param observed    what the guest saw
 * @param exits       the VM exits it went through, by reason
 * @param hv          {@code Hypervisor.run}'s step, under the hypervisor
 */
public record Executed(GuestInstruction instruction, Hypercall regs, Platform pre, Platform platform,
        Observed observed, ExitCount exits, Optional<HvStep> hv) {
    public Executed {
        Checks.notNull("instruction", instruction);
        Checks.notNull("registers", regs);
        Checks.notNull("pre", pre);
        Checks.notNull("platform", platform);
        Checks.notNull("observed", observed);
        Checks.notNull("exits", exits);
        Checks.notNull("hypervisor step", hv);
    }

    /** Whether this is a VMCALL with hypercall number {@code nr}. */
    public boolean isHypercall(long nr) {
        return instruction instanceof GuestInstruction.Vmcall && regs.number() == nr;
    }
}
