package org.hybridv.guest;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.hybridv.x86.Checks;

/**
 * What the software-only PV platform ({@link PvPlatform}) went through, counted by kind, in a sorted map so that
 * reports print the same bytes every time. These are the events that have no instruction of their own in the kernel's
 * trace: the hypervisor-mediated traps (a kernel entry from user mode, an exception bounced to the guest), the
 * {@code iret} hypercall of every return to user mode, the page-table switches of both, and the TLB effects of the
 * hypercalls. Keys are the constants of this class; a kind that never happened is absent.
 *
 * @param byKind count per kind (each &gt; 0)
 */
public record PvEvents(SortedMap<String, Integer> byKind) {
    /** A kernel entry from user mode (system call, or the next interrupt after user code ran) bounced by Xen. */
    public static final String TRAP_ENTRY = "trap:entry";
    /** A #PF taken by the hardware, handled by Xen and bounced to the guest kernel's handler. */
    public static final String TRAP_PAGE_FAULT = "trap:#PF";
    /** A privileged instruction (#GP at CPL 3) bounced to the guest kernel, or emulated. */
    public static final String TRAP_GP = "trap:#GP";
    /** Hypercall kinds: {@code HYPERVISOR_iret}, {@code mmu_update}, {@code mmuext_op}, … (prefix). */
    public static final String HYPERCALL = "hypercall:";
    /** A page-table switch: a CR3 load by Xen (the kernel/user toggle, or {@code MMUEXT_NEW_BASEPTR}). */
    public static final String CR3_SWITCH = "cr3-switch";
    /** A full (non-global) TLB flush; with no global pages every CR3 load is one. */
    public static final String FLUSH_FULL = "tlb-flush:full";
    /** A single-page TLB invalidation. */
    public static final String FLUSH_PAGE = "tlb-flush:page";
    /** An access that missed the TLB and walked the paging structures. */
    public static final String TLB_MISS = "tlb-miss";

    public static final PvEvents NONE = new PvEvents(new TreeMap<>());

    public PvEvents {
        Checks.notNull("events", byKind);
        for (Map.Entry<String, Integer> e : byKind.entrySet()) {
            if (e.getValue() <= 0) {
                throw new IllegalArgumentException("event count " + e.getValue() + " for " + e.getKey());
            }
        }
        byKind = Collections.unmodifiableSortedMap(new TreeMap<>(byKind));
    }

    /** These events and {@code n} more of {@code kind}. */
    public PvEvents plus(String kind, int n) {
        Checks.notNull("kind", kind);
        if (n < 0) {
            throw new IllegalArgumentException("event count " + n);
        }
        if (n == 0) {
            return this;
        }
        SortedMap<String, Integer> m = new TreeMap<>(byKind);
        m.merge(kind, n, Integer::sum);
        return new PvEvents(m);
    }

    /** The events of {@code this} not in {@code earlier} (a count that only grew). */
    public PvEvents since(PvEvents earlier) {
        SortedMap<String, Integer> m = new TreeMap<>();
        for (Map.Entry<String, Integer> e : byKind.entrySet()) {
            int d = e.getValue() - earlier.of(e.getKey());
            if (d < 0) {
                throw new IllegalArgumentException("event counts are cumulative: " + e.getKey() + " fell");
            }
            if (d > 0) {
                m.put(e.getKey(), d);
            }
        }
        return new PvEvents(m);
    }

    public int of(String kind) {
        return byKind.getOrDefault(kind, 0);
    }

    /** The number of hypercalls of every kind. */
    public int hypercalls() {
        return byKind.entrySet().stream().filter(e -> e.getKey().startsWith(HYPERCALL))
                .mapToInt(Map.Entry::getValue).sum();
    }

    /** The number of hypervisor-mediated traps of every kind. */
    public int traps() {
        return byKind.entrySet().stream().filter(e -> e.getKey().startsWith("trap:")).mapToInt(Map.Entry::getValue)
                .sum();
    }

    @Override
    public String toString() {
        return byKind.toString();
    }
}
