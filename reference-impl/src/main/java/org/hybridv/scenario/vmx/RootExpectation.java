package org.hybridv.scenario.vmx;

/** What INVVPID or INVEPT in VMX root operation is expected to do: succeed (the default) or VMfailValid. */
public sealed interface RootExpectation permits RootExpectation.Succeeds, RootExpectation.VmFails {
    /** {@code {"result": "succeeded"}}: VMsucceed. */
    record Succeeds() implements RootExpectation {}

    /**
     * {@code {"result": "vmFail", "error": …}}: VMfailValid.
     *
     * @param error the VM-instruction error number (SDM Vol. 3C §30.4, table 30-1; 28: invalid operand to
     *              INVEPT/INVVPID), or null
     */
    record VmFails(Integer error) implements RootExpectation {}

    RootExpectation SUCCEEDS = new Succeeds();

    /** The {@code result} word. */
    default String result() {
        return this instanceof VmFails ? "vmFail" : "succeeded";
    }
}
