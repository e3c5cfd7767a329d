package org.hybridv.scenario.x86;

/**
 * What an {@code access} is expected to do. Every field but {@code result} is optional: what is absent is not
 * checked.
 */
public sealed interface AccessExpectation permits AccessExpectation.Completes, AccessExpectation.PageFaults,
        AccessExpectation.GeneralProtects {
    /**
     * {@code {"result": "ok", "physical": …, "value": …, "tlbHit": …}}.
     *
     * @param physical the physical address accessed, or null
     * @param value    the quadword read or written, or null
     * @param tlbHit   whether a cached translation decided the access, or null
     */
    record Completes(Long physical, Long value, Boolean tlbHit) implements AccessExpectation {}

    /**
     * {@code {"result": "pageFault", "errorCode": …, "cr2": …, "tlbHit": …}}.
     *
     * @param errorCode the #PF error code (SDM Vol. 3A §4.7), or null
     * @param cr2       CR2 after the fault, or null
     * @param tlbHit    whether a cached translation decided the access, or null
     */
    record PageFaults(Integer errorCode, Long cr2, Boolean tlbHit) implements AccessExpectation {}

    /** {@code {"result": "generalProtection"}}: #GP(0), e.g. a non-canonical address. */
    record GeneralProtects() implements AccessExpectation {}

    /** The {@code result} word. */
    default String result() {
        if (this instanceof PageFaults) {
            return "pageFault";
        }
        return this instanceof GeneralProtects ? "generalProtection" : "ok";
    }
}
