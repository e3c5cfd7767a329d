package org.hybridv.scenario.xen;

import java.util.List;
import org.hybridv.scenario.Component;
import org.hybridv.scenario.MachineState;
import org.hybridv.scenario.Observation;
import org.hybridv.scenario.Operation;
import org.hybridv.scenario.OperationRegistry;
import org.hybridv.scenario.ScenarioModule;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.XenMachine;

/**
 * The hypervisor layer's scenario operations: the {@code hypervisor} section of {@code machine} and the
 * steps that run on it.
 *
 * <p>State: this module adds {@link #XEN}, which holds the whole {@link XenMachine} — machine memory, the pCPUs
 * (registers, TLBs, VMX state), frame table, domains, vCPUs — built from the section at parse time
 * ({@link HypervisorSection#build}). The XenMachine has its own processors and memory, so with a hypervisor the
 * x86 and VMX components stay unused: every op of the modules installed before this one ({@code pte},
 * {@code access}, {@code vmcs}, {@code guestAccess} …) is refused by a precondition naming the hypervisor op to
 * use, and this module's ops are refused without a hypervisor. One machine, one owner: a {@code pte} that wrote
 * the x86 memory while the hypervisor walked its own would show nothing.
 */
public final class XenModule implements ScenarioModule {
    /** The name of the section of {@code machine}. */
    public static final String SECTION = "hypervisor";
    /** The hypervisor's state, or {@link XenState#NONE}. */
    public static final Component<XenState> XEN = Component.of("xen", XenState.class);

    /** This module's op names (the hybrid module lets them run beside a kernel in a hypervisor domain). */
    public static final List<String> OPS = List.of("domainPte", "expectDomainEntry", "hypercall", "guest",
            "checkInvariants", "expectFrame", "schedule", "expectPcpu", "deliverIpi", "continueHypercall",
            "mmuextMulti", "mmuUpdateBatch", "preemptHypercall");

    @Override
    public String name() {
        return "xen";
    }

    @Override
    public void register(OperationRegistry.Builder r) {
        List<String> lower = r.operationNames();
        r.machineSection(SECTION, HypervisorSection::build);
        r.component(XEN, spec -> spec.section(SECTION, XenMachine.class).map(XenState::new).orElse(XenState.NONE));
        r.operation(Operation.of(XenStep.DomainPte.class, "the domain builder stores a quadword into machine memory"
                + " (unchecked: no page type, no reference, no TLB change)",
                "{\"op\": \"domainPte\", \"table\": 19, \"index\": 0, \"entry\": {\"present\": true, \"writable\":"
                        + " true, \"frame\": 20}}",
                XenExecutors::domainPte));
        r.operation(Operation.of(XenStep.ExpectDomainEntry.class, "check a quadword of machine memory (an entry of a"
                + " domain's page table)",
                "{\"op\": \"expectDomainEntry\", \"table\": 19, \"index\": 1, \"entry\": {\"raw\": \"0x15003\"}}",
                XenExecutors::expectDomainEntry));
        r.operation(Operation.of(XenStep.Hypercall.class, "a vCPU's VMCALL: mmu_update, mmuext_op or update_va_mapping"
                + " by name, with its result or refusal (errno, rule)",
                "{\"op\": \"hypercall\", \"domain\": 1, \"vcpu\": 0, \"call\": \"mmu_update\", \"table\": 19,"
                        + " \"index\": 1, \"value\": {\"present\": true, \"writable\": true, \"frame\": 17},"
                        + " \"expect\": {\"result\": \"refused\", \"errno\": \"EBUSY\", \"rule\": \"L1-3\"}}",
                XenExecutors::hypercall));
        r.operation(Operation.of(XenStep.Guest.class, "one instruction of a vCPU (access, cpuid, rdmsr, wrmsr, movToCr3,"
                + " movToCr0, movToCr4, invlpg, hlt): retires, is delivered to the guest, or exits and is handled"
                + " (exits: the VM exits the processor went through; I7 checked, a violation noted)",
                "{\"op\": \"guest\", \"domain\": 1, \"vcpu\": 0, \"insn\": \"cpuid\", \"leaf\": \"0x40000000\","
                        + " \"expect\": {\"result\": \"cpuid\", \"ebx\": \"0x566e6558\", \"exits\": 1}}",
                XenExecutors::guest));
        r.operation(Operation.of(XenStep.CheckInvariants.class, "evaluate I1 (isolation), I2 (page-table"
                + " integrity), I6 (TLB coherence) on the hypervisor state, and I7 (exit correctness) over every"
                + " guest and hypercall step so far",
                "{\"op\": \"checkInvariants\", \"expect\": {\"I1\": \"holds\", \"I2\": \"holds\", \"I6\":"
                        + " \"holds\", \"I7\": \"holds\"}}",
                XenExecutors::checkInvariants));
        r.operation(Operation.of(XenStep.ExpectFrame.class, "check the frame table's entry of a machine frame (owner,"
                + " type, counts, validated, pinned)",
                "{\"op\": \"expectFrame\", \"mfn\": 19, \"owner\": 1, \"type\": \"L1\", \"typeCount\": 1,"
                        + " \"validated\": true, \"pinned\": false}",
                XenExecutors::expectFrame));
        r.operation(Operation.of(XenStep.Schedule.class, "the scheduler moves a vCPU to a pCPU (MIG-1: VMCLEAR on the"
                + " old pCPU, VMLAUNCH next; MIG-2: its VPID invalidated on the new one); the step's post-conditions"
                + " checked, a violation noted and kept for I6",
                "{\"op\": \"schedule\", \"domain\": 1, \"vcpu\": 0, \"pcpu\": 1, \"expect\": {\"from\": 0,"
                        + " \"launched\": false, \"vpidEntries\": 0, \"migration\": \"holds\"}}",
                XenExecutors::schedule));
        r.operation(Operation.of(XenStep.ExpectPcpu.class, "check a pCPU: the vCPU current on it, and how many TLB"
                + " entries it holds (of one VPID, with vpid)",
                "{\"op\": \"expectPcpu\", \"pcpu\": 1, \"current\": \"d1v0\", \"vpid\": 1, \"entries\": 1}",
                XenExecutors::expectPcpu));
        r.operation(Operation.of(XenStep.DeliverIpi.class, "a pCPU takes the flush IPIs pending on it (IPI-1: the"
                + " handler flushes in each request's scope and acknowledges); a hypercall waiting for this last"
                + " acknowledgement completes (IPI-2, IPI-3)",
                "{\"op\": \"deliverIpi\", \"pcpu\": 1, \"expect\": {\"handled\": 1, \"completed\": [\"d1v0\"],"
                        + " \"results\": [\"ok\"]}}",
                XenExecutors::deliverIpi));
        r.operation(Operation.of(XenStep.ContinueHypercall.class, "a vCPU inside a hypercall that goes on entry by"
                + " entry takes its next step (TYP-8: a pin on several pCPUs validates one entry of its table per"
                + " step, then validates and pins it and returns)",
                "{\"op\": \"continueHypercall\", \"domain\": 1, \"vcpu\": 0, \"expect\": {\"result\": \"waiting\"}}",
                XenExecutors::continueHypercall));
        r.operation(Operation.of(XenStep.MmuextMulti.class, "a vCPU's mmuext_op TLB_FLUSH_MULTI or INVLPG_MULTI for"
                + " the vCPUs of a mask (MX-7: the pCPUs they run on, and only those), with its result or refusal",
                "{\"op\": \"mmuextMulti\", \"domain\": 1, \"vcpu\": 0, \"cmd\": \"invlpgMulti\", \"linear\":"
                        + " \"0x5000\", \"vcpumask\": \"0x2\", \"expect\": {\"result\": \"ok\"}}",
                XenExecutors::mmuextMulti));
        r.operation(Operation.of(XenStep.MmuUpdateBatch.class, "a vCPU's batched mmu_update: count 16-byte requests"
                + " read from guest memory at req through its own translation, applied in order, each atomically,"
                + " the first refused one stopping the batch, the count done written to pdone (MU-7); on several"
                + " pCPUs one request per step",
                "{\"op\": \"mmuUpdateBatch\", \"domain\": 1, \"vcpu\": 0, \"req\": \"0x18000\", \"count\": 3,"
                        + " \"pdone\": \"0x18100\", \"expect\": {\"result\": \"waiting\"}}",
                XenExecutors::mmuUpdateBatch));
        r.operation(Operation.of(XenStep.PreemptHypercall.class, "a vCPU inside a batched mmu_update is preempted"
                + " between two requests and returns to its guest with the continuation to re-issue (MU-8: pdone"
                + " holds the count done)",
                "{\"op\": \"preemptHypercall\", \"domain\": 1, \"vcpu\": 0, \"expect\": {\"result\":"
                        + " \"preempted\", \"done\": 1, \"count\": 2}}",
                XenExecutors::preemptHypercall));
        for (String op : OPS) {
            r.precondition(op, s -> configured(s) ? null : op + " runs on the hypervisor: add a \"hypervisor\""
                    + " section to machine (docs/scenario-format.md, Hypervisor)");
        }
        for (String op : lower) {
            r.precondition(op, s -> configured(s) ? op + " runs on the bare processor or the VMX layer, whose state"
                    + " a scenario with a hypervisor does not use: the hypervisor owns the processor; use domainPte"
                    + " (builder writes), hypercall, guest, expectDomainEntry, expectFrame or checkInvariants" : null);
        }
    }

    /**
     * What a replay shows for a vCPU step that went as {@code step}: a {@code hypercall} step's observation when
     * {@code hypercall}, else a {@code guest} step's. A run made outside a replay, written as a scenario, must replay
     * to these observations step for step.
     */
    public static Observation observe(HvStep step, boolean hypercall) {
        return hypercall ? XenExecutors.observeHypercall(step) : XenExecutors.observe(step.outcome(), step.vmExits());
    }

    private static boolean configured(MachineState s) {
        return s.get(XEN).configured();
    }
}
