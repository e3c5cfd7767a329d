package org.hybridv.compare;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Events counted by kind (sorted: reports print the same bytes every run). The kinds, with the prefixes of the
 * families:
 * <ul>
 * <li>{@code op:*} — the kernel's own work for one operation ({@code op:syscall}, {@code op:switch}, …) and
 * {@code work:page-fault}, the handler of one demand-paging fault: what the model does not execute instruction by
 * instruction, the same on every platform;</li>
 * <li>{@code ring:entry}, {@code ring:exit} — hardware kernel entries from user mode and returns to it;
 * {@code exception} — an exception delivered to the guest;</li>
 * <li>{@code vmexit:REASON} — VM exits by basic exit reason;</li>
 * <li>{@code hypercall:KIND} — hypercalls by kind (through VMCALL in a VMX domain, through SYSCALL into Xen under PV);
 * {@code pv:hypercall} — the PV transitions into Xen and back, one per PV hypercall;</li>
 * <li>{@code pv:trap:KIND} — hypervisor-mediated traps of the PV guest (a kernel entry, a #PF, a #GP bounced by
 * Xen);</li>
 * <li>{@code cr3-switch}, {@code tlb-flush:full}, {@code tlb-flush:page}, {@code tlb-miss}, {@code walk-ref} (the
 * memory references of the walks of the misses).</li>
 * </ul>
 */
public record Events(SortedMap<String, Long> counts) {
    public static final Events NONE = new Events(new TreeMap<>());

    public Events {
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            if (e.getValue() <= 0) {
                throw new IllegalArgumentException("event count " + e.getValue() + " for " + e.getKey());
            }
        }
        counts = Collections.unmodifiableSortedMap(new TreeMap<>(counts));
    }

    public Events plus(String kind, long n) {
        if (n < 0) {
            throw new IllegalArgumentException("event count " + n + " for " + kind);
        }
        if (n == 0) {
            return this;
        }
        SortedMap<String, Long> m = new TreeMap<>(counts);
        m.merge(kind, n, Long::sum);
        return new Events(m);
    }

    public Events plus(Events o) {
        SortedMap<String, Long> m = new TreeMap<>(counts);
        o.counts.forEach((k, v) -> m.merge(k, v, Long::sum));
        return new Events(m);
    }

    /** Every count multiplied by {@code n}. */
    public Events times(long n) {
        SortedMap<String, Long> m = new TreeMap<>();
        if (n > 0) {
            counts.forEach((k, v) -> m.put(k, v * n));
        }
        return new Events(m);
    }

    public long of(String kind) {
        return counts.getOrDefault(kind, 0L);
    }

    /** The sum of the counts whose kind starts with {@code prefix}. */
    public long family(String prefix) {
        return counts.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).mapToLong(Map.Entry::getValue)
                .sum();
    }

    @Override
    public String toString() {
        return counts.toString();
    }
}
