package org.hybridv.xen;

import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/** TEMP placeholder until the faults branch lands (same API). */
public record Faults(SortedSet<Fault> active) {
    public static final Faults NONE = new Faults(new TreeSet<>());

    public static Faults of(Fault... f) {
        return new Faults(new TreeSet<>(List.of(f)));
    }

    public static Faults parse(List<String> ids) {
        TreeSet<Fault> s = new TreeSet<>();
        for (String id : ids) {
            boolean found = false;
            for (Fault f : Fault.values()) {
                if (f.id().equals(id)) {
                    s.add(f);
                    found = true;
                }
            }
            if (!found) {
                throw new IllegalArgumentException("unknown fault " + id);
            }
        }
        return new Faults(s);
    }

    public boolean breaks(Fault f) {
        return active.contains(f);
    }

    public List<String> ids() {
        return active.stream().map(Fault::id).sorted().toList();
    }
}
