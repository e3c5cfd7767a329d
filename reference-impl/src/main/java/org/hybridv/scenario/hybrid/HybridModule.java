package org.hybridv.scenario.hybrid;

import java.util.List;
import org.hybridv.scenario.Component;
import org.hybridv.scenario.MachineState;
import org.hybridv.scenario.Operation;
import org.hybridv.scenario.OperationRegistry;
import org.hybridv.scenario.ScenarioModule;
import org.hybridv.scenario.xen.XenModule;

/**
 * The hybrid kernel's scenario operations: the {@code kernel} section of {@code machine} — the kernel at
 * reset, under the hypervisor in shadow or HAP mode, or on bare metal — and the steps that drive it. Like the
 * hypervisor section, a kernel section owns its machine: the ops of the lower modules are refused with it, and these
 * ops without it.
 */
public final class HybridModule implements ScenarioModule {
    public static final String SECTION = "kernel";
    public static final Component<HybridState> HYBRID = Component.of("hybrid", HybridState.class);

    static final List<String> OPS = List.of("kernel", "checkHybrid");
    /** The hypervisor module's ops: allowed beside a kernel that runs in one of its domains. */
    static final List<String> XEN_OPS = XenModule.OPS;

    @Override
    public String name() {
        return "hybrid";
    }

    @Override
    public void register(OperationRegistry.Builder r) {
        List<String> lower = r.operationNames();
        r.machineSection(SECTION, KernelSection::build);
        r.component(HYBRID, spec -> spec.section(SECTION, KernelSection.Built.class)
                .map(k -> new HybridState(k.lockstep(), k.shared(), 0, List.of())).orElse(HybridState.NONE));
        r.operation(Operation.of(HybridStep.Kernel.class, "one operation of the hybrid kernel (boot, newProcess,"
                + " switchTo, map, unmap, user, kernelAccess, syscall, idle, timerTick, switchMmu, startAp), run in"
                + " lockstep with its native twin; I1–I8 checked, a violation noted",
                "{\"op\": \"kernel\", \"do\": \"boot\", \"to\": \"DIRECT\", \"expect\": {\"result\": \"booted\","
                        + " \"stage\": \"DIRECT\"}}",
                HybridExecutors::kernel));
        r.operation(Operation.of(HybridStep.CheckHybrid.class, "I1–I8 over every kernel step so far (the first"
                + " violation of each is kept)", "{\"op\": \"checkHybrid\", \"expect\": {\"I3\": \"holds\", \"I5\":"
                        + " \"holds\"}}",
                HybridExecutors::checkHybrid));
        for (String op : OPS) {
            r.precondition(op, s -> configured(s) ? null : op + " runs the hybrid kernel: add a \"kernel\" section"
                    + " to machine (docs/scenario-format.md, Hybrid kernel)");
        }
        for (String op : lower) {
            if (XEN_OPS.contains(op)) {
                continue; // with "kernel": {"domain": d} the hypervisor's ops run beside the kernel
            }
            r.precondition(op, s -> configured(s) && !s.get(HYBRID).shared() ? op + " does not apply to a scenario"
                    + " with a \"kernel\" section of its own machine; use kernel and checkHybrid (or run the kernel"
                    + " in a hypervisor domain: \"kernel\": {\"domain\": d})" : null);
        }
        for (String op : XEN_OPS) {
            r.precondition(op, s -> configured(s) && !s.get(HYBRID).shared() ? op + " needs a hypervisor section;"
                    + " this scenario's kernel has a machine of its own" : null);
        }
    }

    private static boolean configured(MachineState s) {
        return s.get(HYBRID).configured();
    }
}
