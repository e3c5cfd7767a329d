package org.hybridv.gen;

import java.util.List;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.VisitedEntry;

/**
 * A change to one paging-structure entry on a walk's path: the entry at {@code position} (0 = the PML4E) has the
 * bits of {@code xorMask} flipped. Positions past the path's end wrap around.
 */
public record Rewrite(int position, long xorMask) {
    /** The memory with this rewrite applied to the entry it names on {@code path}. */
    public PhysicalMemory applyTo(PhysicalMemory memory, List<VisitedEntry> path) {
        if (path.isEmpty()) {
            return memory;
        }
        long address = path.get(position % path.size()).address();
        return memory.writePhysical(address, memory.readPhysical(address) ^ xorMask);
    }
}
