package org.hybridv.x86;

/** How much the reference TLB caches (Intel SDM Vol. 3A §4.10.2: "Processors need not implement any TLBs"). */
public enum TlbPolicy {
    /** No caching: every access walks the paging structures in memory. */
    NONE,
    /**
     * Adversarial caching: every translation a successful walk produces is cached and used until an operation the
     * SDM says invalidates it (§4.10.4.1) removes it, even when the paging structures have since changed. This is
     * the most a processor may keep, so software correct against it is correct against any TLB.
     */
    ADVERSARIAL
}
