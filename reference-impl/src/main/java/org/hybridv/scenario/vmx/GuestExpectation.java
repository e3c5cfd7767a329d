package org.hybridv.scenario.vmx;

/**
 * What a guest instruction is expected to do. Every field but {@code result} is optional: what is absent is not
 * checked.
 */
public sealed interface GuestExpectation permits GuestExpectation.Retires, GuestExpectation.Delivers,
        GuestExpectation.Exits {
    /**
     * {@code {"result": "retired", "value": …}}: the instruction completed in the guest without a VM exit.
     *
     * @param value the value it produced (data read, register loaded, IN result) or wrote, or null
     */
    record Retires(Long value) implements GuestExpectation {}

    /**
     * {@code {"result": "delivered", "vector": …, "errorCode": …, "cr2": …}}: an exception reached the guest through
     * its IDT, without a VM exit.
     *
     * @param vector    the exception vector, or null
     * @param errorCode the error code pushed, or null
     * @param cr2       the guest's CR2 afterwards, or null
     */
    record Delivers(Integer vector, Long errorCode, Long cr2) implements GuestExpectation {}

    /**
     * {@code {"result": "vmExit", "reason": …, "qualification": …, …}}: a VM exit, with the exit-information fields
     * to check.
     *
     * @param exit the exit-information fields to check
     */
    record Exits(ExitPattern exit) implements GuestExpectation {}

    /** The {@code result} word. */
    default String result() {
        if (this instanceof Delivers) {
            return "delivered";
        }
        return this instanceof Exits ? "vmExit" : "retired";
    }
}
