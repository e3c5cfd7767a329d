package org.hybridv.x86;

/**
 * Where a page walk reads its paging-structure entries. Natively that is physical memory; under EPT each guest
 * paging-structure access is itself a guest-physical access that EPT translates and may refuse (Intel SDM Vol. 3C
 * §28.2.1: "…the addresses in the guest paging structures are treated as guest-physical addresses and are translated
 * using EPT").
 *
 * <p>A reader that refuses a read (an EPT violation or misconfiguration) answers {@link #refused()} = true right
 * after that read; the walk then stops with {@link Walk.End#READ_REFUSED} and the reader keeps the reason.
 */
public interface EntryReader {
    /** The 64-bit entry at {@code address} (8-byte aligned). */
    long read(long address);

    /** Whether the last {@link #read} could not be made. */
    default boolean refused() {
        return false;
    }

    /** Physical memory as a reader that never refuses. */
    static EntryReader of(PhysicalMemory memory) {
        return memory::readPhysical;
    }
}
