package org.hybridv.xen;

import org.hybridv.x86.Hex;

/**
 * One maptrack entry of the mapping domain (Xen {@code struct grant_mapping}, indexed by the map handle): which grant
 * of which domain it maps, the granted frame, and where the mapping was installed.
 *
 * @param grantingDomain the domain whose grant table holds the grant ({@code rd})
 * @param ref            the grant reference
 * @param frame          the granted machine frame (the grant entry's frame when mapped)
 * @param hostAddr       the linear address the PTE was installed for ({@code host_addr})
 * @param readonly       mapped with {@code GNTMAP_readonly}: the PTE is not writable
 * @param l1mfn          the L1 table holding the PTE (direct mode)
 * @param l1index        its index in that table
 */
public record GrantMapping(int grantingDomain, int ref, long frame, long hostAddr, boolean readonly, long l1mfn,
        int l1index) {
    @Override
    public String toString() {
        return "d" + grantingDomain + " gref " + ref + " frame " + Hex.of(frame) + " at " + Hex.of(hostAddr)
                + (readonly ? " ro" : " rw");
    }
}
