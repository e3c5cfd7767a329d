package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.check.Verdict;
import org.hybridv.check.WholeSystemProperty;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.gen.WholeSystemCases;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.guest.Executed;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.Observed;
import org.hybridv.guest.XenPlatform;
import org.hybridv.x86.ErrorCode;
import org.hybridv.xen.Effect;
import org.hybridv.xen.Faults;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * Stateful, issue 8: the whole system — the hybrid kernel beside none, one or two adversarial domains on one machine,
 * operations of every layer interleaved ({@link WholeSystemCases}); I1–I8 after every operation. The same check
 * {@code hybridv check} runs at campaign budget ({@link WholeSystemProperty}).
 */
class WholeSystemProperties {
    @Provide
    Arbitrary<WholeSystemCases.Run> runs() {
        return JqwikChoices.arbitrary(WholeSystemCases::generate);
    }

    @Property(seed = Budget.SEED, tries = Budget.WHOLE_SYSTEM_TRIES)
    void everyInvariantHoldsAfterEveryOperationOfEveryLayer(@ForAll("runs") WholeSystemCases.Run run) {
        Statistics.label("domains").collect((1 + run.adversaries()) + " domains, kernel in " + run.kernelMode());
        long kernelOps = run.ops().stream().filter(o -> o instanceof WholeSystemCases.Op.Kernel).count();
        Statistics.label("ops").collect(kernelOps == run.ops().size() ? "kernel only" : "interleaved");
        Verdict v = new WholeSystemProperty().check(run, Faults.NONE, new WholeSystemProperty.Observer() {
            @Override
            public void kernel(Lockstep.LockstepStep s) {
                for (Executed e : s.guest().trace()) {
                    if (e.platform() instanceof XenPlatform x) {
                        pageFault(x.mode(), e.observed(), e.exits().total());
                        e.hv().ifPresent(h -> effects(h.outcome()));
                    }
                }
            }

            @Override
            public void vcpu(XenMachine pre, HypervisorCases.Op op, HvStep s) {
                MmuMode mode = pre.domain(op.vcpu().domain()).mode();
                pageFault(mode, XenPlatform.observed(s.outcome()), s.vmExits());
                effects(s.outcome());
                TlbUse.collect(pre, op, s);
            }
        });
        assertThat(v).as("%s", run).isEqualTo(Verdict.HOLDS);
        Statistics.label("domains").coverage(cov -> {
            cov.checkPattern("1 domains.*").percentage(p -> p >= 10);
            cov.checkPattern("2 domains.*").percentage(p -> p >= 10);
            cov.checkPattern("3 domains.*").percentage(p -> p >= 10);
            cov.checkPattern(".*HAP").percentage(p -> p >= 5);
        });
        Statistics.label("ops").coverage(cov -> cov.check("interleaved").percentage(p -> p >= 30));
        Statistics.label("#PF").coverage(cov -> {
            cov.check("DIRECT user, no exit").percentage(p -> p > 0);
            cov.check("SHADOW user, exit").percentage(p -> p > 0);
            cov.check("HAP user, no exit").percentage(p -> p > 0);
            cov.check("DIRECT supervisor, no exit").percentage(p -> p > 0);
            cov.check("SHADOW supervisor, exit").percentage(p -> p > 0);
        });
        Statistics.label("effects").coverage(cov -> cov.check("type change").percentage(p -> p > 0));
        Statistics.label("TLB").coverage(cov -> {
            cov.check("DIRECT hit, current").percentage(p -> p > 0);
            cov.check("DIRECT hit, stale").percentage(p -> p > 0);
            cov.check("HAP hit, stale").percentage(p -> p > 0);
        });
    }

    private static void pageFault(MmuMode mode, Observed o, int exits) {
        if (o instanceof Observed.Fault f && f.isPageFault()) {
            Statistics.label("#PF").collect(mode + ((f.errorCode() & ErrorCode.US) != 0 ? " user" : " supervisor")
                    + (exits == 0 ? ", no exit" : ", exit"));
        }
    }

    private static void effects(VcpuOutcome o) {
        java.util.List<Effect> es = o instanceof VcpuOutcome.HypercallDone d ? d.effects()
                : o instanceof VcpuOutcome.Emulated e ? e.effects() : java.util.List.of();
        for (Effect e : es) {
            Statistics.label("effects").collect(e instanceof Effect.TypeChange ? "type change"
                    : e.getClass().getSimpleName());
        }
    }
}
