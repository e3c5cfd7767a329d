package org.hybridv.ept;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import org.hybridv.x86.Checks;
import org.hybridv.x86.Level;

/**
 * The EPT misconfiguration rules (Intel SDM Vol. 3C §28.2.3.1): "An EPT misconfiguration occurs if any of the
 * following is identified while translating a guest-physical address". One function per bullet of that list, in its
 * order.
 *
 * <p>Nothing here depends on the access (read, write or fetch): a misconfiguration is a property of the entry, and is
 * reported for any access whose walk reaches that entry (SDM 28.2.3.3 step 1b).
 */
public final class EptMisconfigurations {
    private EptMisconfigurations() {}

    /**
     * "The value of bits 2:0 of an EPT paging-structure entry is either 010b (write-only) or 110b (write/execute)":
     * write permission without read permission.
     */
    public static boolean writeWithoutRead(EptEntry entry) {
        int rwx = entry.permissionBits();
        return rwx == 0b010 || rwx == 0b110;
    }

    /**
     * "The value of bits 2:0 of an EPT paging-structure entry is 100b (execute-only) and this value is not supported
     * by the logical processor" (support: IA32_VMX_EPT_VPID_CAP bit 0, {@link EptSupport#executeOnly()}). The other
     * value with X = 1 and R = 0, 110b, is already {@link #writeWithoutRead(EptEntry)}.
     */
    public static boolean executeOnlyNotSupported(EptEntry entry, EptSupport support) {
        return entry.permissionBits() == 0b100 && !support.executeOnly();
    }

    /**
     * "The value of bits 2:0 of an EPT paging-structure entry is not 000b (the entry is present) and ... A reserved
     * bit is set. This includes the setting of a bit in the range 51:12 that is beyond the logical processor's
     * physical-address width." Which bits are reserved at which level: {@link EptReservedBits}.
     */
    public static boolean reservedBitSet(Level level, EptEntry entry, int maxPhysAddr) {
        return entry.present() && EptReservedBits.anySet(level, entry, maxPhysAddr);
    }

    /**
     * "The value of bits 2:0 ... is not 000b (the entry is present) and ... The entry is the last one used to
     * translate a guest physical address (either an EPT PDE with bit 7 set to 1 or an EPT PTE) and the value of bits
     * 5:3 (EPT memory type) is 2, 3, or 7 (these values are reserved)."
     *
     * <p><b>Ambiguity.</b> The parenthesis of SDM 28.2.3.1 names only a PDE with bit 7 = 1 and a PTE, omitting an
     * EPT PDPTE that maps a 1-GByte page, although table 28-2 gives that PDPTE an EPT memory type in bits 5:3 and SDM
     * 28.2.6.1 says of "the last EPT paging-structure entry" in general: "Other values are reserved and cause EPT
     * misconfigurations". This reference follows 28.2.6.1: a 1-GByte PDPTE leaf with memory type 2, 3 or 7 is an EPT
     * misconfiguration too.
     */
    public static boolean reservedMemoryType(Level level, EptEntry entry) {
        return entry.present() && EptPageWalk.mapsPage(level, entry)
                && EptMemoryType.isReserved(entry.memoryType());
    }

    /**
     * Every misconfiguration reason that holds for {@code entry} read at {@code level} (empty when it is configured
     * properly), in the order SDM 28.2.3.1 lists them. The architecture reports only "EPT misconfiguration" (exit
     * reason 49, with the guest-physical address); the set of reasons is this reference's explanation.
     */
    public static Set<EptMisconfiguration.Reason> reasons(Level level, EptEntry entry, EptSupport support) {
        Checks.notNull("level", level);
        Checks.notNull("entry", entry);
        Checks.notNull("support", support);
        EnumSet<EptMisconfiguration.Reason> r = EnumSet.noneOf(EptMisconfiguration.Reason.class);
        if (writeWithoutRead(entry)) {
            r.add(EptMisconfiguration.Reason.WRITE_WITHOUT_READ);
        }
        if (executeOnlyNotSupported(entry, support)) {
            r.add(EptMisconfiguration.Reason.EXECUTE_ONLY_NOT_SUPPORTED);
        }
        if (reservedBitSet(level, entry, support.maxPhysAddr())) {
            r.add(EptMisconfiguration.Reason.RESERVED_BIT);
        }
        if (reservedMemoryType(level, entry)) {
            r.add(EptMisconfiguration.Reason.RESERVED_MEMORY_TYPE);
        }
        return Collections.unmodifiableSet(r);
    }

    /** Whether {@code entry} (present) is misconfigured at {@code level}: some reason of SDM 28.2.3.1 holds. */
    public static boolean misconfigured(Level level, EptEntry entry, EptSupport support) {
        return !reasons(level, entry, support).isEmpty();
    }
}
