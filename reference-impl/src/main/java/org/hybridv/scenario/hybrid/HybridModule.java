package org.hybridv.scenario.hybrid;

import java.util.List;
import org.hybridv.guest.Lockstep;
import org.hybridv.scenario.Component;
import org.hybridv.scenario.MachineState;
import org.hybridv.scenario.Operation;
import org.hybridv.scenario.OperationRegistry;
import org.hybridv.scenario.ScenarioModule;

/**
 * The hybrid kernel's scenario operations (issue 6): the {@code kernel} section of {@code machine} — the kernel at
 * reset, under the hypervisor in shadow or HAP mode, or on bare metal — and the steps that drive it. Like the
 * hypervisor section, a kernel section owns its machine: the ops of the lower modules are refused with it, and these
 * ops without it.
 */
public final class HybridModule implements ScenarioModule {
    public static final String SECTION = "kernel";
    public static final Component<HybridState> HYBRID = Component.of("hybrid", HybridState.class);

    static final List<String> OPS = List.of("kernel", "checkHybrid");

    @Override
    public String name() {
        return "hybrid";
    }

    @Override
    public void register(OperationRegistry.Builder r) {
        List<String> lower = r.operationNames();
        r.machineSection(SECTION, HybridDecoders::section);
        r.component(HYBRID, spec -> spec.section(SECTION, Lockstep.class)
                .map(l -> new HybridState(l, 0, List.of())).orElse(HybridState.NONE));
        r.operation(new Operation("kernel", HybridDecoders.KERNEL, "one operation of the hybrid kernel (boot, newProcess,"
                + " switchTo, map, unmap, user, kernelAccess, syscall, idle, switchMmu), run in lockstep with its"
                + " native twin; I1–I8 checked, a violation noted",
                "{\"op\": \"kernel\", \"do\": \"boot\", \"to\": \"DIRECT\", \"expect\": {\"result\": \"booted\","
                        + " \"stage\": \"DIRECT\"}}",
                HybridDecoders::kernel, (s, step) -> HybridExecutors.kernel(s, (KernelStepSpec.KernelOp) step)));
        r.operation(new Operation("checkHybrid", HybridDecoders.CHECK, "I1–I8 over every kernel step so far (the first"
                + " violation of each is kept)", "{\"op\": \"checkHybrid\", \"expect\": {\"I3\": \"holds\", \"I5\":"
                        + " \"holds\"}}",
                HybridDecoders::checkHybrid, (s, step) -> HybridExecutors.checkHybrid(s,
                        (KernelStepSpec.CheckHybrid) step)));
        for (String op : OPS) {
            r.precondition(op, s -> configured(s) ? null : op + " runs the hybrid kernel: add a \"kernel\" section"
                    + " to machine (docs/scenario-format.md, Hybrid kernel)");
        }
        for (String op : lower) {
            r.precondition(op, s -> configured(s) ? op + " does not apply to a scenario with a \"kernel\" section:"
                    + " the kernel's machine is built from that section; use kernel and checkHybrid" : null);
        }
    }

    private static boolean configured(MachineState s) {
        return s.get(HYBRID).configured();
    }
}
