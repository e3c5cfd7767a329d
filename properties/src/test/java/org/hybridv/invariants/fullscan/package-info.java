/**
 * The invariant checks as they were before the speed-ups of {@code hybridv bench} (docs/benchmarks.md): every table
 * is read in full (512 words), and every message text is built eagerly. Copies of GuestMappings, ShadowIntegrity,
 * PageTableIntegrity, Isolation, TranslationIntegrity and TlbCoherence, renamed, used only as the oracle of
 * {@code FastInvariantsEquivalenceTest}: the optimised checks must give the same verdict, with the same text, on
 * every state. Do not optimise these.
 */
package org.hybridv.invariants.fullscan;
