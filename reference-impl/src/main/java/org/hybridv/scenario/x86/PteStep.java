package org.hybridv.scenario.x86;

import org.hybridv.x86.Entry;

/**
 * {@code {"op": "pte", "table": 4, "index": 0, "entry": {…}}}: store a paging-structure entry into memory. A plain
 * memory write: the TLB is not touched, so a translation cached before stays in use until something invalidates
 * it (SDM Vol. 3A §4.10.4).
 *
 * @param table the frame holding the paging structure (below memoryFrames)
 * @param index the entry's index in it, 0..511
 * @param entry the 64-bit entry
 */
public record PteStep(long table, int index, Entry entry) implements X86Step {
    @Override
    public String op() {
        return "pte";
    }

    @Override
    public String describe() {
        return "table " + Render.frame(table) + "[" + index + "] := " + Render.entry(entry);
    }
}
