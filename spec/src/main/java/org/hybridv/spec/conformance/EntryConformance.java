package org.hybridv.spec.conformance;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.hybridv.x86.Entry;
import org.hybridv.xen.DirectPaging;
import org.hybridv.xen.DirectPagingState;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.MmuResult;
import org.hybridv.xen.PageType;
import org.hybridv.xen.PageTypes;

/**
 * Direct-paging L1 entry validation of {@code xen/entry_rules} against the Java reference, on every instance of the
 * run {@code l1UpdateTable} of {@code xen/entry_validation} (a frame-table snapshot of 2 frames and 2 domains, a
 * validated L1, its old entry and a new one; the first {@link #LIMIT} instances): {@code getPageFromL1e} against {@link PageTypes#getPageFromL1e}
 * (accepted or refused) and {@code modL1Entry} against {@link DirectPaging#modL1Entry}.
 *
 * <p>Translation: frame atom k is MFN k, domain atom k is domain k + 1, a frame in use has type count 1 (and a
 * general count 1, one more when the old entry maps it) and is validated, the old entry sits in slot 0 of the L1; flags RW, US, PS are bits 1, 2, 7.
 */
public final class EntryConformance {
    /** At most this many instances (the first ones in the solver's order). */
    public static final int LIMIT = 3_000;

    private EntryConformance() {}

    public static Conformance check() {
        Instances in = Instances.of("xen/entry_validation", "l1UpdateTable");
        List<Disagreement> bad = new ArrayList<>();
        Instances.Count n = in.forEach(LIMIT, i -> compare(i, bad));
        return new Conformance("L1 entry validation (getPageFromL1e, modL1Entry vs PageTypes.getPageFromL1e, "
                + "DirectPaging.modL1Entry)", "xen/entry_validation", "l1UpdateTable", n.instances(), n.exhaustive(),
                bad);
    }

    private static void compare(Instances i, List<Disagreement> bad) {
        List<String> frames = new ArrayList<>(i.atoms("Frame"));
        List<String> domains = new ArrayList<>(i.atoms("Domain"));
        Set<String> inUse = i.atoms("Snapshot.inUse");
        DirectPagingState s = DirectPagingState.initial(frames.size());
        Map<String, String> owner = i.function("Snapshot.owner");
        Map<String, String> type = i.function("Snapshot.type");
        Map<String, Entry> entries = entries(i, frames);
        Set<String> oldTarget = i.atoms("Snapshot.old.target");
        for (String f : frames) {
            boolean used = inUse.contains(f);
            int o = owner.containsKey(f) ? domains.indexOf(owner.get(f)) + 1 : FrameInfo.FREE;
            // general references: the type holder's (if in use) and the old entry's (get_page_from_l1e took one)
            int count = (used ? 1 : 0) + (oldTarget.contains(f) ? 1 : 0);
            FrameInfo info = new FrameInfo(o, pageType(type.get(f)), used ? 1 : 0, count, used, false, 0);
            s = s.withFrame(frames.indexOf(f), info);
        }
        int d = domains.indexOf(only(i.atoms("Snapshot.d"))) + 1;
        long l1 = frames.indexOf(only(i.atoms("Snapshot.l1")));
        Set<String> old = i.atoms("Snapshot.old");
        Set<String> nu = i.atoms("Snapshot.nu");
        Entry oldEntry = old.isEmpty() ? Entry.NOT_PRESENT : entries.get(only(old));
        Entry nuEntry = nu.isEmpty() ? Entry.NOT_PRESENT : entries.get(only(nu));
        DirectPagingState before = s.write(l1, 0, oldEntry);
        String where = "d" + d + " L1 " + l1 + "[0]: " + oldEntry + " → " + nuEntry;
        if (!nu.isEmpty()) {
            boolean alloy = i.holds("getPageFromL1e[Snapshot.owner, Snapshot.type, Snapshot.inUse, Snapshot.d, "
                    + "Snapshot.nu]");
            MmuResult java = PageTypes.getPageFromL1e(before, nuEntry, d);
            if (alloy != java instanceof MmuResult.Success) {
                bad.add(new Disagreement("get_page_from_l1e " + where, verdict(alloy), java.toString(), i.text()));
            }
        }
        boolean alloy = i.holds("modL1Entry[Snapshot.owner, Snapshot.type, Snapshot.inUse, Snapshot.d, "
                + "Snapshot.old, Snapshot.nu]");
        MmuResult java = DirectPaging.modL1Entry(before, l1, 0, nuEntry, d);
        if (alloy != java instanceof MmuResult.Success) {
            bad.add(new Disagreement("mod_l1_entry " + where, verdict(alloy), java.toString(), i.text()));
        }
    }

    static Map<String, Entry> entries(Instances i, List<String> frames) {
        Map<String, Long> raw = new HashMap<>();
        for (String e : i.atoms("Entry")) {
            raw.put(e, 1L << Entry.P);
        }
        for (List<String> t : i.tuples("flags")) {
            raw.merge(t.get(0), bit(t.get(1)), (a, b) -> a | b);
        }
        for (List<String> t : i.tuples("target")) {
            raw.merge(t.get(0), (long) frames.indexOf(t.get(1)) << 12, (a, b) -> a | b);
        }
        Map<String, Entry> out = new HashMap<>();
        raw.forEach((k, v) -> out.put(k, new Entry(v)));
        return out;
    }

    private static long bit(String flag) {
        return switch (flag) {
            case "RW" -> 1L << Entry.RW;
            case "USER" -> 1L << Entry.US;
            case "PS" -> 1L << Entry.PS;
            default -> throw new IllegalArgumentException("not an entry flag: " + flag);
        };
    }

    static PageType pageType(String atom) {
        return PageType.valueOf(atom.toUpperCase(java.util.Locale.ROOT));
    }

    static String verdict(boolean accepted) {
        return accepted ? "accepted" : "refused";
    }

    static String only(Set<String> atoms) {
        if (atoms.size() != 1) {
            throw new IllegalStateException("expected one atom, got " + atoms);
        }
        return atoms.iterator().next();
    }
}
