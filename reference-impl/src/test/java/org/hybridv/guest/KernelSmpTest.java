package org.hybridv.guest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.hybridv.invariants.HybridInvariants;
import org.hybridv.x86.AccessKind;
import org.hybridv.xen.Faults;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;
import org.junit.jupiter.api.Test;

/** The SMP hybrid kernel: two vCPUs on two pCPUs, in lockstep with its twin on two processors (docs/smp.md). */
class KernelSmpTest {
    static Lockstep run(Lockstep l, GuestOp op) {
        Lockstep.LockstepStep s = l.step(op);
        List<HybridInvariants.Violation> v = HybridInvariants.check(s);
        assertThat(v).as("invariants after %s: guest %s, twin %s", op, s.guest().result(), s.twin().result())
                .isEmpty();
        assertThat(s.guest().result()).as("%s under the hypervisor", op).isNotInstanceOf(KernelResult.Oops.class);
        return s.post();
    }

    static Lockstep smp(MmuMode mode) {
        return Lockstep.start(mode, 64, 64, Faults.NONE, 2);
    }

    static XenMachine machine(Lockstep l) {
        return ((XenPlatform) l.guest().platform()).machine();
    }

    /** Translations and paging-structure-cache entries tagged with {@code vpid} on pCPU {@code q}. */
    static long vpidEntries(XenMachine m, int q, int vpid) {
        return m.pcpu(q).tlb().entries().stream().filter(e -> e.tag().vpid() == vpid).count()
                + m.pcpu(q).tlb().pscEntries().stream().filter(e -> e.tag().vpid() == vpid).count();
    }

    /** The SWITCH_MMU step with the sibling running on pCPU 1: each vCPU on the root, pCPU 1 holds nothing of it. */
    @Test
    void switchMmuPausesTheSiblingLoadsTheRootAndFlushesItsPcpu() {
        Lockstep l = run(smp(MmuMode.SHADOW), new GuestOp.Boot(BootStage.HYPERCALL_PAGE_INSTALLED));
        l = run(l, new GuestOp.StartAp(1));
        l = run(l, new GuestOp.OnCpu(1, new GuestOp.KernelAccess(Layout.directMap(40), AccessKind.READ, 0)));
        assertThat(machine(l).running(new VcpuId(1, 1))).isTrue();
        Lockstep.LockstepStep s = l.step(GuestOp.SwitchMmu.kernelBuilt());
        assertThat(s.guest().result()).isInstanceOf(KernelResult.Switched.class);
        assertThat(HybridInvariants.check(s)).isEmpty();
        XenMachine m = machine(s.post());
        long root = m.guestTables().get(new VcpuId(1, 0));
        assertThat(m.guestTables().get(new VcpuId(1, 1))).isEqualTo(root);
        assertThat(m.guestCpu(new VcpuId(1, 1)).cr3().pml4Frame()).isEqualTo(root);
        assertThat(m.running(new VcpuId(1, 1))).as("paused: out of non-root operation until it next runs").isFalse();
        assertThat(vpidEntries(m, 1, 2)).isZero();
        assertThat(vpidEntries(m, 0, 1)).isZero();
        // resumed: its next instruction enters on the root (VMRESUME) and reads through the new tables
        Lockstep.LockstepStep r = s.post().step(new GuestOp.OnCpu(1, new GuestOp.KernelAccess(Layout.directMap(40),
                AccessKind.READ, 0)));
        assertThat(HybridInvariants.check(r)).isEmpty();
        assertThat(machine(r.post()).running(new VcpuId(1, 1))).isTrue();
    }

    /** The seeded fault: the sibling's pCPU keeps its shadow-era entries, which I6 reports after the switch. */
    @Test
    void aSwitchThatFlushesOnlyTheCallersPcpuLeavesTheSiblingsStaleEntries() {
        Lockstep l = Lockstep.start(MmuMode.SHADOW, 64, 64,
                Faults.of(org.hybridv.xen.Fault.SWITCH_MMU_SIBLING_NOT_FLUSHED), 2);
        l = run(l, new GuestOp.Boot(BootStage.HYPERCALL_PAGE_INSTALLED));
        l = run(l, new GuestOp.StartAp(1));
        l = run(l, new GuestOp.OnCpu(1, new GuestOp.KernelAccess(Layout.directMap(40), AccessKind.READ, 0)));
        Lockstep.LockstepStep s = l.step(GuestOp.SwitchMmu.kernelBuilt());
        assertThat(s.guest().result()).isInstanceOf(KernelResult.Switched.class);
        assertThat(vpidEntries(machine(s.post()), 1, 2)).isPositive();
        assertThat(HybridInvariants.check(s)).extracting(HybridInvariants.Violation::invariant).contains("I6");
    }

    @Test
    void withOneVcpuTheFaultChangesNothing() {
        Lockstep l = Lockstep.start(MmuMode.SHADOW, 64, 64,
                Faults.of(org.hybridv.xen.Fault.SWITCH_MMU_SIBLING_NOT_FLUSHED), 1);
        l = run(l, new GuestOp.Boot(BootStage.DIRECT));
        assertThat(l.guest().kernel().stage()).isEqualTo(BootStage.DIRECT);
    }

    @Test
    void theApComesUpOnItsOwnPcpuInLongMode() {
        Lockstep l = run(smp(MmuMode.SHADOW), new GuestOp.Boot(BootStage.HYPERCALL_PAGE_INSTALLED));
        assertThat(l.guest().kernel().online(1)).isFalse();
        Lockstep.LockstepStep s = l.step(new GuestOp.StartAp(1));
        assertThat(s.guest().result()).isEqualTo(new KernelResult.Done());
        assertThat(s.twin().result()).isEqualTo(new KernelResult.Done());
        assertThat(HybridInvariants.check(s)).isEmpty();
        l = s.post();
        XenMachine m = machine(l);
        VcpuId ap = new VcpuId(1, 1);
        assertThat(m.vcpu(ap).pcpu()).isEqualTo(1);
        assertThat(m.guestCpu(ap).cr0().pg()).isTrue();
        assertThat(m.guestCpu(ap).ia32eMode()).isTrue();
        assertThat(l.guest().kernel().online(1)).isTrue();
        // natively, the AP's registers are in long mode too, on the kernel's tables
        NativePlatform t = (NativePlatform) l.twin().platform();
        assertThat(t.parked().get(1).cpu().ia32eMode()).isTrue();
    }

    @Test
    void bothCpusRunProcessesAndSwitchTheMmuTogether() {
        Lockstep l = run(smp(MmuMode.SHADOW), new GuestOp.Boot(BootStage.HYPERCALL_PAGE_INSTALLED));
        l = run(l, new GuestOp.StartAp(1));
        l = run(l, new GuestOp.NewProcess());
        l = run(l, new GuestOp.NewProcess());
        l = run(l, new GuestOp.SwitchTo(1));
        l = run(l, new GuestOp.OnCpu(1, new GuestOp.SwitchTo(2)));
        l = run(l, new GuestOp.UserAccess(Layout.userPage(3), AccessKind.WRITE, 0x11));
        l = run(l, new GuestOp.OnCpu(1, new GuestOp.UserAccess(Layout.userPage(4), AccessKind.WRITE, 0x22)));
        l = run(l, new GuestOp.OnCpu(1, new GuestOp.Syscall()));
        VcpuId ap = new VcpuId(1, 1);
        assertThat(machine(l).running(ap)).as("the sibling runs on pCPU 1 when the BSP issues SWITCH_MMU").isTrue();
        assertThat(vpidEntries(machine(l), 1, 2)).as("it cached shadow-era translations there").isPositive();
        l = run(l, GuestOp.SwitchMmu.kernelBuilt());
        assertThat(l.guest().kernel().stage()).isEqualTo(BootStage.DIRECT);
        XenMachine after = machine(l);
        long root = after.guestTables().get(new VcpuId(1, 0));
        // PRE-3: the sibling was paused, got the root as CR3, and its pCPU was flushed; then CPU 1 reloaded its own
        // address space (process 2's new tables) with write_cr3
        long ap2 = l.guest().kernel().frameOf(l.guest().kernel().process(2).tables().l4());
        assertThat(after.guestCpu(ap).cr3().pml4Frame()).isEqualTo(ap2);
        assertThat(after.guestCpu(new VcpuId(1, 0)).cr3().pml4Frame()).isEqualTo(root);
        l = run(l, new GuestOp.OnCpu(1, new GuestOp.UserAccess(Layout.userPage(4), AccessKind.READ, 0)));
        l = run(l, new GuestOp.OnCpu(1, new GuestOp.Syscall()));
        l = run(l, new GuestOp.UserAccess(Layout.userPage(3), AccessKind.READ, 0));
        // both CPUs on process 1: an unmap on CPU 0 reaches CPU 1 with MMUEXT_INVLPG_MULTI
        l = run(l, new GuestOp.OnCpu(1, new GuestOp.SwitchTo(1)));
        l = run(l, new GuestOp.OnCpu(1, new GuestOp.UserAccess(Layout.userPage(3), AccessKind.READ, 0)));
        l = run(l, new GuestOp.Unmap(3));
        l = run(l, new GuestOp.OnCpu(1, new GuestOp.UserAccess(Layout.userPage(3), AccessKind.READ, 0)));
    }
    /**
     * The cross-CPU unmap natively: CPU 1 cached the page; CPU 0's unmap INVLPGs locally and sends the flush IPI,
     * whose handler INVLPGs on CPU 1 (Intel SDM Vol. 3A §4.10.5: each processor invalidates its own TLB).
     */
    @Test
    void nativelyAnUnmapReachesTheOtherCpuThroughTheFlushIpi() {
        Lockstep l = run(smp(MmuMode.SHADOW), new GuestOp.Boot(BootStage.HYPERCALL_PAGE_INSTALLED));
        l = run(l, new GuestOp.StartAp(1));
        l = run(l, new GuestOp.NewProcess());
        l = run(l, new GuestOp.SwitchTo(1));
        l = run(l, new GuestOp.OnCpu(1, new GuestOp.SwitchTo(1)));
        l = run(l, new GuestOp.OnCpu(1, new GuestOp.UserAccess(Layout.userPage(6), AccessKind.WRITE, 6)));
        l = run(l, new GuestOp.SwitchTo(1)); // back on CPU 0: the twin's CPU 1 is parked with its TLB
        assertThat(cached((NativePlatform) l.twin().platform(), 1, Layout.userPage(6))).isTrue();
        Lockstep.LockstepStep u = l.step(new GuestOp.Unmap(6));
        assertThat(HybridInvariants.check(u)).isEmpty();
        assertThat(cached((NativePlatform) u.post().twin().platform(), 1, Layout.userPage(6))).isFalse();
        // the guest (shadow mode): the handler's INVLPG ran on vCPU 1, on pCPU 1
        assertThat(u.guest().trace()).anyMatch(e -> e.instruction() instanceof org.hybridv.vmx.GuestInstruction.Invlpg
                && e.pre().cpu() == 1);
        // and a read on CPU 1 faults again (demand paging maps a fresh page: both sides agree)
        l = run(u.post(), new GuestOp.OnCpu(1, new GuestOp.UserAccess(Layout.userPage(6), AccessKind.READ, 0)));
    }

    /** Whether the twin's processor {@code cpu} (parked) caches a translation of {@code linear}. */
    static boolean cached(NativePlatform p, int cpu, long linear) {
        org.hybridv.x86.Tlb t = p.cpu() == cpu ? p.machine().tlb() : p.parked().get(cpu).tlb();
        return t.entries().stream().anyMatch(e -> e.linearBase() == linear);
    }

    @Test
    void theSmpWorkloadInEveryModeMatchesNative() {
        for (MmuMode mode : List.of(MmuMode.SHADOW, MmuMode.HAP)) {
            for (BootStage to : List.of(BootStage.HYPERCALL_PAGE_INSTALLED, BootStage.DIRECT)) {
                Lockstep l = run(smp(mode), new GuestOp.Boot(BootStage.HYPERCALL_PAGE_INSTALLED));
                l = run(l, new GuestOp.StartAp(1));
                l = run(l, new GuestOp.NewProcess());
                l = run(l, new GuestOp.OnCpu(1, new GuestOp.SwitchTo(1)));
                l = run(l, new GuestOp.OnCpu(1, new GuestOp.UserAccess(Layout.userPage(2), AccessKind.WRITE, 2)));
                if (to == BootStage.DIRECT) {
                    l = run(l, GuestOp.SwitchMmu.kernelBuilt());
                }
                l = run(l, new GuestOp.SwitchTo(1));
                l = run(l, new GuestOp.UserAccess(Layout.userPage(2), AccessKind.READ, 0));
                l = run(l, new GuestOp.OnCpu(1, new GuestOp.UserAccess(Layout.userPage(2), AccessKind.READ, 0)));
                l = run(l, new GuestOp.OnCpu(1, new GuestOp.Unmap(2)));
                l = run(l, new GuestOp.UserAccess(Layout.userPage(2), AccessKind.READ, 0));
                l = run(l, new GuestOp.OnCpu(1, new GuestOp.Map(9, false)));
                l = run(l, new GuestOp.UserAccess(Layout.userPage(9), AccessKind.WRITE, 1)); // killed: read-only
                assertThat(l.guest().kernel().current(1)).as("the process died on both CPUs").isZero();
                l = run(l, new GuestOp.OnCpu(1, new GuestOp.Idle()));
                l = run(l, new GuestOp.OnCpu(1, new GuestOp.Syscall()));
            }
        }
    }
    /** I5-refused with a running sibling: a refused switch pauses nobody and changes nothing (PRE-3 acts on acceptance). */
    @Test
    void aRefusedSwitchLeavesTheRunningSiblingAsItWas() {
        Lockstep l = run(smp(MmuMode.SHADOW), new GuestOp.Boot(BootStage.HYPERCALL_PAGE_INSTALLED));
        l = run(l, new GuestOp.StartAp(1));
        l = run(l, new GuestOp.OnCpu(1, new GuestOp.Syscall()));
        XenMachine before = machine(l);
        Lockstep.LockstepStep s = l.step(new GuestOp.SwitchMmu(SwitchRoot.SUPERPAGE, 0, false, false));
        assertThat(s.guest().result()).isInstanceOf(KernelResult.SwitchRefused.class);
        assertThat(HybridInvariants.check(s)).isEmpty();
        XenMachine after = machine(s.post());
        assertThat(after.running(new VcpuId(1, 1))).isTrue();
        assertThat(after.pcpu(1)).isEqualTo(before.pcpu(1));
    }
}
