package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.hybridv.check.EventBudgets;
import org.hybridv.check.HybridKernelProperty;
import org.hybridv.check.Verdict;
import org.hybridv.check.WholeSystemProperty;
import org.hybridv.gen.HybridCases;
import org.hybridv.gen.WholeSystemCases;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.Executed;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.Layout;
import org.hybridv.guest.Lockstep;
import org.hybridv.invariants.HybridInvariants;
import org.hybridv.x86.AccessKind;
import org.hybridv.xen.Fault;
import org.hybridv.xen.Faults;
import org.hybridv.xen.MmuMode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The event budgets (docs/rules/hybrid.md BUD-1..BUD-10, BUD-12, {@link EventBudgets}) against a pv-ops routing slip that
 * stays correct: the seeded fault {@code set-pte-trapped-not-hypercall} has the direct-mode kernel write PTEs with a
 * plain store, which traps and is emulated, instead of {@code mmu_update}. I1–I8 hold on every step of it; the budget
 * check reports BUD-4, and so do both whole-system properties. The reference stays within every budget, with the
 * counts the rulebook states.
 */
class EventBudgetMutantsTest {
    /** A fixed workload: processes, a demand-paged user page, map/unmap, a system call, a kernel access, idle. */
    private static final List<GuestOp> WORKLOAD = List.of(new GuestOp.NewProcess(), new GuestOp.SwitchTo(1),
            new GuestOp.Map(2, true), new GuestOp.UserAccess(Layout.userPage(5), AccessKind.WRITE, 0x11),
            new GuestOp.UserAccess(Layout.userPage(5), AccessKind.READ, 0), new GuestOp.Syscall(),
            new GuestOp.Unmap(2), new GuestOp.KernelAccess(Layout.CURRENT_VAR, AccessKind.READ, 0),
            new GuestOp.Idle(), new GuestOp.SwitchTo(0));

    private static List<Lockstep.LockstepStep> run(MmuMode mode, BootStage boot, Faults faults) {
        List<Lockstep.LockstepStep> steps = new ArrayList<>();
        Lockstep l = Lockstep.start(mode, 64, HybridCases.XEN_FRAMES, faults);
        List<GuestOp> ops = new ArrayList<>();
        ops.add(new GuestOp.Boot(boot));
        ops.addAll(WORKLOAD);
        for (GuestOp op : ops) {
            Lockstep.LockstepStep s = l.step(op);
            steps.add(s);
            l = s.post();
        }
        return steps;
    }

    private static Map<String, Integer> counted(List<Lockstep.LockstepStep> steps, Class<?> op, int nth) {
        return EventBudgets.count(steps.stream().filter(s -> op.isInstance(s.guest().op())).skip(nth).findFirst()
                .orElseThrow().guest());
    }

    @Test
    @DisplayName("the reference stays within every budget, with the rulebook's counts")
    void referenceStaysWithinBudget() {
        for (MmuMode mode : List.of(MmuMode.SHADOW, MmuMode.HAP)) {
            for (BootStage boot : List.of(BootStage.DIRECT, BootStage.HYPERCALL_PAGE_INSTALLED)) {
                List<Lockstep.LockstepStep> steps = run(mode, boot, Faults.NONE);
                for (Lockstep.LockstepStep s : steps) {
                    assertThat(HybridInvariants.check(s)).as("%s %s %s", mode, boot, s.guest().op()).isEmpty();
                    assertThat(EventBudgets.check(s)).as("%s %s %s", mode, boot, s.guest().op()).isEmpty();
                }
            }
        }
        List<Lockstep.LockstepStep> direct = run(MmuMode.SHADOW, BootStage.DIRECT, Faults.NONE);
        // BUD-4: set_pte after SWITCH_MMU is one mmu_update, one VMCALL exit, no #PF exit
        assertThat(counted(direct, GuestOp.Map.class, 0)).containsOnlyKeys("exit VMCALL", "hypercall mmu_update")
                .containsEntry("exit VMCALL", 1).containsEntry("hypercall mmu_update", 1);
        // BUD-3, BUD-5: the demand-paged user #PF: no exit of the user access, one mmu_update to handle it
        Lockstep.LockstepStep pf = direct.stream().filter(s -> s.guest().op() instanceof GuestOp.UserAccess)
                .findFirst().orElseThrow();
        assertThat(pf.guest().faults()).anyMatch(o -> o.isPageFault());
        for (Executed e : pf.guest().trace()) {
            if (e.pre().cpl() == 3) {
                assertThat(e.exits().total()).as("user-mode %s", e.instruction()).isZero();
            }
        }
        assertThat(EventBudgets.count(pf.guest())).containsEntry("hypercall mmu_update", 1)
                .doesNotContainKey("exit EXCEPTION_OR_NMI");
        // BUD-2: a system call under HAP or in direct mode: no event at all
        assertThat(counted(direct, GuestOp.Syscall.class, 0)).isEmpty();
        assertThat(counted(run(MmuMode.HAP, BootStage.DIRECT, Faults.NONE), GuestOp.Syscall.class, 0)).isEmpty();
        // BUD-6: a context switch in direct mode: one CR-access exit; BUD-9: idle: one HLT exit
        assertThat(counted(direct, GuestOp.SwitchTo.class, 0)).containsOnlyKeys("exit CR_ACCESS");
        assertThat(counted(direct, GuestOp.Idle.class, 0)).isEqualTo(Map.of("exit HLT", 1));
        // BUD-7: a new process in direct mode: four update_va_mapping and one pin
        assertThat(counted(direct, GuestOp.NewProcess.class, 0)).containsEntry("hypercall update_va_mapping", 4)
                .containsEntry("hypercall mmuext_op", 1).containsEntry("exit VMCALL", 5);
    }

    @Test
    @DisplayName("fault 'set-pte-trapped-not-hypercall' keeps I1–I8 and breaks BUD-4")
    void setPteTrappedNotHypercallBreaksBud4() {
        List<Lockstep.LockstepStep> steps = run(MmuMode.SHADOW, BootStage.DIRECT,
                Faults.of(Fault.SET_PTE_TRAPPED_NOT_HYPERCALL));
        List<Lockstep.LockstepStep> reference = run(MmuMode.SHADOW, BootStage.DIRECT, Faults.NONE);
        List<Optional<EventBudgets.Violation>> budgets = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            Lockstep.LockstepStep s = steps.get(i);
            assertThat(HybridInvariants.check(s)).as("I1-I8 after %s", s.guest().op()).isEmpty();
            assertThat(s.guest().result()).as("correct: %s", s.guest().op())
                    .isEqualTo(reference.get(i).guest().result());
            budgets.add(EventBudgets.check(s));
        }
        Lockstep.LockstepStep map = steps.stream().filter(s -> s.guest().op() instanceof GuestOp.Map).findFirst()
                .orElseThrow();
        assertThat(EventBudgets.count(map.guest())).containsEntry("exit EXCEPTION_OR_NMI", 1)
                .containsEntry("emulated write", 1).doesNotContainKey("hypercall mmu_update");
        assertThat(EventBudgets.check(map)).hasValueSatisfying(v -> {
            assertThat(v.rule()).isEqualTo("BUD-4");
            assertThat(v.explanation()).contains("exit EXCEPTION_OR_NMI", "budget 0");
        });
        // the demand-paging PTE write of the user #PF is over its budget too
        Lockstep.LockstepStep pf = steps.stream().filter(s -> s.guest().op() instanceof GuestOp.UserAccess)
                .findFirst().orElseThrow();
        assertThat(EventBudgets.check(pf)).hasValueSatisfying(v -> assertThat(v.rule()).isEqualTo("BUD-5"));
    }

    @Test
    @DisplayName("both whole-system properties report the fault as a budget violation")
    void bothPropertiesCatchTheFault() {
        Faults f = Faults.of(Fault.SET_PTE_TRAPPED_NOT_HYPERCALL);
        List<GuestOp> ops = new ArrayList<>(List.of(new GuestOp.Boot(BootStage.DIRECT)));
        ops.addAll(WORKLOAD);
        Verdict hybrid = new HybridKernelProperty().check(new HybridCases.Run(MmuMode.SHADOW, 64, ops), f);
        assertThat(hybrid).isInstanceOfSatisfying(Verdict.Violated.class, v -> {
            assertThat(v.invariant()).isEqualTo(EventBudgets.NAME);
            assertThat(v.rule()).isEqualTo("BUD-4");
            assertThat(v.step()).isEqualTo(4);
            assertThat(v.toString()).startsWith("budget (BUD-4) after step 4");
        });
        // no scenario step checks a budget: no counterexample file is written for it
        assertThat(new HybridKernelProperty().scenario(new HybridCases.Run(MmuMode.SHADOW, 64, ops), f,
                (Verdict.Violated) hybrid)).isNull();
        assertThat(new HybridKernelProperty().check(new HybridCases.Run(MmuMode.SHADOW, 64, ops), Faults.NONE))
                .isEqualTo(Verdict.HOLDS);
        List<WholeSystemCases.Op> wops = ops.stream().map(o -> (WholeSystemCases.Op) new WholeSystemCases.Op.Kernel(o))
                .toList();
        Verdict whole = new WholeSystemProperty().check(new WholeSystemCases.Run(MmuMode.SHADOW, 1,
                WholeSystemCases.KERNEL_VPID, wops), f);
        assertThat(whole).isInstanceOfSatisfying(Verdict.Violated.class, v -> assertThat(v.rule())
                .isEqualTo("BUD-4"));
    }
}
