package org.hybridv.spec.conformance;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.hybridv.x86.Entry;
import org.hybridv.xen.DirectPaging;
import org.hybridv.xen.DirectPagingState;
import org.hybridv.xen.Effect;
import org.hybridv.xen.Faults;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.MmuResult;
import org.hybridv.xen.PageType;
import org.hybridv.xen.VcpuId;

/**
 * Operations of {@code xen/direct_paging} against the Java reference: {@code mmu_update} ({@link #checkMmuUpdate},
 * described there) and MMUEXT_PIN_Ln_TABLE against {@link DirectPaging#pin}, on the instances of the runs
 * {@link #RUNS} (one pin step from a state satisfying the invariants; the first {@link #LIMIT} instances of each).
 *
 * <p>For each instance the pre-state (state 0) becomes a {@link DirectPagingState}, and
 * <ul>
 * <li>for every domain d, frame f and page-table type ty the Java pin is accepted exactly when the model's
 * precondition {@code pinPre[d, f, ty]} holds (the refused cases: another domain's frame, a pinned frame, a frame in
 * use as another type, contents that fail the entry rules);</li>
 * <li>for the pin the step takes, the Java post-state has the instance's next state (state 1): the pinned set, the
 * validated page tables, the referenced frames ({@code referenced}, Java type count &gt; 0) and their types, and the
 * TLB-1 flush (the model empties every TLB exactly when f changes type; the Java hands out a
 * {@link Effect.TypeChange} for f) — compared only when f's old type is not None: from None the model flushes every
 * TLB ({@code typeChangeFlush} flushes on any change) while the Java hands out no obligation ({@code getPageType}: a
 * frame without a type has no writable mapping to flush); TLB-1 asks for a flush only where an old writable mapping may
 * remain, so both are sound there and they are not compared.</li>
 * </ul>
 * A triple whose pin would validate a linear entry (an L2..L4 entry to the table itself or to a table of its own
 * level, {@link #linear}) is not compared: the model has no linear page tables, the Java accepts read-only ones.
 *
 * <p>Translation: frame atom k is MFN k, domain atom k is domain k + 1 (its vCPU 0 holds the base pointer), index
 * atom j is slot j, an unowned frame is free; flags RW, US, PS are bits 1, 2, 7. The counts are the model's
 * derived references (TYP-4): a frame's type count is its pins, base pointers and the present entries of validated
 * tables that reference it (an L1 entry only with RW); its general count is its pins, base pointers and every present
 * entry of a validated table that targets it. A WRITABLE frame in use is validated in the Java (the model's
 * {@code validated} holds only page tables).
 */
public final class DirectPagingConformance {
    /** At most this many instances (the first ones in the solver's order). */
    public static final int LIMIT = 150;

    /** The runs of xen/direct_paging whose instances are replayed (one configuration each, see the model). */
    public static final List<String> RUNS = List.of("pinTable", "pinPromotes", "pinValidated");

    private static final List<String> TYPES = List.of("L1", "L2", "L3", "L4");

    private DirectPagingConformance() {}

    /** The check against the reference. */
    public static Conformance check() {
        return check(Faults.NONE, LIMIT);
    }

    /** The check against a reference with seeded faults {@code faults}, on at most {@code limit} instances. */
    public static Conformance check(Faults faults, int limit) {
        return replay("MMUEXT_PIN_Ln_TABLE (pinPre, pin vs DirectPaging.pin)", RUNS, limit,
                (i, bad) -> compare(i, faults, bad));
    }

    /** Replays the first {@code limit} instances of each of {@code runs} through {@code compare}. */
    private static Conformance replay(String what, List<String> runs, int limit,
            java.util.function.BiConsumer<Instances, List<Disagreement>> compare) {
        List<Disagreement> bad = new ArrayList<>();
        int instances = 0;
        boolean exhaustive = true;
        for (String run : runs) {
            Instances.Count n = Instances.of("xen/direct_paging", run).forEach(limit, i -> compare.accept(i, bad));
            instances += n.instances();
            exhaustive &= n.exhaustive();
        }
        return new Conformance(what, "xen/direct_paging", String.join(", ", runs), instances, exhaustive, bad);
    }

    /** The runs of xen/direct_paging whose mmu_update steps are replayed. */
    public static final List<String> MMU_RUNS = List.of("mmuUpdateTable", "mmuUpdateLn");

    /** mmu_update (MMU_NORMAL_PT_UPDATE) against {@link DirectPaging#mmuUpdate}. */
    public static Conformance checkMmuUpdate() {
        return checkMmuUpdate(Faults.NONE, LIMIT);
    }

    /**
     * mmu_update on a reference with seeded faults {@code faults}: for every domain d, validated page table t (the
     * model's mmu_update covers page tables only; the Java's plain store into a WRITABLE frame is not modelled), index
     * i and new entry nu (an entry atom or not present) the Java accepts exactly when {@code modEntryPre[d, t, i, nu]}
     * holds (a new L2..L4 entry to t itself or to a table of t's level is linear, not in the model, and skipped); for
     * the update the step takes, the next state as for pin, and the flush: the model empties every TLB after an
     * L2..L4 update (MU-5), the Java obliges the caller to flush its own domain ({@link Effect.FlushDomain}) — compared
     * as "some flush or none"; the model's other domains' TLBs are a difference (the model over-flushes).
     */
    public static Conformance checkMmuUpdate(Faults faults, int limit) {
        return checkMmuUpdate(faults, limit, MMU_RUNS);
    }

    /** mmu_update as {@link #checkMmuUpdate(Faults, int)} on the instances of {@code runs}. */
    public static Conformance checkMmuUpdate(Faults faults, int limit, List<String> runs) {
        return replay("mmu_update (modEntryPre, mmuUpdate vs DirectPaging.mmuUpdate)", runs, limit,
                (i, bad) -> compareMmu(i, faults, bad));
    }

    /** At most this many instances of each of the runs {@link #SUPERPAGE_RUN}, {@link #UNPIN_RUN}, {@link #BASE_RUN}. */
    public static final int SMALL_LIMIT = 40;
    /** The run whose pre-state holds an L2 or L3 table and a superpage entry that only SP-1 refuses there. */
    public static final String SUPERPAGE_RUN = "mmuUpdateSuperpage";
    /** The run of single unpin steps. */
    public static final String UNPIN_RUN = "unpinTable";
    /** The run of single NEW_BASEPTR steps. */
    public static final String BASE_RUN = "newBaseptrTable";
    /** The named exclusion of {@link #checkNewBaseptr}. */
    public static final String BASE_PROMOTES = "MX-3 new base pointer promotes (TYP-3)";

    /**
     * MMUEXT_UNPIN_TABLE against {@link DirectPaging#unpin} on the run {@link #UNPIN_RUN}: for every domain d and frame
     * f the Java accepts exactly when {@code unpinPre[d, f]} holds; for the unpin taken, the next state as for pin,
     * and no TLB obligation on either side (the model leaves every TLB as it is; the Java hands out no effect).
     */
    public static Conformance checkUnpin(Faults faults, int limit) {
        return replay("MMUEXT_UNPIN_TABLE (unpinPre, unpin vs DirectPaging.unpin)", List.of(UNPIN_RUN), limit,
                (i, bad) -> compareFrameOp(i, faults, bad, "unpin", "unpinPre",
                        (s, d, f) -> DirectPaging.unpin(s, d, f), null));
    }

    /**
     * MMUEXT_NEW_BASEPTR against {@link DirectPaging#newBaseptr} (vCPU 0 of the domain) on the run {@link #BASE_RUN}:
     * for every d and f the Java accepts exactly when {@code newBaseptrPre[d, f]} holds — except that the model asks
     * for an L4 validated already while the Java's {@code new_guest_cr3} takes the L4 type itself, promoting the frame
     * as a pin does (TYP-3, MX-3 "must be a validated L4": validated by this very reference). Where the model refuses
     * only because f is not validated, the Java is compared with {@code pinPre[d, f, L4]} instead ({@link
     * #BASE_PROMOTES}, counted in the check's name). For the step taken: the next state, and the TLB-4 flush of d
     * (the model empties d's TLB; the Java hands out {@link Effect.LoadBase} for the caller).
     */
    public static Conformance checkNewBaseptr(Faults faults, int limit) {
        int[] promoted = {0};
        Conformance c = replay("MMUEXT_NEW_BASEPTR (newBaseptrPre, newBaseptr vs DirectPaging.newBaseptr)",
                List.of(BASE_RUN), limit, (i, bad) -> compareFrameOp(i, faults, bad, "newBaseptr", "newBaseptrPre",
                        (s, d, f) -> DirectPaging.newBaseptr(s, new VcpuId(d, 0), f), promoted));
        return new Conformance(c.check() + "; " + BASE_PROMOTES + ": " + promoted[0], c.model(), c.command(),
                c.instances(), c.exhaustive(), c.disagreements());
    }

    private interface FrameOp {
        MmuResult apply(DirectPagingState s, int d, long mfn);
    }

    /** unpin and NEW_BASEPTR: both take (d, f); {@code promoted} non-null for NEW_BASEPTR (its exclusion). */
    private static void compareFrameOp(Instances i, Faults faults, List<Disagreement> bad, String op, String pre,
            FrameOp java, int[] promoted) {
        List<String> frames = new ArrayList<>(i.atoms("Frame"));
        List<String> domains = new ArrayList<>(i.atoms("Domain"));
        DirectPagingState before = preState(i, frames, domains).withFaults(faults);
        Set<List<String>> enabled = new java.util.HashSet<>(i.tuples("{ d: Domain, f: Frame | " + pre + "[d, f] }"));
        Set<List<String>> promotable = new java.util.HashSet<>(
                i.tuples("{ d: Domain, f: Frame | f not in Xen.validated and pinPre[d, f, L4] }"));
        for (String d : domains) {
            for (String f : frames) {
                boolean alloy = enabled.contains(List.of(d, f));
                String where = op + " of frame " + frames.indexOf(f) + " by d" + (domains.indexOf(d) + 1);
                if (promoted != null && !alloy && promotable.contains(List.of(d, f))) {
                    if (linear(before, frames.indexOf(f), PageType.L4)) {
                        continue; // a linear entry: not in the model (class comment)
                    }
                    alloy = true;
                    where += " [" + BASE_PROMOTES + "]";
                    promoted[0]++;
                }
                MmuResult r = java.apply(before, domains.indexOf(d) + 1, frames.indexOf(f));
                if (alloy != r instanceof MmuResult.Success) {
                    bad.add(new Disagreement(where, EntryConformance.verdict(alloy), r.toString(), i.text()));
                }
            }
        }
        List<List<String>> taken = i.tuples("{ d: Domain, f: Frame | " + op + "[d, f] }");
        if (taken.size() != 1) {
            throw new IllegalStateException("an " + op + " run's step takes one " + op + ", this one " + taken);
        }
        int d = domains.indexOf(taken.get(0).get(0)) + 1;
        long mfn = frames.indexOf(taken.get(0).get(1));
        String where = op + " of frame " + mfn + " by d" + d;
        if (!(java.apply(before, d, mfn) instanceof MmuResult.Success ok)) {
            return; // reported above as a refusal of an enabled operation
        }
        comparePost(i, frames, ok.state(), where, bad);
        // the TLB: NEW_BASEPTR flushes d's (TLB-4), unpin nobody's
        boolean alloyFlush = !i.holds("Xen.tlbW' = Xen.tlbW");
        boolean javaFlush = ok.effects().stream().anyMatch(e -> e instanceof Effect.LoadBase l
                && l.vcpu().domain() == d || e instanceof Effect.FlushDomain x && x.domain() == d);
        if (promoted != null) { // the run caches a writable translation in d's TLB, so the flush shows
            alloyFlush = i.holds("some d: Domain, f: Frame | newBaseptr[d, f] and some Xen.tlbW[d] and no Xen.tlbW'[d]");
        }
        if (alloyFlush != javaFlush) {
            bad.add(new Disagreement(where + ": TLB flush", alloyFlush ? "flush" : "no flush",
                    javaFlush ? "flush" : "no flush", i.text()));
        }
    }

    private static void compareMmu(Instances i, Faults faults, List<Disagreement> bad) {
        List<String> frames = new ArrayList<>(i.atoms("Frame"));
        List<String> domains = new ArrayList<>(i.atoms("Domain"));
        List<String> indexes = new ArrayList<>(i.atoms("Index"));
        Map<String, Entry> entries = EntryConformance.entries(i, frames);
        DirectPagingState before = preState(i, frames, domains).withFaults(faults);
        Set<List<String>> enabled = new java.util.HashSet<>(
                i.tuples("{ d: Domain, t: Frame, i: Index, nu: Entry | modEntryPre[d, t, i, nu] }"));
        for (List<String> t : i.tuples("{ d: Domain, t: Frame, i: Index | modEntryPre[d, t, i, none] }")) {
            enabled.add(List.of(t.get(0), t.get(1), t.get(2), "-"));
        }
        Set<String> tables = i.atoms("Xen.validated & Xen.type.(L1 + L2 + L3 + L4)");
        List<String> values = new ArrayList<>(new TreeSet<>(entries.keySet()));
        values.add("-");
        for (String d : domains) {
            for (String t : tables) {
                long mfn = frames.indexOf(t);
                PageType type = before.frame(mfn).type();
                for (String ix : indexes) {
                    for (String nu : values) {
                        Entry e = nu.equals("-") ? Entry.NOT_PRESENT : entries.get(nu);
                        if (type != PageType.L1 && e.present() && (e.frame() == mfn
                                || before.frame(e.frame()).typeCount() > 0 && before.frame(e.frame()).type() == type)) {
                            continue; // a linear entry: not in the model
                        }
                        boolean alloy = enabled.contains(List.of(d, t, ix, nu));
                        MmuResult java = update(before, domains.indexOf(d) + 1, mfn, indexes.indexOf(ix), e);
                        if (alloy != java instanceof MmuResult.Success) {
                            bad.add(new Disagreement("mmu_update of " + type + " " + mfn + "[" + indexes.indexOf(ix)
                                    + "] := " + e + " by d" + (domains.indexOf(d) + 1), EntryConformance.verdict(alloy),
                                    java.toString(), i.text()));
                        }
                    }
                }
            }
        }
        List<List<String>> taken = new ArrayList<>(
                i.tuples("{ d: Domain, t: Frame, i: Index, nu: Entry | mmuUpdate[d, t, i, nu] }"));
        for (List<String> t : i.tuples("{ d: Domain, t: Frame, i: Index | mmuUpdate[d, t, i, none] }")) {
            taken.add(List.of(t.get(0), t.get(1), t.get(2), "-"));
        }
        if (taken.isEmpty()) {
            throw new IllegalStateException("an mmu_update run's step takes an update");
        }
        // a step may be several updates at once in the model's eyes (e.g. two that store what is there already):
        // each must reach the next state in the Java
        for (List<String> step : taken) {
            long mfn = frames.indexOf(step.get(1));
            Entry e = step.get(3).equals("-") ? Entry.NOT_PRESENT : entries.get(step.get(3));
            int d = domains.indexOf(step.get(0)) + 1;
            MmuResult java = update(before, d, mfn, indexes.indexOf(step.get(2)), e);
            String where = "mmu_update of " + before.frame(mfn).type() + " " + mfn + " := " + e + " by d" + d;
            if (!(java instanceof MmuResult.Success ok)) {
                bad.add(new Disagreement(where + " (the step taken)", "accepted", java.toString(), i.text()));
                continue;
            }
            comparePost(i, frames, ok.state(), where, bad);
            // the model's MU-5: an L2..L4 update empties every TLB, an L1 update none (TLB-7)
            boolean alloyFlush = before.frame(mfn).type() != PageType.L1;
            boolean javaFlush = ok.effects().stream()
                    .anyMatch(x -> x instanceof Effect.FlushDomain f && f.domain() == d);
            if (alloyFlush != javaFlush) {
                bad.add(new Disagreement(where + ": MU-5 flush", alloyFlush ? "flush" : "no flush",
                        javaFlush ? "flush" : "no flush", i.text()));
            }
        }
    }

    private static MmuResult update(DirectPagingState s, int d, long mfn, int index, Entry e) {
        long ptr = mfn << 12 | (long) index << 3 | org.hybridv.xen.Hypercalls.MMU_NORMAL_PT_UPDATE;
        return DirectPaging.mmuUpdate(s, new VcpuId(d, 0), ptr, e.raw());
    }

    private static void compare(Instances i, Faults faults, List<Disagreement> bad) {
        List<String> frames = new ArrayList<>(i.atoms("Frame"));
        List<String> domains = new ArrayList<>(i.atoms("Domain"));
        DirectPagingState before = preState(i, frames, domains).withFaults(faults);
        Set<List<String>> enabled = new java.util.HashSet<>(
                i.tuples("{ d: Domain, f: Frame, ty: PageType | pinPre[d, f, ty] }"));
        for (String d : domains) {
            for (String f : frames) {
                for (String ty : TYPES) {
                    if (linear(before, frames.indexOf(f), EntryConformance.pageType(ty))) {
                        continue; // a same-level entry: a linear page table, not in the model (class comment)
                    }
                    boolean alloy = enabled.contains(List.of(d, f, ty));
                    MmuResult java = DirectPaging.pin(before, domains.indexOf(d) + 1, frames.indexOf(f),
                            EntryConformance.pageType(ty));
                    if (alloy != java instanceof MmuResult.Success) {
                        bad.add(new Disagreement("pin " + ty + " of frame " + frames.indexOf(f) + " by d"
                                + (domains.indexOf(d) + 1), EntryConformance.verdict(alloy), java.toString(),
                                i.text()));
                    }
                }
            }
        }
        List<List<String>> taken = i.tuples("{ d: Domain, f: Frame, ty: PageType | pin[d, f, ty] }");
        if (taken.size() != 1) {
            throw new IllegalStateException("a pin run's step takes one pin, this one " + taken);
        }
        List<String> step = taken.get(0);
        long mfn = frames.indexOf(step.get(1));
        MmuResult java = DirectPaging.pin(before, domains.indexOf(step.get(0)) + 1, mfn,
                EntryConformance.pageType(step.get(2)));
        String where = "pin " + step.get(2) + " of frame " + mfn + " by d" + (domains.indexOf(step.get(0)) + 1);
        if (!(java instanceof MmuResult.Success ok)) {
            return; // reported above as a refusal of an enabled pin
        }
        comparePost(i, frames, ok.state(), where, bad);
        if (i.holds("some d: Domain, f: Frame, ty: PageType | pin[d, f, ty] and Xen.type[f] = None")) {
            return; // None → ty: the model flushes, the Java does not; TLB-1 requires neither (class comment)
        }
        boolean alloyFlush = i.holds("some d: Domain, f: Frame, ty: PageType | pin[d, f, ty] and Xen.type[f] != ty");
        boolean javaFlush = ok.effects().stream()
                .anyMatch(e -> e instanceof Effect.TypeChange c && c.mfn() == mfn);
        if (alloyFlush != javaFlush) {
            bad.add(new Disagreement(where + ": TLB-1 flush", alloyFlush ? "flush" : "no flush",
                    javaFlush ? "flush" : "no flush", i.text()));
        }
    }

    /**
     * The next state (state 1) against the Java post-state: pinned, validated page tables, referenced frames (Java
     * type count &gt; 0) and the type of each.
     */
    private static void comparePost(Instances i, List<String> frames, DirectPagingState after, String where,
            List<Disagreement> bad) {
        Map<String, Set<String>> alloyPost = new TreeMap<>();
        Map<String, Set<String>> javaPost = new TreeMap<>();
        alloyPost.put("pinned", i.atoms("Xen.pinned", 1));
        alloyPost.put("validated", i.atoms("Xen.validated", 1));
        alloyPost.put("referenced", i.atoms("referenced", 1));
        for (String t : List.of("Writable", "L1", "L2", "L3", "L4")) {
            alloyPost.put("referenced as " + t, i.atoms("referenced & Xen.type." + t, 1));
        }
        for (String k : alloyPost.keySet()) {
            javaPost.put(k, new TreeSet<>());
        }
        for (String f : frames) {
            FrameInfo info = after.frame(frames.indexOf(f));
            if (info.pinned()) {
                javaPost.get("pinned").add(f);
            }
            if (info.validated() && info.type().isPageTable() && info.typeCount() > 0) {
                javaPost.get("validated").add(f);
            }
            if (info.typeCount() > 0) {
                javaPost.get("referenced").add(f);
                String t = info.type() == PageType.WRITABLE ? "Writable" : info.type().name();
                javaPost.computeIfAbsent("referenced as " + t, x -> new TreeSet<>()).add(f);
            }
        }
        if (!alloyPost.equals(javaPost)) {
            bad.add(new Disagreement(where + ": next state", alloyPost.toString(), javaPost.toString(), i.text()));
        }
    }

    /**
     * Whether pinning {@code mfn} as {@code type} (L2..L4) would validate a linear entry (LIN-*): a present entry
     * whose target is the table itself or a frame in use as {@code type}. The model has no linear page tables
     * (xen/entry_rules refuses a same-level entry by LN-2); the Java accepts read-only ones (LIN-1).
     */
    static boolean linear(DirectPagingState s, long mfn, PageType type) {
        if (type == PageType.L1) {
            return false;
        }
        for (int i = 0; i < org.hybridv.x86.PhysicalMemory.WORDS_PER_FRAME; i++) {
            Entry e = s.entry(mfn, i);
            if (e.present() && (e.frame() == mfn || (s.isFrame(e.frame()) && s.frame(e.frame()).typeCount() > 0
                    && s.frame(e.frame()).type() == type))) {
                return true;
            }
        }
        return false;
    }

    /** State 0 of the instance as a Java direct-paging state (see the class comment for the translation). */
    static DirectPagingState preState(Instances i, List<String> frames, List<String> domains) {
        List<String> indexes = new ArrayList<>(i.atoms("Index"));
        Map<String, Entry> entries = EntryConformance.entries(i, frames);
        Map<String, String> owner = i.function("FrameTable.owner");
        Map<String, String> type = i.function("Xen.type");
        Map<String, String> base = i.function("Xen.base");
        Set<String> validated = i.atoms("Xen.validated");
        Set<String> pinned = i.atoms("Xen.pinned");
        Map<String, Integer> typeRefs = new HashMap<>();
        Map<String, Integer> refs = new HashMap<>();
        for (String f : pinned) {
            typeRefs.merge(f, 1, Integer::sum);
            refs.merge(f, 1, Integer::sum);
        }
        for (String f : base.values()) {
            typeRefs.merge(f, 1, Integer::sum);
            refs.merge(f, 1, Integer::sum);
        }
        DirectPagingState s = DirectPagingState.initial(frames.size());
        for (List<String> c : i.tuples("Xen.contents")) {
            String t = c.get(0);
            Entry e = entries.get(c.get(2));
            s = s.write(frames.indexOf(t), indexes.indexOf(c.get(1)), e);
            if (validated.contains(t)) {
                String target = frames.get((int) e.frame());
                refs.merge(target, 1, Integer::sum);
                if (!type.get(t).equals("L1") || e.writable()) {
                    typeRefs.merge(target, 1, Integer::sum);
                }
            }
        }
        for (String f : frames) {
            int o = owner.containsKey(f) ? domains.indexOf(owner.get(f)) + 1 : FrameInfo.FREE;
            PageType ty = EntryConformance.pageType(type.get(f));
            int tc = typeRefs.getOrDefault(f, 0);
            boolean v = validated.contains(f) || (ty == PageType.WRITABLE && tc > 0);
            s = s.withFrame(frames.indexOf(f), new FrameInfo(o, ty, tc, refs.getOrDefault(f, 0), v,
                    pinned.contains(f), 0));
        }
        Map<VcpuId, Long> tables = new HashMap<>();
        base.forEach((d, f) -> tables.put(new VcpuId(domains.indexOf(d) + 1, 0), (long) frames.indexOf(f)));
        return new DirectPagingState(s.memory(), s.frames(), tables);
    }
}
