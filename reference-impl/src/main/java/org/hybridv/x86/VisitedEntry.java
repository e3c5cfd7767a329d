package org.hybridv.x86;

/**
 * One paging-structure entry read by a walk.
 *
 * @param level   the level it was read at
 * @param address its physical address (the table's base plus 8 × the index taken from the linear address)
 * @param entry   its value as read
 */
public record VisitedEntry(Level level, long address, Entry entry) {
    /** The frame holding the entry (the paging structure). */
    public long tableFrame() {
        return address >>> 12;
    }

    /** The entry's index within its paging structure. */
    public int index() {
        return (int) ((address & 0xFFF) >>> 3);
    }
}
