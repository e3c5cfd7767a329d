package org.hybridv.invariants;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.hybridv.x86.Entry;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Rights;
import org.hybridv.x86.Walk;
import org.hybridv.xen.Domain;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.XenMachine;

/**
 * SH-2 over a whole state: for every leaf of every shadow-mode vCPU's shadow tree (linear address {@code va}),
 * the guest's own walk of {@code va} (through the p2m) maps a page, the shadow maps exactly {@code p2m(gfn)} of that
 * walk, and rights(shadow walk) ⊆ rights(guest walk): shadow RW ⇒ guest RW, shadow US ⇒ guest US, guest NX ⇒ shadow
 * NX; moreover shadow RW ⇒ guest D set and the frame is not one of the domain's guest page tables (SH-4 write
 * trapping). A shadow that outlived a guest change it mirrors (a stale entry) fails this check.
 *
 * <p>With it, the shadow half of I6: every TLB entry tagged with a shadow-mode vCPU's VPID is backed by that vCPU's
 * current shadow leaf for the address (same frame, no more rights): the hypervisor flushed whatever it dropped.
 *
 * <p>The guest walk and the set of guest page tables are stated in {@link GuestTables}, not taken from
 * {@code ShadowPaging}: the set is every frame a guest walk may read entries from, at any level, so a shadow handler
 * that forgets the tables below a frame's second, higher-level use (the SH-4 slip fixed in
 * {@code ShadowPaging.guestPageTables}) leaves a writable shadow of a guest page table that this check reports.
 */
public final class ShadowIntegrity {
    private ShadowIntegrity() {}

    /** A shadow leaf: linear address, the frame, the effective rights over the shadow path, the path. */
    public record Leaf(long linear, long frame, boolean writable, boolean user, boolean noExecute, WalkPath path) {}

    /** The leaves of the shadow tree rooted at {@code root}; every table frame reached is added to {@code tables}. */
    public static List<Leaf> leaves(PhysicalMemory m, long root, List<Long> tables) {
        List<Leaf> out = new ArrayList<>();
        walk(m, root, 4, 0, true, true, false, null, out, tables);
        return out;
    }

    private static void walk(PhysicalMemory m, long table, int level, long base, boolean w, boolean u, boolean nx,
            WalkPath path, List<Leaf> out, List<Long> tables) {
        tables.add(table);
        if (table < 0 || table >= m.frameCount()) {
            return;
        }
        // only the non-zero words: a zero entry is not present
        for (int i = m.nextNonZero(table, 0); i < PhysicalMemory.WORDS_PER_FRAME;
                i = m.nextNonZero(table, i + 1)) {
            Entry e = new Entry(m.read(table, i));
            if (!e.present()) {
                continue;
            }
            long address = base | ((long) i << (12 + 9 * (level - 1)));
            if (level == 4 && i >= 256) {
                address |= 0xFFFF_0000_0000_0000L;
            }
            WalkPath here = new WalkPath(path, level, table, i);
            boolean ww = w && e.writable();
            boolean uu = u && e.user();
            boolean xx = nx || e.noExecute();
            if (level == 1 || (level <= 3 && e.pageSize())) {
                out.add(new Leaf(address, e.frame(), ww, uu, xx, here));
            } else {
                walk(m, e.frame(), level - 1, address, ww, uu, xx, here, out, tables);
            }
        }
    }

    public static InvariantResult check(XenMachine m) {
        return check(m, true, e -> true);
    }

    /**
     * {@link #check(XenMachine)} on part of {@code m}: the shadow tables if {@code tables}, then {@link #tlb(XenMachine,
     * Predicate)} on the TLB entries {@code entries} accepts.
     */
    public static InvariantResult check(XenMachine m, boolean tables,
            java.util.function.Predicate<org.hybridv.x86.TlbEntry> entries) {
        for (Domain d : tables ? m.domains().values() : java.util.List.<Domain>of()) {
            if (d.mode() != MmuMode.SHADOW) {
                continue;
            }
            Set<Long> pageTables = GuestTables.pageTables(m, d);
            for (Vcpu v : d.vcpus()) {
                if (!v.shadow().active()) {
                    continue;
                }
                for (Leaf l : leaves(m.memory(), v.shadow().root(), new ArrayList<>())) {
                    String bad = check(m, d, v, l, pageTables);
                    if (bad != null) {
                        return new InvariantResult.Violated("SH-2", "d" + d.id() + " " + v.id() + ": shadow "
                                + Hex.of(l.linear()) + " → frame " + Hex.of(l.frame()) + " via " + l.path() + ": "
                                + bad);
                    }
                }
            }
        }
        return tlb(m, entries);
    }

    /**
     * I6 for shadow mode: no TLB entry of a shadow-mode vCPU outlives or exceeds its shadow leaf — on every pCPU, for
     * the entries the vCPU can use there ({@link TlbCoherence#live}).
     */
    public static InvariantResult tlb(XenMachine m) {
        return tlb(m, e -> true);
    }

    /** {@link #tlb(XenMachine)} on the TLB entries {@code entries} accepts (each entry's verdict is its own). */
    public static InvariantResult tlb(XenMachine m, java.util.function.Predicate<org.hybridv.x86.TlbEntry> entries) {
        for (int q = 0; q < m.pcpuCount(); q++) {
            for (org.hybridv.x86.TlbEntry e : m.pcpu(q).tlb().entries()) {
                if (!entries.test(e) || !TlbCoherence.live(m, q, e)) {
                    continue;
                }
                for (Domain d : m.domains().values()) {
                    if (d.mode() != MmuMode.SHADOW) {
                        continue;
                    }
                    for (Vcpu v : d.vcpus()) {
                        if (v.vpid() != e.tag().vpid() || !v.shadow().active()) {
                            continue;
                        }
                        Leaf l = leafFor(m.memory(), v.shadow().root(), e.linearBase());
                        String bad = l == null ? "no shadow leaf backs it (dropped without a flush)"
                                : l.frame() != e.physicalBase() >>> 12 ? "the shadow leaf maps " + Hex.of(l.frame())
                                : e.rights().writable() && !l.writable() ? "writable, the shadow is read-only"
                                : e.rights().user() && !l.user() ? "user, the shadow is supervisor-only"
                                : !e.rights().executeDisable() && l.noExecute() ? "executable, the shadow is not"
                                : null;
                        if (bad != null) {
                            return new InvariantResult.Violated("I6", "d" + d.id() + " " + v.id() + ": TLB entry "
                                    + Hex.of(e.linearBase()) + " → " + Hex.of(e.physicalBase()) + ": " + bad
                                    + " (SH-4, TLB flush on shadow drop)" + TlbCoherence.onPcpu(m, q));
                        }
                    }
                }
            }
        }
        return InvariantResult.HOLDS;
    }

    /** The shadow leaf (4-KByte level) for {@code linear} with its effective rights, or null if not present. */
    static Leaf leafFor(PhysicalMemory m, long root, long linear) {
        long table = root;
        boolean w = true;
        boolean u = true;
        boolean nx = false;
        WalkPath path = null;
        for (int level = 4; level >= 1; level--) {
            if (table < 0 || table >= m.frameCount()) {
                return null;
            }
            int index = (int) ((linear >>> (12 + 9 * (level - 1))) & 511);
            path = new WalkPath(path, level, table, index);
            Entry e = new Entry(m.read(table, index));
            if (!e.present()) {
                return null;
            }
            w &= e.writable();
            u &= e.user();
            nx |= e.noExecute();
            if (level == 1 || (level <= 3 && e.pageSize())) {
                return new Leaf(linear, e.frame(), w, u, nx, path);
            }
            table = e.frame();
        }
        return null;
    }

    private static String check(XenMachine m, Domain d, Vcpu v, Leaf l, Set<Long> pageTables) {
        Walk w = GuestTables.walk(m, v, l.linear());
        if (w.end() != Walk.End.MAPPED) {
            return "the guest walk ends " + w.end() + " (SH-3: the access must fault in the guest)";
        }
        long gfn = w.physical() >>> 12;
        long mfn = d.machineFrame(gfn);
        if (mfn != l.frame()) {
            return "the guest maps gfn " + Hex.of(gfn) + ", whose p2m frame is " + Hex.of(mfn) + " (SH-1)";
        }
        Rights g = w.rights();
        if (l.writable() && !g.writable()) {
            return "writable, the guest walk is read-only";
        }
        if (l.user() && !g.user()) {
            return "user, the guest walk is supervisor-only";
        }
        if (g.executeDisable() && !l.noExecute()) {
            return "executable, the guest walk is execute-disable";
        }
        if (l.writable() && !w.leaf().entry().dirty()) {
            return "writable while the guest leaf's D is clear";
        }
        if (l.writable() && pageTables.contains(mfn)) {
            return "writable mapping of a guest page table (SH-4 write trapping)";
        }
        return null;
    }
}
