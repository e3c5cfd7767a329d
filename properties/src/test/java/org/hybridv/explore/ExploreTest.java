package org.hybridv.explore;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.hybridv.check.Capture;
import org.hybridv.check.Verdict;
import org.hybridv.cli.Cli;
import org.hybridv.cli.RepoRoot;
import org.hybridv.xen.Faults;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * hybridv explore on the shipped configurations: each is exhausted at its CI bound without a finding; with a seeded
 * fault the configuration is meant for, the search stops at the shortest depth the rule allows (no violation one
 * step earlier) with the invariant and rule docs/faults.md names, and the counterexample replays; the result is the
 * same with one and two workers.
 */
class ExploreTest {
    private static final Path CONFIGS = RepoRoot.find().resolve("spec/configs");

    static ExploreConfig config(String name) throws ExploreConfig.BadConfig {
        return ExploreConfig.read(CONFIGS.resolve(name + ".json"), name + ".json");
    }

    static Exploration explore(String name, int workers, int depth, String... faults) throws Exception {
        ExploreConfig c = config(name);
        return Exploration.run(c, Faults.parse(List.of(faults)), new Explorer.Options(workers, depth, c.maxStates(),
                c.deadlock()), p -> { });
    }

    @Test
    void everyShippedConfigurationIsExhaustedAtItsCiBound() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.list(CONFIGS)) {
            files = s.filter(p -> p.toString().endsWith(".json") && !p.toString().endsWith(".schema.json"))
                    .sorted().toList();
        }
        assertThat(files).extracting(p -> p.getFileName().toString()).contains("direct-paging.json",
                "isolation.json", "spare-frames.json", "hybrid-switch.json", "direct-mmu.json", "shadow-mmu.json",
                "hybrid-direct.json", "hap-mmu.json", "new-vcpu.json", "smp-shootdown.json", "smp-race.json",
                "hybrid-smp-switch.json", "pv-grant.json", "pv-evtchn.json", "emulation.json", "detect.json",
                "mmu-batch.json", "pv-block.json", "hybrid-processes.json");
        for (Path f : files) {
            String name = f.getFileName().toString().replace(".json", "");
            ExploreConfig c = config(name);
            Exploration x = explore(name, 2, c.ciDepth());
            assertThat(x.result().outcome()).as(name + ": " + x.verdictLine()).isEqualTo(Explorer.Outcome.EXHAUSTED);
            assertThat(x.exitCode()).isZero();
            assertThat(x.result().finding()).isEmpty();
            // every state was checked: one initial state, every distinct state counted once per depth
            assertThat(x.result().levels().stream().mapToLong(Long::longValue).sum()).isEqualTo(x.result()
                    .distinct());
            assertThat(x.result().depthReached()).isLessThan(c.ciDepth());
        }
    }

    /**
     * The shortest attack of each fault, from its rule: one mmu_update for a rule about a single entry or call (SP-1
     * superpage, SLOT-2 Xen slot, L1-2 foreign frame, XSA-76 CPL 3, MU-1 translated domain); a pin first for the rules
     * about page-table frames (MX-2 unpin, L1-3 writable mapping of a table); TLB-1 needs a writable mapping, a read
     * through it (the TLB entry), the mapping cleared (L1-3 refuses a pin while it exists) and the pin (the type
     * change that owes the flush): 4; HAP-5's controls are checked on every step of the HAP domain: 1. In the hybrid
     * kernel, booting to DIRECT
     * is itself a SWITCH_MMU (PRE-2 validation of the whole tree, POST-2 flush, the direct-mode #PF filter of I5), so
     * the faults of those rules show at the first step; PRE-1 (SWITCH_MMU from CPL 3) and LIN-1 (a writable self-map in the root) need the hypercall page first.
     * LIN-6 needs a read-only linear entry before the flags-only update that makes it writable: 2; LIN-4 needs a
     * second validated table of the level (a pin) and two linear entries, one to it and one from it: 3; MU-5 needs a
     * TLB entry (a read) before the L2 update that takes its translation away: 2; SH-2 needs a dirty read-only guest
     * PTE (a store through the self-map: the initial one is clean) before the read whose shadow fill grants more: 2.
     * On two pCPUs with flush IPIs in flight (smp-race): IPI-3 needs d1v1 on pCPU 1, its writable entry (a write),
     * the mapping cleared and the pin whose new type is validated before pCPU 1's acknowledgement: 4; IPI-2 needs d1v1
     * on pCPU 1 with an entry and the L2 update that returns before pCPU 1 handled its IPI: 3; TYP-8 shows at the L2
     * pin's first step, whose table does not hold its type while it is validated: 1.
     */
    @ParameterizedTest
    @CsvSource({"direct-paging, superpage-accepted, 1, I2, SP-1",
        "direct-paging, xen-slot-update, 1, I2, SLOT-1",
        "direct-paging, unpin-leaks-type-ref, 2, I2, TYP-4",
        "direct-paging, writable-pagetable-mapping, 2, I2, TYP-1",
        "direct-paging, type-change-no-flush, 4, I2, TLB-1",
        "isolation, foreign-frame-in-l1, 1, I1, I1",
        "isolation, hap-pfec-without-pf-bit, 1, I7, I7-hap-controls",
        "isolation, hypercall-from-user, 1, I7, I7-hypercall",
        "isolation, pv-mmu-from-translated, 1, I7, I7-hypercall",
        "hybrid-switch, switch-mmu-top-level-only, 1, I2, TYP-4",
        "hybrid-switch, switch-mmu-no-flush, 1, I2, TLB-1",
        "hybrid-switch, pfec-supervisor-write-bypass, 1, I5, I5-post",
        "hybrid-switch, switch-mmu-from-user, 2, I7, I7-hypercall",
        "hybrid-switch, writable-linear-accepted, 2, I2, LIN-1",
        "direct-mmu, fastpath-rw-change, 2, I2, LIN-1",
        "direct-mmu, linear-chain-unbounded, 3, I2, LIN-4",
        "direct-mmu, pt-update-no-flush, 2, I6, MU-5",
        "shadow-mmu, shadow-more-permissive, 2, I2, SH-2",
        "smp-shootdown, migration-without-vpid-flush, 3, I6, MIG-2",
        "smp-shootdown, migration-without-vmclear, 2, I6, MIG-1",
        "smp-shootdown, flush-ipi-local-only, 3, I6, MU-5",
        "smp-shootdown, dirty-mask-not-updated, 2, I6, MU-5",
        "smp-shootdown, tlb-clock-reversed, 3, I2, TLB-1",
        "smp-race, validate-before-flush-ack, 4, I2, TLB-1",
        "smp-race, ipi-ack-not-awaited, 3, I6, MU-5",
        "smp-race, partial-validation-type-not-held, 1, I2, TYP-8",
        "hybrid-smp-switch, switch-mmu-sibling-not-flushed, 2, I5, I5-post",
        "detect, detect-signature-prefix-match, 1, I8, I8-detect",
        "pv-grant, grant-readonly-mapped-writable, 2, I1, I1",
        "pv-grant, grant-unmap-no-flush, 4, I1, I1",
        "pv-evtchn, evtchn-send-to-foreign-port, 3, I10, I10"})
    void aSeededFaultIsFoundAtTheShortestDepthAndReplays(String name, String fault, int depth, String invariant,
            String rule, @TempDir Path dir) throws Exception {
        Exploration x = foundAtTheShortestDepth(name, fault, depth, invariant, rule);
        Capture.Written w = x.writeCounterexample(dir).orElseThrow();
        assertThat(w.file().getFileName().toString()).startsWith("explore-" + name + "-");
        Cli.Result replay = Cli.run("replay", "-q", w.file().toString());
        assertThat(replay.exit()).as(replay.all()).isZero();
        String text = Files.readString(w.file());
        assertThat(text).contains("\"violates\": \"" + invariant + "\"", "\"" + fault + "\"");
    }

    /**
     * The faults of the emulated devices and the batched mmu_update, in the worlds built for them (docs/explore.md),
     * at the shortest depth their rules allow: MU-8 needs the batch, its preemption after its first request and the
     * re-issued continuation, which returns with the request at the preemption point lost: 3. EMU-1 and EMU-2 are
     * about the controls every vCPU is built with: the initial state violates them (depth 0). No scenario is written:
     * EMU and MU-7's batch property have no scenario check. (The PV interface's faults — GNT-2 at 2: the read-only
     * grant and the writable map; GNT-5 at 4: grant, map, a read through it, the unmap that owes the flush; EVT-5 at
     * 3: the unbound port, the bind, the send — are in the replaying test above.)
     */
    @ParameterizedTest
    @CsvSource({"mmu-batch, mmu-update-continuation-loses-entry, 3, I7, MU-7",
        "emulation, x2apic-msr-passthrough, 0, EMU, EMU-1",
        "emulation, io-port-range-not-intercepted, 0, EMU, EMU-2"})
    void aFaultOfTheInterfaceWorldsIsFoundAtTheShortestDepth(String name, String fault, int depth, String invariant,
            String rule, @TempDir Path dir) throws Exception {
        Exploration x = foundAtTheShortestDepth(name, fault, depth, invariant, rule);
        assertThat(x.writeCounterexample(dir)).isEmpty();
    }

    /**
     * Explores configuration {@code name} with {@code fault} to its depth bound: the violation of {@code invariant}
     * (rule {@code rule}) found at exactly {@code depth}, and — minimal — nothing at one step less.
     */
    /**
     * The leaked data mapping of the block back-end (BLK-4) needs a data grant, a READ pushed that names it, and the
     * serving pass that leaves its mapping behind: 3. The world has the block driver, which no property's scenario
     * sets up from an explorer configuration, so the finding writes no scenario (docs/explore.md).
     */
    @Test
    void theBlockBackEndsLeakedMappingIsFoundAtTheShortestDepth(@TempDir Path dir) throws Exception {
        Exploration x = foundAtTheShortestDepth("pv-block", "blkback-data-mapping-leaked", 3, "I11-blk", "BLK-4");
        assertThat(x.writeCounterexample(dir)).isEmpty();
    }

    private static Exploration foundAtTheShortestDepth(String name, String fault, int depth, String invariant,
            String rule) throws Exception {
        Exploration x = explore(name, 2, config(name).depth(), fault);
        assertThat(x.result().outcome()).as(x.verdictLine()).isEqualTo(Explorer.Outcome.VIOLATION);
        assertThat(x.exitCode()).isEqualTo(1);
        Explorer.Finding f = x.result().finding().orElseThrow();
        assertThat(f.depth()).isEqualTo(depth);
        assertThat(f.verdict()).isInstanceOfSatisfying(Verdict.Violated.class, v -> {
            assertThat(v.invariant()).isEqualTo(invariant);
            assertThat(v.rule()).isEqualTo(rule);
            assertThat(v.step()).isEqualTo(depth);
        });
        if (depth > 0) {
            Exploration shorter = explore(name, 2, depth - 1, fault);
            assertThat(shorter.result().outcome()).as(shorter.verdictLine()).isIn(Explorer.Outcome.DEPTH_BOUND,
                    Explorer.Outcome.EXHAUSTED);
        }
        return x;
    }

    /**
     * EMU over one access, apart from the state check: with the x2APIC range passed through, a RDMSR of the TPR
     * (808H) completes in the guest without a VM exit, which EMU-1 forbids (the step's check, as the emulation
     * property makes it after each access); the same RDMSR on the correct hypervisor exits and holds.
     */
    /**
     * The workload contract in the hybrid world: the contract's model is part of the state and judges each step. From
     * {@code hybrid-processes}' initial state (booted to DIRECT, processes 1 and 2 created by the setup), a switch to
     * process 1 holds (KRN-3: Done); the same kernel state paired with a model that never saw the processes must
     * refuse it (KRN-3: no runnable process 1, NotApplicable), so the kernel's Done breaks the contract there. Without
     * {@code KRN} in the configuration's list the state carries no model and the fingerprint is the lockstep pair's.
     */
    @Test
    void theWorkloadContractJudgesEveryHybridStepFromTheModelTheStateCarries() throws Exception {
        HybridSystem system = new HybridSystem(config("hybrid-processes"), Faults.NONE);
        int switchTo1 = -1;
        for (int a = 0; a < system.actionCount(); a++) {
            switchTo1 = system.actionName(a).equals("SwitchTo[pid=1]") ? a : switchTo1;
        }
        assertThat(switchTo1).as("the alphabet switches to process 1").isNotNegative();
        HybridSystem.State initial = system.initialStates().get(0);
        assertThat(initial.contract()).as("KRN is checked: the state carries the contract's model").isNotNull();
        assertThat(system.step(initial, switchTo1, 1, fp -> false).verdict()).isEqualTo(Verdict.HOLDS);
        HybridSystem.State amnesic = new HybridSystem.State(initial.lockstep(), new org.hybridv.check.KernelContract());
        assertThat(system.fingerprint(amnesic)).as("two models, two states").isNotEqualTo(system.fingerprint(initial));
        assertThat(system.step(amnesic, switchTo1, 1, fp -> false).verdict()).isInstanceOfSatisfying(
                Verdict.Violated.class, v -> {
                    assertThat(v.invariant()).isEqualTo("KRN");
                    assertThat(v.rule()).isEqualTo("KRN-3");
                });
        // the step judged a copy: the state's own model is unchanged (states are values)
        assertThat(system.fingerprint(amnesic)).isEqualTo(system.fingerprint(
                new HybridSystem.State(initial.lockstep(), new org.hybridv.check.KernelContract())));
        HybridSystem without = new HybridSystem(config("hybrid-direct"), Faults.NONE);
        HybridSystem.State plain = without.initialStates().get(0);
        assertThat(plain.contract()).isNull();
        assertThat(without.fingerprint(plain)).isEqualTo(CanonicalEncoder.fingerprint(plain.lockstep()));
    }

    /**
     * A workload-contract finding's counterexample has no {@code violates} (the contract is no invariant): the
     * hybrid-kernel property's body — the operations, the last one with an {@code expect} — is the whole check, and
     * {@code hybridv replay} fails at that step while the kernel breaks the contract. An invariant's keeps its
     * {@code violates}.
     */
    @Test
    void aContractCounterexampleIsARegressionWithoutViolates() throws Exception {
        com.fasterxml.jackson.databind.node.ObjectNode body = com.fasterxml.jackson.databind.node.JsonNodeFactory
                .instance.objectNode();
        body.putObject("machine").put("memoryFrames", 1);
        body.putArray("steps").addObject().put("op", "kernel").put("do", "syscall").putObject("expect")
                .put("result", "read").put("value", "0x0");
        ExploredSystem<Object> stub = new ExploredSystem<>() {
            @Override
            public List<Object> initialStates() {
                return List.of(0);
            }

            @Override
            public int actionCount() {
                return 1;
            }

            @Override
            public String actionName(int a) {
                return "syscall";
            }

            @Override
            public boolean enabled(Object s, int a) {
                return true;
            }

            @Override
            public long fingerprint(Object s) {
                return 1;
            }

            @Override
            public Checked checkInitial(Object s) {
                return new Checked(Verdict.HOLDS, 0);
            }

            @Override
            public Transition<Object> step(Object s, int a, int depth, java.util.function.LongPredicate known) {
                return new Transition<>(s, 1, Verdict.HOLDS, 0);
            }

            @Override
            public String property() {
                return "hybrid-kernel";
            }

            @Override
            public com.fasterxml.jackson.databind.node.ObjectNode scenario(List<Integer> actions, Faults faults,
                    Verdict.Violated violation) {
                return body;
            }
        };
        Verdict.Violated krn = new Verdict.Violated("KRN", "KRN-6", 1, "Syscall[]: expected Read[0x0]");
        com.fasterxml.jackson.databind.node.ObjectNode doc = Exploration.scenarioDocument(config("hybrid-processes"),
                stub, Faults.NONE, java.util.Optional.of(new Explorer.Finding(krn, false, 0, List.of(0))), "run %d",
                "explore").orElseThrow();
        assertThat(doc.has("violates")).isFalse();
        assertThat(doc.get("description").asText()).contains("regression");
        assertThat(doc.get("steps").get(0).has("expect")).isTrue();
        Verdict.Violated i3 = new Verdict.Violated("I3", "I3-result", 1, "differs");
        assertThat(Exploration.scenarioDocument(config("hybrid-processes"), stub, Faults.NONE, java.util.Optional.of(
                new Explorer.Finding(i3, false, 0, List.of(0))), "run %d", "explore").orElseThrow()
                .get("violates").asText()).isEqualTo("I3");
    }

    @Test
    void anX2ApicReadWithoutAnExitViolatesEmuOnItsStep() throws Exception {
        for (boolean faulty : new boolean[] {false, true}) {
            HypervisorSystem system = new HypervisorSystem(config("emulation"), faulty
                    ? Faults.parse(List.of("x2apic-msr-passthrough")) : Faults.NONE);
            int rdmsr = -1;
            for (int a = 0; a < system.actionCount(); a++) {
                rdmsr = system.actionName(a).equals("d1v0 rdmsr 0x808") ? a : rdmsr;
            }
            // known = true: the successor's state checks are skipped, the step's own check is not
            TransitionSystem.Transition<org.hybridv.xen.XenMachine> t = system.step(system.initialStates().get(0),
                    rdmsr, 1, fp -> true);
            if (faulty) {
                assertThat(t.verdict()).isInstanceOfSatisfying(Verdict.Violated.class, v -> {
                    assertThat(v.invariant()).isEqualTo("EMU");
                    assertThat(v.rule()).isEqualTo("EMU-1");
                    assertThat(v.explanation()).contains("RDMSR 808H (x2APIC) completed in the guest without a VM"
                            + " exit");
                });
            } else {
                assertThat(t.verdict()).isEqualTo(Verdict.HOLDS);
            }
        }
    }

    /**
     * The continuation is state: a vCPU whose batch was preempted holds the registers it re-executes its VMCALL with
     * (MU-8), so the state after the preemption differs from the one where the batch ran on, and the only thing the
     * vCPU does next is the re-issue (its RIP was rewound to the VMCALL).
     */
    @Test
    void aPreemptedBatchLeavesItsContinuationInTheVcpuAndOnlyTheReissueIsEnabled() throws Exception {
        HypervisorSystem system = new HypervisorSystem(config("mmu-batch"), Faults.NONE);
        int issue = -1;
        int preempt = -1;
        int reissue = -1;
        int read = -1;
        for (int a = 0; a < system.actionCount(); a++) {
            String n = system.actionName(a);
            issue = n.startsWith("d1v0 mmu_update batch of 3") ? a : issue;
            preempt = n.equals("d1v0 preempted in its batch") ? a : preempt;
            reissue = n.equals("d1v0 reissue its continuation") ? a : reissue;
            read = n.equals("d1v1 read 0x9000") ? a : read;
        }
        org.hybridv.xen.XenMachine s0 = system.initialStates().get(0);
        assertThat(system.enabled(s0, preempt)).isFalse();
        assertThat(system.enabled(s0, reissue)).isFalse();
        org.hybridv.xen.XenMachine s1 = system.step(s0, issue, 1, fp -> false).state();
        assertThat(system.enabled(s1, preempt)).isTrue();
        org.hybridv.xen.XenMachine s2 = system.step(s1, preempt, 2, fp -> false).state();
        org.hybridv.xen.VcpuId k = new org.hybridv.xen.VcpuId(1, 0);
        // MU-8: req advanced past the one request done, count 2 with MMU_UPDATE_PREEMPTED, pdone unchanged
        assertThat(s2.vcpu(k).continuation()).isEqualTo(org.hybridv.xen.MmuBatch.batch(0x7000 + 16 + 16, 2
                | org.hybridv.xen.MmuBatch.MMU_UPDATE_PREEMPTED, 0x7000));
        assertThat(system.fingerprint(s2)).isNotEqualTo(system.fingerprint(s2.withVcpu(s2.vcpu(k)
                .withContinuation(null))));
        for (int a = 0; a < system.actionCount(); a++) {
            if (system.op(a).vcpu().equals(k) && !system.actionName(a).contains("schedule")) {
                assertThat(system.enabled(s2, a)).as(system.actionName(a)).isEqualTo(a == reissue);
            }
        }
        assertThat(system.enabled(s2, read)).isTrue();
        TransitionSystem.Transition<org.hybridv.xen.XenMachine> t = system.step(s2, reissue, 3, fp -> false);
        assertThat(t.verdict()).isEqualTo(Verdict.HOLDS);
        assertThat(t.state().vcpu(k).continuation()).isNull();
    }

    /**
     * The one budget fault: BUD-4 prices a set_pte in direct mode, so the kernel must be in direct mode (boot to
     * DIRECT), have a current process (one created and switched to) and map a page of it: 4 steps. The invariants
     * hold throughout (docs/faults.md); the finding is the budget's, and no scenario is written for it (no scenario
     * step checks a budget).
     */
    @Test
    void theBudgetFaultIsFoundAtTheShortestDepthWithoutAScenario() throws Exception {
        Exploration x = explore("hybrid-direct", 2, config("hybrid-direct").depth(),
                "set-pte-trapped-not-hypercall");
        assertThat(x.result().outcome()).as(x.verdictLine()).isEqualTo(Explorer.Outcome.VIOLATION);
        assertThat(x.exitCode()).isEqualTo(1);
        Explorer.Finding f = x.result().finding().orElseThrow();
        assertThat(f.depth()).isEqualTo(4);
        assertThat(f.verdict()).isInstanceOfSatisfying(Verdict.Violated.class, v -> {
            assertThat(v.invariant()).isEqualTo("budget");
            assertThat(v.rule()).isEqualTo("BUD-4");
        });
        assertThat(f.actions().stream().map(x.system()::actionName).toList()).last().asString().startsWith("Map[");
        assertThat(x.counterexample()).isEmpty();
        Exploration shorter = explore("hybrid-direct", 2, 3, "set-pte-trapped-not-hypercall");
        assertThat(shorter.result().outcome()).as(shorter.verdictLine()).isEqualTo(Explorer.Outcome.DEPTH_BOUND);
    }

    @Test
    void oneAndTwoWorkersGiveTheSameSearch() throws Exception {
        for (String[] run : new String[][] {{"isolation", "6"}, {"direct-paging", "6"},
            {"direct-paging", "12", "unpin-leaks-type-ref"}, {"spare-frames", "5"}, {"hybrid-switch", "4"},
            {"hybrid-switch", "4", "switch-mmu-from-user"}}) {
            String[] faults = Arrays.copyOfRange(run, 2, run.length);
            Exploration one = explore(run[0], 1, Integer.parseInt(run[1]), faults);
            Exploration two = explore(run[0], 2, Integer.parseInt(run[1]), faults);
            Explorer.Result a = one.result();
            Explorer.Result b = two.result();
            assertThat(b.outcome()).isEqualTo(a.outcome());
            assertThat(b.distinct()).isEqualTo(a.distinct());
            assertThat(b.transitions()).isEqualTo(a.transitions());
            assertThat(b.depthReached()).isEqualTo(a.depthReached());
            assertThat(b.queued()).isEqualTo(a.queued());
            assertThat(b.invariantChecks()).isEqualTo(a.invariantChecks());
            assertThat(b.levels()).isEqualTo(a.levels());
            assertThat(b.enabled()).isEqualTo(a.enabled());
            assertThat(b.taken()).isEqualTo(a.taken());
            assertThat(b.newStates()).isEqualTo(a.newStates());
            assertThat(b.finding()).isEqualTo(a.finding());
            assertThat(two.summary(false)).isEqualTo(one.summary(false));
            assertThat(two.counterexample().map(Capture::bytes).map(String::new))
                    .isEqualTo(one.counterexample().map(Capture::bytes).map(String::new));
        }
    }

    @Test
    void theCommandLineExitsWithTheOutcomeAndWritesTheReport(@TempDir Path dir) throws IOException {
        String cfg = CONFIGS.resolve("direct-paging.json").toString();
        Cli.Result bound = Cli.run("explore", cfg, "--depth", "2", "--workers", "1", "--report", dir.resolve("r")
                .toString(), "--out", dir.resolve("found").toString());
        assertThat(bound.exit()).as(bound.all()).isEqualTo(3);
        assertThat(bound.out()).contains("depth bound 2 reached before exhausting", "distinct states",
                "fingerprint collision probability", "d1v0 mmuext_op pin_l1_table 0x14");
        assertThat(dir.resolve("r/report.json")).content().contains("\"outcome\": \"depth bound\"",
                "\"distinctStates\"");
        assertThat(dir.resolve("r/report.md")).content().contains("# hybridv explore: direct-paging");
        Cli.Result found = Cli.run("explore", cfg, "--fault", "xen-slot-update", "--out", dir.resolve("found")
                .toString());
        assertThat(found.exit()).as(found.all()).isEqualTo(1);
        assertThat(found.out()).contains("violation at depth 1", "wrote ");
        try (Stream<Path> s = Files.list(dir.resolve("found"))) {
            assertThat(s.toList()).hasSize(1);
        }
        Cli.Result states = Cli.run("explore", cfg, "--max-states", "5", "--out", dir.resolve("found").toString());
        assertThat(states.exit()).as(states.all()).isEqualTo(3);
        assertThat(states.out()).contains("state bound 5 reached");
    }

    /**
     * A vCPU created with a VPID another domain's vCPU uses (CTL-5): without the fault the hypervisor refuses VPID 1
     * and the toolstack takes the lowest free one (VPIDs 1-6 are the six vCPUs of the world: 7), so d1v0's TLB
     * entries stay d1's and the world is exhausted; with the fault the new vCPU is built with VPID 1, and the
     * initial state already violates I6 (VPID rule: two vCPUs of different domains share the tag their TLB entries
     * carry, SDM Vol. 3C §28.3.1), found at depth 0; the scenario written builds the same vCPU and replays.
     */
    @Test
    void aVcpuCreatedWithAnotherDomainsVpid(@TempDir Path dir) throws Exception {
        Exploration clean = explore("new-vcpu", 2, config("new-vcpu").depth());
        assertThat(clean.result().outcome()).as(clean.verdictLine()).isEqualTo(Explorer.Outcome.EXHAUSTED);
        assertThat(clean.system().initialStates().get(0)).isInstanceOfSatisfying(org.hybridv.xen.XenMachine.class,
                m -> assertThat(m.vcpu(new org.hybridv.xen.VcpuId(3, 2)).vpid()).isEqualTo(7));
        Exploration x = explore("new-vcpu", 2, config("new-vcpu").depth(), "vpid-shared-across-domains");
        assertThat(x.result().outcome()).as(x.verdictLine()).isEqualTo(Explorer.Outcome.VIOLATION);
        Explorer.Finding f = x.result().finding().orElseThrow();
        assertThat(f.depth()).isZero();
        assertThat(f.verdict()).isInstanceOfSatisfying(Verdict.Violated.class, v -> {
            assertThat(v.invariant()).isEqualTo("I6");
            assertThat(v.rule()).isEqualTo("VPID");
        });
        Capture.Written w = x.writeCounterexample(dir).orElseThrow();
        assertThat(Files.readString(w.file()).replaceAll("\\s+", "")).contains("{\"vpid\":1,\"cr3\":0}");
        Cli.Result replay = Cli.run("replay", "-q", w.file().toString());
        assertThat(replay.exit()).as(replay.all()).isZero();
    }

    /**
     * hybridv faults --explore: a fault of the direct-paging core (SP-1: one mmu_update with PS in an L2), one of
     * SWITCH_MMU (PRE-1: from CPL 3, after the hypercall page) and the VPID fault (in the world that creates a vCPU
     * with a VPID in use): found at depths 1, 2 and 0; exit 0 (every fault with a configuration found).
     */
    /**
     * The SMP kernel's configuration, exhausted at its CI bound: the measured state count per depth (the setup —
     * boot, process 1, page 0 mapped — is the initial state; the AP's bring-up, CPU 1's switch to process 1 and read
     * of page 0, SWITCH_MMU and the unmap in every order). A change of the kernel or the hypervisor that adds or
     * merges states shows here. Among the orders are a switch with the sibling running on pCPU 1 (PRE-3), an unmap
     * before it (a flush IPI to CPU 1) and one after it (MMUEXT_INVLPG_MULTI); I1-I8 hold on each of the 2,020
     * transitions.
     */
    @Test
    void theSmpSwitchConfigurationHasItsMeasuredStateCount() throws Exception {
        Exploration x = explore("hybrid-smp-switch", 2, config("hybrid-smp-switch").ciDepth());
        assertThat(x.result().outcome()).isEqualTo(Explorer.Outcome.EXHAUSTED);
        assertThat(x.result().distinct()).isEqualTo(404);
        assertThat(x.result().levels()).containsExactly(1L, 3L, 8L, 22L, 50L, 82L, 98L, 80L, 44L, 14L, 2L, 0L);
    }

    @Test
    void faultsExploreReportsEachFaultInItsConfiguration() {
        Cli.Result r = Cli.run("faults", "--explore", "--workers", "2", "--fault", "superpage-accepted", "--fault",
                "switch-mmu-from-user", "--fault", "vpid-shared-across-domains");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).containsPattern("superpage-accepted +SP-1 +direct-paging +I2 SP-1 +1 ")
                .containsPattern("switch-mmu-from-user +PRE-1 +hybrid-switch +I7 I7-hypercall +2 ")
                .containsPattern("vpid-shared-across-domains +VPID +new-vcpu +I6 VPID +0 ")
                .contains("3 of 3 faults with a configuration found by exploration; 0 without a configuration");
        Cli.Result bad = Cli.run("faults", "--explore", "--save");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("--save and --found do not go with --explore");
    }

    @Test
    void theSchemaAcceptsTheShippedConfigurationsAndRejectsAMisspeltField() throws IOException {
        com.fasterxml.jackson.databind.ObjectMapper mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        com.networknt.schema.JsonSchema schema = com.networknt.schema.JsonSchemaFactory.getInstance(
                com.networknt.schema.SpecVersion.VersionFlag.V202012).getSchema(mapper.readTree(CONFIGS.resolve(
                        "explore-config.schema.json").toFile()));
        for (String name : List.of("direct-paging", "isolation", "spare-frames", "hybrid-switch", "pv-grant",
                "pv-evtchn", "emulation", "detect", "mmu-batch", "pv-block")) {
            com.fasterxml.jackson.databind.JsonNode doc = mapper.readTree(CONFIGS.resolve(name + ".json").toFile());
            assertThat(schema.validate(doc)).as(name).isEmpty();
            ((com.fasterxml.jackson.databind.node.ObjectNode) doc.get("actions").get(0)).put("colour", 1);
            assertThat(schema.validate(doc)).as(name + " with a misspelt field").isNotEmpty();
        }
    }

    @Test
    void aBadConfigurationIsOneLineWithFileLineAndColumn(@TempDir Path dir) throws IOException {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\n  \"name\": \"x\",\n  \"colour\": 1\n}\n");
        Cli.Result r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err()).contains("bad.json:3:", "unknown field \"colour\"").doesNotContain("Exception", "\tat ");
        String good = Files.readString(CONFIGS.resolve("isolation.json"));
        Files.writeString(bad, good.replace("\"d1v1\"", "\"d9v0\""));
        r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).contains("bad.json", "actions[0].vcpus", "d9v0").doesNotContain("Exception");
        Files.writeString(bad, good.replace("\"mmu_update\"", "\"mmu_updat\""));
        r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).containsPattern("bad.json:\\d+:\\d+: actions\\[0\\]: unknown or missing action kind"
                + " \"mmu_updat\"");
        Files.writeString(bad, good.replace("\"0x13\"", "\"0xZZ\""));
        r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).containsPattern("bad.json:\\d+:\\d+: .*\"0xZZ\" is not a number");
        // the hybrid world's kernel operations: a kind of the other world, an unknown operation, a field it does not take
        Files.writeString(bad, good.replace("\"kind\": \"access\"", "\"kind\": \"kernel\", \"do\": \"idle\""));
        r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err()).containsPattern("bad.json:\\d+:\\d+: ");
        String hybrid = Files.readString(CONFIGS.resolve("hybrid-switch.json"));
        Files.writeString(bad, hybrid.replace("\"do\": \"syscall\"", "\"do\": \"reboot\""));
        r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).containsPattern("bad.json:\\d+:\\d+: .*kernel operation \"reboot\" is not one of");
        Files.writeString(bad, hybrid.replace("\"do\": \"syscall\"", "\"do\": \"syscall\", \"page\": [0]"));
        r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).containsPattern("bad.json:\\d+:\\d+: .*kernel operation syscall takes no \"page\"");
        Files.writeString(bad, hybrid.replace("\"I8\"]", "\"I8\", \"I9\"]"));
        r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).contains("invariant \"I9\" is not one of");
        // newVcpus: a domain the world does not have; a CPL out of range; in a hybrid world
        String vcpus = Files.readString(CONFIGS.resolve("new-vcpu.json"));
        Files.writeString(bad, vcpus.replace("\"domain\": 3", "\"domain\": 9"));
        r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err().lines()).hasSize(1);
        assertThat(r.err()).contains("bad.json", "newVcpus[0]: no domain 9").doesNotContain("Exception");
        Files.writeString(bad, vcpus.replace("\"cr3\": 0}", "\"cr3\": 0, \"cpl\": 4}"));
        r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).containsPattern("bad.json:\\d+:\\d+: .*newVcpus: cpl 4 is outside 0..3");
        Files.writeString(bad, hybrid.replace("\"actions\"", "\"newVcpus\": [{\"domain\": 1, \"vpid\": 9, \"cr3\": 0}],"
                + " \"actions\""));
        r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).contains("newVcpus is for the hypervisor world");
        // schedule: a pCPU the world lacks; on a one-pCPU world
        String smp = Files.readString(CONFIGS.resolve("smp-shootdown.json"));
        Files.writeString(bad, smp.replace("\"to\": [1, 0]", "\"to\": [2, 0]"));
        r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).contains("schedule to pCPU 2, but the world has 2 pCPU(s)");
        Files.writeString(bad, smp.replace("\"pcpus\": 2,", ""));
        r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).contains("schedule needs a world with several pCPUs");
        // deliver_ipi: a pCPU the world lacks
        String race = Files.readString(CONFIGS.resolve("smp-race.json"));
        Files.writeString(bad, race.replace("\"pcpus\": [1]", "\"pcpus\": [2]"));
        r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).contains("deliver_ipi on pCPU 2, but the world has 2 pCPU(s)");
        // the interface worlds: a batch on one pCPU, a pvSetup the hypervisor refuses, a list a command does not take
        String batch = Files.readString(CONFIGS.resolve("mmu-batch.json"));
        Files.writeString(bad, batch.replace("\"pcpus\": 2,", "").replace(
                "{\"kind\": \"schedule\", \"vcpus\": [\"d1v1\"], \"to\": [1]},", ""));
        r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).containsPattern("bad.json:\\d+:\\d+: .*mmu_batch needs a world with several pCPUs")
                .doesNotContain("\tat ");
        String grant = Files.readString(CONFIGS.resolve("pv-grant.json"));
        Files.writeString(bad, grant.replace("\"sharedInfo\": \"0x2a\"", "\"sharedInfo\": \"0x30\""));
        r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).contains("pvSetup[0]: the hypervisor refuses");
        String evtchn = Files.readString(CONFIGS.resolve("pv-evtchn.json"));
        Files.writeString(bad, evtchn.replace("\"cmds\": [\"alloc_unbound\"], \"domains\": [1]",
                "\"cmds\": [\"alloc_unbound\"], \"domains\": [1], \"ports\": [1]"));
        r = Cli.run("explore", bad.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).containsPattern("bad.json:\\d+:\\d+: .*\"ports\" goes only with bind_interdomain");
        r = Cli.run("explore", dir.resolve("missing.json").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("missing.json");
    }
}
