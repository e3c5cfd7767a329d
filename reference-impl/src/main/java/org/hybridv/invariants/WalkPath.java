package org.hybridv.invariants;

import org.hybridv.x86.Hex;

/**
 * The paging-structure entries a walk went through, from the root down: "L4 0x10[0] → L3 0x11[0] → …". The
 * invariants enumerate every mapping after every step, so the text is built only when an explanation prints it (built
 * eagerly it was about a tenth of the checks' cost).
 *
 * @param parent the entry one level up, or null at the root table
 * @param level  the level of {@code table} (4 = PML4 … 1 = page table)
 * @param table  the frame of the paging structure
 * @param index  the entry's index in it
 */
public record WalkPath(WalkPath parent, int level, long table, int index) {
    @Override
    public String toString() {
        String here = "L" + level + " " + Hex.of(table) + "[" + index + "]";
        return parent == null ? here : parent + " → " + here;
    }
}
