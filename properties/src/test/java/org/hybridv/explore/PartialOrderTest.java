package org.hybridv.explore;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.hybridv.cli.RepoRoot;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.xen.Faults;
import org.hybridv.xen.XenMachine;
import org.junit.jupiter.api.Test;

/**
 * The partial-order reduction (docs/explore.md#partial-order-reduction).
 *
 * <ul>
 *   <li>On one physical CPU it has nothing to prune: running a vCPU makes its VMCS the current one (VMPTRLD, after an
 *       external-interrupt exit of the vCPU that ran before), so steps of different vCPUs never commute.</li>
 *   <li>The active pCPU is not observable: on every shipped configuration with more than one pCPU, machines that
 *       differ only in it enable the same actions, have the same successors up to it and the same verdicts, and the
 *       state invariants do not read it — so the explorer's fingerprint may leave it out.</li>
 *   <li>Every pair of transitions the footprints call independent commutes, and each keeps its transition verdict
 *       after the other (checked on every state to depth 5, on every such configuration).</li>
 *   <li>The reduced and unreduced searches agree: the same verdict, the same states (the observation: the
 *       fingerprint of every state reached), the same states per depth, fewer or as many transitions; with each
 *       matrix fault of the configuration, the same shortest depth, invariant and rule.</li>
 * </ul>
 */
class PartialOrderTest {
    private static final Path CONFIGS = RepoRoot.find().resolve("spec/configs");

    /** Every shipped hypervisor configuration with more than one pCPU. */
    static List<ExploreConfig> multiPcpuConfigs() throws Exception {
        List<ExploreConfig> l = new ArrayList<>();
        try (Stream<Path> s = Files.list(CONFIGS)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".json") && !p.toString().endsWith(".schema.json"))
                    .sorted().toList()) {
                ExploreConfig c = ExploreConfig.read(p, p.getFileName().toString());
                if (!c.hybrid() && c.pcpus() > 1) {
                    l.add(c);
                }
            }
        }
        return l;
    }

    @Test
    void theShippedMultiPcpuConfigurationsAreTheOnesThisTestCovers() throws Exception {
        assertThat(multiPcpuConfigs()).extracting(ExploreConfig::name).contains("smp-shootdown", "smp-disjoint");
    }

    @Test
    void stepsOfDifferentVcpusNeverCommuteOnOnePhysicalCpu() throws Exception {
        HypervisorSystem system = new HypervisorSystem(ExploreTest.config("isolation"), Faults.NONE);
        XenMachine init = system.initialStates().get(0);
        List<XenMachine> states = new ArrayList<>(List.of(init));
        for (int a = 0; a < system.actionCount(); a++) {
            states.add(system.step(init, a, 1, fp -> false).state());
        }
        int pairs = 0;
        for (XenMachine s : states) {
            for (int a = 0; a < system.actionCount(); a++) {
                for (int b = a + 1; b < system.actionCount(); b++) {
                    if (system.op(a).vcpu().equals(system.op(b).vcpu()) || !system.enabled(s, a)
                            || !system.enabled(s, b)) {
                        continue;
                    }
                    TransitionSystem.Transition<XenMachine> ta = system.step(s, a, 1, fp -> false);
                    TransitionSystem.Transition<XenMachine> tb = system.step(s, b, 1, fp -> false);
                    XenMachine ab = system.step(ta.state(), b, 2, fp -> false).state();
                    XenMachine ba = system.step(tb.state(), a, 2, fp -> false).state();
                    assertThat(ab.current()).isEqualTo(Optional.of(system.op(b).vcpu()));
                    assertThat(ba.current()).isEqualTo(Optional.of(system.op(a).vcpu()));
                    assertThat(CanonicalEncoder.fingerprint(ab)).isNotEqualTo(CanonicalEncoder.fingerprint(ba));
                    // and the footprints never call them independent: both write the one pCPU
                    assertThat(Footprint.independent(ta.footprint(), tb.footprint())).isFalse();
                    pairs++;
                }
            }
        }
        assertThat(pairs).isGreaterThan(100);
    }

    /** The states of {@code system} within {@code depth} steps, by fingerprint, in breadth-first order. */
    private static List<XenMachine> reachable(HypervisorSystem system, int depth) {
        Map<Long, XenMachine> seen = new LinkedHashMap<>();
        List<XenMachine> level = new ArrayList<>(system.initialStates());
        level.forEach(s -> seen.put(system.fingerprint(s), s));
        for (int d = 0; d < depth; d++) {
            List<XenMachine> next = new ArrayList<>();
            for (XenMachine s : level) {
                for (int a = 0; a < system.actionCount(); a++) {
                    if (system.enabled(s, a)) {
                        XenMachine t = system.step(s, a, d + 1, fp -> false).state();
                        if (seen.putIfAbsent(system.fingerprint(t), t) == null) {
                            next.add(t);
                        }
                    }
                }
            }
            level = next;
        }
        return new ArrayList<>(seen.values());
    }

    @Test
    void theActivePcpuIsNotObservable() throws Exception {
        for (ExploreConfig c : multiPcpuConfigs()) {
            HypervisorSystem system = new HypervisorSystem(c, Faults.NONE);
            int compared = 0;
            Set<Integer> actives = new HashSet<>();
            for (XenMachine s : reachable(system, 3)) {
                actives.add(s.active());
                for (int q = 0; q < s.pcpuCount(); q++) {
                    XenMachine o = s.withActive(q);
                    assertThat(Isolation.check(o)).isEqualTo(Isolation.check(s));
                    assertThat(TranslationIntegrity.check(o)).isEqualTo(TranslationIntegrity.check(s));
                    assertThat(TlbCoherence.check(o)).isEqualTo(TlbCoherence.check(s));
                    assertThat(system.checkInitial(o)).isEqualTo(system.checkInitial(s));
                    for (int a = 0; a < system.actionCount(); a++) {
                        assertThat(system.enabled(o, a)).isEqualTo(system.enabled(s, a));
                        if (!system.enabled(s, a)) {
                            continue;
                        }
                        TransitionSystem.Transition<XenMachine> x = system.step(s, a, 1, fp -> false);
                        TransitionSystem.Transition<XenMachine> y = system.step(o, a, 1, fp -> false);
                        // the same successor up to the active pCPU, with the same verdict
                        assertThat(y.state().withActive(0)).as("%s: %s from active %d", c.name(),
                                system.actionName(a), q).isEqualTo(x.state().withActive(0));
                        assertThat(y.verdict()).isEqualTo(x.verdict());
                        assertThat(y.fingerprint()).isEqualTo(x.fingerprint());
                        compared++;
                    }
                }
            }
            assertThat(compared).as(c.name()).isGreaterThan(100);
            // the raw encoding does tell the active pCPU apart; the explorer's fingerprint does not
            assertThat(actives).as(c.name()).hasSizeGreaterThan(1);
        }
    }

    @Test
    void independentTransitionsCommuteAndKeepTheirVerdicts() throws Exception {
        Map<String, Integer> independentPairs = new LinkedHashMap<>();
        for (ExploreConfig c : multiPcpuConfigs()) {
            HypervisorSystem system = new HypervisorSystem(c, Faults.NONE);
            int pairs = 0;
            for (XenMachine s : reachable(system, 5)) {
                List<TransitionSystem.Transition<XenMachine>> t = new ArrayList<>();
                for (int a = 0; a < system.actionCount(); a++) {
                    t.add(system.enabled(s, a) ? system.step(s, a, 1, fp -> false) : null);
                }
                for (int a = 0; a < system.actionCount(); a++) {
                    for (int b = a + 1; b < system.actionCount(); b++) {
                        if (t.get(a) == null || t.get(b) == null
                                || !Footprint.independent(t.get(a).footprint(), t.get(b).footprint())) {
                            continue;
                        }
                        pairs++;
                        XenMachine sa = t.get(a).state();
                        XenMachine sb = t.get(b).state();
                        assertThat(system.enabled(sa, b)).isTrue();
                        assertThat(system.enabled(sb, a)).isTrue();
                        TransitionSystem.Transition<XenMachine> ab = system.step(sa, b, 1, fp -> false);
                        TransitionSystem.Transition<XenMachine> ba = system.step(sb, a, 1, fp -> false);
                        assertThat(ab.fingerprint()).as("%s: %s and %s", c.name(), system.actionName(a),
                                system.actionName(b)).isEqualTo(ba.fingerprint());
                        assertThat(ab.state().withActive(0)).isEqualTo(ba.state().withActive(0));
                        // each transition's verdict (I7, the migration's post-conditions) is the same after the other
                        assertThat(ab.verdict()).isEqualTo(t.get(b).verdict());
                        assertThat(ba.verdict()).isEqualTo(t.get(a).verdict());
                    }
                }
            }
            independentPairs.put(c.name(), pairs);
        }
        // the reduction has something to prune where different domains run on different pCPUs
        assertThat(independentPairs.get("smp-disjoint")).isGreaterThan(50);
    }

    /** The fingerprints of every state a search of {@code c} reaches, and its result. */
    private record Observed(Explorer.Result result, Set<Long> states) {}

    private static Observed explore(ExploreConfig c, Faults faults, int depth, boolean por, int workers)
            throws Exception {
        ExploredSystem<?> system = ExploredSystem.of(c, faults, true);
        Set<Long> states = new HashSet<>();
        Explorer.Result r = Explorer.run(system, new Explorer.Options(workers, depth, c.maxStates(), c.deadlock())
                .withPartialOrder(por), p -> { }, (s, fp) -> states.add(fp));
        return new Observed(r, states);
    }

    @Test
    void reducedAndUnreducedSearchesAgreeOnTheVerdictAndTheStates() throws Exception {
        for (ExploreConfig c : multiPcpuConfigs()) {
            for (int depth : new int[] {4, c.ciDepth()}) {
                Observed full = explore(c, Faults.NONE, depth, false, 1);
                Observed reduced = explore(c, Faults.NONE, depth, true, 1);
                assertThat(reduced.result().outcome()).isEqualTo(full.result().outcome());
                assertThat(reduced.states()).as("%s depth %d", c.name(), depth).isEqualTo(full.states());
                assertThat(reduced.result().levels()).isEqualTo(full.result().levels());
                assertThat(reduced.result().transitions()).isLessThanOrEqualTo(full.result().transitions());
                assertThat(reduced.result().transitions() + reduced.result().slept())
                        .isEqualTo(full.result().transitions());
                assertThat(full.result().slept()).isZero();
            }
        }
    }

    /**
     * The worlds of the para-virtual interface and the emulated devices (one pCPU; the batched mmu_update's, on two,
     * is among {@link #multiPcpuConfigs}): reduced and unreduced searches reach the same states at a small bound.
     */
    @Test
    void theInterfaceWorldsAgreeReducedAndUnreduced() throws Exception {
        Map<String, Integer> depths = new LinkedHashMap<>();
        depths.put("pv-grant", 4);
        depths.put("pv-evtchn", 4);
        depths.put("emulation", 2); // its EMU check reads every bit of every vCPU's bitmaps: a slow state
        for (Map.Entry<String, Integer> e : depths.entrySet()) {
            String name = e.getKey();
            ExploreConfig c = ExploreTest.config(name);
            Observed full = explore(c, Faults.NONE, e.getValue(), false, 1);
            Observed reduced = explore(c, Faults.NONE, e.getValue(), true, 1);
            assertThat(reduced.states()).as(name).isEqualTo(full.states());
            assertThat(reduced.result().levels()).as(name).isEqualTo(full.result().levels());
            assertThat(reduced.result().outcome()).as(name).isEqualTo(full.result().outcome());
        }
    }

    @Test
    void theReductionPrunesTransitionsOfDifferentDomainsOnDifferentPcpus() throws Exception {
        ExploreConfig c = ExploreTest.config("smp-disjoint");
        Observed full = explore(c, Faults.NONE, c.ciDepth(), false, 1);
        Observed reduced = explore(c, Faults.NONE, c.ciDepth(), true, 1);
        assertThat(full.result().outcome()).isEqualTo(Explorer.Outcome.EXHAUSTED);
        assertThat(reduced.result().outcome()).isEqualTo(Explorer.Outcome.EXHAUSTED);
        assertThat(reduced.states()).isEqualTo(full.states());
        assertThat(reduced.result().slept()).isGreaterThan(full.result().transitions() / 20);
    }

    @Test
    void withEachMatrixFaultBothSearchesFindItAtTheSameShortestDepth() throws Exception {
        int faults = 0;
        for (ExploreConfig c : multiPcpuConfigs()) {
            for (Map.Entry<org.hybridv.xen.Fault, String> e : ExploreMatrix.CONFIG_OF.entrySet()) {
                if (!e.getValue().equals(c.name())) {
                    continue;
                }
                Faults f = Faults.parse(List.of(e.getKey().id()));
                Observed full = explore(c, f, c.depth(), false, 1);
                Observed reduced = explore(c, f, c.depth(), true, 1);
                assertThat(full.result().outcome()).as(e.getKey().id()).isEqualTo(Explorer.Outcome.VIOLATION);
                assertThat(reduced.result().outcome()).as(e.getKey().id()).isEqualTo(Explorer.Outcome.VIOLATION);
                Explorer.Finding a = full.result().finding().orElseThrow();
                Explorer.Finding b = reduced.result().finding().orElseThrow();
                assertThat(b.depth()).as(e.getKey().id()).isEqualTo(a.depth());
                assertThat(((org.hybridv.check.Verdict.Violated) b.verdict()).invariant())
                        .isEqualTo(((org.hybridv.check.Verdict.Violated) a.verdict()).invariant());
                assertThat(((org.hybridv.check.Verdict.Violated) b.verdict()).rule())
                        .isEqualTo(((org.hybridv.check.Verdict.Violated) a.verdict()).rule());
                faults++;
            }
        }
        assertThat(faults).isGreaterThanOrEqualTo(5);
    }

    @Test
    void theReducedSearchIsTheSameForAnyWorkerCount() throws Exception {
        for (ExploreConfig c : multiPcpuConfigs()) {
            Explorer.Result one = explore(c, Faults.NONE, 8, true, 1).result();
            Explorer.Result two = explore(c, Faults.NONE, 8, true, 2).result();
            assertThat(two.distinct()).isEqualTo(one.distinct());
            assertThat(two.transitions()).isEqualTo(one.transitions());
            assertThat(two.slept()).isEqualTo(one.slept());
            assertThat(two.levels()).isEqualTo(one.levels());
            assertThat(two.enabled()).isEqualTo(one.enabled());
            assertThat(two.taken()).isEqualTo(one.taken());
            assertThat(two.newStates()).isEqualTo(one.newStates());
        }
        ExploreConfig c = ExploreTest.config("smp-shootdown");
        Faults f = Faults.parse(List.of("flush-ipi-local-only"));
        Explorer.Result one = explore(c, f, c.depth(), true, 1).result();
        Explorer.Result two = explore(c, f, c.depth(), true, 2).result();
        assertThat(two.finding()).isEqualTo(one.finding());
    }
}
