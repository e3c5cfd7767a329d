package org.hybridv.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** A kernel scenario with seeded faults: the hypervisor of the {@code kernel} section is built with them. */
class FaultScenarioTest {
    /** A shadow-mode kernel that installs the hypercall page, then SWITCH_MMU with a defective root. */
    static String kernel(String top, boolean check) {
        return "{\"format\": \"hybridv-scenario/1\", \"title\": \"t\", " + top + "\n"
                + " \"machine\": {\"memoryFrames\": 1, \"maxPhysAddr\": 40, \"kernel\": {\"platform\": \"shadow\","
                + " \"frames\": 64}},\n"
                + " \"steps\": [\n"
                + "{\"op\": \"kernel\", \"do\": \"boot\", \"to\": \"HYPERCALL_PAGE_INSTALLED\"},\n"
                + "{\"op\": \"kernel\", \"do\": \"switchMmu\", \"root\": \"writablePageTable\"}"
                + (check ? ",\n{\"op\": \"checkHybrid\"}" : "") + "\n]}\n";
    }

    @Test
    void aKernelSectionGetsTheFaultsAndTheViolationIsReproducedByAStepNote() {
        Replay r = ScenarioText.replay(kernel("\"faults\": [\"switch-mmu-top-level-only\"], \"violates\": \"I2\",",
                false));
        assertThat(r.verdict()).as(r.toString()).isEqualTo(Verdict.PASSED);
        assertThat(r.steps().get(1).result().notes()).anyMatch(n -> n.startsWith("I2 violated by this step"));
        assertThat(r.steps().get(1).result().checks()).contains(new Check("violates", "I2 violated by some step",
                "I2 violated by step 2", true));
    }

    @Test
    void orByACheckHybridFact() {
        Replay r = ScenarioText.replay(kernel("\"faults\": [\"switch-mmu-top-level-only\"], \"violates\": \"I5\",",
                true));
        assertThat(r.verdict()).as(r.toString()).isEqualTo(Verdict.PASSED);
        assertThat(r.steps().get(2).result().observed().facts()).containsEntry("I5", "violated");
    }

    @Test
    void withoutTheFaultTheRootIsRefusedAndTheViolationIsNotReproduced() {
        Replay r = ScenarioText.replay(kernel("\"violates\": \"I2\",", true));
        assertThat(r.verdict()).isEqualTo(Verdict.FAILED);
        assertThat(r.steps().get(2).result().observed().facts()).containsEntry("I2", "holds");
        assertThat(r.failedChecks()).isEqualTo(1);
    }
}
