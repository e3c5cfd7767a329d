package org.hybridv.ept;

import org.hybridv.x86.Checks;
import org.hybridv.x86.Level;

/**
 * One EPT paging-structure entry read by an EPT walk.
 *
 * @param level   the level it was read at (PML4 = EPT PML4E, PDPT = EPT PDPTE, PD = EPT PDE, PT = EPT PTE)
 * @param address its host-physical address: the table's base plus 8 × the index taken from the guest-physical
 *                address (SDM 28.2.2)
 * @param entry   its value as read, before any accessed/dirty update
 */
public record EptVisitedEntry(Level level, long address, EptEntry entry) {
    public EptVisitedEntry {
        Checks.notNull("level", level);
        Checks.notNull("entry", entry);
        Checks.aligned("EPT entry address", address, 8);
    }

    /** The frame holding the entry (the EPT paging structure). */
    public long tableFrame() {
        return address >>> 12;
    }

    /** The entry's index within its EPT paging structure. */
    public int index() {
        return (int) ((address & 0xFFF) >>> 3);
    }

    /** The SDM's name for the entry ("EPT PML4E", "EPT PDPTE", "EPT PDE", "EPT PTE"). */
    public String name() {
        return "EPT " + level.entryName();
    }
}
