package org.hybridv.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.hybridv.cli.Cli;
import org.hybridv.x86.Walk;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What {@code hybridv bench} and the JMH benchmarks measure still exists and is what they say (each workload checks
 * its own set-up when built), without timing anything: {@code mvn verify} runs no benchmark.
 */
class WorkloadsTest {

    @Test
    @DisplayName("the workloads build and do their work: a mapped 4-level walk, a TLB fill, a 2-D walk, checked runs")
    void workloadsWork() {
        Workloads.FourLevel four = new Workloads.FourLevel();
        assertThat(four.walk().end()).isEqualTo(Walk.End.MAPPED);
        assertThat(four.walk().path()).hasSize(4);
        assertThat(four.access().machine().tlb().entries()).hasSize(1);
        assertThat(new Workloads.TwoD().access().processor().machine().tlb().entries()).hasSize(1);
        Workloads.HypervisorActions hv = new Workloads.HypervisorActions(1, 5);
        assertThat(hv.actions).isPositive();
        hv.runAll();
        Workloads.HybridActions hy = new Workloads.HybridActions(1, 2);
        assertThat(hy.actions).isPositive();
        hy.runAll();
    }

    @Test
    @DisplayName("the 2-pCPU workload runs the same ops with the second vCPU of each domain on pCPU 1, and fills its TLB")
    void twoPcpus() {
        Workloads.HypervisorActions one = new Workloads.HypervisorActions(1, 40);
        Workloads.HypervisorActions two = new Workloads.HypervisorActions(1, 40, 2);
        assertThat(two.actions).isEqualTo(one.actions);
        for (int i = 0; i < one.runs.size(); i++) {
            assertThat(two.runs.get(i).ops()).isEqualTo(one.runs.get(i).ops());
            assertThat(one.runs.get(i).initial().pcpuCount()).isEqualTo(1);
        }
        org.hybridv.xen.XenMachine initial = two.runs.get(0).initial();
        assertThat(initial.pcpuCount()).isEqualTo(2);
        for (org.hybridv.xen.Domain d : initial.domains().values()) {
            for (int i = 0; i < d.vcpus().size(); i++) {
                assertThat(d.vcpus().get(i).pcpu()).as(d.vcpus().get(i).id().toString()).isEqualTo(i % 2);
            }
        }
        boolean remoteFilled = false;
        for (org.hybridv.gen.HypervisorCases.Run r : two.runs) {
            org.hybridv.xen.XenMachine m = r.initial();
            for (org.hybridv.gen.HypervisorCases.Op op : r.ops()) {
                m = Workloads.HypervisorActions.step(m, op).machine();
            }
            remoteFilled |= !m.pcpu(1).tlb().entries().isEmpty();
        }
        assertThat(remoteFilled).as("some run leaves translations in pCPU 1's TLB").isTrue();
    }

    @Test
    @DisplayName("the same seed gives the same runs")
    void deterministic() {
        assertThat(new Workloads.HypervisorActions(3, 20).runs.toString())
                .isEqualTo(new Workloads.HypervisorActions(3, 20).runs.toString());
        assertThat(new Workloads.HybridActions(3, 5).runs).isEqualTo(new Workloads.HybridActions(3, 5).runs);
    }

    @Test
    @DisplayName("the harness reports the median and spread of its rounds")
    void harness() {
        Harness h = new Harness(1, 3, 1_000_000L);
        long[] x = {0};
        Harness.Result r = h.measure("count", 10, () -> ++x[0]);
        assertThat(r.rounds()).isEqualTo(3);
        assertThat(r.min()).isPositive().isLessThanOrEqualTo(r.median());
        assertThat(r.median()).isLessThanOrEqualTo(r.max());
        assertThat(r.wallMedian()).isPositive();
    }

    @Test
    @DisplayName("hybridv bench is a registered command; --rounds 0 is unusable input")
    void command() {
        Cli.Result help = Cli.run("bench", "--help");
        assertThat(help.exit()).as(help.all()).isZero();
        assertThat(help.out()).contains("--quick", "--rounds");
        assertThat(Cli.run("bench", "--rounds", "0").exit()).isEqualTo(2);
    }
}
