package org.hybridv.x86;

/** What one memory access did: completed (with the value read or written), #PF, or #GP. */
public sealed interface AccessOutcome permits AccessOutcome.Completed, PageFault, GeneralProtection {
    /**
     * The access completed.
     *
     * @param physicalAddress the physical address accessed
     * @param value           the quadword read, fetched, or written
     */
    record Completed(long physicalAddress, long value) implements AccessOutcome {
        @Override
        public String toString() {
            return "ok physical=" + Hex.of(physicalAddress) + " value=" + Hex.of(value);
        }
    }
}
