package org.hybridv.scenario.x86;

/**
 * {@code {"op": "expectEntry", "table": 4, "index": 0, "accessed": true, "dirty": false, …}}: check fields of the
 * paging-structure entry in memory (e.g. the A and D flags the processor set, SDM Vol. 3A §4.8).
 *
 * @param table   the frame holding the paging structure
 * @param index   the entry's index, 0..511
 * @param pattern the fields to check
 */
public record ExpectEntryStep(long table, int index, EntryPattern pattern) implements X86Step {
    @Override
    public String op() {
        return "expectEntry";
    }

    @Override
    public String describe() {
        return "table " + Render.frame(table) + "[" + index + "]";
    }
}
