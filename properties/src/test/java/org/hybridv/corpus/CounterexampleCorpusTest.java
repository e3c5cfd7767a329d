package org.hybridv.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.hybridv.cli.Cli;
import org.hybridv.cli.RepoRoot;
import org.hybridv.scenario.ParseResult;
import org.hybridv.scenario.Scenario;
import org.hybridv.scenario.ScenarioSources;
import org.hybridv.scenario.Scenarios;
import org.hybridv.scenario.modules.Modules;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every scenario under counterexamples/ is replayed as its own test, named by its path, and must hold: a
 * regression that breaks names itself in the Surefire report, with the failing steps in the message.
 */
class CounterexampleCorpusTest {
    private static final Path ROOT = RepoRoot.find();

    static List<Path> scenarios() {
        ScenarioSources.Expansion e = ScenarioSources.expand(List.of(ROOT.resolve("counterexamples").toString()));
        assertThat(e.errors()).isEmpty();
        return e.files();
    }

    @TestFactory
    Stream<DynamicTest> everyCounterexampleReplaysWithEveryExpectationHolding() {
        return scenarios().stream().map(file -> DynamicTest.dynamicTest(ROOT.relativize(file).toString(),
                file.toUri(), () -> {
                    Cli.Result r = Cli.run("replay", "--quiet", file.toString());
                    assertThat(r.exit()).as("%s", r.all()).isZero();
                }));
    }

    @Test
    void theRegressionsPinThePagingRulesWithSdmCitations() {
        Scenarios scenarios = new Scenarios(Modules.standard());
        List<Path> regressions = scenarios().stream()
                .filter(p -> p.startsWith(ROOT.resolve("counterexamples/regressions")))
                .filter(p -> !p.startsWith(ROOT.resolve("counterexamples/regressions/xen")))
                .filter(p -> !p.startsWith(ROOT.resolve("counterexamples/regressions/hybrid")))
                .filter(p -> !p.startsWith(ROOT.resolve("counterexamples/regressions/pv"))).toList();
        assertThat(regressions).hasSizeGreaterThanOrEqualTo(20);
        for (Path p : regressions) {
            ParseResult r = scenarios.parse(p);
            assertThat(r).as(p.toString()).isInstanceOf(ParseResult.Parsed.class);
            Scenario s = ((ParseResult.Parsed) r).scenario();
            assertThat(s.description()).as(p + " cites the SDM").contains("SDM").containsPattern("§\\d");
        }
    }

    /** The PV-interface regressions each pin a rule of the EVT-, TIME-, GNT- or BLK- families (docs/rules/xen.md). */
    @Test
    void thePvRegressionsPinTheirRules() {
        Scenarios scenarios = new Scenarios(Modules.standard());
        List<Path> pv = scenarios().stream().filter(p -> p.startsWith(ROOT.resolve("counterexamples/regressions/pv")))
                .toList();
        assertThat(pv).hasSizeGreaterThanOrEqualTo(25);
        for (Path p : pv) {
            ParseResult r = scenarios.parse(p);
            assertThat(r).as(p.toString()).isInstanceOf(ParseResult.Parsed.class);
            Scenario s = ((ParseResult.Parsed) r).scenario();
            assertThat(s.title() + " " + s.description()).as(p + " cites its rule")
                    .containsPattern("\\b(EVT|TIME|GNT|BOOT|EMU|BLK)-\\d+\\b|\\bI8-detect\\b");
        }
    }

    @Test
    void theVmxRegressionsPinTheVmxAndEptRulesWithVol3cCitations() {
        Scenarios scenarios = new Scenarios(Modules.standard());
        List<Path> vmx = scenarios().stream()
                .filter(p -> p.startsWith(ROOT.resolve("counterexamples/regressions/vmx"))).toList();
        assertThat(vmx).hasSizeGreaterThanOrEqualTo(30);
        for (Path p : vmx) {
            Scenario s = ((ParseResult.Parsed) scenarios.parse(p)).scenario();
            assertThat(s.description()).as(p + " cites SDM Vol. 3C").contains("Vol. 3C").containsPattern("§2[4-8]");
            assertThat(s.steps()).as(p + " enters a guest or checks VM entry").anyMatch(n -> n.step().op()
                    .equals("vmlaunch"));
        }
    }

    /**
     * The hypervisor regressions cite the rule IDs of the rulebook (docs/rules/xen.md, docs/rules/hybrid.md; or the
     * XSA) their expectations come from, and check the invariants.
     */
    @Test
    void theXenRegressionsCiteRuleIdsAndCheckTheInvariants() {
        Scenarios scenarios = new Scenarios(Modules.standard());
        List<Path> xen = scenarios().stream()
                .filter(p -> p.startsWith(ROOT.resolve("counterexamples/regressions/xen"))).toList();
        assertThat(xen).hasSizeGreaterThanOrEqualTo(25);
        for (Path p : xen) {
            Scenario s = ((ParseResult.Parsed) scenarios.parse(p)).scenario();
            assertThat(s.description()).as(p + " cites a rule ID")
                    .containsPattern("\\b(OWN|TYP|L1|LN|LIN|SP|SLOT|MU|MX|UVA|PTW|TLB|MISC|HAP|SH|XSA|BOOT|CTL"
                            + "|PRE|POST|INV|CTX)-\\d+");
            assertThat(s.steps()).as(p + " checks the invariants").anyMatch(n -> n.step().op()
                    .equals("checkInvariants"));
        }
    }

    /**
     * The hybrid-kernel regressions: at least 20, each citing the rule, contract clause, SDM section or invariant its
     * expectations come from, and each checking I1–I8 over its kernel steps.
     */
    @Test
    void theHybridRegressionsCiteTheirSourceAndCheckTheInvariants() {
        Scenarios scenarios = new Scenarios(Modules.standard());
        List<Path> hybrid = scenarios().stream()
                .filter(p -> p.startsWith(ROOT.resolve("counterexamples/regressions/hybrid"))).toList();
        assertThat(hybrid).hasSizeGreaterThanOrEqualTo(20);
        for (Path p : hybrid) {
            Scenario s = ((ParseResult.Parsed) scenarios.parse(p)).scenario();
            assertThat(s.description()).as(p + " cites its source")
                    .containsPattern("\\b(OWN|L1|LIN|SP|SLOT|MX|PTW|XSA|PRE|POST|INV|BOOT|CTL|I)-?\\d+|SDM");
            assertThat(s.steps()).as(p + " checks the invariants").anyMatch(n -> n.step().op()
                    .equals("checkHybrid"));
        }
    }
}
