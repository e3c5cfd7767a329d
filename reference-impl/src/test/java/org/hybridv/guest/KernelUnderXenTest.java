package org.hybridv.guest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.hybridv.invariants.HybridInvariants;
import org.hybridv.x86.AccessKind;
import org.hybridv.xen.MmuMode;
import org.junit.jupiter.api.Test;

/** The hybrid kernel under the hypervisor, in lockstep with its native twin. */
class KernelUnderXenTest {
    static Lockstep run(Lockstep l, GuestOp op) {
        Lockstep.LockstepStep s = l.step(op);
        List<HybridInvariants.Violation> v = HybridInvariants.check(s);
        assertThat(v).as("invariants after %s: guest %s, twin %s", op, s.guest().result(), s.twin().result())
                .isEmpty();
        return s.post();
    }

    @Test
    void shadowBootDetectsXenInstallsThePageAndSwitches() {
        Lockstep l = Lockstep.start(MmuMode.SHADOW, 64, 64);
        Lockstep.LockstepStep b = l.step(new GuestOp.Boot(BootStage.DIRECT));
        assertThat(b.guest().result()).isEqualTo(new KernelResult.Booted(BootStage.DIRECT));
        assertThat(b.twin().result()).isEqualTo(new KernelResult.Booted(BootStage.NATIVE));
        assertThat(HybridInvariants.check(b)).isEmpty();
        XenPlatform x = (XenPlatform) b.guest().post().platform();
        assertThat(x.mode()).isEqualTo(MmuMode.DIRECT);
    }

    /**
     * A workload after boot: two processes, demand paging, a read-only map written, a context switch, a system call, an
     * unmap and the access after it, idle, a kernel read (the native-equivalence tests of every platform run it).
     */
    static final List<GuestOp> WORKLOAD = List.of(new GuestOp.NewProcess(), new GuestOp.NewProcess(),
            new GuestOp.SwitchTo(1), new GuestOp.UserAccess(Layout.userPage(2), AccessKind.WRITE, 0xAB),
            new GuestOp.UserAccess(Layout.userPage(2), AccessKind.READ, 0), new GuestOp.Map(5, false),
            new GuestOp.UserAccess(Layout.userPage(5), AccessKind.WRITE, 1), new GuestOp.SwitchTo(2),
            new GuestOp.Syscall(), new GuestOp.UserAccess(Layout.userPage(7), AccessKind.WRITE, 0xCD),
            new GuestOp.Unmap(7), new GuestOp.UserAccess(Layout.userPage(7), AccessKind.READ, 0), new GuestOp.Idle(),
            new GuestOp.KernelAccess(Layout.CURRENT_VAR, AccessKind.READ, 0));

    @Test
    void workloadInEveryModeMatchesNative() {
        for (MmuMode mode : List.of(MmuMode.SHADOW, MmuMode.HAP)) {
            for (BootStage to : List.of(BootStage.HYPERCALL_PAGE_INSTALLED, BootStage.DIRECT)) {
                Lockstep l = run(Lockstep.start(mode, 64, 64), new GuestOp.Boot(to));
                for (GuestOp op : WORKLOAD) {
                    l = run(l, op);
                }
                l = run(l, new GuestOp.UserAccess(Layout.CURRENT_VAR, AccessKind.READ, 0));
            }
        }
    }

    @Test
    void switchAfterWorkloadPreservesProcesses() {
        Lockstep l = run(Lockstep.start(MmuMode.SHADOW, 64, 64), new GuestOp.Boot(BootStage.HYPERCALL_PAGE_INSTALLED));
        l = run(l, new GuestOp.NewProcess());
        l = run(l, new GuestOp.NewProcess());
        l = run(l, new GuestOp.SwitchTo(2));
        l = run(l, new GuestOp.UserAccess(Layout.userPage(1), AccessKind.WRITE, 0x77));
        l = run(l, GuestOp.SwitchMmu.kernelBuilt());
        assertThat(l.guest().kernel().stage()).isEqualTo(BootStage.DIRECT);
        l = run(l, new GuestOp.UserAccess(Layout.userPage(1), AccessKind.READ, 0));
        l = run(l, new GuestOp.SwitchTo(1));
        l = run(l, new GuestOp.UserAccess(Layout.userPage(1), AccessKind.READ, 0));
        l = run(l, new GuestOp.NewProcess());
        l = run(l, new GuestOp.SwitchTo(3));
        l = run(l, new GuestOp.UserAccess(Layout.userPage(9), AccessKind.WRITE, 5));
    }
}
