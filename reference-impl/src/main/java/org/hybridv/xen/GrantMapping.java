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
 * @param l1mfn          the table holding the entry: the L1 of the PTE (direct mode), or the EPT page table of the
 *                       leaf (HAP: {@code hostAddr} is a guest-physical address)
 * @param l1index        its index in that table
 * @param ept            the entry is an EPT leaf (a HAP mapper) rather than a PTE
 */
public record GrantMapping(int grantingDomain, int ref, long frame, long hostAddr, boolean readonly, long l1mfn,
        int l1index, boolean ept) {
    @Override
    public String toString() {
        return "d" + grantingDomain + " gref " + ref + " frame " + Hex.of(frame) + " at " + Hex.of(hostAddr)
                + (readonly ? " ro" : " rw");
    }
}
