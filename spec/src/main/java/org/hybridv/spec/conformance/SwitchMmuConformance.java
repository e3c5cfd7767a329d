package org.hybridv.spec.conformance;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

import java.util.function.Consumer;

import org.hybridv.spec.ModelFile;
import org.hybridv.spec.ModelSources;
import org.hybridv.spec.Solvers;
import org.hybridv.spec.SpecRunner;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Entry;
import org.hybridv.xen.DirectPagingState;
import org.hybridv.xen.Domains;
import org.hybridv.xen.Faults;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.HvResult;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

import edu.mit.csail.sdg.ast.Command;
import edu.mit.csail.sdg.parser.CompModule;
import edu.mit.csail.sdg.parser.CompUtil;
import edu.mit.csail.sdg.translator.A4Solution;
import edu.mit.csail.sdg.translator.A4Tuple;
import edu.mit.csail.sdg.translator.A4TupleSet;

/**
 * SWITCH_MMU of {@code xen/switch_mmu} against the Java reference ({@code Hypervisor.hypercall(…,
 * Hypercall.switchMmu(root))}): every instance of the runs {@link #RUNS} is rebuilt as a {@link XenMachine} from its
 * first state, and each SWITCH_MMU of its trace is issued there in turn (the Java machine carried from one to the
 * next); the verdicts (accepted, or refused and by which part of the contract) and the states after each switch
 * (MMU mode, CR3, the validated tables) are compared.
 *
 * <p><b>Translation.</b> 64 machine frames, Xen owns 0x1–0xf. Model frame atom {@code Frame$k} is machine frame
 * 0x10 + k; domain d1 (SHADOW) owns the atoms in {@code Guest.owns} plus two synthetic frames 0x20 (an L4) and 0x21
 * (an L3), with the identity p2m on its frames (the runs fix {@code Guest.p2m} to the identity); the other atoms
 * belong to domain d2 (foreign frames). The model's two-level tables become a Java L2 (the requested root r) and L1s
 * (its leaf tables): L4 0x20[0] → L3 0x21[0] → L2 r, both entries present, RW, US; the argument of the hypercall is
 * the L4 0x20, which therefore stands for the model's r in CR3. {@code Index$i} is slot i; an entry of the model is
 * present, US, RW iff the model's RW, PS iff the model's PS (bit 7, PAT in an L1 entry, refused there by L1-1 as
 * the model's leaf rule refuses PS), at the frame of its target; every {@code Guest.contents} row is written (in the
 * frames of either domain). One vCPU (VPID 1): CPU state {@link CpuState#longMode} if {@code Vcpu.longMode}, else
 * {@link CpuState#reset} (paging off); before each switch the CPL is set to 0 iff {@code Vcpu.cpl0} in that state,
 * else 3 (the model lets the guest change its CPL while it runs); the hypercall page installed iff
 * {@code Vcpu.hypercallPage} (constant along a trace in the model). {@code Vcpu.mode} is Shadow in every first state.
 *
 * <p><b>Verdicts.</b> Alloy: a switch in state k is accepted iff the mode goes from Shadow in k to Direct in k + 1; a
 * refusal is attributed to the first conjunct of {@code switchAllowed} that fails in state k, in the contract's order
 * (the model states no order): CPL ({@code Vcpu.cpl0}; BOOT-4), PRE-1 ({@code longMode}, {@code hypercallPage},
 * shadow mode), PRE-2 ({@code rootValidates[r, True]}), the last with the reasons of the model's PRE-2 predicates
 * ({@link #REASONS}). Java: {@code HypercallDone} is accepted; {@code HypercallRefused} by rule {@code XSA-76} is
 * CPL, by {@code PRE-1} is PRE-1, by any rule whose reason begins "PRE-2: " is PRE-2, and the Java's rule must be one
 * of the rules of a reason the model names ({@link #REASONS}). After each switch: the mode, CR3 = r
 * in direct mode (the Java's CR3 holds the L4 0x20 that stands for r) and the validated tables among the model's
 * frames ({@code Vcpu.typed}; Java: a page-table type, validated, type count &gt; 0).
 *
 * <p><b>Named exclusion {@value #SELF_MAP}.</b> The model refuses every entry of the root to the root itself; PRE-2
 * (docs/rules/hybrid.md) asks only that linear entries be read-only, and the Java accepts a read-only self-map
 * (LIN-1, LIN-3). Where the model refuses by PRE-2 but {@code rootValidatesWithSelfMap} holds, the Java is compared
 * with that predicate instead (accepted, the root and its other leaf tables validated), and the instance is counted
 * in {@link Result#excluded}. Two other differences cannot arise in these runs (docs/spec.md): the Java checks neither
 * r = p2m[cr3] nor an identity p2m, and every run requests the current root with the identity p2m.
 */
public final class SwitchMmuConformance {
    /** At most this many instances of each run. */
    public static final int LIMIT = 12;
    /** The runs of xen/switch_mmu replayed, one per table shape (the model's conformance section). */
    public static final List<String> RUNS = List.of("switchTable", "switchValidTables", "switchRootForeign",
            "switchRootEntryForeign", "switchRootEntrySuperpage", "switchWritableSelfEntry", "switchLeafEntryForeign",
            "switchLeafEntrySuperpage", "switchLeafWritesATable", "switchReadOnlySelfMap", "switchTwice");
    /**
     * The model's PRE-2 reasons (predicates of xen/switch_mmu over the requested root) and the Java rules that may
     * refuse for each: the Java validates depth first, so a writable mapping of a leaf table is refused by L1-3 /
     * TYP-1 when the table was validated first, by LN-2 when the page was made writable first.
     */
    public static final Map<String, Set<String>> REASONS = orderedReasons();
    /** The name of the exclusion (class comment). */
    public static final String SELF_MAP = "LIN-3 read-only self-map";
    static final int GUEST = 1;
    static final int FOREIGN = 2;
    static final long L4 = 0x20;
    static final long L3 = 0x21;
    static final VcpuId CALLER = new VcpuId(GUEST, 0);

    private SwitchMmuConformance() {}

    private static Map<String, Set<String>> orderedReasons() {
        Map<String, Set<String>> m = new java.util.LinkedHashMap<>();
        m.put("rootForeign", Set.of("OWN-1", "LN-3"));
        m.put("rootEntryForeign", Set.of("LN-3"));
        m.put("rootEntrySuperpage", Set.of("SP-1"));
        m.put("rootSelfEntry", Set.of("LIN-1"));
        m.put("leafEntryForeign", Set.of("L1-2"));
        m.put("leafEntrySuperpage", Set.of("L1-1"));
        m.put("leafEntryWritesATable", Set.of("L1-3", "TYP-1", "LN-2"));
        return java.util.Collections.unmodifiableMap(m);
    }

    /**
     * The outcome: the comparison, how many times each Alloy verdict was seen (a PRE-2 refusal with its reasons; a
     * trace with two switches or more also as "twice: first → second"; a switch under the exclusion with its name in
     * brackets), and how many switches fell under {@link #SELF_MAP}.
     */
    public record Result(Conformance conformance, SortedMap<String, Integer> verdicts, int excluded) {}

    public static Conformance check() {
        return run(Faults.NONE, LIMIT).conformance();
    }

    /** The first {@code limit} instances of each run against a reference with the seeded faults {@code f}. */
    public static Conformance check(Faults f, int limit) {
        return run(f, limit).conformance();
    }

    /** The first {@code limit} instances of the runs {@code runs} (some of {@link #RUNS}) against faults {@code f}. */
    public static Conformance check(Faults f, int limit, List<String> runs) {
        return run(f, limit, runs).conformance();
    }

    /** {@link #check(Faults, int)} with the verdicts seen and the exclusions taken. */
    public static Result run(Faults f, int limit) {
        return run(f, limit, RUNS);
    }

    private static Result run(Faults f, int limit, List<String> runs) {
        if (!RUNS.containsAll(runs)) {
            throw new IllegalArgumentException("not runs of switch_mmu conformance: " + runs);
        }
        List<Disagreement> bad = new ArrayList<>();
        SortedMap<String, Integer> verdicts = new TreeMap<>();
        int[] n = {0, 0};
        for (String run : runs) {
            // not exhaustive even when the enumeration ends: the solver's iteration does not vary the guest's
            // frames and tables (View), so only the vCPU state and the trace vary within a run
            View.forEach(run, limit, i -> {
                n[1] += compare(i, f, bad, verdicts);
                n[0]++;
            });
        }
        Conformance c = new Conformance("SWITCH_MMU verdict and next state (switchAllowed, switchMmu vs"
                + " Hypervisor.hypercall switchMmu)" + (f.isEmpty() ? "" : " with " + f), "xen/switch_mmu",
                String.join(", ", runs), n[0], false, bad);
        return new Result(c, verdicts, n[1]);
    }

    /**
     * The instances of one run and an evaluator over each. {@link Instances#forEach} visits the traces of the first
     * configuration only ({@code A4Solution.next()} of a temporal command keeps the static relations — here the
     * guest's frames and tables — and varies the trace), so this also asks for the next configuration
     * ({@code fork(-1)}) after the traces of each. Measured: that does not vary the guest's frames and tables
     * either (the run {@code switchTable} gave 120 instances, every one with one owned frame and empty tables), so
     * each table shape has a run of its own (xen/switch_mmu, conformance section).
     */
    static final class View {
        private final CompModule world;
        private final A4Solution s;

        private View(CompModule world, A4Solution s) {
            this.world = world;
            this.s = s;
        }

        /** Visits at most {@code limit} instances; whether that was all of them. */
        static boolean forEach(String run, int limit, Consumer<View> visitor) {
            ModelFile m = ModelSources.in(ModelSources.bundled()).stream()
                    .filter(x -> x.name().equals("xen/switch_mmu")).findFirst().orElseThrow();
            CompModule world = ((SpecRunner.Parse.Parsed) SpecRunner.parse(m)).module();
            Command c = world.getAllCommands().stream().filter(x -> x.label.equals(run)).findFirst()
                    .orElseThrow();
            A4Solution config = SpecRunner.solve(world, c, Solvers.choose(m.solver().orElse(Solvers.FALLBACK))
                    .factory());
            int n = 0;
            while (config.satisfiable()) {
                A4Solution t = config;
                while (t.satisfiable()) {
                    if (n == limit) {
                        return false;
                    }
                    visitor.accept(new View(world, t));
                    n++;
                    A4Solution previous = t;
                    t = SpecRunner.onSolverThread(previous::next);
                }
                A4Solution previous = config;
                config = SpecRunner.onSolverThread(() -> previous.fork(-1));
            }
            return true;
        }

        boolean holds(String f, int state) {
            return (Boolean) s.eval(CompUtil.parseOneExpression_fromString(world, f), state);
        }

        List<List<String>> tuples(String e, int state) {
            List<List<String>> out = new ArrayList<>();
            for (A4Tuple t : (A4TupleSet) s.eval(CompUtil.parseOneExpression_fromString(world, e), state)) {
                List<String> row = new ArrayList<>();
                for (int k = 0; k < t.arity(); k++) {
                    row.add(Instances.name(t.atom(k)));
                }
                out.add(row);
            }
            return out;
        }

        List<List<String>> tuples(String e) {
            return tuples(e, 0);
        }

        Set<String> atoms(String e, int state) {
            Set<String> out = new TreeSet<>();
            for (List<String> t : tuples(e, state)) {
                out.add(t.get(0));
            }
            return out;
        }

        Set<String> atoms(String e) {
            return atoms(e, 0);
        }

        Map<String, String> function(String e) {
            Map<String, String> out = new TreeMap<>();
            for (List<String> t : tuples(e)) {
                out.put(t.get(0), t.get(1));
            }
            return out;
        }

        String text() {
            return s.toString();
        }

        int traceLength() {
            return s.getTraceLength();
        }

        /** The state after state {@code k}: the next one, or the loop state after the last. */
        int successor(int k) {
            return k + 1 < s.getTraceLength() ? k + 1 : s.getLoopState();
        }
    }

    /** Replays every switch of instance {@code i}; returns how many fell under {@link #SELF_MAP}. */
    private static int compare(View i, Faults f, List<Disagreement> bad, Map<String, Integer> verdicts) {
        String r = EntryConformance.only(i.atoms("Vcpu.requested", 0));
        XenMachine m = machine(i, f);
        int excluded = 0;
        List<String> seen = new ArrayList<>();
        // the lasso unrolled once: the last state's successor is the loop state, which holds that step's outcome
        for (int k = 0; k < i.traceLength(); k++) {
            int next = i.successor(k);
            Set<String> req = i.atoms("Vcpu.requested", k);
            if (req.isEmpty()) {
                continue;
            }
            if (!req.equals(Set.of(r))) {
                throw new IllegalStateException("the runs request the root of the first state, not " + req);
            }
            String alloy = alloyVerdict(i, k, next);
            String where = "SWITCH_MMU(" + r + ") in state " + k;
            String expected = alloy;
            Set<String> expectedTyped = i.atoms("Vcpu.typed", next);
            boolean expectedDirect = i.holds("Vcpu.mode = Direct", next);
            if (alloy.startsWith("refused: PRE-2") && i.holds("rootValidatesWithSelfMap[Vcpu.requested]", k)) {
                expected = "accepted";
                expectedTyped = i.atoms("Vcpu.requested + leafTables[Vcpu.requested]", k);
                expectedDirect = true;
                where += " [" + SELF_MAP + "]";
                excluded++;
            }
            seen.add(alloy);
            verdicts.merge(alloy + (expected.equals(alloy) ? "" : " [" + SELF_MAP + "]"), 1, Integer::sum);
            m = m.withGuestCpl(CALLER, i.holds("Vcpu.cpl0 = True", k) ? 0 : 3);
            HvStep st = Hypervisor.hypercall(m, CALLER, Hypercall.switchMmu(L4));
            String java = javaVerdict(st);
            if (!sameVerdict(expected, java)) {
                bad.add(new Disagreement(where, expected, java, i.text()));
            }
            m = st.machine();
            String alloyPost = post(expectedDirect, expectedDirect, expectedTyped);
            String javaPost = javaPost(i, m);
            if (!alloyPost.equals(javaPost)) {
                bad.add(new Disagreement(where + ": next state", alloyPost, javaPost, i.text()));
            }
        }
        if (seen.size() >= 2) {
            verdicts.merge("twice: " + seen.get(0).replaceAll(" \\(.*", "") + " → "
                    + seen.get(1).replaceAll(" \\(.*", ""), 1, Integer::sum);
        }
        return excluded;
    }

    /**
     * The same verdict: equal, or a PRE-2 refusal on both sides where the Java's rule is among the rules of one of the
     * reasons the model names ({@link #REASONS}; the Java verdict is "refused: PRE-2 (rule)").
     */
    static boolean sameVerdict(String alloy, String java) {
        if (alloy.equals(java)) {
            return true;
        }
        if (!alloy.startsWith("refused: PRE-2 (") || !java.startsWith("refused: PRE-2 (")) {
            return false;
        }
        String rule = java.substring("refused: PRE-2 (".length(), java.length() - 1);
        for (String reason : alloy.substring("refused: PRE-2 (".length(), alloy.length() - 1).split(", ")) {
            if (REASONS.getOrDefault(reason, Set.of()).contains(rule)) {
                return true;
            }
        }
        return false;
    }

    /** The model's verdict on the SWITCH_MMU of state {@code k}, whose outcome is state {@code next}. */
    static String alloyVerdict(View i, int k, int next) {
        if (i.holds("Vcpu.mode = Shadow", k) && i.holds("Vcpu.mode = Direct", next)) {
            return "accepted";
        }
        if (!i.holds("Vcpu.cpl0 = True", k)) {
            return "refused: CPL";
        }
        if (!i.holds("Vcpu.longMode = True and Vcpu.hypercallPage = True and Vcpu.mode = Shadow", k)) {
            return "refused: PRE-1";
        }
        if (!i.holds("rootValidates[Vcpu.requested, True]", k)) {
            List<String> why = new ArrayList<>();
            for (String reason : REASONS.keySet()) {
                if (i.holds(reason + "[Vcpu.requested]", k)) {
                    why.add(reason);
                }
            }
            return "refused: PRE-2 (" + (why.isEmpty() ? "no reason the model names" : String.join(", ", why)) + ")";
        }
        return "refused: no conjunct of switchAllowed fails";
    }

    static String javaVerdict(HvStep st) {
        if (st.outcome() instanceof VcpuOutcome.HypercallDone) {
            return "accepted";
        }
        if (st.outcome() instanceof VcpuOutcome.HypercallRefused x) {
            if (x.rule().equals("XSA-76")) {
                return "refused: CPL";
            }
            if (x.rule().equals("PRE-1")) {
                return "refused: PRE-1";
            }
            if (x.reason().startsWith("PRE-2: ")) {
                return "refused: PRE-2 (" + x.rule() + ")";
            }
            return "refused: " + x.rule() + " (" + x.reason() + ")";
        }
        return "outcome " + st.outcome();
    }

    private static String post(boolean direct, boolean cr3IsRoot, Set<String> typed) {
        return (direct ? "direct" : "shadow") + (direct ? (cr3IsRoot ? ", CR3 = r" : ", CR3 elsewhere") : "")
                + ", validated " + typed;
    }

    /** The Java machine after a switch in the terms of the model (class comment). */
    private static String javaPost(View i, XenMachine m) {
        boolean direct = m.domain(GUEST).mode() == MmuMode.DIRECT;
        boolean cr3 = m.guestCpu(CALLER).cr3().pml4Frame() == L4;
        Set<String> typed = new TreeSet<>();
        for (String a : i.atoms("Frame")) {
            FrameInfo fi = m.paging().frame(frame(a));
            if (fi.type().isPageTable() && fi.validated() && fi.typeCount() > 0) {
                typed.add(a);
            }
        }
        return post(direct, cr3, typed);
    }

    /** The machine of the first state of instance {@code i} (class comment), with faults {@code f}. */
    static XenMachine machine(View i, Faults f) {
        Set<String> owned = i.atoms("Guest.owns");
        Set<Long> mine = new TreeSet<>(List.of(L4, L3));
        Set<Long> theirs = new TreeSet<>();
        for (String a : i.atoms("Frame")) {
            (owned.contains(a) ? mine : theirs).add(frame(a));
        }
        XenMachine m = XenMachine.boot(64, Domains.range(0x1, 0xf));
        long[] g = mine.stream().mapToLong(Long::longValue).toArray();
        m = done(Domains.create(m, GUEST, MmuMode.SHADOW, g, Domains.identity(g)));
        if (!theirs.isEmpty()) {
            long[] h = theirs.stream().mapToLong(Long::longValue).toArray();
            m = done(Domains.create(m, FOREIGN, MmuMode.DIRECT, h, Domains.identity(h)));
        }
        String r = EntryConformance.only(i.atoms("Vcpu.requested", 0));
        Map<String, String> target = i.function("Entry <: target");
        DirectPagingState s = m.paging().write(L4, 0, Entry.table(L3, true, true))
                .write(L3, 0, Entry.table(frame(r), true, true));
        for (List<String> row : i.tuples("Guest.contents")) {
            String e = row.get(2);
            Set<String> flags = new TreeSet<>();
            for (List<String> fl : i.tuples("Entry <: flags")) {
                if (fl.get(0).equals(e)) {
                    flags.add(fl.get(1));
                }
            }
            Entry x = Entry.table(frame(target.get(e)), flags.contains("RW"), true).withPageSize(flags.contains("PS"));
            s = s.write(frame(row.get(0)), index(row.get(1)), x);
        }
        m = m.withPaging(s);
        CpuState cpu = i.holds("Vcpu.longMode = True", 0) ? CpuState.longMode(0, XenMachine.MAX_PHYS_ADDR)
                : CpuState.reset(XenMachine.MAX_PHYS_ADDR);
        m = done(Domains.addVcpu(m, GUEST, 1, cpu.withCpl(i.holds("Vcpu.cpl0 = True", 0) ? 0 : 3)));
        if (i.holds("Vcpu.hypercallPage = True", 0)) {
            m = m.withDomain(m.domain(GUEST).withHypercallPageInstalled(true));
        }
        return m.withFaults(f);
    }

    static long frame(String atom) {
        return 0x10 + suffix(atom, "Frame$");
    }

    static int index(String atom) {
        return suffix(atom, "Index$");
    }

    private static int suffix(String atom, String prefix) {
        if (!atom.startsWith(prefix)) {
            throw new IllegalStateException("not a " + prefix + " atom: " + atom);
        }
        return Integer.parseInt(atom.substring(prefix.length()));
    }

    private static XenMachine done(HvResult r) {
        if (r instanceof HvResult.Done d) {
            return d.machine();
        }
        throw new IllegalStateException("building the machine: " + r);
    }
}
