package org.hybridv.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.hybridv.gen.Choices;
import org.hybridv.gen.HybridCases;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.Layout;
import org.hybridv.guest.Lockstep;
import org.hybridv.invariants.HybridInvariants;
import org.junit.jupiter.api.Test;

/**
 * The software-only PV kernel through the hybrid-kernel property's generated workloads ({@link HybridCases}), in
 * lockstep with its native twin: I3/I4 (and the rest of {@link HybridInvariants} that applies) and the PV event budget
 * BUD-11 after every operation. The boot is the PV kernel's (it starts in long mode), so each run's first operation is
 * a boot to NATIVE on both sides. The one observation x86-64 PV changes by design — a process's #PF on a kernel
 * address reports P = 0, the user L4 not mapping the kernel — is accepted only in exactly that form.
 */
class PvEventBudgetsTest {
    static final int RUNS = 120;

    @Test
    void generatedWorkloadsKeepNativeEquivalenceAndTheBudget() {
        int steps = 0;
        int userKernelAddressFaults = 0;
        for (long seed = 0; seed < RUNS; seed++) {
            HybridCases.Run run = HybridCases.generate(Choices.random(seed));
            if (run.cpus() > 1) {
                continue; // the PV platform runs the one-CPU kernel
            }
            List<GuestOp> ops = new ArrayList<>(run.ops());
            ops.set(0, new GuestOp.Boot(BootStage.NATIVE));
            // the software-only PV platform models no disk: its block operations are not applicable
            ops.removeIf(o -> o instanceof GuestOp.BlockRead || o instanceof GuestOp.BlockWrite);
            Lockstep l = Lockstep.startPv(run.frames());
            for (GuestOp op : ops) {
                Lockstep.LockstepStep s = l.step(op);
                List<HybridInvariants.Violation> v = HybridInvariants.check(s);
                if (PvEventBudgets.isThePvKernelAddressFault(s)) {
                    userKernelAddressFaults++;
                    v = v.stream().filter(x -> !x.invariant().equals("I3") && !x.invariant().equals("I4")).toList();
                }
                assertThat(v).as("seed %d, %s: guest %s, twin %s", seed, op, s.guest().result(), s.twin().result())
                        .isEmpty();
                Optional<EventBudgets.Violation> b = PvEventBudgets.check(s.pre().guest(), s.guest());
                assertThat(b).as("seed %d, %s", seed, op).isEmpty();
                l = s.post();
                steps++;
            }
        }
        assertThat(steps).isGreaterThan(RUNS * 3);
        assertThat(userKernelAddressFaults).as("the generator reaches the PV-visible difference").isPositive();
    }

    @Test
    void anOperationThatCostsAnExtraRoundTripThroughXenIsOverBudget() {
        // The budget is computed from the step and the platform's counts: charge a system call with the events of
        // the operation before it as well (an extra trap, iret and switches) and BUD-11 must object.
        Lockstep l = Lockstep.startPv(64);
        for (GuestOp op : List.of(new GuestOp.Boot(BootStage.NATIVE), new GuestOp.NewProcess(),
                new GuestOp.SwitchTo(1))) {
            l = l.step(op).post();
        }
        Lockstep.LockstepStep access = l.step(new GuestOp.UserAccess(Layout.userPage(0), org.hybridv.x86.AccessKind
                .WRITE, 1));
        Lockstep.LockstepStep call = access.post().step(new GuestOp.Syscall());
        assertThat(PvEventBudgets.check(call.pre().guest(), call.guest())).isEmpty();
        Optional<EventBudgets.Violation> v = PvEventBudgets.check(access.pre().guest(), call.guest());
        assertThat(v).isPresent();
        assertThat(v.get().rule()).isEqualTo("BUD-11");
    }
}
