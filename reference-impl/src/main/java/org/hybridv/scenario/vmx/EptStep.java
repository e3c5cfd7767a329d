package org.hybridv.scenario.vmx;

import org.hybridv.ept.EptEntry;
import org.hybridv.scenario.x86.Render;

/**
 * {@code {"op": "ept", "table": 20, "index": 0, "entry": {…}}}: store an EPT paging-structure entry (Intel SDM Vol. 3C
 * §28.2.2) into memory. A plain memory write, like {@code pte}: cached translations derived from the old entry stay
 * in use until INVEPT (or another invalidation) removes them (SDM §28.3.3).
 *
 * @param table the frame holding the EPT paging structure (below memoryFrames)
 * @param index the entry's index in it, 0..511
 * @param entry the 64-bit entry
 */
public record EptStep(long table, int index, EptEntry entry) implements VmxStep {
    @Override
    public String op() {
        return "ept";
    }

    @Override
    public String describe() {
        return "EPT table " + Render.hex(table) + "[" + index + "] := " + VmxRender.eptEntry(entry);
    }
}
