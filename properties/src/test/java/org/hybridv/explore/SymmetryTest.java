package org.hybridv.explore;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hybridv.check.Verdict;
import org.hybridv.cli.Cli;
import org.hybridv.cli.RepoRoot;
import org.hybridv.xen.Faults;
import org.hybridv.xen.XenMachine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The symmetry reduction (docs/explore.md#symmetry) on spare-frames.json, whose frames 0x14 and 0x15 are declared
 * interchangeable. An observation of a state is its orbit: the smallest fingerprint of the state relabelled by every
 * permutation of the declared frames. The reduced and unreduced searches must agree on the verdict and on the set
 * of reachable observations; the reference must treat the two frames alike (relabel, then step with the image of the
 * action = step, then relabel); and a declaration the initial machine or the alphabet contradicts is refused.
 */
class SymmetryTest {
    private static final Path CONFIGS = RepoRoot.find().resolve("spec/configs");

    private static ExploreConfig spare() throws ExploreConfig.BadConfig {
        return ExploreTest.config("spare-frames");
    }

    /** The observations (orbit fingerprints) of every state the search finds, and the result. */
    private record Search(Explorer.Result result, Set<Long> observations, Map<Long, XenMachine> states) {}

    private static Search search(boolean reduce, int depth, String... faults) throws Exception {
        ExploreConfig c = spare();
        HypervisorSystem system = new HypervisorSystem(c, Faults.parse(List.of(faults)), reduce);
        Symmetry y = new HypervisorSystem(c, Faults.NONE, true).symmetry().orElseThrow();
        Set<Long> obs = new HashSet<>();
        Map<Long, XenMachine> states = new HashMap<>();
        Explorer.Result r = Explorer.run(system, new Explorer.Options(2, depth, c.maxStates(), false), p -> { },
                (s, fp) -> {
                    obs.add(y.canonical(s));
                    states.put(CanonicalEncoder.fingerprint(s), s);
                });
        return new Search(r, obs, states);
    }

    @Test
    void reducedAndUnreducedSearchesAgreeOnTheVerdictAndTheObservations() throws Exception {
        Search full = search(false, 4);
        Search reduced = search(true, 4);
        assertThat(reduced.result().outcome()).isEqualTo(full.result().outcome());
        assertThat(reduced.observations()).isEqualTo(full.observations());
        // the reduced search keeps one state per orbit, and the orbits of 0x14 ↔ 0x15 have one or two states
        assertThat(reduced.result().distinct()).isEqualTo(full.observations().size());
        assertThat(full.result().distinct()).isGreaterThan(reduced.result().distinct())
                .isLessThanOrEqualTo(2 * reduced.result().distinct());
        // a fault: both find it at the same (shortest) depth with the same invariant and rule (L1-3: pin, then map
        // the pinned L1 writable)
        Search f1 = search(false, 2, "writable-pagetable-mapping");
        Search f2 = search(true, 2, "writable-pagetable-mapping");
        for (Search s : List.of(f1, f2)) {
            assertThat(s.result().outcome()).isEqualTo(Explorer.Outcome.VIOLATION);
            Explorer.Finding f = s.result().finding().orElseThrow();
            assertThat(f.depth()).isEqualTo(2);
            assertThat(f.verdict()).isInstanceOfSatisfying(Verdict.Violated.class, v -> assertThat(v.rule())
                    .isEqualTo("TYP-1"));
        }
    }

    @Test
    void theReferenceTreatsTheDeclaredFramesAlike() throws Exception {
        HypervisorSystem system = new HypervisorSystem(spare(), Faults.NONE, false);
        HypervisorSystem reduced = new HypervisorSystem(spare(), Faults.NONE, true);
        Symmetry y = reduced.symmetry().orElseThrow();
        Map<Long, XenMachine> states = search(false, 3).states();
        int checked = 0;
        for (XenMachine s : states.values()) {
            for (int p = 0; p < y.permutations().size(); p++) {
                Relabel r = y.permutations().get(p);
                // the relabelled state is itself reachable (the initial machine and the alphabet are symmetric)
                XenMachine t = states.get(CanonicalEncoder.fingerprint(s, r));
                assertThat(t).as("the image of a reachable state under " + r).isNotNull();
                for (int a = 0; a < system.actionCount(); a++) {
                    TransitionSystem.Transition<XenMachine> x = system.step(s, a, 1, fp -> false);
                    TransitionSystem.Transition<XenMachine> z = system.step(t, reduced.image(p, a), 1, fp -> false);
                    assertThat(CanonicalEncoder.fingerprint(z.state())).as(system.actionName(a) + " under " + r)
                            .isEqualTo(CanonicalEncoder.fingerprint(x.state(), r));
                    assertThat(z.verdict().holds()).isEqualTo(x.verdict().holds());
                    checked++;
                }
            }
        }
        assertThat(checked).isGreaterThan(1000);
    }

    @Test
    void aDeclarationTheMachineOrTheAlphabetContradictsIsRefused(@TempDir Path dir) throws Exception {
        String good = Files.readString(CONFIGS.resolve("spare-frames.json"));
        Path bad = dir.resolve("bad.json");
        // 0x13 is d1's L1 in the initial machine
        Files.writeString(bad, good.replace("\"symmetry\": [\"0x14\", \"0x15\"]", "\"symmetry\": [\"0x13\", \"0x14\"]"));
        Cli.Result r = Cli.run("explore", bad.toString(), "--depth", "1");
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err()).contains("bad.json", "symmetry", "the initial machine tells them apart");
        // 0x16 is a spare frame like 0x14, but the alphabet names only 0x14 and 0x15
        Files.writeString(bad, good.replace("\"symmetry\": [\"0x14\", \"0x15\"]", "\"symmetry\": [\"0x14\", \"0x16\"]"));
        r = Cli.run("explore", bad.toString(), "--depth", "1");
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err()).contains("symmetry", "the alphabet has", "but not its image");
        Files.writeString(bad, good.replace("\"symmetry\": [\"0x14\", \"0x15\"]", "\"symmetry\": [\"0x14\"]"));
        r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).containsPattern("bad.json:\\d+:\\d+: .*symmetry must list 2 to 4 frames");
        // --no-symmetry counts every state
        Cli.Result off = Cli.run("explore", CONFIGS.resolve("spare-frames.json").toString(), "--depth", "2",
                "--no-symmetry", "--workers", "1");
        Cli.Result on = Cli.run("explore", CONFIGS.resolve("spare-frames.json").toString(), "--depth", "2",
                "--workers", "1");
        assertThat(off.out()).contains("symmetry: declared, not used");
        assertThat(on.out()).contains("symmetry: frames [0x14, 0x15] interchangeable");
        assertThat(new ArrayList<>(List.of(off.exit(), on.exit()))).containsOnly(3);
    }
}
