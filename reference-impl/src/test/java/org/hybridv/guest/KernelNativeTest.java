package org.hybridv.guest;

import static org.assertj.core.api.Assertions.assertThat;

import org.hybridv.x86.AccessKind;
import org.hybridv.x86.ErrorCode;
import org.junit.jupiter.api.Test;

/** The hybrid kernel on bare metal: the reference every other platform is compared with (I3). */
class KernelNativeTest {
    static KernelStep run(GuestSystem s, GuestOp op) {
        return Kernel.apply(s, op);
    }

    @Test
    void bootsThroughRealProtectedLongToNativeWithoutAHypervisor() {
        GuestSystem s = Loader.onBareMetal(64);
        KernelStep b = run(s, new GuestOp.Boot(BootStage.DIRECT));
        assertThat(b.result()).isEqualTo(new KernelResult.Booted(BootStage.NATIVE));
        assertThat(b.post().kernel().stage()).isEqualTo(BootStage.NATIVE);
        NativePlatform p = (NativePlatform) b.post().platform();
        // SDM 9.8.5: long mode active = CR0.PG and EFER.LME (LMA), with CR4.PAE.
        assertThat(p.machine().cpu().ia32eMode()).isTrue();
        assertThat(p.machine().cpu().cr4().pae()).isTrue();
        // No hypercall was ever attempted: CPUID said "no hypervisor".
        assertThat(b.trace()).noneMatch(e -> e.instruction() instanceof org.hybridv.vmx.GuestInstruction.Vmcall);
        assertThat(b.exits().total()).isZero();
    }

    @Test
    void demandPagingThenReadBackThenKillOnBadAccess() {
        GuestSystem s = run(Loader.onBareMetal(64), new GuestOp.Boot(BootStage.DIRECT)).post();
        KernelStep np = run(s, new GuestOp.NewProcess());
        assertThat(np.result()).isEqualTo(new KernelResult.Created(1));
        s = run(np.post(), new GuestOp.SwitchTo(1)).post();
        long va = Layout.userPage(3) + 16;
        KernelStep w = run(s, new GuestOp.UserAccess(va, AccessKind.WRITE, 0x1234));
        // The first touch faults not-present in user mode (error code U|W = 6), the kernel maps a page and retries.
        assertThat(w.faults()).containsExactly(new Observed.Fault(14, ErrorCode.WR | ErrorCode.US, va));
        assertThat(w.result()).isEqualTo(new KernelResult.Read(0x1234));
        KernelStep rd = run(w.post(), new GuestOp.UserAccess(va, AccessKind.READ, 0));
        assertThat(rd.result()).isEqualTo(new KernelResult.Read(0x1234));
        assertThat(rd.faults()).isEmpty();
        // A user read of the kernel's direct map: present, supervisor page → #PF P|U = 5, the process dies.
        KernelStep bad = run(rd.post(), new GuestOp.UserAccess(Layout.CURRENT_VAR, AccessKind.READ, 0));
        assertThat(bad.result()).isEqualTo(new KernelResult.Killed(1,
                new Observed.Fault(14, ErrorCode.P | ErrorCode.US, Layout.CURRENT_VAR)));
    }

    @Test
    void syscallReadsCurrentAndUnmapMakesThePageFaultAgain() {
        GuestSystem s = run(Loader.onBareMetal(64), new GuestOp.Boot(BootStage.DIRECT)).post();
        s = run(s, new GuestOp.NewProcess()).post();
        s = run(s, new GuestOp.NewProcess()).post();
        s = run(s, new GuestOp.SwitchTo(2)).post();
        assertThat(run(s, new GuestOp.Syscall()).result()).isEqualTo(new KernelResult.Read(2));
        s = run(s, new GuestOp.Map(0, false)).post();
        KernelStep wr = run(s, new GuestOp.UserAccess(Layout.userPage(0), AccessKind.WRITE, 7));
        // Writing a read-only user page: protection fault P|W|U = 7 → killed.
        assertThat(wr.result()).isEqualTo(new KernelResult.Killed(2, new Observed.Fault(14, 7, Layout.userPage(0))));
        s = run(s, new GuestOp.Unmap(0)).post();
        KernelStep r = run(s, new GuestOp.UserAccess(Layout.userPage(0), AccessKind.READ, 0));
        assertThat(r.faults()).containsExactly(new Observed.Fault(14, ErrorCode.US, Layout.userPage(0)));
        assertThat(r.result()).isEqualTo(new KernelResult.Read(0));
    }
}
