package org.hybridv.explore;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hybridv.cli.RepoRoot;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.xen.Fault;
import org.hybridv.xen.Faults;
import org.hybridv.xen.XenMachine;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The differential property of {@link IncrementalInvariants}: on every transition from a state where I1, I2 and I6
 * hold (the states the explorer expands) to its successor, in every state reachable within the CI depth bound of each
 * shipped hypervisor configuration — without faults and with each seeded fault {@link ExploreMatrix} gives the
 * configuration — re-checking only what the step changed gives exactly the full check's verdict (holds, or the same
 * rule and wording) for each of the three. Without faults, exhaustive at the CI depth bound and without symmetry
 * reduction (every state, not one per orbit); with a fault, the first {@value #FAULT_STATES} states in breadth-first
 * order (the states around the shortest counterexamples, which the matrix finds at depths 1 to 4); the bench configuration (22 actions), its
 * first {@value #BENCH_STATES}. The bounds keep the test to seconds.
 */
class IncrementalInvariantsTest {
    private static final Path CONFIGS = RepoRoot.find().resolve("spec/configs");
    private static final int FAULT_STATES = 150;
    private static final int BENCH_STATES = 600;

    @ParameterizedTest
    @ValueSource(strings = {"direct-paging", "isolation", "spare-frames", "direct-mmu", "shadow-mmu",
        "bench/combined"})
    void theIncrementalVerdictIsTheFullCheckOnEveryTransition(String name) throws Exception {
        ExploreConfig config = ExploreConfig.read(CONFIGS.resolve(name + ".json"), name + ".json");
        List<Faults> variants = new ArrayList<>();
        variants.add(Faults.NONE);
        for (Map.Entry<Fault, String> e : ExploreMatrix.CONFIG_OF.entrySet()) {
            if (e.getValue().equals(name)) {
                variants.add(Faults.parse(List.of(e.getKey().id())));
            }
        }
        long partial = 0;
        long total = 0;
        long violations = 0;
        for (Faults faults : variants) {
            int bound = name.startsWith("bench/") ? BENCH_STATES : faults.equals(Faults.NONE) ? Integer.MAX_VALUE
                    : FAULT_STATES;
            long[] counts = compare(new HypervisorSystem(config, faults, false), config.ciDepth(), bound, faults);
            total += counts[0];
            partial += counts[1];
            violations += counts[2];
        }
        assertThat(total).as(name + ": transitions compared").isGreaterThan(1_000);
        // not vacuous: the incremental path (tables unchanged, only new TLB entries) is taken, and faults are seen
        assertThat(partial).as(name + ": transitions checked incrementally").isGreaterThan(total / 10);
        if (variants.size() > 1) {
            assertThat(violations).as(name + ": violated verdicts compared").isPositive();
        }
    }

    /** Transitions compared, how many incrementally (not the full check), how many with a violated verdict. */
    private static long[] compare(HypervisorSystem system, int depth, int bound, Faults faults) {
        long[] counts = new long[3];
        Set<Long> seen = new HashSet<>();
        List<XenMachine> level = new ArrayList<>();
        for (XenMachine s : system.initialStates()) {
            if (holds(s) && seen.add(system.fingerprint(s))) {
                level.add(s);
            }
        }
        for (int d = 0; d < depth && !level.isEmpty(); d++) {
            List<XenMachine> next = new ArrayList<>();
            for (XenMachine pre : level) {
                for (int a = 0; a < system.actionCount(); a++) {
                    if (!system.enabled(pre, a)) {
                        continue;
                    }
                    // the successor alone (no state invariant checked: every fingerprint is "known")
                    XenMachine post = system.step(pre, a, d + 1, fp -> true).state();
                    IncrementalInvariants.Change change = IncrementalInvariants.change(pre, post);
                    counts[0]++;
                    if (change != IncrementalInvariants.Change.ALL) {
                        counts[1]++;
                    }
                    boolean all = true;
                    for (IncrementalInvariants.Invariant i : IncrementalInvariants.Invariant.values()) {
                        InvariantResult full = IncrementalInvariants.full(i, post);
                        assertThat(IncrementalInvariants.check(i, post, change))
                                .as("%s with %s after %s: incremental %s vs full check", i, faults,
                                        system.actionName(a), change.tables() ? "(tables)" : "(TLB only)")
                                .isEqualTo(full);
                        if (!full.holds()) {
                            counts[2]++;
                            all = false;
                        }
                    }
                    // expanded only if every state invariant held (what the explorer expands)
                    if (all && seen.size() < bound && seen.add(system.fingerprint(post))) {
                        next.add(post);
                    }
                }
            }
            level = next;
        }
        return counts;
    }

    private static boolean holds(XenMachine s) {
        for (IncrementalInvariants.Invariant i : IncrementalInvariants.Invariant.values()) {
            if (!IncrementalInvariants.full(i, s).holds()) {
                return false;
            }
        }
        return true;
    }
}
