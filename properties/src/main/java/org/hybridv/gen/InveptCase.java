package org.hybridv.gen;

import java.util.List;
import org.hybridv.ept.InveptType;

/**
 * A guest under EPT for INVEPT properties (Intel SDM Vol. 3C §28.3.3): the guest runs with VPID {@code vpid}, fills
 * combined mappings, then the hypervisor applies {@code rewrites} to the EPT and executes INVEPT of {@code type} with
 * the guest's EPTP.
 */
public record InveptCase(EptCase ept, int vpid, List<EptRewrite> rewrites, InveptType type) {
    public InveptCase {
        rewrites = List.copyOf(rewrites);
    }
}
