package org.hybridv.scenario.pv;

import java.util.List;
import org.hybridv.scenario.Component;
import org.hybridv.scenario.MachineState;
import org.hybridv.scenario.Operation;
import org.hybridv.scenario.OperationRegistry;
import org.hybridv.scenario.ScenarioModule;
import org.hybridv.scenario.xen.XenModule;

/**
 * The para-virtual interface's scenario operations (docs/pv-interfaces.md): event channels, timer and idle, grant
 * tables. They run on the hypervisor of the {@code hypervisor} section ({@link XenModule}) and are refused without
 * one. State: {@link #HISTORY}, the first event-routing (I10) violation of the scenario's sends.
 */
public final class PvModule implements ScenarioModule {
    public static final Component<PvHistory> HISTORY = Component.of("pv", PvHistory.class);

    public static final List<String> OPS = List.of("pvSetup", "eventChannelOp", "grantTableOp", "vcpuOp", "schedOp",
            "grantAccess", "guestEvent", "advanceTime", "expectPv", "checkPv");

    @Override
    public String name() {
        return "pv";
    }

    @Override
    public void register(OperationRegistry.Builder r) {
        r.component(HISTORY, spec -> PvHistory.NONE);
        r.operation(Operation.of(PvStep.PvSetup.class, "a vCPU's PV bring-up: its shared-info page and grant table"
                + " (XENMEM_add_to_physmap) and its upcall vector (HVM_PARAM_CALLBACK_IRQ)",
                "{\"op\": \"pvSetup\", \"domain\": 1, \"vcpu\": 0, \"sharedInfo\": 42, \"grantTable\": 43,"
                        + " \"callbackVector\": 243, \"expect\": {\"result\": \"ok\"}}",
                PvExecutors::pvSetup));
        r.operation(Operation.of(PvStep.EventChannelOp.class, "event_channel_op: allocUnbound, bindInterdomain,"
                + " bindVirq, send (I10 checked), close, unmask; RAX the port for the allocating commands",
                "{\"op\": \"eventChannelOp\", \"domain\": 2, \"vcpu\": 0, \"cmd\": \"allocUnbound\", \"remoteDomain\":"
                        + " 1, \"expect\": {\"result\": \"ok\", \"rax\": 1}}",
                PvExecutors::eventChannelOp));
        r.operation(Operation.of(PvStep.GrantTableOp.class, "grant_table_op: mapGrantRef (RAX the map handle),"
                + " unmapGrantRef (with its TLB flush), copy",
                "{\"op\": \"grantTableOp\", \"domain\": 1, \"vcpu\": 0, \"cmd\": \"mapGrantRef\", \"hostAddr\":"
                        + " \"0x9000\", \"ref\": 0, \"grantDomain\": 2, \"expect\": {\"result\": \"ok\", \"rax\": 0}}",
                PvExecutors::grantTableOp));
        r.operation(Operation.of(PvStep.VcpuOp.class, "vcpu_op: setSingleshotTimer (deadline, future) or"
                + " stopSingleshotTimer",
                "{\"op\": \"vcpuOp\", \"domain\": 1, \"vcpu\": 0, \"cmd\": \"setSingleshotTimer\", \"deadline\": 10,"
                        + " \"expect\": {\"result\": \"ok\"}}",
                PvExecutors::vcpuOp));
        r.operation(Operation.of(PvStep.SchedOp.class, "sched_op: block (PV idle until an event) or yield",
                "{\"op\": \"schedOp\", \"domain\": 1, \"vcpu\": 0, \"cmd\": \"block\", \"expect\": {\"result\":"
                        + " \"ok\"}}",
                PvExecutors::schedOp));
        r.operation(Operation.of(PvStep.GrantAccess.class, "the granting guest writes (or ends) a grant entry in its"
                + " grant table",
                "{\"op\": \"grantAccess\", \"domain\": 2, \"ref\": 0, \"to\": 1, \"frame\": 55, \"readonly\": false}",
                PvExecutors::grantAccess));
        r.operation(Operation.of(PvStep.GuestEvent.class, "what the guest does itself: handleUpcall, mask a port,"
                + " cli, sti (an interrupt-window exit when one was requested)",
                "{\"op\": \"guestEvent\", \"domain\": 1, \"vcpu\": 0, \"action\": \"sti\", \"expect\": {\"result\":"
                        + " \"ok\", \"exits\": 0}}",
                PvExecutors::guestEvent));
        r.operation(Operation.of(PvStep.AdvanceTime.class, "machine time advances; due single-shot timers raise"
                + " VIRQ_TIMER", "{\"op\": \"advanceTime\", \"ticks\": 10}", PvExecutors::advanceTime));
        r.operation(Operation.of(PvStep.ExpectPv.class, "check PV facts: time, a vCPU's upcall and interrupt state, a"
                + " port's pending/mask/binding, mappings, a grant's flags",
                "{\"op\": \"expectPv\", \"domain\": 1, \"vcpu\": 0, \"port\": 1, \"pending\": true, \"binding\":"
                        + " \"interdomain d2:1\"}",
                PvExecutors::expectPv));
        r.operation(Operation.of(PvStep.CheckPv.class, "evaluate I9 (event integrity), I11 (grant hygiene) and I10"
                + " (event routing over every send so far)",
                "{\"op\": \"checkPv\", \"expect\": {\"I9\": \"holds\", \"I10\": \"holds\", \"I11\": \"holds\"}}",
                PvExecutors::checkPv));
        for (String op : OPS) {
            r.precondition(op, s -> configured(s) ? null : op + " runs on the hypervisor: add a \"hypervisor\""
                    + " section to machine (docs/scenario-format.md, Hypervisor)");
        }
    }

    private static boolean configured(MachineState s) {
        return s.get(XenModule.XEN).configured();
    }
}
