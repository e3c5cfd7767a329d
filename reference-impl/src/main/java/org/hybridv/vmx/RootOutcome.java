package org.hybridv.vmx;

/** What a VMX instruction executed in root operation (INVVPID, INVEPT) did. */
public sealed interface RootOutcome {
    /** VMsucceed. */
    record Succeeded() implements RootOutcome {}

    /** VMfailValid with the VM-instruction error number (SDM Vol. 3C §30.4, table 30-1). */
    record VmFailValid(int error, String reason) implements RootOutcome {}

    /** VM-instruction error 28: "Invalid operand to INVEPT/INVVPID". */
    int INVALID_OPERAND = 28;
}
