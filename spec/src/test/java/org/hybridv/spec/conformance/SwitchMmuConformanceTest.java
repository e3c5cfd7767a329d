package org.hybridv.spec.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import org.hybridv.xen.Fault;
import org.hybridv.xen.Faults;
import org.junit.jupiter.api.Test;

/**
 * SWITCH_MMU of xen/switch_mmu (the runs {@link SwitchMmuConformance#RUNS}) against the Java reference (docs/spec.md,
 * "Conformance"): the verdicts and the states after each switch agree, and the instances reach every verdict the
 * contract distinguishes — acceptance, CPL, PRE-1 and each PRE-2 reason of the model — plus a trace with two
 * switches, and the named exclusion for read-only self-maps. The check's teeth: the seeded fault
 * {@code switch-mmu-from-user} (PRE-1's CPL clause dropped) accepts switches the model refuses from CPL 3, and
 * {@code switch-mmu-top-level-only} (PRE-2 checked on the root's own entries only) accepts roots whose leaf tables
 * the model refuses.
 */
class SwitchMmuConformanceTest {
    @Test
    void switchVerdictsAgreeWithTheJava() {
        SwitchMmuConformance.Result r = SwitchMmuConformance.run(Faults.NONE, SwitchMmuConformance.LIMIT);
        Conformance c = r.conformance();
        ConformanceReport.print(c);
        System.out.println("verdicts " + r.verdicts() + ", " + SwitchMmuConformance.SELF_MAP + ": " + r.excluded());
        ConformanceReport.assertAgrees(c);
        assertThat(c.instances()).isGreaterThanOrEqualTo(SwitchMmuConformance.RUNS.size());
        assertThat(r.verdicts()).containsKeys("accepted", "refused: CPL", "refused: PRE-1");
        // each PRE-2 reason of the model compared with the Java's rule, alone where the model allows it (a writable
        // self-entry also maps the root writable through itself)
        for (String reason : SwitchMmuConformance.REASONS.keySet()) {
            assertThat(r.verdicts()).containsKey(reason.equals("rootSelfEntry")
                    ? "refused: PRE-2 (rootSelfEntry, leafEntryWritesATable)" : "refused: PRE-2 (" + reason + ")");
        }
        assertThat(r.verdicts().keySet()).noneMatch(v -> v.contains("no reason the model names")
                || v.contains("no conjunct"));
        // a second switch after an accepted one is refused (PRE-1: a repeated switch)
        assertThat(r.verdicts()).containsKey("twice: accepted → refused: PRE-1");
        // the read-only self-map difference was met, and compared with rootValidatesWithSelfMap
        assertThat(r.excluded()).isPositive();
        assertThat(r.verdicts()).containsKey("refused: PRE-2 (rootSelfEntry) [" + SwitchMmuConformance.SELF_MAP + "]");
    }

    @Test
    void aSwitchFromUserModeDisagrees() {
        Conformance c = SwitchMmuConformance.check(Faults.of(Fault.SWITCH_MMU_FROM_USER), 4);
        assertThat(c.instances()).isPositive();
        assertThat(c.disagreements()).isNotEmpty()
                .anySatisfy(d -> assertThat(d.alloy() + " / " + d.java()).isEqualTo("refused: CPL / accepted"));
    }

    @Test
    void aSwitchThatChecksOnlyTheRootDisagrees() {
        // the fault skips the tables below the root: the runs whose only PRE-2 reason is in a leaf table
        Conformance c = SwitchMmuConformance.check(Faults.of(Fault.SWITCH_MMU_TOP_LEVEL_ONLY), 2,
                java.util.List.of("switchLeafEntryForeign", "switchLeafEntrySuperpage", "switchLeafWritesATable"));
        assertThat(c.disagreements()).isNotEmpty()
                .anySatisfy(d -> {
                    assertThat(d.alloy()).startsWith("refused: PRE-2 (leafEntry");
                    assertThat(d.java()).isEqualTo("accepted");
                });
    }
}
