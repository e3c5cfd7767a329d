package org.hybridv.check;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.scenario.xen.XenStep;
import org.hybridv.xen.FlushIpis;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * One op of a property that does not interleave pCPUs inside a hypercall (the hypervisor and whole-system
 * properties), run to its end: a PV MMU hypercall whose flush reaches other pCPUs waits for their acknowledgements
 * (Xen rules IPI-1, IPI-2) and an L2–L4 pin on several pCPUs validates entry by entry (TYP-8); here the awaited pCPUs
 * take their IPIs and the pin goes on at once, before any other op ({@link FlushIpis#runToCompletion}, whose
 * steps are recorded). The
 * windows between those steps are the migration property's and the explorer's. The scenario of the op is the op's
 * step followed by the {@code deliverIpi} and {@code continueHypercall} steps taken, so that a counterexample
 * replays exactly what was checked.
 *
 * @param step     the op's step to its end (the op's own VM exits; the outcome its hypercall returned)
 * @param scenario the scenario steps: the op, then each delivery or continuation in order
 */
public record Completed(HvStep step, List<XenStep> scenario) {
    public Completed {
        scenario = List.copyOf(scenario);
    }

    /** {@code op} run on {@code pre} to its end. */
    public static Completed run(XenMachine pre, HypervisorCases.Op op) {
        VcpuId id = op.vcpu();
        List<XenStep> steps = new ArrayList<>();
        steps.add(HypervisorProperty.step(op));
        HvStep done = FlushIpis.runToCompletion(Hypervisor.run(pre, id, op.insn(), op.regs()), id,
                new FlushIpis.Taken() {
                    @Override
                    public void delivered(int pcpu) {
                        steps.add(new XenStep.DeliverIpi(pcpu, null));
                    }

                    @Override
                    public void continued() {
                        steps.add(new XenStep.ContinueHypercall(id.domain(), id.vcpu(), null));
                    }
                });
        return new Completed(done, steps);
    }
}
