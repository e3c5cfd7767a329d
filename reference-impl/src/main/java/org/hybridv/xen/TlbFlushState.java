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
 * keeps it in {@code struct page_info}. The shootdowns in flight (Xen rules IPI-1, IPI-2): the flush IPIs pending on
 * each pCPU and the hypercalls waiting for their acknowledgements ({@link FlushIpis}); both empty on a machine with one
 * pCPU, which never sends an IPI. A value: every change returns a new one.
 *
 * @param clock              the TLB-flush clock, one CPU time per pCPU
 * @param dirtyCpumasks      per domain id, the pCPUs in its dirty CPU mask (a domain without an entry has none)
 * @param pendingFlushes     per pCPU, the flush IPIs sent to it whose handler has not run (a pCPU without an entry
 *                           has none)
 * @param inFlight           per vCPU, its hypercall waiting for flush acknowledgements (a vCPU without an entry is
 *                           not inside such a hypercall)
 */
public record TlbFlushState(TlbFlushClock clock, SortedMap<Integer, SortedSet<Integer>> dirtyCpumasks,
        SortedMap<Integer, SortedSet<FlushRequest>> pendingFlushes, SortedMap<VcpuId, HypercallInFlight> inFlight) {
    public TlbFlushState {
        Checks.notNull("clock", clock);
        Checks.notNull("dirty CPU masks", dirtyCpumasks);
        Checks.notNull("pending flushes", pendingFlushes);
        Checks.notNull("hypercalls in flight", inFlight);
        SortedMap<Integer, SortedSet<FlushRequest>> pending = new TreeMap<>();
        pendingFlushes.forEach((q, s) -> {
            Checks.inRange("pCPU with a pending flush", q, 0, clock.cpuTime().size() - 1);
            if (!s.isEmpty()) {
                pending.put(q, Collections.unmodifiableSortedSet(new TreeSet<>(s)));
            }
        });
        pendingFlushes = Collections.unmodifiableSortedMap(pending);
        inFlight = Collections.unmodifiableSortedMap(new TreeMap<>(inFlight));
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

    /** No shootdown in flight. */
    public TlbFlushState(TlbFlushClock clock, SortedMap<Integer, SortedSet<Integer>> dirtyCpumasks) {
        this(clock, dirtyCpumasks, new TreeMap<>(), new TreeMap<>());
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
        return new TlbFlushState(clock, m, pendingFlushes, inFlight);
    }

    /** This state with clock {@code c}. */
    public TlbFlushState withClock(TlbFlushClock c) {
        return new TlbFlushState(c, dirtyCpumasks, pendingFlushes, inFlight);
    }

    /** The flush IPIs pending on pCPU {@code q} (IPI-1). */
    public SortedSet<FlushRequest> pendingFlushes(int q) {
        return pendingFlushes.getOrDefault(q, Collections.emptySortedSet());
    }

    /** This state with pCPU {@code q}'s pending flush IPIs {@code requests}. */
    public TlbFlushState withPendingFlushes(int q, Set<FlushRequest> requests) {
        SortedMap<Integer, SortedSet<FlushRequest>> m = new TreeMap<>(pendingFlushes);
        m.put(q, new TreeSet<>(requests));
        return new TlbFlushState(clock, dirtyCpumasks, m, inFlight);
    }

    /** vCPU {@code id}'s hypercall waiting for flush acknowledgements, if it is inside one (IPI-2). */
    public java.util.Optional<HypercallInFlight> inFlight(VcpuId id) {
        return java.util.Optional.ofNullable(inFlight.get(id));
    }

    /** This state with vCPU {@code id}'s hypercall in flight {@code h}, or none when {@code h} is null. */
    public TlbFlushState withInFlight(VcpuId id, HypercallInFlight h) {
        SortedMap<VcpuId, HypercallInFlight> m = new TreeMap<>(inFlight);
        if (h == null) {
            m.remove(id);
        } else {
            m.put(id, h);
        }
        return new TlbFlushState(clock, dirtyCpumasks, pendingFlushes, m);
    }

    /** This state for {@code n} pCPUs (a freshly booted machine gaining pCPUs): a clock of the same width at boot. */
    TlbFlushState withPcpus(int n) {
        return new TlbFlushState(TlbFlushClock.boot(clock.width(), n), dirtyCpumasks, pendingFlushes, inFlight);
    }
}
