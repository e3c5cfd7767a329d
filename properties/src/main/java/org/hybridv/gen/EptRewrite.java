package org.hybridv.gen;

import org.hybridv.x86.PhysicalMemory;

/** A change to one EPT paging-structure entry: the entry at host address {@code address} has {@code xorMask} flipped. */
public record EptRewrite(long address, long xorMask) {
    public PhysicalMemory applyTo(PhysicalMemory memory) {
        return memory.writePhysical(address, memory.readPhysical(address) ^ xorMask);
    }
}
