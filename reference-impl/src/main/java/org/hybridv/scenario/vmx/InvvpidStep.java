package org.hybridv.scenario.vmx;

import org.hybridv.scenario.x86.Render;
import org.hybridv.vmx.InvvpidType;

/**
 * {@code {"op": "invvpid", "type": …, "vpid": …, "linear": …}}: INVVPID in VMX root operation (Intel SDM Vol. 3C
 * §28.3.3.3 and the instruction reference, chapter 30).
 *
 * @param type   the INVVPID type
 * @param vpid   the descriptor's VPID
 * @param linear the descriptor's linear address (used by the individual-address type only)
 * @param expect what must happen (default: succeeded)
 */
public record InvvpidStep(InvvpidType type, int vpid, long linear, RootExpectation expect) implements VmxStep {
    public InvvpidStep {
        if (type == null || expect == null) {
            throw new IllegalArgumentException("INVVPID needs a type and an expectation");
        }
    }

    @Override
    public String op() {
        return "invvpid";
    }

    @Override
    public String describe() {
        return VmxRender.invvpidType(type) + " VPID " + Render.hex(vpid)
                + (type == InvvpidType.INDIVIDUAL_ADDRESS ? " linear " + Render.hex(linear) : "");
    }
}
