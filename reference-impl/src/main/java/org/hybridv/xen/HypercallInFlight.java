package org.hybridv.xen;

import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hybridv.x86.Checks;

/**
 * A hypercall whose vCPU waits inside the hypervisor for the acknowledgements of the flush IPIs it sent (Xen rules
 * IPI-2, IPI-3; Xen {@code flush_area_mask}: "while ( !cpumask_empty(&amp;flush_cpumask) ) cpu_relax();"). Its vCPU
 * executes no guest instruction until {@code awaiting} is empty; then the hypercall completes ({@link FlushIpis}).
 *
 * @param call     the hypercall (number and arguments)
 * @param awaiting the target pCPUs whose handler has not run yet (never empty while the hypercall waits)
 * @param retry    true: a type change waits for its flush before the new type is installed and validated (IPI-3),
 *                 so on completion the hypercall is executed again from its start, with the frames of
 *                 {@code flushed} already flushed; false: its work is done and it returns on completion
 * @param effects  for a returning hypercall, the TLB obligations it performed (reported when it returns)
 * @param flushed  for a retried hypercall, each frame whose type-change flush was sent, with its frame-table entry
 *                 when sent: the flush counts as done on completion only if the entry is still that (Xen's
 *                 {@code cmpxchg} on {@code type_info} succeeds), else it is done again
 * @param nextEntry for a pin whose table is validated entry by entry (TYP-8, {@link PreemptibleValidation}): the
 *                 index of the next entry to validate (Xen's {@code nr_validated_ptes}); -1 for any other hypercall.
 *                 Such a hypercall stays inside the hypervisor between its entries, with {@code awaiting} empty unless
 *                 an entry's flush is in flight; it returns after its last entry. For a batched {@code mmu_update}
 *                 ({@link MmuBatch}, MU-7): the index, in this invocation's request list, of the next request
 * @param doneBefore for a batched {@code mmu_update} re-issued as a continuation (MU-8): the count of requests the
 *                 earlier invocations did (read from {@code *pdone} when this invocation began, Xen's {@code done});
 *                 0 for any other hypercall
 */
public record HypercallInFlight(Hypercall call, SortedSet<Integer> awaiting, boolean retry, List<Effect> effects,
        SortedMap<Long, FrameInfo> flushed, int nextEntry, long doneBefore) {
    public HypercallInFlight {
        Checks.notNull("call", call);
        Checks.notNull("awaiting", awaiting);
        Checks.notNull("effects", effects);
        Checks.notNull("flushed", flushed);
        if (awaiting.isEmpty() && nextEntry < 0) {
            throw new IllegalArgumentException("a hypercall in flight awaits at least one pCPU or validates entries");
        }
        if (nextEntry < -1 || (nextEntry > org.hybridv.x86.PhysicalMemory.WORDS_PER_FRAME
                && !MmuBatch.isBatch(call))) {
            throw new IllegalArgumentException("next entry " + nextEntry);
        }
        awaiting = Collections.unmodifiableSortedSet(new TreeSet<>(awaiting));
        effects = List.copyOf(effects);
        flushed = Collections.unmodifiableSortedMap(new TreeMap<>(flushed));
    }

    /** A hypercall that goes on entry by entry (or waits), not a continuation: {@code doneBefore} 0. */
    public HypercallInFlight(Hypercall call, SortedSet<Integer> awaiting, boolean retry, List<Effect> effects,
            SortedMap<Long, FrameInfo> flushed, int nextEntry) {
        this(call, awaiting, retry, effects, flushed, nextEntry, 0);
    }

    /** A hypercall waiting for flush acknowledgements only (no entry-by-entry validation). */
    public HypercallInFlight(Hypercall call, SortedSet<Integer> awaiting, boolean retry, List<Effect> effects,
            SortedMap<Long, FrameInfo> flushed) {
        this(call, awaiting, retry, effects, flushed, -1);
    }

    /** This hypercall with pCPU {@code q}'s acknowledgement received. */
    HypercallInFlight acknowledged(int q) {
        SortedSet<Integer> left = new TreeSet<>(awaiting);
        left.remove(q);
        return new HypercallInFlight(call, left, retry, effects, flushed, nextEntry, doneBefore);
    }

    /**
     * This hypercall going on entry by entry once every acknowledgement is in: awaiting none; an entry whose type
     * change waited for its flush ({@code retry}) keeps {@code flushed} to be executed again (IPI-3).
     */
    HypercallInFlight resumed() {
        return new HypercallInFlight(call, new TreeSet<>(), false, effects, retry ? flushed : new TreeMap<>(),
                nextEntry, doneBefore);
    }

    /** Whether it is between two entries of a validation (TYP-8), awaiting no acknowledgement: it can continue. */
    public boolean canContinue() {
        return nextEntry >= 0 && awaiting.isEmpty();
    }
}
