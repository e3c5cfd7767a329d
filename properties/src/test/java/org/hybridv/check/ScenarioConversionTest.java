package org.hybridv.check;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.hybridv.gen.Choices;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.scenario.ParseResult;
import org.hybridv.scenario.Replay;
import org.hybridv.scenario.Scenarios;
import org.hybridv.scenario.Verdict;
import org.hybridv.scenario.modules.Modules;
import org.hybridv.xen.Faults;
import org.hybridv.xen.XenMachine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The properties' runs written as scenarios build the same machine and replay step for step. */
class ScenarioConversionTest {
    private final Scenarios scenarios = new Scenarios(Modules.standard());

    private Path write(Path dir, String name, ObjectNode body) throws Exception {
        ObjectNode doc = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        doc.put("format", "hybridv-scenario/1");
        doc.put("title", name);
        doc.set("machine", body.get("machine"));
        doc.set("steps", body.get("steps"));
        Path p = dir.resolve(name + ".json");
        Files.write(p, Capture.bytes(doc));
        return p;
    }

    @Test
    void theHypervisorSectionBuildsTheGeneratorsMachine(@TempDir Path dir) throws Exception {
        HypervisorCases.Run run = HypervisorCases.generate(Choices.of());
        ObjectNode body = new HypervisorProperty().scenario(run, Faults.NONE, new org.hybridv.check.Verdict.Violated(
                "I1", "-", run.ops().size(), "-"));
        ParseResult r = scenarios.parse(write(dir, "machine", body));
        assertThat(r).isInstanceOf(ParseResult.Parsed.class);
        XenMachine parsed = ((ParseResult.Parsed) r).scenario().machine().section("hypervisor", XenMachine.class)
                .orElseThrow();
        assertThat(parsed).isEqualTo(HypervisorCases.initialMachine());
    }

    /**
     * The run of {@code property} from seed {@code seed}, written as a scenario as a counterexample would be but
     * without the final expectation of a violation, replays and passes: a fault-free run holds every invariant.
     */
    private <R> void replaysClean(SystemProperty<R> property, int seed, Path dir, String prefix) throws Exception {
        R run = property.generate(Choices.random(seed));
        // a placeholder violation after the last operation (so every operation is written); write() keeps only the
        // machine and the steps, not "violates"
        ObjectNode body = property.scenario(run, Faults.NONE, new org.hybridv.check.Verdict.Violated("I1", "-",
                Integer.MAX_VALUE, "-"));
        ((ObjectNode) body.withArray("steps").get(body.withArray("steps").size() - 1)).remove("expect");
        Replay r = scenarios.replay(write(dir, prefix + seed, body));
        assertThat(r.verdict()).as("%s %s", run, r.error()).isEqualTo(Verdict.PASSED);
    }

    @Test
    void generatedRunsReplayAsScenarios(@TempDir Path dir) throws Exception {
        for (int seed = 0; seed < 40; seed++) {
            replaysClean(new HypervisorProperty(), seed, dir, "h");
            replaysClean(new HybridKernelProperty(), seed, dir, "k");
        }
    }

    @Test
    void theWholeSystemMachineIsTheGeneratorsAndItsRunsReplay(@TempDir Path dir) throws Exception {
        for (org.hybridv.xen.MmuMode mode : java.util.List.of(org.hybridv.xen.MmuMode.SHADOW,
                org.hybridv.xen.MmuMode.HAP)) {
            for (int adversaries = 0; adversaries <= 2; adversaries++) {
                ObjectNode body = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
                body.set("machine", WholeSystemProperty.machine(mode, adversaries,
                        org.hybridv.gen.WholeSystemCases.KERNEL_VPID));
                body.putArray("steps").addObject().put("op", "checkHybrid");
                ParseResult r = scenarios.parse(write(dir, "m" + mode + adversaries, body));
                assertThat(r).as("%s", r).isInstanceOf(ParseResult.Parsed.class);
                XenMachine parsed = ((ParseResult.Parsed) r).scenario().machine().section("hypervisor",
                        XenMachine.class).orElseThrow();
                assertThat(parsed).isEqualTo(org.hybridv.gen.WholeSystemCases.machine(mode, adversaries));
            }
        }
        for (int seed = 0; seed < 30; seed++) {
            replaysClean(new WholeSystemProperty(), seed, dir, "w");
        }
    }
}
