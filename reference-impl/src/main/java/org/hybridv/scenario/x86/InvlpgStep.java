package org.hybridv.scenario.x86;

/**
 * {@code {"op": "invlpg", "linear": …, "expect": {…}}}: INVLPG at the current CPL (SDM Vol. 2A INVLPG; Vol. 3A
 * §4.10.4.1).
 *
 * @param linear the linear address whose page is invalidated
 * @param expect what must happen (default: retire)
 */
public record InvlpgStep(long linear, InstructionExpectation expect) implements X86Step {
    @Override
    public String op() {
        return "invlpg";
    }

    @Override
    public String describe() {
        return Render.hex(linear);
    }
}
