package org.hybridv.xen;

import java.util.Collections;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hybridv.x86.Checks;

/**
 * What the hypervisor keeps to decide which physical CPUs a TLB shootdown must reach (docs/smp.md): the TLB-flush
 * clock (Xen rule TLB-8, {@link TlbFlushClock}, one for the machine, one time per pCPU), each domain's dirty CPU mask
 * (Xen rule TLB-9: the pCPUs that may hold translations tagged with one of its VPIDs, Xen's {@code dirty_cpumask}).
 * Each frame's TLB timestamp (Xen rule TLB-2) is kept with the frame, {@link FrameInfo#tlbflushTimestamp}, as Xen
 * keeps it in {@code struct page_info}. A value: every change returns a new one.
 *
 * @param clock              the TLB-flush clock, one CPU time per pCPU
 * @param dirtyCpumasks      per domain id, the pCPUs in its dirty CPU mask (a domain without an entry has none)
 */
public record TlbFlushState(TlbFlushClock clock, SortedMap<Integer, SortedSet<Integer>> dirtyCpumasks) {
    public TlbFlushState {
        Checks.notNull("clock", clock);
        Checks.notNull("dirty CPU masks", dirtyCpumasks);
        SortedMap<Integer, SortedSet<Integer>> masks = new TreeMap<>();
        dirtyCpumasks.forEach((d, s) -> {
            for (int q : s) {
                Checks.inRange("pCPU in a dirty mask", q, 0, clock.cpuTime().size() - 1);
            }
            if (!s.isEmpty()) {
                masks.put(d, Collections.unmodifiableSortedSet(new TreeSet<>(s)));
            }
        });
        dirtyCpumasks = Collections.unmodifiableSortedMap(masks);
    }

    /** At boot with {@code pcpus} pCPUs: Xen's 32-bit clock at its start, empty masks. */
    public static TlbFlushState boot(int pcpus) {
        return boot(TlbFlushClock.XEN_WIDTH, pcpus);
    }

    /** At boot with a clock {@code width} bits wide (a narrow clock reaches its wrap in a few flushes). */
    public static TlbFlushState boot(int width, int pcpus) {
        return new TlbFlushState(TlbFlushClock.boot(width, pcpus), new TreeMap<>());
    }

    /** Domain {@code d}'s dirty CPU mask. */
    public SortedSet<Integer> dirtyCpumask(int d) {
        return dirtyCpumasks.getOrDefault(d, Collections.emptySortedSet());
    }

    /** This state with domain {@code d}'s mask {@code mask}. */
    public TlbFlushState withDirtyCpumask(int d, Set<Integer> mask) {
        SortedMap<Integer, SortedSet<Integer>> m = new TreeMap<>(dirtyCpumasks);
        m.put(d, new TreeSet<>(mask));
        return new TlbFlushState(clock, m);
    }

    /** This state with clock {@code c}. */
    public TlbFlushState withClock(TlbFlushClock c) {
        return new TlbFlushState(c, dirtyCpumasks);
    }

    /** This state for {@code n} pCPUs (a freshly booted machine gaining pCPUs): a clock of the same width at boot. */
    TlbFlushState withPcpus(int n) {
        return new TlbFlushState(TlbFlushClock.boot(clock.width(), n), dirtyCpumasks);
    }
}
