package org.hybridv.spec.conformance;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.hybridv.x86.Entry;
import org.hybridv.xen.DirectPagingState;
import org.hybridv.xen.Faults;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.MmuResult;
import org.hybridv.xen.PageType;
import org.hybridv.xen.PageTypes;

/**
 * The L2..L4 entry rule of {@code xen/entry_rules} ({@code getPageFromLne}: LN-1, SP-1, LN-2, LN-3) against
 * {@link PageTypes#getPageFromLne}, on every instance of the run {@code lnUpdateTable} of {@code xen/entry_validation}
 * (a frame-table snapshot of 3 frames and 2 domains, a table in use as an L2, L3 or L4 and a present entry for it;
 * accepted or refused).
 *
 * <p>Translation: as {@link EntryConformance} — frame atom k is MFN k, domain atom k is domain k + 1, a frame in use
 * has type count 1 and general count 1 and is validated, an unused frame keeps its type with count 0; entry flags
 * RW, US, PS are bits 1, 2, 7. The run leaves out linear page tables and promotion on the way (its comment).
 */
public final class LnEntryConformance {
    /** At most this many instances (the first ones in the solver's order). */
    public static final int LIMIT = 3_000;

    private LnEntryConformance() {}

    public static Conformance check() {
        return check(Faults.NONE, LIMIT);
    }

    /** The check against a reference with {@code faults} seeded (a fault the model does not have must disagree). */
    public static Conformance check(Faults faults, int limit) {
        Instances in = Instances.of("xen/entry_validation", "lnUpdateTable");
        List<Disagreement> bad = new ArrayList<>();
        Instances.Count n = in.forEach(limit, i -> compare(i, faults, bad));
        return new Conformance("L2..L4 entry validation (getPageFromLne vs PageTypes.getPageFromLne)",
                "xen/entry_validation", "lnUpdateTable", n.instances(), n.exhaustive(), bad);
    }

    private static void compare(Instances i, Faults faults, List<Disagreement> bad) {
        List<String> frames = new ArrayList<>(i.atoms("Frame"));
        List<String> domains = new ArrayList<>(i.atoms("Domain"));
        Set<String> inUse = i.atoms("Snapshot.inUse");
        Map<String, String> owner = i.function("Snapshot.owner");
        Map<String, String> type = i.function("Snapshot.type");
        DirectPagingState s = DirectPagingState.initial(frames.size()).withFaults(faults);
        for (String f : frames) {
            boolean used = inUse.contains(f);
            int o = owner.containsKey(f) ? domains.indexOf(owner.get(f)) + 1 : FrameInfo.FREE;
            s = s.withFrame(frames.indexOf(f), new FrameInfo(o, EntryConformance.pageType(type.get(f)), used ? 1 : 0,
                    used ? 1 : 0, used, false, 0));
        }
        Map<String, Entry> entries = EntryConformance.entries(i, frames);
        int d = domains.indexOf(EntryConformance.only(i.atoms("Snapshot.d"))) + 1;
        String tableAtom = EntryConformance.only(i.atoms("LnUpdate.table"));
        long table = frames.indexOf(tableAtom);
        PageType tableType = EntryConformance.pageType(type.get(tableAtom));
        Entry nu = entries.get(EntryConformance.only(i.atoms("LnUpdate.nu")));
        boolean alloy = i.holds("getPageFromLne[Snapshot.owner, Snapshot.type, Snapshot.inUse, Snapshot.d, "
                + "Snapshot.type[LnUpdate.table], LnUpdate.nu]");
        MmuResult java = PageTypes.getPageFromLne(s, table, tableType, nu, d);
        if (alloy != java instanceof MmuResult.Success) {
            bad.add(new Disagreement("get_page_from_l" + tableType.name().charAt(1) + "e d" + d + " " + tableType
                    + " " + table + "[0] := " + nu, EntryConformance.verdict(alloy), java.toString(), i.text()));
        }
    }
}
