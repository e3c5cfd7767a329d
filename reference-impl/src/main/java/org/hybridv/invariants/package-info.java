/**
 * Layer 5 of the reference: invariants as executable predicates over a whole state, each returning
 * {@link org.hybridv.invariants.InvariantResult} ("holds" or a readable explanation naming frame, level, index, entry
 * and rule). So far: I2's structural part for direct paging ({@link org.hybridv.invariants.PageTableIntegrity}).
 */
package org.hybridv.invariants;
