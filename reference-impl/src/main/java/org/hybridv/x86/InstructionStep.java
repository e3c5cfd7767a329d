package org.hybridv.x86;

/**
 * The result of a system instruction: retired or #GP, and the machine afterwards (unchanged after a #GP).
 */
public record InstructionStep(InstructionOutcome outcome, X86Machine machine) {
    static InstructionStep retired(X86Machine m) {
        return new InstructionStep(InstructionOutcome.RETIRED, m);
    }

    static InstructionStep fault(X86Machine unchanged, String cause) {
        return new InstructionStep(new GeneralProtection(cause), unchanged);
    }
}
