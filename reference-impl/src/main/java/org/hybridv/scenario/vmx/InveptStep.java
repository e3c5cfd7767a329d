package org.hybridv.scenario.vmx;

import org.hybridv.ept.InveptType;
import org.hybridv.scenario.x86.Render;

/**
 * {@code {"op": "invept", "type": …, "eptp": {…}}}: INVEPT in VMX root operation (Intel SDM Vol. 3C §28.3.3.3 and the
 * instruction reference, chapter 30).
 *
 * @param type   the INVEPT type
 * @param eptp   the descriptor's EPTP, all 64 bits (ignored by all-context)
 * @param expect what must happen (default: succeeded)
 */
public record InveptStep(InveptType type, long eptp, RootExpectation expect) implements VmxStep {
    public InveptStep {
        if (type == null || expect == null) {
            throw new IllegalArgumentException("INVEPT needs a type and an expectation");
        }
    }

    @Override
    public String op() {
        return "invept";
    }

    @Override
    public String describe() {
        return (type == InveptType.SINGLE_CONTEXT ? "single-context EPTP " + Render.hex(eptp) : "all-context");
    }
}
