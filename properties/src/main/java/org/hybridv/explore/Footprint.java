package org.hybridv.explore;

import java.util.BitSet;

/**
 * What one transition reads and writes, as two sets of <em>locations</em> (numbered parts of a state, chosen by the
 * transition system: for the hypervisor, {@link HypervisorFootprints}), for the partial-order reduction of the
 * {@link Explorer}. The reads must over-approximate everything the step function — and the transition's own invariant
 * check (I7, the migration's post-conditions) — reads; the writes must over-approximate what it changes. A transition
 * whose footprint a system cannot state has none ({@code null}): it is dependent with every transition.
 *
 * <p>Two transitions from one state with footprints f and g are <em>independent</em> when neither writes what the
 * other reads or writes (Bernstein's conditions, the read/write-set independence of P. Godefroid, <i>Partial-Order
 * Methods for the Verification of Concurrent Systems</i>, LNCS 1032): each then reads, in the state after the other,
 * exactly what it read before, so it is still enabled, does the same, and both orders end in the same state.
 *
 * @param reads  the locations read (a read-only view: not modified after construction)
 * @param writes the locations written
 */
public record Footprint(BitSet reads, BitSet writes) {
    /** Whether {@code f} and {@code g} are independent; never when either is unknown ({@code null}). */
    public static boolean independent(Footprint f, Footprint g) {
        return f != null && g != null && !f.writes.intersects(g.reads) && !f.writes.intersects(g.writes)
                && !g.writes.intersects(f.reads);
    }
}
