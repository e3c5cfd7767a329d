package org.hybridv.x86;

/**
 * The VMX tags of a cached translation besides its PCID (Intel SDM Vol. 3C §28.3.1 "Information That May Be Cached"):
 * linear mappings (EPT not in use) are tagged by VPID and PCID; combined mappings (paging and EPT together) by EP4TA,
 * VPID and PCID. Outside VMX non-root operation, and in it when "enable VPID" is 0, the current VPID is 0000H
 * (§28.1). Root-mode and bare-metal translations therefore carry {@link #NATIVE}.
 *
 * @param vpid  the virtual-processor identifier, 0..FFFFH
 * @param ep4ta the EPT PML4 address (EPTP bits 51:12) of a combined mapping, or {@link #NO_EPT} for a linear mapping
 */
public record TlbTag(int vpid, long ep4ta) {
    /** The EP4TA of a linear mapping: EPT was not in use. */
    public static final long NO_EPT = -1;
    /** VPID 0, no EPT: the tag of every translation made outside non-root operation. */
    public static final TlbTag NATIVE = new TlbTag(0, NO_EPT);

    public TlbTag {
        Checks.inRange("VPID", vpid, 0, 0xFFFF);
        if (ep4ta != NO_EPT) {
            Checks.inRange("EP4TA", ep4ta, 0, (1L << 52) - 1);
            Checks.aligned("EP4TA", ep4ta, PhysicalMemory.FRAME_SIZE);
        }
    }

    /** Whether this tags a combined mapping (EPT in use). */
    public boolean combined() {
        return ep4ta != NO_EPT;
    }
}
