package org.hybridv.gen;

import org.hybridv.vmx.InvvpidType;

/**
 * A guest paging case for VPID properties (Intel SDM Vol. 3C §28.1, §28.3.3): the guest fills the TLB under
 * {@code vpid}, then its tables are rewritten ({@link TlbCase#rewrites()}); {@code otherVpid} is a second VMCS's VPID,
 * and {@code type} the INVVPID type the hypervisor executes.
 */
public record VpidCase(TlbCase tlb, int vpid, int otherVpid, InvvpidType type) {
    public VpidCase {
        if (vpid == 0 || otherVpid == 0 || vpid == otherVpid) {
            throw new IllegalArgumentException("VPIDs must be distinct and non-zero: " + vpid + ", " + otherVpid);
        }
    }
}
