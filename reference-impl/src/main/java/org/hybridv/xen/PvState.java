package org.hybridv.xen;

import java.util.SortedMap;
import java.util.TreeMap;
import org.hybridv.x86.Checks;

/**
 * The para-virtual interface's part of the machine (docs/pv-interfaces.md): the machine-wide logical time, which
 * advances only by an explicit step ({@link VirtualTime#advanceTime}), and each domain's event channels, grant
 * mappings and per-vCPU timer and interrupt state ({@link DomainPv}; a domain absent here has none). {@link #NONE}
 * is a machine that never used the interface: every state built without it holds exactly this value.
 *
 * @param now     the machine time in ticks (Xen's {@code NOW()}, system time, here a counter)
 * @param domains per domain id, its PV state
 */
public record PvState(long now, SortedMap<Integer, DomainPv> domains) {
    public static final PvState NONE = new PvState(0, new TreeMap<>());

    public PvState {
        Checks.notNull("domains", domains);
        if (now < 0) {
            throw new IllegalArgumentException("time " + now);
        }
        domains = FrozenSortedMap.of(domains);
    }

    /** Domain {@code d}'s PV state ({@link DomainPv#NONE} if it has none). */
    public DomainPv domain(int d) {
        return domains.getOrDefault(d, DomainPv.NONE);
    }

    public PvState with(int d, DomainPv p) {
        TreeMap<Integer, DomainPv> m = new TreeMap<>(domains);
        if (p.equals(DomainPv.NONE)) {
            m.remove(d);
        } else {
            m.put(d, p);
        }
        return new PvState(now, m);
    }

    public PvState withNow(long t) {
        return new PvState(t, domains);
    }
}
