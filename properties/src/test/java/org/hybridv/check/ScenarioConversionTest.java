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

    @Test
    void generatedRunsReplayAsScenarios(@TempDir Path dir) throws Exception {
        for (int seed = 0; seed < 40; seed++) {
            HypervisorCases.Run h = HypervisorCases.generate(Choices.random(seed));
            ObjectNode hb = new HypervisorProperty().scenario(h, Faults.NONE, new org.hybridv.check.Verdict.Violated(
                    "I1", "-", h.ops().size(), "-"));
            ((ObjectNode) hb.withArray("steps").get(hb.withArray("steps").size() - 1)).remove("expect");
            Replay rh = scenarios.replay(write(dir, "h" + seed, hb));
            assertThat(rh.verdict()).as("%s %s", h, rh.error()).isEqualTo(Verdict.PASSED);

            org.hybridv.gen.HybridCases.Run k = org.hybridv.gen.HybridCases.generate(Choices.random(seed));
            ObjectNode kb = new HybridKernelProperty().scenario(k, Faults.NONE, new org.hybridv.check.Verdict.Violated(
                    "I3", "-", k.ops().size(), "-"));
            ((ObjectNode) kb.withArray("steps").get(kb.withArray("steps").size() - 1)).remove("expect");
            Replay rk = scenarios.replay(write(dir, "k" + seed, kb));
            assertThat(rk.verdict()).as("%s %s", k, rk.error()).isEqualTo(Verdict.PASSED);
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
            org.hybridv.gen.WholeSystemCases.Run w = org.hybridv.gen.WholeSystemCases.generate(Choices.random(seed));
            ObjectNode wb = new WholeSystemProperty().scenario(w, Faults.NONE, new org.hybridv.check.Verdict.Violated(
                    "I1", "-", w.ops().size(), "-"));
            ((ObjectNode) wb.withArray("steps").get(wb.withArray("steps").size() - 1)).remove("expect");
            Replay rw = scenarios.replay(write(dir, "w" + seed, wb));
            assertThat(rw.verdict()).as("%s %s", w, rw.error()).isEqualTo(Verdict.PASSED);
        }
    }
}
