package org.hybridv.x86;

/** What a system instruction (MOV to CRn, WRMSR to IA32_EFER, INVLPG, INVPCID) did: it retired, or raised #GP(0). */
public sealed interface InstructionOutcome permits InstructionOutcome.Retired, GeneralProtection {
    /** The instruction completed with its architectural effect. */
    record Retired() implements InstructionOutcome {
        @Override
        public String toString() {
            return "retired";
        }
    }

    Retired RETIRED = new Retired();
}
