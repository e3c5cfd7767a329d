package org.hybridv.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.scenario.ScenarioText.FOUR_LEVELS;
import static org.hybridv.scenario.ScenarioText.LONG_MODE;
import static org.hybridv.scenario.ScenarioText.replay;
import static org.hybridv.scenario.ScenarioText.scenario;

import org.junit.jupiter.api.Test;

/** Running scenarios: verdicts, checks, and the semantics of the x86 steps the format defines. */
class ReplayerTest {
    private static final String PTE_USER_RO = "{\"op\": \"pte\", \"table\": 4, \"index\": 0, \"entry\": {\"present\":"
            + " true, \"user\": true, \"frame\": 9}}";

    @Test
    void aHoldingExpectationPassesAndAWrongOneFailsAtItsStep() {
        String write = "{\"op\": \"access\", \"linear\": \"0x0\", \"kind\": \"write\", \"cpl\": 3, \"expect\":"
                + " {\"result\": \"pageFault\", \"errorCode\": \"%s\", \"cr2\": \"0x0\"}}";
        Replay ok = replay(scenario(FOUR_LEVELS, PTE_USER_RO, LONG_MODE, write.formatted("0x7")));
        assertThat(ok.verdict()).isEqualTo(Verdict.PASSED);
        Replay wrong = replay(scenario(FOUR_LEVELS, PTE_USER_RO, LONG_MODE, write.formatted("0x5")));
        assertThat(wrong.verdict()).isEqualTo(Verdict.FAILED);
        assertThat(wrong.failedSteps()).hasSize(1);
        StepReport failed = wrong.failedSteps().get(0);
        assertThat(failed.step().number()).isEqualTo(6);
        assertThat(failed.result().checks()).filteredOn(c -> !c.holds()).singleElement().hasToString(
                "errorCode: expected 0x5 (P|U), observed 0x7 (P|W|U)");
    }

    @Test
    void everyStepRunsAfterAFailedCheck() {
        Replay r = replay(scenario(
                "{\"op\": \"access\", \"linear\": 0, \"kind\": \"read\", \"expect\": {\"result\": \"pageFault\"}}",
                "{\"op\": \"access\", \"linear\": 8, \"kind\": \"read\", \"expect\": {\"result\": \"ok\"}}"));
        assertThat(r.steps()).hasSize(2);
        assertThat(r.failedChecks()).isEqualTo(1);
        assertThat(r.checks()).isEqualTo(2);
    }

    @Test
    void anAccessWithoutExpectOnlyObserves() {
        Replay r = replay(scenario(LONG_MODE, "{\"op\": \"access\", \"linear\": 0, \"kind\": \"read\"}"));
        assertThat(r.verdict()).isEqualTo(Verdict.PASSED);
        assertThat(r.steps().get(1).result().checks()).isEmpty();
        assertThat(r.steps().get(1).result().observed().result()).isEqualTo("pageFault");
    }

    @Test
    void aCpuStepThatFaultsWithoutExpectFailsAndStopsAtTheFault() {
        Replay r = replay(scenario("{\"op\": \"cpu\", \"efer\": {\"nxe\": true}, \"cr0\": {\"pg\": true},"
                + " \"cpl\": 3}", "{\"op\": \"expectCpu\", \"efer\": \"0x800\", \"cr0\": 0, \"cpl\": 0}"));
        assertThat(r.verdict()).isEqualTo(Verdict.FAILED);
        assertThat(r.steps().get(0).result().observed().text()).contains("#GP(0): MOV to CR0 sets PG with PE clear");
        assertThat(r.steps().get(1).holds()).as("EFER kept, CR0 and CPL unchanged").isTrue();
    }

    @Test
    void cpuStepEntersLongModeWithPcidInOneStep() {
        Replay r = replay(scenario(FOUR_LEVELS, PTE_USER_RO,
                "{\"op\": \"cpu\", \"cr3\": {\"frame\": 1, \"pcid\": 5}, \"cr4\": {\"pae\": true, \"pcide\": true,"
                        + " \"pge\": true}, \"efer\": {\"lme\": true}, \"cr0\": {\"pe\": true, \"pg\": true}, \"cpl\": 3}",
                "{\"op\": \"expectCpu\", \"cr3\": \"0x1005\", \"cr4\": \"0x200a0\", \"efer\": \"0x500\", \"cpl\": 3}",
                "{\"op\": \"access\", \"linear\": 0, \"kind\": \"read\", \"expect\": {\"result\": \"ok\"}}",
                "{\"op\": \"expectTlb\", \"linear\": 0, \"pcid\": 5, \"cached\": true}"));
        assertThat(r.verdict()).as(r.toString()).isEqualTo(Verdict.PASSED);
    }

    @Test
    void cpuStepLeavesPagingBeforeClearingLme() {
        Replay r = replay(scenario(LONG_MODE, "{\"op\": \"cpu\", \"efer\": {\"lme\": false}, \"cr0\": {\"pg\": false}}",
                "{\"op\": \"expectCpu\", \"cr0\": 1, \"efer\": 0}"));
        assertThat(r.verdict()).isEqualTo(Verdict.PASSED);
    }

    @Test
    void cpuStepWritesAtCplZeroAndAccessCplIsForOneAccess() {
        Replay r = replay(scenario(FOUR_LEVELS, PTE_USER_RO, LONG_MODE,
                "{\"op\": \"cpu\", \"cpl\": 3}",
                "{\"op\": \"cpu\", \"cr0\": {\"wp\": true}, \"cpl\": 3}",
                "{\"op\": \"access\", \"linear\": 0, \"kind\": \"read\", \"cpl\": 0, \"expect\": {\"result\": \"ok\"}}",
                "{\"op\": \"expectCpu\", \"cpl\": 3, \"cr0\": \"0x80010001\"}",
                "{\"op\": \"movToCr3\", \"value\": \"0x1000\", \"expect\": {\"result\": \"generalProtection\"}}"));
        assertThat(r.verdict()).isEqualTo(Verdict.PASSED);
    }

    @Test
    void aStepTheReferenceCannotRunMakesTheFileUnusable() {
        Replay r = replay(scenario("{\"op\": \"invlpg\", \"linear\": 0}",
                "{\"op\": \"cpu\", \"cr0\": {\"pe\": true, \"pg\": true}}"));
        assertThat(r.verdict()).isEqualTo(Verdict.UNUSABLE);
        assertThat(r.steps()).hasSize(1);
        assertThat(r.error().line()).isEqualTo("t.json:5:1: error: step 2 (cpu): the reference cannot run this step:"
                + " MOV to CR0 sets PG with EFER.LME = 0: 32-bit and PAE paging are out of scope (only IA-32e paging"
                + " is modelled)");
    }

    @Test
    void expectTlbAttributesOnAnUncachedAddressFail() {
        Replay r = replay(scenario("{\"op\": \"expectTlb\", \"linear\": 0, \"physical\": \"0x9000\"}"));
        assertThat(r.verdict()).isEqualTo(Verdict.FAILED);
        assertThat(r.steps().get(0).result().checks()).singleElement().hasToString(
                "cached: expected true, observed false");
    }

    @Test
    void aPteToUnbackedMemoryIsNoted() {
        Replay r = replay(scenario("{\"op\": \"pte\", \"table\": 4, \"index\": 0, \"entry\": {\"present\": true,"
                + " \"frame\": 4096}}"));
        assertThat(r.steps().get(0).result().notes()).singleElement().asString()
                .contains("frame 0x1000, beyond memoryFrames = 16: unbacked memory");
    }

    @Test
    void replayIsDeterministic() {
        String text = scenario(FOUR_LEVELS, PTE_USER_RO, LONG_MODE,
                "{\"op\": \"access\", \"linear\": 0, \"kind\": \"read\"}",
                "{\"op\": \"access\", \"linear\": 8, \"kind\": \"write\", \"value\": 5}");
        assertThat(replay(text).steps()).isEqualTo(replay(text).steps());
    }
}
