package org.hybridv.invariants;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.hybridv.x86.Entry;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.DirectPagingState;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.PageType;
import org.hybridv.xen.VcpuId;

/**
 * I2 (direct mode), the structural part: every frame reachable as a page table from a vCPU's base pointer or from a
 * pin has the type of the level it is reached at and is validated (TYP-4), and every entry of such a table obeys the
 * entry rules; in particular no L1 entry maps a page-table frame writable (TYP-1, L1-3) and every linear entry is
 * read-only and one level deep (LIN-1, LIN-4). With no superpages (SP-1) the rights of a translation are the AND of
 * the entries' RW along the walk, so these checks imply that no translation through these tables grants write access
 * to a page-table frame. A second check, {@link #referenceCounts}, recomputes every count from the tables (TYP-4,
 * OWN-3). Cost: one pass over the reachable tables (512 entries each).
 */
public final class PageTableIntegrity {
    private PageTableIntegrity() {}

    /**
     * A table to visit: the frame, the type it is reached as, and how it was reached. The path text ("base pointer
     * of v0 → L4 0x10 → L3 0x11[linear]") is built only when a violation reports it: this check runs after every
     * step of every property, and almost always holds.
     */
    private record Item(long mfn, PageType type, Item parent, String root, boolean linear) {
        String path() {
            if (parent == null) {
                return root;
            }
            return parent.path() + " → " + parent.type + " " + Hex.of(parent.mfn) + (linear ? "[linear]" : "");
        }
    }

    /** "L1 0x13[5] = entry (reached from path)": where a violation is, built only for the violation. */
    private static String at(Item it, int i, Entry e) {
        return it.type + " " + Hex.of(it.mfn) + "[" + i + "] = " + e + " (reached from " + it.path() + ")";
    }

    /** I2 over {@code s}: "holds", or the first violation with frame, level, index, entry and the path to it. */
    public static InvariantResult check(DirectPagingState s) {
        Deque<Item> work = new ArrayDeque<>();
        for (Map.Entry<VcpuId, Long> root : s.guestTables().entrySet()) {
            work.add(new Item(root.getValue(), PageType.L4, null, "base pointer of " + root.getKey(), false));
        }
        for (long mfn = 0; mfn < s.frames().size(); mfn++) {
            FrameInfo f = s.frame(mfn);
            if (f.pinned()) {
                work.add(new Item(mfn, f.type(), null, "pin", false));
            }
        }
        Set<Long> seen = new HashSet<>();
        PhysicalMemory memory = s.memory();
        while (!work.isEmpty()) {
            Item it = work.poll();
            if (!seen.add(it.mfn * PageType.values().length + it.type.ordinal())) {
                continue;
            }
            FrameInfo f = s.frame(it.mfn);
            if (!it.type.isPageTable() || f.type() != it.type || f.typeCount() == 0 || !f.validated()) {
                String where = it.type + " " + Hex.of(it.mfn) + " (reached from " + it.path() + ")";
                return new InvariantResult.Violated("TYP-4", where + " is " + f + ", not a validated " + it.type);
            }
            for (int i = memory.nextNonZero(it.mfn, 0); i < PhysicalMemory.WORDS_PER_FRAME;
                    i = memory.nextNonZero(it.mfn, i + 1)) {
                long raw = memory.read(it.mfn, i);
                if ((raw & 1) == 0) {
                    continue; // not present: no rule applies to it, in a guest slot or a Xen slot
                }
                Entry e = new Entry(raw);
                if (!guestSlot(it.type, i)) {
                    return new InvariantResult.Violated("SLOT-1", at(it, i, e) + ": Xen's L4 slots must stay empty");
                }
                InvariantResult r = it.type == PageType.L1 ? l1Entry(s, f, e, it, i) : lnEntry(s, it, f, e, i, work);
                if (!r.holds()) {
                    return r;
                }
            }
        }
        return InvariantResult.HOLDS;
    }

    // ---- The entry rules, stated here from Xen's rules (docs/hypervisor.md), not with EntryRules' masks ----

    /** The bits of an entry that are not its address field (SDM 4.5, tables 4-15 to 4-19): 11:0 and 63:52. */
    private static final long NON_ADDRESS = 0xFFFL | (0xFFFL << 52);

    private static long bits(int... n) {
        long b = 0;
        for (int i : n) {
            b |= 1L << i;
        }
        return b;
    }

    /**
     * L1-1: an L1 entry may carry P (0), R/W (1), U/S (2), A (5), D (6), G (8), the software bits 11:9 and 61:52, and
     * XD (63); PWT (3), PCD (4), PAT (7) are refused (no cache-attribute control for the guest) and so is bit 62,
     * Xen's mark of a grant PTE that a guest may never forge.
     */
    private static final long L1_ALLOWED = bits(0, 1, 2, 5, 6, 8, 9, 10, 11, 63) | (0x3FFL << 52);

    /**
     * LN-1 / SP-1: an L2–L4 entry may carry P, R/W, U/S, A, D, the software bits 11:9 and 62:52, and XD; PWT, PCD, G
     * and PS (bit 7: a PV guest gets no superpage, SP-1) are refused.
     */
    private static final long LN_ALLOWED = bits(0, 1, 2, 5, 6, 9, 10, 11, 63) | (0x7FFL << 52);

    /** SLOT-1: every slot of a table is the guest's except L4 slots 256–271, which are Xen's. */
    private static boolean guestSlot(PageType type, int index) {
        return type != PageType.L4 || index < 256 || index > 271;
    }

    /**
     * Xen's {@code _PAGE_GNTTAB} (bit 62): an L1 entry the hypervisor wrote for a grant mapping (GNT-2), the only L1
     * entry that may carry the bit and the only one that may map another domain's frame. Whether the grant behind it
     * is active, and grants that access, is I1's question (over the maptrack and the grant entry) and I11's.
     */
    private static final long PAGE_GNTTAB = 1L << 62;

    private static InvariantResult l1Entry(DirectPagingState s, FrameInfo table, Entry e, Item it, int i) {
        boolean grant = (e.raw() & PAGE_GNTTAB) != 0;
        if ((e.raw() & NON_ADDRESS & ~L1_ALLOWED & ~(grant ? PAGE_GNTTAB : 0)) != 0) {
            return new InvariantResult.Violated("L1-1", at(it, i, e) + ": disallowed flags");
        }
        if (!s.isFrame(e.frame())) {
            return new InvariantResult.Violated("L1-4", at(it, i, e) + ": maps a frame that is not RAM");
        }
        FrameInfo target = s.frame(e.frame());
        if (target.owner() != table.owner() && !grant) {
            return new InvariantResult.Violated("L1-2", at(it, i, e) + ": maps a frame of "
                    + FrameInfo.ownerName(target.owner()) + " from a table of " + FrameInfo.ownerName(table.owner()));
        }
        if (e.writable() && (target.type() != PageType.WRITABLE || target.typeCount() == 0)) {
            return new InvariantResult.Violated("TYP-1", at(it, i, e) + ": writable mapping of frame "
                    + Hex.of(e.frame()) + " which is " + target);
        }
        return InvariantResult.HOLDS;
    }

    private static InvariantResult lnEntry(DirectPagingState s, Item it, FrameInfo table, Entry e, int i,
            Deque<Item> work) {
        if ((e.raw() & NON_ADDRESS & ~LN_ALLOWED) != 0) {
            return new InvariantResult.Violated(e.pageSize() && it.type != PageType.L4 ? "SP-1"
                    : "LN-1", at(it, i, e) + ": disallowed flags");
        }
        long child = e.frame();
        if (child == it.mfn) {
            return e.writable() ? new InvariantResult.Violated("LIN-1", at(it, i, e) + ": writable self-map")
                    : InvariantResult.HOLDS;
        }
        if (!s.isFrame(child) || s.frame(child).owner() != table.owner()) {
            return new InvariantResult.Violated("LN-3", at(it, i, e) + ": references a frame not of "
                    + FrameInfo.ownerName(table.owner()));
        }
        FrameInfo c = s.frame(child);
        if (c.type() == it.type) {
            if (e.writable()) {
                return new InvariantResult.Violated("LIN-1", at(it, i, e) + ": writable linear entry");
            }
            PhysicalMemory memory = s.memory();
            for (int j = memory.nextNonZero(child, 0); j < PhysicalMemory.WORDS_PER_FRAME;
                    j = memory.nextNonZero(child, j + 1)) {
                Entry g = s.entry(child, j);
                if (guestSlot(it.type, j) && g.present() && g.frame() != child && s.isFrame(g.frame())
                        && s.frame(g.frame()).type() == it.type && s.frame(g.frame()).typeCount() > 0) {
                    return new InvariantResult.Violated("LIN-4", at(it, i, e) + ": linear target " + Hex.of(child)
                            + " has a linear entry itself at [" + j + "] (chain of depth 2)");
                }
            }
            work.add(new Item(child, it.type, it, null, true));
        } else {
            work.add(new Item(child, it.type.child(), it, null, false));
        }
        return InvariantResult.HOLDS;
    }

    /**
     * TYP-4 / OWN-3 bookkeeping: every general count, type count and linear count equals what the validated tables,
     * the pins and the base pointers hold — a present L1 entry one general reference (plus a WRITABLE type reference
     * if RW), a non-self L2–L4 entry one of each (and ±1 linear count when same-level), a pin and a base pointer one
     * of each. A self-map holds nothing (LIN-3).
     */
    public static InvariantResult referenceCounts(DirectPagingState s) {
        return referenceCounts(s, Map.of(), Map.of());
    }

    /**
     * A table a pin validates entry by entry (Xen rule TYP-8): being validated as {@code type}, its entries before
     * {@code nextEntry} validated.
     */
    public record InValidation(PageType type, int nextEntry) {}

    /**
     * {@link #referenceCounts(DirectPagingState)} with the tables being validated entry by entry (TYP-8): such a
     * table holds its new type — the pin in progress holds one general and one type reference of it — and its entries
     * before the next one to validate hold their references as a validated table's do; the entries after hold none
     * yet. A table whose type is not held while it is validated shows as a type count short of the pin's (TYP-8).
     * And with references held outside the tables: {@code held} gives, per frame, the general and type references
     * that grant mappings into a HAP domain's EPT hold (GNT-3; a grant PTE in an L1 is counted as the L1 entry it is).
     */
    public static InvariantResult referenceCounts(DirectPagingState s, Map<Long, InValidation> inValidation,
            Map<Long, int[]> held) {
        // per frame of the table: count, type count, linear count (a reference to a frame outside it is never compared)
        int[] expected = new int[s.frames().size() * 3];
        held.forEach((mfn, x) -> add(expected, mfn, x[0], x[1], 0));
        for (long mfn = 0; mfn < s.frames().size(); mfn++) {
            FrameInfo f = s.frame(mfn);
            if (f.pinned()) {
                add(expected, mfn, 1, 1, 0);
            }
            InValidation partial = inValidation.get(mfn);
            if (partial != null) {
                add(expected, mfn, 1, 1, 0);
            }
            if (partial == null && (!f.type().isPageTable() || f.typeCount() == 0 || !f.validated())) {
                continue;
            }
            PageType type = partial != null ? partial.type() : f.type();
            int end = partial != null ? partial.nextEntry() : PhysicalMemory.WORDS_PER_FRAME;
            for (int i = s.memory().nextNonZero(mfn, 0); i < end;
                    i = s.memory().nextNonZero(mfn, i + 1)) {
                Entry e = s.entry(mfn, i);
                if (!e.present() || !guestSlot(type, i) || !s.isFrame(e.frame())) {
                    continue;
                }
                if (type == PageType.L1) {
                    add(expected, e.frame(), 1, e.writable() ? 1 : 0, 0);
                } else if (e.frame() != mfn) {
                    boolean linear = s.frame(e.frame()).type() == type;
                    add(expected, e.frame(), 1, 1, linear ? -1 : 0);
                    if (linear) {
                        add(expected, mfn, 0, 0, 1);
                    }
                }
            }
        }
        for (long root : s.guestTables().values()) {
            add(expected, root, 1, 1, 0);
        }
        for (long mfn = 0; mfn < s.frames().size(); mfn++) {
            FrameInfo f = s.frame(mfn);
            int at = (int) mfn * 3;
            int[] x = {expected[at], expected[at + 1], expected[at + 2]};
            if (f.count() != x[0] || f.typeCount() != x[1] || f.linearCount() != x[2]) {
                return new InvariantResult.Violated(inValidation.containsKey(mfn) ? "TYP-8" : "TYP-4", "frame "
                        + Hex.of(mfn) + " is " + f
                        + " but the tables, pins and base pointers hold count " + x[0] + ", type count " + x[1]
                        + ", linear count " + x[2]);
            }
        }
        return InvariantResult.HOLDS;
    }

    private static void add(int[] expected, long mfn, int count, int typeCount, int linear) {
        if (mfn < 0 || mfn >= expected.length / 3) {
            return;
        }
        int at = (int) mfn * 3;
        expected[at] += count;
        expected[at + 1] += typeCount;
        expected[at + 2] += linear;
    }
}
