package org.hybridv.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.hybridv.cli.Cli;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.gen.WholeSystemCases;
import org.hybridv.xen.Faults;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The generators on several pCPUs (docs/smp.md, docs/properties.md): the whole-system campaign alone catches each of
 * the five multi-pCPU faults within the CI budget (not only the migration property), with the invariant and rule the
 * fault breaks, and its shrunk counterexample — a scenario with {@code pcpus} and {@code schedule} steps — replays;
 * the hypervisor campaign, whose vCPUs are placed on several pCPUs but never migrated, catches the three shootdown
 * faults; and a run on one pCPU is the run the generators made before they had pCPUs (the pCPUs are drawn last).
 */
class SmpCampaignTest {
    private static final long SEED = 20261123L;

    /** The first failing try of {@code p} with {@code fault} within {@code tries}, shrunk. */
    private static <R> Campaign.Failure<R> caught(SystemProperty<R> p, String fault, int tries) {
        Faults faults = Faults.parse(List.of(fault));
        for (int t = 0; t < tries; t++) {
            Campaign.Try<R> one = Campaign.tryOnce(p, SEED, t, faults, System.nanoTime(), true);
            assertThat(one.harnessError()).as(fault).isEmpty();
            if (one.failure().isPresent()) {
                return one.failure().get();
            }
        }
        throw new AssertionError(p.name() + " did not catch " + fault + " in " + tries + " tries");
    }

    @ParameterizedTest
    @CsvSource({"migration-without-vpid-flush, I6, MIG-2",
        "migration-without-vmclear, I6, MIG-1",
        "flush-ipi-local-only, , ",
        "tlb-clock-reversed, I2, TLB-1",
        "dirty-mask-not-updated, , "})
    void theWholeSystemCampaignCatchesEachMultiPcpuFaultAndItsScenarioReplays(String fault, String invariant,
            String rule, @TempDir Path dir) throws Exception {
        WholeSystemProperty p = new WholeSystemProperty();
        Campaign.Failure<WholeSystemCases.Run> f = caught(p, fault, 100);
        if (invariant != null) {
            assertThat(f.violation().invariant()).isEqualTo(invariant);
            assertThat(f.violation().rule()).isEqualTo(rule);
        } else {
            // a missed remote flush shows as a stale entry: I6 (MU-5) or, once the frame is a page table, I2 (TLB-1)
            assertThat(f.violation().invariant()).isIn("I2", "I6");
        }
        Faults faults = Faults.parse(List.of(fault));
        Capture.Written w = Capture.write(dir, p.name(), Capture.document(p, f, faults, SEED).orElseThrow());
        String text = Files.readString(w.file());
        Cli.Result replay = Cli.run("replay", "-q", w.file().toString());
        assertThat(replay.exit()).as(text + "\n" + replay.all()).isZero();
        if (f.shrunk().pcpus() > 1) {
            // the machine keeps its pCPUs, and each migration up to the violating step is a schedule step
            assertThat(text).contains("\"pcpus\": " + f.shrunk().pcpus());
            if (f.shrunk().ops().subList(0, Math.min(f.violation().step(), f.shrunk().ops().size())).stream()
                    .anyMatch(o -> o instanceof WholeSystemCases.Op.Schedule)) {
                assertThat(text).contains("\"op\": \"schedule\"");
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"flush-ipi-local-only", "tlb-clock-reversed", "dirty-mask-not-updated"})
    void theHypervisorCampaignCatchesTheShootdownFaultsAndItsScenarioReplays(String fault, @TempDir Path dir)
            throws Exception {
        HypervisorProperty p = new HypervisorProperty();
        Campaign.Failure<HypervisorCases.Run> f = caught(p, fault, 100);
        Capture.Written w = Capture.write(dir, p.name(), Capture.document(p, f, Faults.parse(List.of(fault)), SEED)
                .orElseThrow());
        Cli.Result replay = Cli.run("replay", "-q", w.file().toString());
        assertThat(replay.exit()).as(Files.readString(w.file()) + "\n" + replay.all()).isZero();
    }

    @Test
    void aCounterexampleOfAStepRuleReplaysToTheSameViolation(@TempDir Path dir) throws Exception {
        // The migration property judges TLB-8's filter after every step (a state-pair rule, no state invariant sees
        // it); its counterexample must replay to the same I6 violation, which the scenario's checkInvariants finds
        // through ShootdownRules. Before, the replay failed: I6 "violated" expected, "holds" observed.
        MigrationProperty p = new MigrationProperty();
        Campaign.Failure<MigrationProperty.Run> f = caught(p, "tlb-clock-reversed", 300);
        assertThat(f.violation().invariant()).isEqualTo("I6");
        assertThat(f.violation().rule()).isEqualTo("TLB-8");
        Capture.Written w = Capture.write(dir, p.name(), Capture.document(p, f, Faults.parse(List.of(
                "tlb-clock-reversed")), SEED).orElseThrow());
        Cli.Result replay = Cli.run("replay", w.file().toString());
        assertThat(replay.exit()).as(Files.readString(w.file()) + "\n" + replay.all()).isZero();
        // and without the fault the same steps keep every rule: the replay's expectation of a violation fails
        String clean = Files.readString(w.file()).replaceAll("\"faults\"\\s*:\\s*\\[[^\\]]*\\],?", "");
        Path cleanFile = dir.resolve("clean.json");
        Files.writeString(cleanFile, clean);
        Cli.Result fixed = Cli.run("replay", cleanFile.toString());
        assertThat(fixed.exit()).as(clean + "\n" + fixed.all()).isEqualTo(1);
    }

    @Test
    void halfTheRunsHaveOnePcpuAndEveryCountUpToFourOccurs() {
        java.util.Random r = new java.util.Random(SEED);
        int[] whole = new int[WholeSystemCases.MAX_PCPUS + 1];
        int[] hyper = new int[WholeSystemCases.MAX_PCPUS + 1];
        for (int n = 0; n < 400; n++) {
            List<Integer> values = new java.util.ArrayList<>();
            for (int i = 0; i < 500; i++) {
                values.add(r.nextInt(Integer.MAX_VALUE));
            }
            WholeSystemCases.Run w = WholeSystemCases.generate(new org.hybridv.gen.ListChoices(values));
            HypervisorCases.Run h = HypervisorCases.generate(new org.hybridv.gen.ListChoices(values));
            whole[w.pcpus()]++;
            hyper[h.pcpus()]++;
            // on one pCPU nothing is scheduled or placed; on several, every schedule names an existing pCPU
            if (w.pcpus() == 1) {
                assertThat(w.ops()).noneMatch(o -> o instanceof WholeSystemCases.Op.Schedule);
            }
            assertThat(w.ops()).allMatch(o -> !(o instanceof WholeSystemCases.Op.Schedule sc)
                    || sc.pcpu() < w.pcpus() && sc.vcpu().domain() <= w.adversaries());
            assertThat(h.pcpus() == 1 ? h.placement().isEmpty() : h.placement().size() == 6).isTrue();
        }
        for (int[] counts : List.of(whole, hyper)) {
            assertThat(counts[1]).isBetween(160, 240);
            for (int q = 2; q <= WholeSystemCases.MAX_PCPUS; q++) {
                assertThat(counts[q]).isGreaterThan(20);
            }
        }
    }
}
