package org.hybridv.ept;

import java.util.List;
import org.hybridv.x86.Checks;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PageSize;
import org.hybridv.x86.PhysicalMemory;

/**
 * A guest-physical address translated with EPT and allowed for the access (Intel SDM Vol. 3C §28.2.3.3 step 2b:
 * "memory is accessed using the ultimate physical address").
 *
 * @param guestPhysical the guest-physical address translated
 * @param hostPhysical  its translation, the "ultimate physical address" (SDM 28.2.2)
 * @param pageSize      the size of the page the leaf maps: 4 KBytes (EPT PTE), 2 MBytes (EPT PDE with bit 7 = 1),
 *                      1 GByte (EPT PDPTE with bit 7 = 1)
 * @param permissions   R, W, X each ANDed over the EPT entries used (SDM 28.2.3.2)
 * @param memoryType    the EPT memory type, bits 5:3 of the leaf (SDM 28.2.6.1)
 * @param ignorePat     bit 6 of the leaf (SDM 28.2.6.2)
 * @param path          the EPT entries read, in order, with their values as read (before the A/D update)
 * @param memory        host memory after the access's EPT accessed/dirty updates (SDM 28.2.4); the same memory if
 *                      EPTP bit 6 = 0 or every flag was already set
 */
public record EptTranslated(long guestPhysical, long hostPhysical, PageSize pageSize, EptPermissions permissions,
        EptMemoryType memoryType, boolean ignorePat, List<EptVisitedEntry> path, PhysicalMemory memory)
        implements EptTranslation {
    public EptTranslated {
        Checks.notNull("page size", pageSize);
        Checks.notNull("permissions", permissions);
        Checks.notNull("memory type", memoryType);
        Checks.notNull("path", path);
        Checks.notNull("memory", memory);
        path = List.copyOf(path);
    }

    /** The entry that maps the page (the last one read). */
    public EptVisitedEntry leaf() {
        return path.get(path.size() - 1);
    }

    @Override
    public String toString() {
        return "EptTranslated[" + Hex.of(guestPhysical) + " -> " + Hex.of(hostPhysical) + " " + pageSize + " "
                + (permissions.read() ? 'R' : '-') + (permissions.write() ? 'W' : '-')
                + (permissions.execute() ? 'X' : '-') + " " + memoryType + (ignorePat ? " IPAT" : "") + "]";
    }
}
