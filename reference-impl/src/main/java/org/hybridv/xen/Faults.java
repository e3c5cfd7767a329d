package org.hybridv.xen;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.hybridv.x86.Checks;

/**
 * The set of seeded faults a hypervisor state carries ({@link XenMachine#faults()}); {@link #NONE} is the reference.
 * Immutable, ordered by the catalog's order.
 *
 * @param active the faults injected
 */
public record Faults(SortedSet<Fault> active) {
    /** No fault: the reference hypervisor. */
    public static final Faults NONE = new Faults(new TreeSet<>());

    public Faults {
        Checks.notNull("active", active);
        active = Collections.unmodifiableSortedSet(new TreeSet<>(active));
    }

    public static Faults of(Fault... f) {
        TreeSet<Fault> s = new TreeSet<>();
        for (Fault x : f) {
            s.add(Checks.notNull("fault", x));
        }
        return new Faults(s);
    }

    /**
     * The faults named by {@code ids} ({@link Fault#id()}). An unknown id is an {@link IllegalArgumentException} that
     * names it and lists the known ids.
     */
    public static Faults parse(List<String> ids) {
        Checks.notNull("ids", ids);
        TreeSet<Fault> s = new TreeSet<>();
        for (String id : ids) {
            Fault f = id == null ? null : Fault.byId(id);
            if (f == null) {
                throw new IllegalArgumentException("unknown fault \"" + id + "\"; known faults: " + knownIds());
            }
            s.add(f);
        }
        return new Faults(s);
    }

    /** Every fault id of the catalog, sorted, comma-separated. */
    public static String knownIds() {
        return EnumSet.allOf(Fault.class).stream().map(Fault::id).sorted().collect(Collectors.joining(", "));
    }

    /** Whether fault {@code f} is injected, i.e. its rule is broken. */
    public boolean breaks(Fault f) {
        return active.contains(f);
    }

    /** The ids of the active faults, sorted. */
    public List<String> ids() {
        List<String> out = new ArrayList<>();
        for (Fault f : active) {
            out.add(f.id());
        }
        Collections.sort(out);
        return List.copyOf(out);
    }

    public boolean isEmpty() {
        return active.isEmpty();
    }

    @Override
    public String toString() {
        return active.isEmpty() ? "no faults" : String.join(", ", ids());
    }
}
