package org.hybridv.scenario.x86;

/**
 * {@code {"op": "movToCr3", "value": "0x…", "expect": {…}}}: MOV to CR3 of an exact 64-bit operand at the current
 * CPL: bit 63 is the no-flush hint with CR4.PCIDE = 1, bits 11:0 the PCID (SDM Vol. 3A §4.10.4.1), bits above
 * MAXPHYADDR are reserved (#GP).
 *
 * @param value  the 64-bit source operand
 * @param expect what must happen (default: retire)
 */
public record MovToCr3Step(long value, InstructionExpectation expect) implements X86Step {
    @Override
    public String op() {
        return "movToCr3";
    }

    @Override
    public String describe() {
        return Render.hex(value);
    }
}
