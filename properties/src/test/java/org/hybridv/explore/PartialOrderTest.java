package org.hybridv.explore;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.hybridv.xen.Faults;
import org.hybridv.xen.XenMachine;
import org.junit.jupiter.api.Test;

/**
 * Why the explorer has no partial-order reduction yet (docs/explore.md#partial-order-reduction): the machine has one
 * physical CPU, and running a vCPU makes its VMCS the current one (VMPTRLD, after an external-interrupt exit of the
 * vCPU that ran before). So a step of vCPU A then one of vCPU B ends with B current, B then A with A current: no two
 * steps of different vCPUs commute, in any state — their footprints always share the processor — and a sleep set
 * or persistent set built on footprint independence would prune nothing.
 */
class PartialOrderTest {
    @Test
    void stepsOfDifferentVcpusNeverCommuteOnOnePhysicalCpu() throws Exception {
        HypervisorSystem system = new HypervisorSystem(ExploreTest.config("isolation"), Faults.NONE);
        XenMachine init = system.initialStates().get(0);
        List<XenMachine> states = new ArrayList<>(List.of(init));
        for (int a = 0; a < system.actionCount(); a++) {
            states.add(system.step(init, a, 1, fp -> false).state());
        }
        int pairs = 0;
        for (XenMachine s : states) {
            for (int a = 0; a < system.actionCount(); a++) {
                for (int b = a + 1; b < system.actionCount(); b++) {
                    if (system.op(a).vcpu().equals(system.op(b).vcpu()) || !system.enabled(s, a)
                            || !system.enabled(s, b)) {
                        continue;
                    }
                    XenMachine ab = system.step(system.step(s, a, 1, fp -> false).state(), b, 2, fp -> false).state();
                    XenMachine ba = system.step(system.step(s, b, 1, fp -> false).state(), a, 2, fp -> false).state();
                    assertThat(ab.current()).isEqualTo(Optional.of(system.op(b).vcpu()));
                    assertThat(ba.current()).isEqualTo(Optional.of(system.op(a).vcpu()));
                    assertThat(CanonicalEncoder.fingerprint(ab)).isNotEqualTo(CanonicalEncoder.fingerprint(ba));
                    pairs++;
                }
            }
        }
        assertThat(pairs).isGreaterThan(100);
    }
}
