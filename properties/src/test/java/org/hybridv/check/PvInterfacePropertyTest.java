package org.hybridv.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.hybridv.xen.Fault;
import org.hybridv.xen.Faults;
import org.junit.jupiter.api.Test;

/**
 * The PV-interface property (docs/pv-interfaces.md): the reference passes the CI budget with every coverage floor
 * reached, and each of the PV faults is caught by the property itself within it, by the invariant its rule
 * names (I1 for the grant faults, I10 for the misrouted send, I11-blk for the block back-end's leaked data mapping).
 */
class PvInterfacePropertyTest {
    @Test
    void theReferencePassesWithEveryFloorReached() {
        Campaign.Result<?> r = Campaign.run(new PvInterfaceProperty(), Campaign.Config.of(KillMatrixTest.SEED,
                KillMatrixTest.CI_TRIES, Faults.NONE));
        assertThat(r.passed()).as("%s %s", r.failure().map(x -> x.violation().toString()), r.harnessError())
                .isTrue();
        assertThat(r.coverage().missed(new PvInterfaceProperty().floors())).as("%s", r.coverage().counts()).isEmpty();
    }

    /**
     * A read-only grant mapped writable is caught by I1 when d1 maps it into its page tables, or by I11-blk when the
     * block back-end maps the front-end's read-only data grant writable for a READ and writes the page (I1 covers
     * direct-mode tables and TLBs, not a HAP mapper's EPT leaf); whichever the campaign reaches first.
     */
    @Test
    void eachPvFaultIsCaughtByItsInvariant() {
        List<Object[]> cases = List.of(new Object[] {Fault.GRANT_UNMAP_NO_FLUSH, List.of("I1")},
                new Object[] {Fault.GRANT_READONLY_MAPPED_WRITABLE, List.of("I1", "I11-blk")},
                new Object[] {Fault.EVTCHN_SEND_TO_FOREIGN_PORT, List.of("I10")},
                new Object[] {Fault.BLKBACK_DATA_MAPPING_LEAKED, List.of("I11-blk")});
        for (Object[] c : cases) {
            Fault f = (Fault) c[0];
            Campaign.Result<?> r = Campaign.run(new PvInterfaceProperty(), Campaign.Config.of(KillMatrixTest.SEED,
                    KillMatrixTest.CI_TRIES, Faults.of(f)));
            assertThat(r.failure()).as(f.id()).isPresent();
            assertThat(r.failure().get().violation().invariant()).as(f.id()).isIn((List<?>) c[1]);
        }
    }

    /**
     * Generated runs — with the adversarial grant, send and event-channel ops — written as scenarios replay and pass;
     * written as an I7 counterexample at a hypercall op, that op's step expects the outcome {@link PvRules} gives, and
     * at a serving step of the block back-end, the responses {@link BlkRules} gives — which the fault-free reference
     * meets. (A hypercall of a blocked vCPU does not run: no rule is at stake, and the run is replayed as it is.)
     */
    @Test
    void generatedRunsReplayAsScenariosAndI7StepsExpectTheRulesOutcome(@org.junit.jupiter.api.io.TempDir
            java.nio.file.Path dir) throws Exception {
        org.hybridv.scenario.Scenarios scenarios = new org.hybridv.scenario.Scenarios(
                org.hybridv.scenario.modules.Modules.standard());
        PvInterfaceProperty p = new PvInterfaceProperty();
        int i7 = 0;
        int serves = 0;
        for (int seed = 0; seed < 60; seed++) {
            PvInterfaceProperty.Run run = p.generate(org.hybridv.gen.Choices.random(seed));
            for (int j = 0; j < run.ops().size() && seed % 2 == 1; j++) {
                if (run.ops().get(j).kind() == org.hybridv.gen.PvInterfaceCases.Kind.BLK_SERVE) {
                    run = new PvInterfaceProperty.Run(run.ringBase(), run.ops().subList(0, j + 1)); // up to a serve
                    break;
                }
            }
            int last = run.ops().size();
            org.hybridv.gen.PvInterfaceCases.Op lastOp = run.ops().get(last - 1);
            org.hybridv.xen.XenMachine pre = org.hybridv.gen.PvInterfaceCases.machine(Faults.NONE, run.ringBase());
            for (int i = 0; i < last - 1; i++) {
                pre = PvInterfaceProperty.apply(pre, run.ops().get(i));
            }
            boolean serve = lastOp.kind() == org.hybridv.gen.PvInterfaceCases.Kind.BLK_SERVE;
            serves += serve ? 1 : 0;
            boolean call = serve || PvInterfaceProperty.call(lastOp) != null
                    && !pre.vcpu(PvInterfaceProperty.caller(lastOp)).blocked();
            com.fasterxml.jackson.databind.node.ObjectNode body = p.scenario(run, Faults.NONE, new Verdict.Violated(
                    call ? "I7" : "I1", "-", call ? last : Integer.MAX_VALUE, "-"));
            com.fasterxml.jackson.databind.node.ArrayNode steps = body.withArray("steps");
            if (call) {
                i7++;
                assertThat(steps.get(steps.size() - 1).get("expect").get("result").asText()).isIn("ok", "refused");
            } else {
                ((com.fasterxml.jackson.databind.node.ObjectNode) steps.get(steps.size() - 1)).remove("expect");
            }
            com.fasterxml.jackson.databind.node.ObjectNode doc = com.fasterxml.jackson.databind.node.JsonNodeFactory
                    .instance.objectNode();
            doc.put("format", "hybridv-scenario/1");
            doc.put("title", "pv" + seed);
            doc.set("machine", body.get("machine"));
            doc.set("steps", steps);
            java.nio.file.Path f = dir.resolve("pv" + seed + ".json");
            java.nio.file.Files.write(f, Capture.bytes(doc));
            org.hybridv.scenario.Replay r = scenarios.replay(f);
            assertThat(r.verdict()).as("%s %s", run, r.error()).isEqualTo(org.hybridv.scenario.Verdict.PASSED);
        }
        assertThat(i7).isPositive();
        assertThat(serves).as("runs ending in a serving step").isPositive();
    }

    /**
     * I10 judges a send that runs. A vCPU blocked in SCHEDOP_block (TIME-3) runs nothing: its send leaves every port,
     * selector and upcall flag as they were and owes no notification. (Found by `hybridv check --seed 7`: the property
     * judged a blocked d1v0's send as if it had run and reported I10.)
     */
    @Test
    void aBlockedVcpusSendIsNoSend() {
        org.hybridv.xen.XenMachine m = org.hybridv.gen.PvInterfaceCases.machine(Faults.NONE);
        org.hybridv.xen.VcpuId k = org.hybridv.gen.PvInterfaceCases.K;
        org.hybridv.xen.HvStep block = org.hybridv.xen.Hypervisor.hypercall(m, k, org.hybridv.xen.Hypercall.of(
                org.hybridv.xen.PvHypercalls.HYPERVISOR_SCHED_OP, org.hybridv.xen.VirtualTime.SCHEDOP_BLOCK));
        org.hybridv.xen.XenMachine blocked = block.machine();
        assertThat(blocked.vcpu(k).blocked()).as("d1v0 blocked: %s", block.outcome()).isTrue();
        org.hybridv.xen.HvStep send = org.hybridv.xen.Hypervisor.run(blocked, k,
                new org.hybridv.vmx.GuestInstruction.Vmcall(),
                org.hybridv.xen.Hypercall.of(32, org.hybridv.xen.EventChannels.EVTCHNOP_SEND, 1));
        assertThat(send.machine().memory()).as("the blocked vCPU's send changed nothing: %s", send.outcome())
                .isEqualTo(blocked.memory());
        assertThat(org.hybridv.invariants.PvInvariants.checkSend(blocked, send.machine(), k, 1).holds()).isTrue();
        // the same step judged as a send of the domain that ran: it should have notified d2, and did not
        assertThat(org.hybridv.invariants.PvInvariants.checkSend(blocked, send.machine(), 1, 1).holds()).isFalse();
    }
}
