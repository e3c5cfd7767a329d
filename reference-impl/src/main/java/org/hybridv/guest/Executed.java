package org.hybridv.guest;

import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Checks;

/**
 * One instruction the kernel executed: the platform after it, what the guest observed, and the VM exits it cost (0
 * on bare metal), by reason.
 *
 * @param instruction the instruction
 * @param platform    the platform after it
 * @param observed    what the guest saw
 * @param exits       the VM exits it went through, by reason
 */
public record Executed(GuestInstruction instruction, Platform platform, Observed observed, ExitCount exits) {
    public Executed {
        Checks.notNull("instruction", instruction);
        Checks.notNull("platform", platform);
        Checks.notNull("observed", observed);
        Checks.notNull("exits", exits);
    }
}
