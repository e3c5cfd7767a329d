package org.hybridv.x86;

/**
 * The result of one access: what happened, the machine afterwards, and whether the translation came from the TLB.
 *
 * @param outcome  completed, #PF or #GP
 * @param machine  the machine after the access (memory with A/D flags and the written value, TLB fills and
 *                 invalidations, CR2 on a delivered #PF)
 * @param tlbHit   whether a cached translation decided the access
 */
public record AccessStep(AccessOutcome outcome, X86Machine machine, boolean tlbHit) {}
