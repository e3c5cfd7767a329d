package org.hybridv.spec.conformance;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Entry;
import org.hybridv.xen.Domains;
import org.hybridv.xen.Faults;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.GrantMapping;
import org.hybridv.xen.GrantTables;
import org.hybridv.xen.HvResult;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.PvHypercalls;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * Grant map/unmap of {@code xen/grant_table} against {@link GrantTables} driven through {@link Hypervisor} (the
 * {@code grant_table_op} hypercall, a guest read, the granting guest's own store {@link GrantTables#guestGrant}), on
 * the traces of the run {@code grantTraces} (2 domains owning a frame each, 1 CPU, one grant reference per domain, 2
 * handles, up to 6 states, every trace unmapping a used mapping; the first {@link #LIMIT}).
 *
 * <p>The Java machine: 64 frames; d1 and d2 direct-mode, d1 owns 0x10–0x1f (tables 0x10 → 0x11 → 0x12 → L1 0x13),
 * d2 owns 0x20–0x2f (0x20 → 0x21 → 0x22 → L1 0x23), one vCPU each on pCPU 0 (VPIDs 1, 2), grant tables in 0x1d and
 * 0x2d. Translation: domain atom k is domain k + 1; a frame atom is its owner's frame 0x1e or 0x2e (neither mapped by
 * the owner's own tables); a grant reference atom is reference 0 of its granter; handle atom k is the PTE slot 5 + k
 * of the mapper's L1, linear address 0x5000 + 0x1000·k (the Java's own map handle is looked up by that address).
 *
 * <p>In every state the model and the Java have the same abstract state ({@link #alloy}, {@link #java}): the grant
 * entries (permit, read-only, grantee, frame), the grant PTEs and the maptrack, the TLB entries of pCPU 0 for the two
 * frames (domain, frame, writable), and the frames' general and WRITABLE type counts. In every state the Java accepts
 * {@code map_grant_ref} of (domain, handle, grant, access) exactly when {@code mapAllowed[Xen, ...]} holds, a guest
 * read through a handle retires exactly when the model has a PTE there, an unmap of a handle exactly when the model
 * maps it, and refuses the end of a grant exactly while it is mapped. Every step is replayed (the operation
 * recovered from the difference of the two states) and the Java post-state compared with the model's next state.
 *
 * <p>Not compared: the granting guest's store over a mapped entry (the model's grant requires the entry unused, the
 * guest discipline of GNT-7; {@link GrantTables#guestGrant} would store over it); more than one pCPU (every vCPU of
 * the Java machine runs on pCPU 0; the model's every-CPU flush is checked by the model's own assertions); the Java's
 * GTF_reading/GTF_writing marks (I11's business, not the model's).
 */
public final class GrantTableConformance {
    private GrantTableConformance() {}

    /** At most this many traces. */
    public static final int LIMIT = 60;

    private static final long[] FRAME = {0x1e, 0x2e};
    private static final long[] L1 = {0x13, 0x23};
    private static final long[] TABLE = {0x1d, 0x2d};

    /** The comparison on the first {@code limit} traces, the reference built with {@code faults}. */
    public static Conformance check(Faults faults, int limit) {
        return check(faults, limit, new java.util.TreeMap<>());
    }

    /**
     * {@link #check(Faults, int)}, counting into {@code replayed} the Java operations the steps were replayed as
     * ({@code grant}, {@code end}, {@code map}, {@code unmap}, {@code read}, {@code none}): the coverage.
     */
    public static Conformance check(Faults faults, int limit, Map<String, Integer> replayed) {
        Instances in = Instances.of("xen/grant_table", "grantTraces");
        List<Disagreement> bad = new ArrayList<>();
        Instances.Count n = in.forEach(limit, i -> compare(i, faults, bad, replayed));
        return new Conformance("grant tables (map/use/unmap/end vs GrantTables through Hypervisor)",
                "xen/grant_table", "grantTraces", n.instances(), n.exhaustive(), bad);
    }

    /** The Java machine the traces start from. */
    public static XenMachine boot(Faults faults) {
        XenMachine m = XenMachine.boot(64, Domains.range(0x1, 0xf)).withFaults(faults);
        for (int k = 0; k < 2; k++) {
            long base = 0x10L * (k + 1);
            long[] frames = Domains.range(base, base + 0xf);
            m = done(Domains.create(m, k + 1, MmuMode.DIRECT, frames, Domains.identity(frames)));
            m = m.withPaging(m.paging().write(base, 0, Entry.table(base + 1, true, true))
                    .write(base + 1, 0, Entry.table(base + 2, true, true))
                    .write(base + 2, 0, Entry.table(base + 3, true, true)));
            m = done(Domains.addVcpu(m, k + 1, k + 1, CpuState.longMode(base, XenMachine.MAX_PHYS_ADDR)));
            HvStep s = Hypervisor.hypercall(m, vcpu(k), Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP,
                    PvHypercalls.XENMEM_ADD_TO_PHYSMAP, PvHypercalls.XENMAPSPACE_GRANT_TABLE, TABLE[k]));
            if (!(s.outcome() instanceof VcpuOutcome.HypercallDone)) {
                throw new IllegalStateException("grant table of d" + (k + 1) + ": " + s.outcome());
            }
            m = s.machine();
        }
        return m;
    }

    private static XenMachine done(HvResult r) {
        if (!(r instanceof HvResult.Done d)) {
            throw new IllegalStateException("building the machine: " + r);
        }
        return d.machine();
    }

    private static VcpuId vcpu(int dom) {
        return new VcpuId(dom + 1, 0);
    }

    private static long va(int handle) {
        return 0x5000L + 0x1000L * handle;
    }

    /** The atoms of one trace and their Java names. */
    private record Atoms(List<String> doms, Map<String, Integer> frame, Map<String, Integer> ref, List<String> handles) {
        int dom(String atom) {
            return doms.indexOf(atom);
        }
    }

    private static Atoms atoms(Instances i) {
        List<String> doms = new ArrayList<>(i.atoms("Dom", 0));
        Map<String, Integer> frame = new HashMap<>();
        for (List<String> t : i.tuples("owner", 0)) {
            frame.put(t.get(0), doms.indexOf(t.get(1)));
        }
        Map<String, Integer> ref = new HashMap<>();
        for (List<String> t : i.tuples("granter", 0)) {
            ref.put(t.get(0), doms.indexOf(t.get(1)));
        }
        return new Atoms(doms, frame, ref, new ArrayList<>(i.atoms("Handle", 0)));
    }

    private static void compare(Instances i, Faults faults, List<Disagreement> bad, Map<String, Integer> replayed) {
        Atoms a = atoms(i);
        XenMachine m = boot(faults);
        for (int s = 0; s < i.traceLength(); s++) {
            Set<String> alloy = alloy(i, a, s);
            Set<String> java = java(m);
            if (!alloy.equals(java)) {
                bad.add(new Disagreement("state " + s, alloy.toString(), java.toString(), i.text()));
                return;
            }
            if (!acceptance(i, a, s, m, bad)) {
                return;
            }
            int t = i.successor(s);
            XenMachine next = replay(i, a, s, m, bad, replayed);
            if (next == null) {
                return;
            }
            Set<String> alloyNext = alloy(i, a, t);
            Set<String> javaNext = java(next);
            if (!alloyNext.equals(javaNext)) {
                bad.add(new Disagreement("step " + s + " → " + t, alloyNext.toString(), javaNext.toString(),
                        i.text()));
                return;
            }
            m = next;
        }
    }

    /** Which operations the Java accepts in state {@code s}, against the model's guards; false after a disagreement. */
    private static boolean acceptance(Instances i, Atoms a, int s, XenMachine m, List<Disagreement> bad) {
        Set<String> alloyMaps = new TreeSet<>();
        for (List<String> t : i.tuples("{ d: Dom, h: Handle, r: Ref, m: Mode | mapAllowed[Xen, d, h, r, m] }", s)) {
            alloyMaps.add(t.get(0) + " " + t.get(1) + " " + t.get(2) + " " + t.get(3));
        }
        Set<String> javaMaps = new TreeSet<>();
        for (String d : a.doms()) {
            for (int h = 0; h < a.handles().size(); h++) {
                for (Map.Entry<String, Integer> r : a.ref().entrySet()) {
                    for (String mode : List.of("RO", "RW")) {
                        if (map(m, a.dom(d), h, r.getValue(), mode.equals("RO")).outcome()
                                instanceof VcpuOutcome.HypercallDone) {
                            javaMaps.add(d + " " + a.handles().get(h) + " " + r.getKey() + " " + mode);
                        }
                    }
                }
            }
        }
        if (!alloyMaps.equals(javaMaps)) {
            bad.add(new Disagreement("state " + s + ": the map_grant_ref calls accepted", alloyMaps.toString(),
                    javaMaps.toString(), i.text()));
            return false;
        }
        Set<String> alloyUses = new TreeSet<>();
        for (List<String> t : i.tuples("{ d: Dom, h: Handle | some h.(d.pte) }", s)) {
            alloyUses.add(t.get(0) + " " + t.get(1));
        }
        Set<String> javaUses = new TreeSet<>();
        Set<String> javaUnmaps = new TreeSet<>();
        for (String d : a.doms()) {
            for (int h = 0; h < a.handles().size(); h++) {
                if (read(m, a.dom(d), h).outcome() instanceof VcpuOutcome.Retired) {
                    javaUses.add(d + " " + a.handles().get(h));
                }
                Integer handle = handle(m, a.dom(d), h);
                if (handle != null && unmap(m, a.dom(d), h, handle).outcome() instanceof VcpuOutcome.HypercallDone) {
                    javaUnmaps.add(d + " " + a.handles().get(h));
                }
            }
        }
        Set<String> alloyUnmaps = new TreeSet<>();
        for (List<String> t : i.tuples("{ d: Dom, h: Handle | some h.(d.maptrack) }", s)) {
            alloyUnmaps.add(t.get(0) + " " + t.get(1));
        }
        if (!alloyUses.equals(javaUses) || !alloyUnmaps.equals(javaUnmaps)) {
            bad.add(new Disagreement("state " + s + ": the reads that retire / the unmaps accepted", alloyUses + " / "
                    + alloyUnmaps, javaUses + " / " + javaUnmaps, i.text()));
            return false;
        }
        Set<String> alloyEndRefused = i.atoms("{ r: Ref | mapped[r] }", s);
        Set<String> javaEndRefused = new TreeSet<>();
        for (Map.Entry<String, Integer> r : a.ref().entrySet()) {
            if (GrantTables.guestGrant(m, r.getValue() + 1, 0, 0, 0, false, true) == null) {
                javaEndRefused.add(r.getKey());
            }
        }
        if (!alloyEndRefused.equals(javaEndRefused)) {
            bad.add(new Disagreement("state " + s + ": the grants whose end is refused (mapped)",
                    alloyEndRefused.toString(), javaEndRefused.toString(), i.text()));
            return false;
        }
        return true;
    }

    /** The model's state {@code s}: its relations as tuples of atom names. */
    private record Snap(Set<String> permit, Set<String> readOnly, Map<String, String> grantee,
            Map<String, String> gframe, Set<List<String>> maptrack, Set<List<String>> pte, Set<List<String>> pteW,
            Set<List<String>> tlb, Set<List<String>> tlbW, Set<List<String>> counts) {
        String mapped(String d, String h) {
            for (List<String> t : maptrack) {
                if (t.get(0).equals(d) && t.get(1).equals(h)) {
                    return t.get(2);
                }
            }
            return null;
        }

        String frameAt(String d, String h) {
            for (List<String> t : pte) {
                if (t.get(0).equals(d) && t.get(1).equals(h)) {
                    return t.get(2);
                }
            }
            return null;
        }

        String entry(String r) {
            return permit.contains(r) + " " + readOnly.contains(r) + " " + grantee.get(r) + " " + gframe.get(r);
        }
    }

    private static Snap snap(Instances i, int s) {
        Map<String, String> grantee = new HashMap<>();
        i.tuples("grantee", s).forEach(t -> grantee.put(t.get(0), t.get(1)));
        Map<String, String> gframe = new HashMap<>();
        i.tuples("gframe", s).forEach(t -> gframe.put(t.get(0), t.get(1)));
        return new Snap(i.atoms("Permit", s), i.atoms("ReadOnly", s), grantee, gframe, set(i.tuples("maptrack", s)),
                set(i.tuples("pte", s)), set(i.tuples("pteW", s)), set(i.tuples("tlb", s)), set(i.tuples("tlbW", s)),
                set(i.tuples("{ f: Frame, c, w: Int | c = f.count and w = f.wcount }", s)));
    }

    private static Set<List<String>> set(List<List<String>> tuples) {
        return new java.util.HashSet<>(tuples);
    }

    /** The Java operation the model's step s → successor takes, applied to {@code m}; null after a disagreement. */
    private static XenMachine replay(Instances i, Atoms a, int s, XenMachine m, List<Disagreement> bad,
            Map<String, Integer> replayed) {
        Snap was = snap(i, s);
        Snap is = snap(i, i.successor(s));
        for (String r : a.ref().keySet()) {
            if (was.entry(r).equals(is.entry(r))) {
                continue;
            }
            int granter = a.ref().get(r) + 1;
            boolean grant = is.permit().contains(r);
            replayed.merge(grant ? "grant" : "end", 1, Integer::sum);
            XenMachine next = grant
                    ? GrantTables.guestGrant(m, granter, 0, a.dom(is.grantee().get(r)) + 1,
                            FRAME[a.frame().get(is.gframe().get(r))], is.readOnly().contains(r), false)
                    : GrantTables.guestGrant(m, granter, 0, 0, 0, false, true);
            if (next == null) {
                bad.add(new Disagreement("step " + s + ": " + (grant ? "grant" : "end") + " of " + r, "done",
                        "refused", i.text()));
            }
            return next;
        }
        for (String d : a.doms()) {
            for (int h = 0; h < a.handles().size(); h++) {
                String ha = a.handles().get(h);
                String before = was.mapped(d, ha);
                String after = is.mapped(d, ha);
                if (java.util.Objects.equals(before, after)) {
                    continue;
                }
                replayed.merge(after == null ? "unmap" : "map", 1, Integer::sum);
                HvStep step = after == null ? unmap(m, a.dom(d), h, handle(m, a.dom(d), h))
                        : map(m, a.dom(d), h, a.ref().get(after), !is.pteW().contains(List.of(d, ha)));
                if (!(step.outcome() instanceof VcpuOutcome.HypercallDone)) {
                    bad.add(new Disagreement("step " + s + ": " + (after == null ? "unmap" : "map") + " " + d + " "
                            + ha, "done", step.outcome().toString(), i.text()));
                    return null;
                }
                return step.machine();
            }
        }
        if (!was.tlb().equals(is.tlb()) || !was.tlbW().equals(is.tlbW())) {
            for (List<String> c : is.tlb()) {
                if (was.tlb().contains(c) && was.tlbW().contains(c) == is.tlbW().contains(c)) {
                    continue;
                }
                String d = c.get(1);
                for (int h = 0; h < a.handles().size(); h++) {
                    String ha = a.handles().get(h);
                    if (c.get(2).equals(was.frameAt(d, ha))
                            && is.tlbW().contains(c) == was.pteW().contains(List.of(d, ha))) {
                        replayed.merge("read", 1, Integer::sum);
                        HvStep step = read(m, a.dom(d), h);
                        if (!(step.outcome() instanceof VcpuOutcome.Retired)) {
                            bad.add(new Disagreement("step " + s + ": a read of " + d + " through " + ha, "retired",
                                    step.outcome().toString(), i.text()));
                            return null;
                        }
                        return step.machine();
                    }
                }
            }
            bad.add(new Disagreement("step " + s + ": the TLB changed without a use", is.tlb().toString(),
                    "no such use", i.text()));
            return null;
        }
        replayed.merge("none", 1, Integer::sum);
        return m; // a stutter, or a use of a translation already cached: nothing the abstraction sees changes
    }

    private static HvStep map(XenMachine m, int dom, int h, int granter, boolean ro) {
        return Hypervisor.hypercall(m, vcpu(dom), Hypercall.of(PvHypercalls.HYPERVISOR_GRANT_TABLE_OP,
                GrantTables.GNTTABOP_MAP_GRANT_REF, va(h), GrantTables.GNTMAP_HOST_MAP
                        | (ro ? GrantTables.GNTMAP_READONLY : 0), 0, granter + 1));
    }

    private static HvStep unmap(XenMachine m, int dom, int h, int handle) {
        return Hypervisor.hypercall(m, vcpu(dom), Hypercall.of(PvHypercalls.HYPERVISOR_GRANT_TABLE_OP,
                GrantTables.GNTTABOP_UNMAP_GRANT_REF, va(h), handle));
    }

    private static HvStep read(XenMachine m, int dom, int h) {
        return Hypervisor.run(m, vcpu(dom), new GuestInstruction.MemoryAccess(Access.read(va(h))));
    }

    /** The Java map handle of {@code dom}'s mapping at slot {@code h}, or null. */
    private static Integer handle(XenMachine m, int dom, int h) {
        for (Map.Entry<Integer, GrantMapping> e : m.pv().domain(dom + 1).maptrack().entrySet()) {
            if (e.getValue().hostAddr() == va(h)) {
                return e.getKey();
            }
        }
        return null;
    }

    /** The abstract state of the model in state {@code s}, in the Java's names. */
    private static Set<String> alloy(Instances i, Atoms a, int s) {
        Snap n = snap(i, s);
        Set<String> out = new TreeSet<>();
        for (String r : n.permit()) {
            out.add("grant of d" + (a.ref().get(r) + 1) + " to d" + (a.dom(n.grantee().get(r)) + 1) + " frame "
                    + FRAME[a.frame().get(n.gframe().get(r))] + (n.readOnly().contains(r) ? " ro" : " rw"));
        }
        for (List<String> t : n.pte()) {
            out.add("pte d" + (a.dom(t.get(0)) + 1) + " slot " + a.handles().indexOf(t.get(1)) + " frame "
                    + FRAME[a.frame().get(t.get(2))] + (n.pteW().contains(t.subList(0, 2)) ? " rw" : " ro"));
        }
        for (List<String> t : n.maptrack()) {
            out.add("maptrack d" + (a.dom(t.get(0)) + 1) + " slot " + a.handles().indexOf(t.get(1)) + " grant of d"
                    + (a.ref().get(t.get(2)) + 1));
        }
        for (List<String> t : n.tlb()) {
            out.add("tlb d" + (a.dom(t.get(1)) + 1) + " frame " + FRAME[a.frame().get(t.get(2))]
                    + (n.tlbW().contains(t) ? " rw" : " ro"));
        }
        for (List<String> t : n.counts()) {
            out.add("frame " + FRAME[a.frame().get(t.get(0))] + " count " + t.get(1) + " writable " + t.get(2));
        }
        return out;
    }

    /** The abstract state of the Java machine. */
    static Set<String> java(XenMachine m) {
        Set<String> out = new TreeSet<>();
        for (int k = 0; k < 2; k++) {
            GrantTables.GrantEntry e = GrantTables.entry(m, k + 1, 0);
            if ((e.flags() & GrantTables.GTF_TYPE_MASK) == GrantTables.GTF_PERMIT_ACCESS) {
                out.add("grant of d" + (k + 1) + " to d" + e.domid() + " frame " + e.frame()
                        + (e.readonly() ? " ro" : " rw"));
            }
            for (int h = 0; h < 2; h++) {
                Entry pte = m.paging().entry(L1[k], 5 + h);
                if (pte.present()) {
                    out.add("pte d" + (k + 1) + " slot " + h + " frame " + pte.frame()
                            + (pte.writable() ? " rw" : " ro"));
                }
                Integer handle = handle(m, k, h);
                if (handle != null) {
                    out.add("maptrack d" + (k + 1) + " slot " + h + " grant of d"
                            + m.pv().domain(k + 1).maptrack().get(handle).grantingDomain());
                }
            }
        }
        Map<String, Boolean> tlb = new HashMap<>();
        for (var e : m.pcpu(0).tlb().entries()) {
            int d = m.domainOfVpid(e.tag().vpid());
            long f = e.physicalBase() >>> 12;
            if (d > 0 && (f == FRAME[0] || f == FRAME[1])) {
                tlb.merge("tlb d" + d + " frame " + f, e.rights().writable(), Boolean::logicalOr);
            }
        }
        tlb.forEach((k, w) -> out.add(k + (w ? " rw" : " ro")));
        for (long f : FRAME) {
            FrameInfo fi = m.frames().get(f);
            out.add("frame " + f + " count " + fi.count() + " writable " + fi.typeCount());
        }
        return out;
    }
}
