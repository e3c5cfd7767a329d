package org.hybridv.invariants;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.hybridv.ept.Eptp;
import org.hybridv.x86.Entry;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PageSize;
import org.hybridv.x86.PscEntry;
import org.hybridv.x86.TlbEntry;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.Domain;
import org.hybridv.xen.FlushRequest;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.XenMachine;

/**
 * I6 TLB coherence: no TLB entry grants more than the current tables allow once the hypervisor has relied on the
 * change. The checkable form, over one state (no history needed), for every TLB entry of every pCPU q tagged with the
 * VPID of a vCPU of domain d that is placed on q (a live entry, {@link #live}; docs/smp.md):
 * <ol>
 * <li><b>TLB-1</b> — if it is writable, its frame is not of a page-table type (a stale writable entry to a frame
 * that became a page table must have been flushed by the type change);</li>
 * <li><b>TLB-3 (ownership)</b> — its frame is owned by d (a stale entry may never reach a frame d no longer
 * owns);</li>
 * <li><b>MU-5 / TLB-3 (direct mode, non-global entries)</b> — a fresh walk of the vCPU's current base pointer
 * ({@code guest_table}, its CR3) for the entry's linear address finds the L4, L3 and L2 entries present and at least
 * as permissive (RW if the entry is writable, U/S if it is a user entry). Only the L1 level may be stale (TLB-7: the
 * guest is responsible for its own L1 PTE changes and flushes them with INVLPG / MMUEXT ops); every change of an
 * L2–L4 entry is followed by a flush of the domain's VPIDs (MU-5) and every base change by a non-global flush of the
 * vCPU's context (MX-3/TLB-4), so an entry that contradicts the current L2–L4 levels is one the hypervisor should
 * have flushed. Global entries legitimately survive a CR3 load (SDM 4.10.4.1), so for them only (1) and (2) are
 * checked;</li>
 * <li><b>HAP-1 (HAP mode)</b> — its frame is a leaf of the domain's current EPT, writable there if the entry is
 * writable (the guest's own tables are the guest's business; the EPT's are the hypervisor's).</li>
 * <li><b>SH-4 (shadow mode)</b> — {@link ShadowIntegrity#tlb}: the entry is backed by the vCPU's current shadow
 * leaf for its linear address (same frame, no more rights: RW, U/S, executable) — a shadow drop (CR3 load, INVLPG,
 * guest page-table write) that did not flush is caught. The shadow tables themselves are checked against the guest's
 * tables by {@link ShadowIntegrity#check} (SH-2), so TLB ⊆ shadow ⊆ guest ∩ p2m.</li>
 * </ol>
 * So this one call is the full I6 for all three MMU modes. Cost: one pass over the TLB; per direct-mode entry three
 * memory reads; per HAP domain one EPT enumeration; per shadow-mode entry one shadow walk.
 */
public final class TlbCoherence {
    private TlbCoherence() {}

    public static InvariantResult check(XenMachine m) {
        return check(m, true, e -> true);
    }

    /**
     * I6 evaluated on part of {@code m}, in the order of {@link #check(XenMachine)}: the VPID tags (CTL-5) if {@code
     * tables}, and the TLB entries {@code entries} accepts (each entry's verdict is a function of the entry and of the
     * frame table, memory, base pointers and domains). With both on everything this is {@link #check(XenMachine)}; a
     * caller that knows the other parts hold (unchanged from a state where I6 held) gets the same verdict from less
     * work.
     */
    public static InvariantResult check(XenMachine m, boolean tables, java.util.function.Predicate<TlbEntry> entries) {
        InvariantResult tags = tables ? distinctVpids(m) : InvariantResult.HOLDS;
        if (!tags.holds()) {
            return tags;
        }
        Map<Integer, Map<Long, Boolean>> eptLeaves = new HashMap<>();
        for (int q = 0; q < m.pcpuCount(); q++) {
            for (TlbEntry e : m.pcpu(q).tlb().entries()) {
                if (!entries.test(e)) {
                    continue;
                }
                int vpid = e.tag().vpid();
                int d = m.domainOfVpid(vpid);
                if (d < 0 || !live(m, q, e) || awaitedFlushCovers(m, q, vpid, e.linearBase(),
                        e.pageSize().bytes())) {
                    continue;
                }
                Domain dom = m.domain(d);
                Vcpu v = vcpuOfVpid(dom, vpid);
                Object who = new Who(d, v.id(), vpid, e, onPcpu(m, q));
                boolean writable = e.rights().writable() && (e.stage2() & 2) != 0;
                long first = e.physicalBase() >>> 12;
                long n = e.pageSize().bytes() >>> 12;
                for (long f = first; f < first + n; f++) {
                    if (!m.frames().contains(f)) {
                        return new InvariantResult.Violated("TLB-3", who + ": frame " + Hex.of(f) + " is beyond RAM");
                    }
                    FrameInfo fi = m.frames().get(f);
                    if (writable && fi.type().isPageTable() && fi.typeCount() > 0) {
                        return new InvariantResult.Violated("TLB-1", who + ": writable, but frame " + Hex.of(f)
                                + " is now a page table " + fi + " — the type change did not flush the stale writable"
                                + " translation");
                    }
                    if (fi.owner() != d && Isolation.notOwnedNorGranted(m, f, d, writable) != null) {
                        // a frame of another domain is reachable only through an active grant mapping (GNT-2, GNT-5)
                        return new InvariantResult.Violated("TLB-3", who + ": frame " + Hex.of(f) + " is not d" + d
                                + "'s but " + fi + " — a stale entry to a frame the domain no longer owns");
                    }
                }
                if (dom.mode() == MmuMode.DIRECT && !e.global()) {
                    Long root = m.guestTables().get(v.id());
                    if (root == null) {
                        return new InvariantResult.Violated("MX-3", who + ": the vCPU has no base pointer, yet a"
                                + " non-global entry survived");
                    }
                    InvariantResult r = upperLevels(m, root, e, who);
                    if (!r.holds()) {
                        return r;
                    }
                }
                if (dom.mode() == MmuMode.HAP) {
                    Map<Long, Boolean> leaves = eptLeaves.computeIfAbsent(d, k -> eptLeaves(m, dom));
                    for (long f = first; f < first + n; f++) {
                        Boolean w = leaves.get(f);
                        if (w == null) {
                            return new InvariantResult.Violated("HAP-1", who + ": frame " + Hex.of(f)
                                    + " is not mapped by d" + d + "'s EPT (EPTP " + Hex.of(dom.eptp()) + ")");
                        }
                        if (writable && !w) {
                            return new InvariantResult.Violated("HAP-1", who + ": writable, but d" + d
                                    + "'s EPT maps frame " + Hex.of(f) + " read-only");
                        }
                    }
                }
            }
        }
        InvariantResult psc = pagingStructureCaches(m);
        if (!psc.holds()) {
            return psc;
        }
        return ShadowIntegrity.tlb(m, entries);
    }

    /**
     * I6 over the paging-structure caches (Intel SDM Vol. 3A §4.10.3) of a direct-mode vCPU, on every pCPU where it
     * can use them (placed there): a PML4-, PDPTE- or PDE-cache entry holds "the physical address from" the cached
     * entry and the AND of R/W and U/S of the entries from the PML4E down to it (§4.10.3.1), and a walk may start from
     * it instead of reading those entries (§4.10.3.2). The hypervisor flushes the domain after every L2–L4 change
     * (MU-5/TLB-3) and on every type change (TLB-1), so each such entry must still be what the vCPU's current tables
     * give: the entries from its base pointer (MX-3) down to the cached level present, the cached rights no more than
     * theirs, and the table referenced the one the current entry references. A stale entry would let the guest's
     * walks continue through a frame that is no longer that page table (for example one retyped writable). Checked in
     * full at every call (the caches are small, and a walk can fill them without changing any table). Shadow-mode
     * caches hold shadow tables (SH-4 flushes them with the TLB); HAP walks create none (docs/paging.md).
     */
    static InvariantResult pagingStructureCaches(XenMachine m) {
        for (int q = 0; q < m.pcpuCount(); q++) {
            for (PscEntry p : m.pcpu(q).tlb().pscEntries()) {
                int vpid = p.tag().vpid();
                int d = m.domainOfVpid(vpid);
                if (d < 0 || m.domain(d).mode() != MmuMode.DIRECT) {
                    continue;
                }
                Vcpu v = vcpuOfVpid(m.domain(d), vpid);
                if (v.pcpu() != q || awaitedFlushCovers(m, q, vpid, p.linearBase(), 1L << p.level().shift())) {
                    continue;
                }
                Long root = m.guestTables().get(v.id());
                // the messages are built only for a violation: this runs after every step of a search
                int pcpu = q;
                java.util.function.Supplier<String> who = () -> "d" + d + " " + v.id() + " (VPID " + vpid + ") "
                        + p.level().entryName() + "-cache entry for linear " + Hex.of(p.linearBase()) + " → table "
                        + Hex.of(p.nextTable() >>> 12) + onPcpu(m, pcpu);
                if (root == null) {
                    return new InvariantResult.Violated("MX-3", who.get() + ": the vCPU has no base pointer, yet a"
                            + " paging-structure-cache entry survived");
                }
                int cached = 4 - p.level().ordinal(); // PML4 → 4, PDPT → 3, PD → 2
                long table = root;
                for (int level = 4; level >= cached; level--) {
                    int index = (int) ((p.linearBase() >>> (12 + 9 * (level - 1))) & 0x1FF);
                    if (table < 0 || table >= m.memory().frameCount()) {
                        return new InvariantResult.Violated("MU-5", who.get() + ": the walk from CR3 " + Hex.of(root)
                                + " leaves RAM at L" + level);
                    }
                    Entry x = new Entry(m.memory().read(table, index));
                    if (!x.present() || x.pageSize() && level < 4) {
                        return new InvariantResult.Violated("MU-5", who.get() + ": the current " + at(level, table, index, x)
                                + " references no"
                                + " table — the cache entry derives from an old L2–L4 entry that was not flushed");
                    }
                    if (p.writable() && !x.writable() || p.user() && !x.user()) {
                        return new InvariantResult.Violated("MU-5", who.get() + ": its rights ("
                                + (p.writable() ? "RW" : "RO") + (p.user() ? ", user" : ", supervisor")
                                + ") exceed the current " + at(level, table, index, x)
                                + " — stale since an L2–L4 update that was not flushed");
                    }
                    table = x.frame();
                }
                if (table != p.nextTable() >>> 12) {
                    return new InvariantResult.Violated("MU-5", who.get() + ": the current tables reference table "
                            + Hex.of(table) + " there — the cache entry is stale since an L2–L4 update that was not"
                            + " flushed (MU-5/TLB-3)");
                }
            }
        }
        return InvariantResult.HOLDS;
    }

    /** "L<level> <table>[<index>] = <entry>": where a violation's walk read the entry. */
    private static String at(int level, long table, int index, Entry x) {
        return "L" + level + " " + Hex.of(table) + "[" + index + "] = " + x;
    }

    /**
     * Whether entry {@code e} of pCPU {@code q}'s TLB is one a vCPU can use: its VPID is no guest's, or its vCPU is
     * placed on {@code q}. An entry a vCPU left on a pCPU it moved away from is dead until the vCPU comes back, and
     * MIG-2 invalidates it on the way back ({@link MigrationRules#vpidFlushedOnArrival} checks that step), so I6 over
     * every pCPU is stated over the live entries.
     */
    static boolean live(XenMachine m, int q, TlbEntry e) {
        int d = m.domainOfVpid(e.tag().vpid());
        if (d < 0) {
            return true;
        }
        for (Vcpu v : m.domain(d).vcpus()) {
            if (v.vpid() == e.tag().vpid()) {
                return v.pcpu() == q;
            }
        }
        return true;
    }

    /**
     * Xen rule IPI-4: whether a translation of VPID {@code vpid} on pCPU {@code q} for the linear region
     * {@code [base, base + bytes)} is covered by a flush IPI pending on {@code q} whose hypercall has not returned yet —
     * one sent by a vCPU that is still inside its hypercall, waiting for {@code q}'s acknowledgement. The guest relies on
     * a change only once the hypercall that made it returns (IPI-2), so such an entry is not yet stale; it is once the
     * hypercall has returned with the IPI unhandled. Covered: any guest translation by a whole flush; any of the
     * domain's by a domain flush; by an address flush, those of the domain whose region contains the address (INVVPID
     * individual-address, Intel SDM Vol. 3C §28.3.3.3). Stated over the pending requests and the waiting hypercalls
     * (docs/invariants.md, I6).
     */
    static boolean awaitedFlushCovers(XenMachine m, int q, int vpid, long base, long bytes) {
        for (FlushRequest r : m.tlbFlush().pendingFlushes(q)) {
            java.util.Optional<org.hybridv.xen.HypercallInFlight> h = m.tlbFlush().inFlight(r.sender());
            if (h.isEmpty() || !h.get().awaiting().contains(q)) {
                continue;
            }
            boolean covered = switch (r.scope()) {
                case WHOLE -> true;
                case DOMAIN -> m.domainOfVpid(vpid) == r.domain();
                case ADDRESS -> m.domainOfVpid(vpid) == r.domain() && Long.compareUnsigned(r.linear() - base, bytes) < 0;
            };
            if (covered) {
                return true;
            }
        }
        return false;
    }

    /** " on pCPU q" in a message of a machine with several pCPUs; nothing with one (messages as before). */
    static String onPcpu(XenMachine m, int q) {
        return m.pcpuCount() > 1 ? " on pCPU " + q : "";
    }

    /**
     * VPID (CTL-5): the TLB tags are only a partition of the guests' translations if every vCPU has its
     * own non-zero VPID — no two vCPUs (of one domain or of two) share one, and none uses the host's 0.
     */
    static InvariantResult distinctVpids(XenMachine m) {
        Map<Integer, String> seen = new HashMap<>();
        for (Domain d : m.domains().values()) {
            for (Vcpu v : d.vcpus()) {
                String other = seen.put(v.vpid(), v.id().toString());
                if (v.vpid() == 0 || other != null) {
                    return new InvariantResult.Violated("VPID", v.id() + " has VPID " + v.vpid()
                            + (other != null ? ", which " + other + " also has: each sees the other's TLB entries"
                                    : ", the host's"));
                }
            }
        }
        return InvariantResult.HOLDS;
    }

    /** The L4..(leaf level + 1) entries of the current walk must be present and allow the entry's rights. */
    private static InvariantResult upperLevels(XenMachine m, long root, TlbEntry e, Object who) {
        int leafLevel = e.pageSize() == PageSize.SIZE_4K ? 1 : e.pageSize() == PageSize.SIZE_2M ? 2 : 3;
        long table = root;
        for (int level = 4; level > leafLevel; level--) {
            int index = (int) ((e.linearBase() >>> (12 + 9 * (level - 1))) & 0x1FF);
            if (table < 0 || table >= m.memory().frameCount()) {
                return new InvariantResult.Violated("MU-5", who + ": the walk from CR3 " + Hex.of(root)
                        + " leaves RAM at L" + level + " (table " + Hex.of(table) + ")");
            }
            Entry x = new Entry(m.memory().read(table, index));
            Object at = new At(level, table, index, x);
            if (!x.present()) {
                return new InvariantResult.Violated("MU-5", who + ": the current " + at
                        + " is not present — the entry derives from an old L2–L4 entry the hypervisor did not flush"
                        + " (MU-5/TLB-3)");
            }
            if (e.rights().writable() && !x.writable()) {
                return new InvariantResult.Violated("MU-5", who + ": writable, but the current " + at
                        + " is read-only — stale since an L2–L4 update that was not flushed (MU-5/TLB-3)");
            }
            if (e.rights().user() && !x.user()) {
                return new InvariantResult.Violated("MU-5", who + ": user-accessible, but the current " + at
                        + " is supervisor-only — stale since an L2–L4 update that was not flushed (MU-5/TLB-3)");
            }
            table = x.frame();
        }
        return InvariantResult.HOLDS;
    }

    /**
     * The TLB entry a violation is about, worded only when there is a violation to word (most entries hold, and the
     * wording costs more than the check).
     */
    private record Who(int d, VcpuId id, int vpid, TlbEntry e, String where) {
        @Override
        public String toString() {
            return "d" + d + " " + id + " (VPID " + vpid + ") TLB entry linear " + Hex.of(e.linearBase())
                    + " → frame " + Hex.of(e.physicalBase() >>> 12) + (e.rights().writable() ? " writable" : " read-only")
                    + (e.global() ? " global" : "") + where;
        }
    }

    /** The walk's entry a violation is about, "L&lt;level&gt; &lt;table&gt;[&lt;index&gt;] = &lt;entry&gt;", worded lazily. */
    private record At(int level, long table, int index, Entry x) {
        @Override
        public String toString() {
            return "L" + level + " " + Hex.of(table) + "[" + index + "] = " + x;
        }
    }

    private static Map<Long, Boolean> eptLeaves(XenMachine m, Domain d) {
        Map<Long, Boolean> out = new HashMap<>();
        List<GuestMappings.Mapping> maps = GuestMappings.ept(m.memory(), new Eptp(d.eptp()));
        for (GuestMappings.Mapping map : maps) {
            out.merge(map.frame(), map.writable(), Boolean::logicalOr);
        }
        return out;
    }

    private static Vcpu vcpuOfVpid(Domain d, int vpid) {
        for (Vcpu v : d.vcpus()) {
            if (v.vpid() == vpid) {
                return v;
            }
        }
        throw new IllegalStateException("no vCPU of d" + d.id() + " has VPID " + vpid);
    }
}
