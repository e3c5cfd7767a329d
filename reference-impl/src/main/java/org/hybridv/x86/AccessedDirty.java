package org.hybridv.x86;

/**
 * Accessed and dirty flags (Intel SDM Vol. 3A §4.8).
 *
 * <p>"Whenever the processor uses a paging-structure entry as part of linear-address translation, it sets the
 * accessed flag in that entry (if it is not already set). Whenever there is a write to a linear address, the
 * processor sets the dirty flag (if it is not already set) in the paging-structure entry that identifies the final
 * physical address for the linear address." This reference sets them only for an access that completes: a
 * faulting access changes no flag. (The SDM leaves open whether a processor sets accessed flags during a walk that
 * later faults; choosing "no" keeps a fault free of side effects, which the VMX and hypervisor layers rely on when
 * they re-execute an access.)
 */
public final class AccessedDirty {
    private AccessedDirty() {}

    /** Memory after a completed access through {@code walk}: A set in every entry used, D in the leaf for a write. */
    public static PhysicalMemory update(PhysicalMemory memory, Walk walk, boolean write) {
        if (walk.end() != Walk.End.MAPPED) {
            throw new IllegalArgumentException("accessed/dirty flags are set only for a walk that mapped a page,"
                    + " not for one that ended " + walk.end());
        }
        PhysicalMemory m = memory;
        for (VisitedEntry v : walk.path()) {
            m = setAccessed(m, v);
        }
        return write ? setDirty(m, walk.leaf()) : m;
    }

    /** Sets A (bit 5) in the entry, if not already set. */
    static PhysicalMemory setAccessed(PhysicalMemory memory, VisitedEntry v) {
        long current = memory.readPhysical(v.address());
        return (current & (1L << Entry.A)) != 0 ? memory : memory.writePhysical(v.address(),
                current | (1L << Entry.A));
    }

    /** Sets D (bit 6) in the entry that maps the page, if not already set. */
    static PhysicalMemory setDirty(PhysicalMemory memory, VisitedEntry leaf) {
        long current = memory.readPhysical(leaf.address());
        return (current & (1L << Entry.D)) != 0 ? memory : memory.writePhysical(leaf.address(),
                current | (1L << Entry.D));
    }
}
