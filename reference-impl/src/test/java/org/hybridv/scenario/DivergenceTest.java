package org.hybridv.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.scenario.ScenarioText.FOUR_LEVELS;
import static org.hybridv.scenario.ScenarioText.replay;
import static org.hybridv.scenario.ScenarioText.scenario;

import org.junit.jupiter.api.Test;

/**
 * A step that cannot run because an earlier step observed something other than expected is part of that failure
 * (the machine diverged from the scenario): the replay fails at the earlier step and the rest is not run. Only a step
 * that cannot run while every earlier expectation held makes the file unusable.
 */
class DivergenceTest {
    /** A guest whose supervisor-mode #PF exits (exception bitmap bit 14, PFEC_MASK U/S, PFEC_MATCH 0). */
    private static final String GUEST = String.join(",\n", FOUR_LEVELS,
            "{\"op\": \"vmcs\", \"exceptionBitmap\": \"0x4000\", \"pfecMask\": \"0x4\", \"pfecMatch\": \"0x0\","
                    + " \"guest\": {\"cr3\": {\"frame\": 1}}}",
            "{\"op\": \"vmlaunch\"}");
    /** Step 6: a supervisor read of a not-present page; it exits (SDM §24.6.3), here expected to be delivered. */
    private static final String EXPECTED_NO_EXIT = "{\"op\": \"guestAccess\", \"linear\": \"0x2000\", \"kind\":"
            + " \"read\", \"expect\": {\"result\": \"delivered\", \"vector\": 14}}";
    private static final String GUEST_READ = "{\"op\": \"guestAccess\", \"linear\": \"0x0\", \"kind\": \"read\"}";

    @Test
    void aGuestInstructionAfterAnExitThatWasNotExpectedIsNotRunAndTheExitIsTheFailure() {
        Replay r = replay(scenario(GUEST, EXPECTED_NO_EXIT, GUEST_READ, "{\"op\": \"expectCpu\", \"cpl\": 0}"));
        assertThat(r.error()).isNull();
        assertThat(r.verdict()).isEqualTo(Verdict.FAILED);
        assertThat(r.steps()).hasSize(6);
        assertThat(r.failedSteps()).singleElement().extracting(s -> s.step().number()).isEqualTo(6);
        NotRun n = r.notRun();
        assertThat(n.step()).isEqualTo(7);
        assertThat(n.op()).isEqualTo("guestAccess");
        assertThat(n.divergedAt()).isEqualTo(6);
        assertThat(n.count()).isEqualTo(2);
        assertThat(n.last()).isEqualTo(8);
        assertThat(n.location()).isEqualTo(new SourceLocation(10, 1));
        assertThat(n.reason()).isEqualTo("guestAccess is a guest instruction: it runs only in VMX non-root"
                + " operation; enter the guest with vmresume");
    }

    @Test
    void aStepThatCannotRunAfterExpectationsThatAllHeldIsUnusableInput() {
        String expectedExit = "{\"op\": \"guestAccess\", \"linear\": \"0x2000\", \"kind\": \"read\", \"expect\":"
                + " {\"result\": \"vmExit\", \"reason\": \"EXCEPTION_OR_NMI\"}}";
        Replay r = replay(scenario(GUEST, expectedExit, GUEST_READ));
        assertThat(r.verdict()).isEqualTo(Verdict.UNUSABLE);
        assertThat(r.notRun()).isNull();
        assertThat(r.error().step()).isEqualTo(7);
        assertThat(r.error().message()).startsWith("guestAccess is a guest instruction");
    }

    @Test
    void aStepTheReferenceCannotRunAfterADivergenceIsNotRunToo() {
        // step 1 expects an #GP that does not happen; step 2 then asks for 32-bit paging, which is out of scope
        Replay r = replay(scenario("{\"op\": \"access\", \"linear\": 0, \"kind\": \"read\", \"expect\": {\"result\":"
                + " \"generalProtection\"}}", "{\"op\": \"cpu\", \"cr0\": {\"pe\": true, \"pg\": true}}"));
        assertThat(r.verdict()).isEqualTo(Verdict.FAILED);
        assertThat(r.notRun().step()).isEqualTo(2);
        assertThat(r.notRun().divergedAt()).isEqualTo(1);
        assertThat(r.notRun().reason()).startsWith("the reference cannot run this step: MOV to CR0 sets PG");
    }

    @Test
    void theReportsKeepWhatWasObservedButNotTheMachine() {
        Replay r = replay(scenario(GUEST, EXPECTED_NO_EXIT));
        assertThat(r.steps()).allSatisfy(s -> assertThat(s.result().after()).isNull());
        assertThat(r.steps().get(5).result().observed().result()).isEqualTo("vmExit");
    }
}
