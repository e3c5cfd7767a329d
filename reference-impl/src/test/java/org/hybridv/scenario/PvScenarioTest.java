package org.hybridv.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The PV-interface ops (docs/scenario-format.md, "PV interface"): a valid run replays; bad input is refused at the
 * field that is wrong, with what is wrong; the ops need a hypervisor.
 */
class PvScenarioTest {
    static final String D2 = "{\"id\": 2, \"mode\": \"direct\", \"frames\": [{\"from\": 32, \"to\": 47}], \"memory\": ["
            + "{\"table\": 32, \"index\": 0, \"entry\": {\"present\": true, \"writable\": true, \"frame\": 33}},"
            + "{\"table\": 33, \"index\": 0, \"entry\": {\"present\": true, \"writable\": true, \"frame\": 34}},"
            + "{\"table\": 34, \"index\": 0, \"entry\": {\"present\": true, \"writable\": true, \"frame\": 35}}],"
            + " \"vcpus\": [{\"vpid\": 2, \"cr3\": 32}]}";
    static final String DOMAINS = XenScenarioTest.D1 + ", " + D2;
    static final String SETUP1 = "{\"op\": \"pvSetup\", \"domain\": 1, \"sharedInfo\": 28, \"grantTable\": 29,"
            + " \"callbackVector\": 243, \"expect\": {\"result\": \"ok\"}}";
    static final String SETUP2 = "{\"op\": \"pvSetup\", \"domain\": 2, \"sharedInfo\": 44, \"grantTable\": 45,"
            + " \"callbackVector\": 243, \"expect\": {\"result\": \"ok\"}}";

    @Test
    void anEventRoundTripReplays() {
        Replay r = ScenarioText.replay(XenScenarioTest.xen(DOMAINS, SETUP1, SETUP2,
                "{\"op\": \"eventChannelOp\", \"domain\": 2, \"cmd\": \"allocUnbound\", \"remoteDomain\": 1,"
                        + " \"expect\": {\"result\": \"ok\", \"rax\": 1}}",
                "{\"op\": \"eventChannelOp\", \"domain\": 1, \"cmd\": \"bindInterdomain\", \"remoteDomain\": 2,"
                        + " \"remotePort\": 1, \"expect\": {\"result\": \"ok\", \"rax\": 1}}",
                "{\"op\": \"guestEvent\", \"domain\": 1, \"action\": \"handleUpcall\"}",
                "{\"op\": \"eventChannelOp\", \"domain\": 2, \"cmd\": \"send\", \"port\": 1}",
                "{\"op\": \"expectPv\", \"domain\": 1, \"port\": 1, \"pending\": true, \"upcallPending\": true}",
                "{\"op\": \"checkPv\", \"expect\": {\"I9\": \"holds\", \"I10\": \"holds\", \"I11\": \"holds\"}}"));
        assertThat(r.verdict()).as(r.toString()).isEqualTo(Verdict.PASSED);
    }

    @Test
    void aWrongExpectationFailsTheReplay() {
        Replay r = ScenarioText.replay(XenScenarioTest.xen(DOMAINS, SETUP1,
                "{\"op\": \"eventChannelOp\", \"domain\": 1, \"cmd\": \"send\", \"port\": 3, \"expect\":"
                        + " {\"result\": \"ok\"}}"));
        assertThat(r.verdict()).isEqualTo(Verdict.FAILED);
    }

    @Test
    void badInputNamesTheField() {
        assertThat(XenScenarioTest.error(XenScenarioTest.xen(DOMAINS, "{\"op\": \"eventChannelOp\", \"domain\": 1,"
                + " \"cmd\": \"send\"}"))).contains("step 1 (eventChannelOp)").contains("port");
        assertThat(XenScenarioTest.error(XenScenarioTest.xen(DOMAINS, "{\"op\": \"eventChannelOp\", \"domain\": 1,"
                + " \"cmd\": \"send\", \"port\": 1, \"virq\": 0}"))).contains("virq");
        assertThat(XenScenarioTest.error(XenScenarioTest.xen(DOMAINS, "{\"op\": \"grantTableOp\", \"domain\": 1,"
                + " \"cmd\": \"copy\", \"sourceDomain\": 2, \"sourceRef\": 0, \"sourceGfn\": 7, \"destDomain\": 1,"
                + " \"destGfn\": 30, \"len\": 8}"))).contains("sourceRef").contains("sourceGfn");
        assertThat(XenScenarioTest.error(XenScenarioTest.xen(DOMAINS, "{\"op\": \"eventChannelOp\", \"domain\": 1,"
                + " \"cmd\": \"send\", \"port\": 4096}"))).contains("port");
        assertThat(XenScenarioTest.error(XenScenarioTest.xen(DOMAINS, "{\"op\": \"expectPv\", \"domain\": 1,"
                + " \"pending\": true}"))).contains("port");
        assertThat(XenScenarioTest.error(XenScenarioTest.xen(DOMAINS, "{\"op\": \"guestEvent\", \"domain\": 3,"
                + " \"action\": \"cli\"}"))).contains("no domain d3");
    }

    @Test
    void theOpsNeedAHypervisor() {
        Replay r = ScenarioText.replay(ScenarioText.scenario("{\"op\": \"advanceTime\", \"ticks\": 1}"));
        assertThat(r.toString()).contains("advanceTime runs on the hypervisor");
    }
}
