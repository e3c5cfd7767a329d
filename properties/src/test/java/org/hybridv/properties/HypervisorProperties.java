package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.check.HypervisorProperty;
import org.hybridv.check.Verdict;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.xen.Faults;
import org.hybridv.xen.VcpuOutcome;

/**
 * Stateful: adversarial guests of a direct-mode, a HAP and a shadow-mode domain run random guest instructions and hypercalls (valid
 * and adversarial arguments: foreign, page-table, Xen and out-of-RAM frames, Xen L4 slots, superpages, self-maps,
 * non-canonical INVLPG, CPL 3 VMCALL, the hypercall MSR; for the shadow guest also fills, reflected guest #PFs,
 * page-table writes through its self-map, CR3 loads and INVLPG) through {@code Hypervisor.run}; after EVERY step I1,
 * I2, I6 hold on the post-state and I7 on the step — for all three MMU modes (I6 includes the shadow half, SH-4; I7
 * the shadow rules, I7-shadow-*). The run is a plain op list (see {@link HypervisorCases}).
 */
class HypervisorProperties {

    @Provide
    Arbitrary<HypervisorCases.Run> runs() {
        return JqwikChoices.arbitrary(HypervisorCases::generate);
    }

    @Property(seed = Budget.SEED, tries = Budget.HYPERVISOR_TRIES)
    void adversarialGuestsKeepI1I2I6I7AfterEveryStep(@ForAll("runs") HypervisorCases.Run run) {
        // The same check hybridv check runs at campaign budget (org.hybridv.check.HypervisorProperty).
        Verdict v = new HypervisorProperty().check(run, Faults.NONE, (m, op, s) -> {
            Statistics.label("mode").collect(m.domain(op.vcpu().domain()).mode().toString());
            Statistics.label("exit").collect(s.outcome().exited() ? "exit" : "no exit");
            Statistics.label("outcome").collect(describe(s.outcome(), op));
            TlbUse.collect(m, op, s);
            if (op.vcpu().domain() == HypervisorCases.S.domain()) {
                Statistics.label("shadow").collect(s.outcome() instanceof VcpuOutcome.Injected i ? "Injected "
                        + i.rule() + " vector " + i.vector() : describe(s.outcome(), op));
            }
        });
        assertThat(v).as("%s", run).isEqualTo(Verdict.HOLDS);
        Statistics.label("mode").coverage(cov -> {
            cov.check("DIRECT").percentage(p -> p >= 40);
            cov.check("HAP").percentage(p -> p >= 15);
            cov.check("SHADOW").percentage(p -> p >= 12);
        });
        Statistics.label("shadow").coverage(cov -> {
            cov.checkPattern("Injected SH-3.*").percentage(p -> p >= 3);
            cov.check("Retired access").percentage(p -> p >= 3);
            cov.check("Emulated access").percentage(p -> p >= 2);
            cov.check("Resumed INVLPG").percentage(p -> p >= 1);
            cov.check("Resumed CR_ACCESS").percentage(p -> p >= 0.5);
        });
        Statistics.label("TLB").coverage(cov -> {
            cov.check("DIRECT hit, stale").percentage(p -> p > 0);
            cov.check("HAP hit, stale").percentage(p -> p > 0);
        });
        Statistics.label("exit").coverage(cov -> {
            cov.check("exit").percentage(p -> p >= 30);
            cov.check("no exit").percentage(p -> p >= 5);
        });
        Statistics.label("outcome").coverage(cov -> {
            cov.checkPattern("HypercallDone.*").percentage(p -> p >= 5);
            cov.checkPattern("HypercallRefused.*").percentage(p -> p >= 10);
            cov.checkPattern("HypercallRefused XSA-76.*").percentage(p -> p >= 1);
            cov.checkPattern("HypercallRefused MU-1.*").percentage(p -> p >= 1);
            // mmu_update / mmuext_op / update_va_mapping refused by each direct-paging rule the CI run reaches
            for (String rule : java.util.List.of("L1-1", "L1-2", "L1-3", "L1-4", "LN-1", "LN-2", "LN-3", "LIN-1",
                    "LIN-4", "TYP-1", "TYP-2", "SP-1", "SLOT-2", "MX-1", "MX-2", "MX-3", "UVA-1")) {
                cov.check("HypercallRefused " + rule).percentage(p -> p > 0);
            }
            cov.checkPattern("Emulated.*").percentage(p -> p >= 1);
            cov.checkPattern("Injected.*").percentage(p -> p >= 1);
            cov.checkPattern("Retired.*").percentage(p -> p >= 1);
            cov.checkPattern("Delivered.*").percentage(p -> p >= 1);
        });
    }

    static String describe(VcpuOutcome o, HypervisorCases.Op op) {
        if (o instanceof VcpuOutcome.HypercallDone) {
            return "HypercallDone " + op.regs().number();
        }
        if (o instanceof VcpuOutcome.HypercallRefused r) {
            return "HypercallRefused " + r.rule();
        }
        if (o instanceof VcpuOutcome.Injected i) {
            return "Injected " + i.reason() + " vector " + i.vector();
        }
        if (o instanceof VcpuOutcome.Resumed r) {
            return "Resumed " + r.reason();
        }
        String insn = op.insn() instanceof GuestInstruction.MemoryAccess ? " access" : "";
        return o.getClass().getSimpleName() + insn;
    }
}
