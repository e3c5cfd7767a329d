package org.hybridv.bench.jmh;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.hybridv.bench.Workloads;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.XenMachine;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One stateful action of the 3-domain hypervisor system ({@link HypervisorCases}: direct, HAP and shadow domains,
 * adversarial guests) with I1, I2, I6 and I7 checked, as {@code HypervisorProperties} does after every step. The
 * pre-states of every action of 300 seeded runs are computed in the set-up; each invocation performs the next one
 * ({@code Hypervisor.run} and the four checks), cycling, so the figure is the mean over that mix of actions.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(1)
public class ActionBenchmarks {
    private XenMachine[] pre;
    private HypervisorCases.Op[] ops;
    private int next;

    @Setup
    public void prepare() {
        Workloads.HypervisorActions w = new Workloads.HypervisorActions(1, 300);
        List<XenMachine> machines = new ArrayList<>();
        List<HypervisorCases.Op> steps = new ArrayList<>();
        for (HypervisorCases.Run run : w.runs) {
            XenMachine m = run.initial();
            for (HypervisorCases.Op op : run.ops()) {
                machines.add(m);
                steps.add(op);
                m = Workloads.HypervisorActions.step(m, op).machine();
            }
        }
        pre = machines.toArray(new XenMachine[0]);
        ops = steps.toArray(new HypervisorCases.Op[0]);
    }

    /** The next action of the mix, with I1, I2, I6, I7 checked (a violation throws). */
    @Benchmark
    public HvStep actionWithInvariants() {
        int i = next;
        next = i + 1 == pre.length ? 0 : i + 1;
        return Workloads.HypervisorActions.step(pre[i], ops[i]);
    }
}
