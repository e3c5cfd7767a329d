package org.hybridv.guest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.hybridv.invariants.HybridInvariants;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Entry;
import org.hybridv.x86.ErrorCode;
import org.hybridv.xen.PageType;
import org.junit.jupiter.api.Test;

/**
 * The kernel built for software-only x86-64 PV, in lockstep with its native twin: the same observations for every
 * workload operation (I3, I4), with the PV events the design implies — expectations written from the PV rules of
 * {@link PvPlatform} (one trap and one page-table switch per kernel entry from user mode, one {@code iret} hypercall
 * and one switch per return to user mode, {@code mmu_update} per PTE write), not read off the output.
 */
class PvPlatformTest {
    static Lockstep run(Lockstep l, GuestOp op) {
        Lockstep.LockstepStep s = l.step(op);
        List<HybridInvariants.Violation> v = HybridInvariants.check(s);
        assertThat(v).as("invariants after %s: guest %s, twin %s", op, s.guest().result(), s.twin().result())
                .isEmpty();
        return s.post();
    }

    static PvPlatform pv(Lockstep l) {
        return (PvPlatform) l.guest().platform();
    }

    static PvEvents events(Lockstep before, Lockstep after) {
        return pv(after).events().since(pv(before).events());
    }

    @Test
    void bootsToNativePagingWithoutVmx() {
        Lockstep l = Lockstep.startPv(64);
        Lockstep.LockstepStep b = l.step(new GuestOp.Boot(BootStage.NATIVE));
        assertThat(HybridInvariants.check(b)).isEmpty();
        assertThat(b.guest().result()).isEqualTo(new KernelResult.Booted(BootStage.NATIVE));
        assertThat(b.twin().result()).isEqualTo(new KernelResult.Booted(BootStage.NATIVE));
        // Started in long mode by the domain builder: only CPUID leaf 1 (not intercepted) was executed; its ECX[31]
        // is clear on this platform, so the kernel does not scan the hypervisor leaves (BOOT-2).
        assertThat(b.guest().trace()).extracting(Executed::instruction)
                .containsExactly(new GuestInstruction.Cpuid(1, 0));
        assertThat(b.guest().exits().total()).isZero();
        PvPlatform p = pv(b.post());
        // Ring compression: the processor runs the guest kernel at CPL 3 on the kernel's L4 (frame 0).
        assertThat(p.hw().cpu().cpl()).isEqualTo(3);
        assertThat(p.cpl()).isZero();
        assertThat(p.hardwareRoot()).isEqualTo(Layout.EARLY_L4);
        assertThat(p.xen().frame(Layout.EARLY_L4).type()).isEqualTo(PageType.L4);
        assertThat(p.xen().frame(Layout.EARLY_L4).pinned()).isTrue();
        // The user L4 exists, is pinned, and does not map the direct map (slot 272).
        long user = p.userRoot();
        assertThat(p.xen().frame(user).pinned()).isTrue();
        assertThat(p.xen().entry(user, Layout.DIRECT_MAP_SLOT).present()).isFalse();
        // adjust_guest: the kernel's own mappings are user pages; page-table frames are read-only (L1-3).
        Entry data = p.xen().entry(Layout.EARLY_L1, (int) Layout.KERNEL_DATA);
        assertThat(data.user()).isTrue();
        assertThat(data.global()).isFalse();
        assertThat(p.xen().entry(Layout.EARLY_L1, (int) Layout.EARLY_L4).writable()).isFalse();
    }

    @Test
    void workloadMatchesNative() {
        Lockstep l = run(Lockstep.startPv(64), new GuestOp.Boot(BootStage.NATIVE));
        for (GuestOp op : KernelUnderXenTest.WORKLOAD) {
            l = run(l, op);
        }
        l = run(l, new GuestOp.NewProcess());
        l = run(l, new GuestOp.SwitchTo(3));
        l = run(l, new GuestOp.UserAccess(Layout.userPage(9), AccessKind.WRITE, 5));
        l = run(l, new GuestOp.SwitchTo(1));
        l = run(l, new GuestOp.UserAccess(Layout.userPage(2), AccessKind.READ, 0));
        assertThat(l.guest().kernel().processes()).isEqualTo(l.twin().kernel().processes());
        assertThat(l.guest().kernel().nextFree()).isEqualTo(l.twin().kernel().nextFree());
    }

    @Test
    void aUserReadOfAKernelAddressIsNotPresentOnPvButAProtectionFaultNatively() {
        // The one observable difference of x86-64 PV: the user L4 holds no kernel mappings, so the #PF the process
        // gets says "not present" (P = 0); natively the supervisor page is present and the fault is a protection
        // fault (P = 1). Both kill the process at the same address.
        Lockstep l = run(Lockstep.startPv(64), new GuestOp.Boot(BootStage.NATIVE));
        l = run(l, new GuestOp.NewProcess());
        l = run(l, new GuestOp.SwitchTo(1));
        Lockstep.LockstepStep s = l.step(new GuestOp.UserAccess(Layout.CURRENT_VAR, AccessKind.READ, 0));
        assertThat(s.twin().result()).isEqualTo(new KernelResult.Killed(1,
                new Observed.Fault(14, ErrorCode.P | ErrorCode.US, Layout.CURRENT_VAR)));
        assertThat(s.guest().result()).isEqualTo(new KernelResult.Killed(1,
                new Observed.Fault(14, ErrorCode.US, Layout.CURRENT_VAR)));
    }

    @Test
    void aNullSystemCallIsTwoRoundTripsThroughXen() {
        // Kernel.syscall: the process runs and enters with SYSCALL, getpid, SYSRET, the process runs, the next
        // entry. Per round trip on PV: HYPERVISOR_iret + switch to the user L4 on the way out, a trap through Xen +
        // switch to the kernel's L4 on the way in. Natively: none of these, and no VM exit anywhere.
        Lockstep l = run(Lockstep.startPv(64), new GuestOp.Boot(BootStage.NATIVE));
        l = run(l, new GuestOp.NewProcess());
        l = run(l, new GuestOp.SwitchTo(1));
        Lockstep after = run(l, new GuestOp.Syscall());
        PvEvents e = events(l, after);
        assertThat(e.of(PvEvents.TRAP_ENTRY)).isEqualTo(2);
        assertThat(e.of(PvEvents.HYPERCALL + "iret")).isEqualTo(2);
        assertThat(e.hypercalls()).isEqualTo(2);
        assertThat(e.of(PvEvents.CR3_SWITCH)).isEqualTo(4);
        // No global pages: every CR3 load is a full flush, so getpid's read of `current` misses the TLB.
        assertThat(e.of(PvEvents.FLUSH_FULL)).isEqualTo(4);
        assertThat(e.of(PvEvents.TLB_MISS)).isEqualTo(1);
    }

    @Test
    void demandPagingIsATrapAnMmuUpdateAndTheRetry() {
        Lockstep l = run(Lockstep.startPv(64), new GuestOp.Boot(BootStage.NATIVE));
        l = run(l, new GuestOp.NewProcess());
        l = run(l, new GuestOp.SwitchTo(1));
        Lockstep after = run(l, new GuestOp.UserAccess(Layout.userPage(4), AccessKind.WRITE, 9));
        PvEvents e = events(l, after);
        // Out to the process (iret), the #PF bounced by Xen, set_pte = mmu_update, out again (iret), the retried
        // write completes, the next entry (trap).
        assertThat(e.of(PvEvents.TRAP_PAGE_FAULT)).isEqualTo(1);
        assertThat(e.of(PvEvents.TRAP_ENTRY)).isEqualTo(1);
        assertThat(e.of(PvEvents.HYPERCALL + "iret")).isEqualTo(2);
        assertThat(e.of(PvEvents.HYPERCALL + "mmu_update")).isEqualTo(1);
        assertThat(e.of(PvEvents.CR3_SWITCH)).isEqualTo(4);
        // The PTE write went through the direct-paging core: the L1 holds the new frame, writable, U/S set.
        PvPlatform p = pv(after);
        Process proc = after.guest().kernel().process(1);
        Entry pte = p.xen().entry(proc.tables().l1(), 4);
        assertThat(pte.present()).isTrue();
        assertThat(pte.frame()).isEqualTo(proc.pages().get(4).pfn());
    }

    @Test
    void aContextSwitchIsOneMmuextOpWithBothBases() {
        Lockstep l = run(Lockstep.startPv(64), new GuestOp.Boot(BootStage.NATIVE));
        l = run(l, new GuestOp.NewProcess());
        l = run(l, new GuestOp.NewProcess());
        l = run(l, new GuestOp.SwitchTo(1));
        Lockstep after = run(l, new GuestOp.SwitchTo(2));
        PvEvents e = events(l, after);
        assertThat(e.of(PvEvents.HYPERCALL + "mmuext_op")).isEqualTo(1);
        assertThat(e.of(PvEvents.CR3_SWITCH)).isEqualTo(1);
        assertThat(e.traps()).isZero();
        PvPlatform p = pv(after);
        long l4 = after.guest().kernel().process(2).tables().l4();
        assertThat(p.kernelRoot()).isEqualTo(l4);
        assertThat(p.hardwareRoot()).isEqualTo(l4);
        assertThat(p.xen().guestTable(PvPlatform.VCPU).getAsLong()).isEqualTo(l4);
    }

    @Test
    void aNewProcessPinsItsL4AndAUserL4() {
        Lockstep l = run(Lockstep.startPv(64), new GuestOp.Boot(BootStage.NATIVE));
        Lockstep after = run(l, new GuestOp.NewProcess());
        PvEvents e = events(l, after);
        // alloc_pt: four update_va_mapping (each frame read-only); pgd pin: one mmuext_op.
        assertThat(e.of(PvEvents.HYPERCALL + "update_va_mapping")).isEqualTo(4);
        assertThat(e.of(PvEvents.HYPERCALL + "mmuext_op")).isEqualTo(1);
        PvPlatform p = pv(after);
        long l4 = after.guest().kernel().process(1).tables().l4();
        long user = p.userL4s().get(l4);
        assertThat(p.xen().frame(l4).pinned()).isTrue();
        assertThat(p.xen().frame(user).pinned()).isTrue();
        assertThat(p.xen().entry(user, 0).frame()).isEqualTo(p.xen().entry(l4, 0).frame());
    }
}
