package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.HybridCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.guest.Executed;
import org.hybridv.guest.KernelResult;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.Observed;
import org.hybridv.guest.XenPlatform;
import org.hybridv.check.HybridKernelProperty;
import org.hybridv.check.Verdict;
import org.hybridv.xen.Faults;
import org.hybridv.x86.ErrorCode;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.VcpuOutcome;

/**
 * Stateful, issue 6: hybrid kernels in shadow-mode and HAP domains driven through random boot / workload / switch
 * sequences in lockstep with their native twins; after EVERY operation I3 (native equivalence), I4 (#PF delivery),
 * I5 (safe SWITCH_MMU), I8 (hybrid boot) and the hypervisor's I1, I2, I6, I7 hold. SWITCH_MMU is attempted at random
 * points with random, often unsuitable roots. The run is a plain op list ({@link HybridCases}).
 */
class HybridKernelProperties {

    @Provide
    Arbitrary<HybridCases.Run> runs() {
        return JqwikChoices.arbitrary(HybridCases::generate);
    }

    @Property(seed = Budget.SEED, tries = Budget.HYBRID_TRIES)
    void theKernelKeepsI1ToI8InLockstepWithItsNativeTwin(@ForAll("runs") HybridCases.Run run) {
        // The same check hybridv check runs at campaign budget (org.hybridv.check.HybridKernelProperty).
        Verdict v = new HybridKernelProperty().check(run, Faults.NONE, HybridKernelProperties::collect);
        assertThat(v).as("%s on %s", run.ops(), run.mode()).isEqualTo(Verdict.HOLDS);
        Statistics.label("switch").coverage(cov -> {
            cov.check("accepted").percentage(p -> p >= 5);
            for (String rule : List.of("PRE-1", "XSA-76", "SP-1", "L1-3", "L1-2", "SLOT-1", "LIN-1")) {
                cov.check("refused " + rule).percentage(p -> p >= 0.5);
            }
        });
        Statistics.label("user #PF").coverage(cov -> {
            cov.check("DIRECT, 0 exits").percentage(p -> p >= 5);
            cov.check("SHADOW, exits").percentage(p -> p >= 5);
            cov.check("HAP, 0 exits").percentage(p -> p >= 2);
        });
        Statistics.label("stage").coverage(cov -> {
            cov.check("DIRECT").percentage(p -> p >= 15);
            cov.check("HYPERCALL_PAGE_INSTALLED").percentage(p -> p >= 10);
        });
        Statistics.label("result").coverage(cov -> {
            cov.check("Read").percentage(p -> p >= 10);
            cov.check("Killed").percentage(p -> p >= 2);
            cov.check("Created").percentage(p -> p >= 3);
        });
    }

    private static void collect(Lockstep.LockstepStep s) {
        Statistics.label("stage").collect(s.guest().post().kernel().stage().name());
        Statistics.label("result").collect(s.guest().result().getClass().getSimpleName());
        for (Executed e : s.guest().trace()) {
            if (e.isHypercall(Hypercalls.HYPERVISOR_SWITCH_MMU) && e.hv().isPresent()) {
                VcpuOutcome o = e.hv().get().outcome();
                Statistics.label("switch").collect(o instanceof VcpuOutcome.HypercallRefused r ? "refused " + r.rule()
                        : "accepted");
            }
            if (e.platform() instanceof XenPlatform x && e.observed() instanceof Observed.Fault f && f.isPageFault()
                    && (f.errorCode() & ErrorCode.US) != 0) {
                Statistics.label("user #PF").collect(x.mode() + (e.exits().total() == 0 ? ", 0 exits" : ", exits"));
            }
        }
        if (s.guest().result() instanceof KernelResult.Oops o) {
            Statistics.label("oops").collect(o.what().replaceAll(" 0x[0-9a-f]+", " N"));
        }
    }
}
