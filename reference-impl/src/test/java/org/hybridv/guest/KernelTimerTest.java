package org.hybridv.guest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.xen.CpuidIdentity;
import org.hybridv.xen.EmulatedDevices;
import org.hybridv.xen.EventChannel;
import org.hybridv.xen.EventChannels;
import org.hybridv.xen.Faults;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.PvHypercalls;
import org.hybridv.xen.SharedInfo;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuPv;
import org.hybridv.xen.XenMachine;
import org.junit.jupiter.api.Test;

/**
 * The kernel's timer, idle and interrupt paths (BOOT-8..10 of docs/rules/hybrid.md), per platform, in lockstep with the
 * native twin. The exit counts follow from the rules: VMCALL exits unconditionally (Intel SDM Vol. 3C §25.1.2), every
 * x2APIC MSR access exits (EMU-1), an upcall or an emulated interrupt is injected at VM entry without an exit (EVT-9,
 * EMU-5), the upcall handler's stores go to an ordinary data page, and the PV EOI replaces the EOI write (EMU-6).
 */
class KernelTimerTest {
    private static final VcpuId V = new VcpuId(1, 0);

    private static Lockstep booted(MmuMode mode, BootStage to) {
        return KernelUnderXenTest.run(Lockstep.start(mode, 64, 64), new GuestOp.Boot(to));
    }

    private static Lockstep.LockstepStep step(Lockstep l, GuestOp op) {
        Lockstep.LockstepStep s = l.step(op);
        assertThat(org.hybridv.invariants.HybridInvariants.check(s)).as("invariants after %s", op).isEmpty();
        assertThat(s.guest().result()).as("I3: the guest's result is the twin's").isEqualTo(s.twin().result());
        return s;
    }

    private static XenMachine machine(KernelStep k) {
        return ((XenPlatform) k.post().platform()).machine();
    }

    private static long vmcalls(KernelStep k, long number) {
        return k.trace().stream().filter(e -> e.isHypercall(number)).count();
    }

    @Test
    void bootUnderXenSetsUpTheSharedInfoPageTheCallbackVectorAndVirqTimerAfterTheHypercallPage() {
        Lockstep.LockstepStep b = Lockstep.start(MmuMode.SHADOW, 64, 64).step(new GuestOp.Boot(
                BootStage.HYPERCALL_PAGE_INSTALLED));
        List<Executed> trace = b.guest().trace();
        int page = -1;
        for (int i = 0; i < trace.size(); i++) {
            if (trace.get(i).instruction() instanceof GuestInstruction.Wrmsr) {
                page = i;
            }
        }
        // BOOT-8: the three hypercalls come right after the hypercall page, in Linux's order
        assertThat(trace.get(page + 1).isHypercall(Hypercalls.HYPERVISOR_MEMORY_OP)).isTrue();
        assertThat(trace.get(page + 2).isHypercall(PvHypercalls.HYPERVISOR_HVM_OP)).isTrue();
        assertThat(trace.get(page + 3).isHypercall(PvHypercalls.HYPERVISOR_EVENT_CHANNEL_OP)).isTrue();
        XenMachine m = machine(b.guest());
        long gfn = Layout.sharedInfo(64);
        assertThat(m.pv().domain(1).sharedInfo()).isEqualTo(m.domain(1).machineFrame(gfn));
        assertThat(m.pv().domain(1).callbackVector()).isEqualTo(KernelTimer.CALLBACK_VECTOR);
        int port = EventChannels.virqPort(m, 1, 0, EventChannels.VIRQ_TIMER);
        assertThat(port).isPositive();
        assertThat(m.pv().domain(1).ports().get(port)).isEqualTo(new EventChannel.Virq(EventChannels.VIRQ_TIMER, 0));
        // natively nothing of this happens: no VMCALL on bare metal (I8)
        assertThat(b.twin().trace()).noneMatch(e -> e.instruction() instanceof GuestInstruction.Vmcall);
    }

    @Test
    void aPvTickInDirectModeCostsExactlyTheSetSingleshotTimerExitAndNoneForTheUpcall() {
        Lockstep l = booted(MmuMode.SHADOW, BootStage.DIRECT);
        for (int n = 1; n <= 3; n++) {
            Lockstep.LockstepStep s = step(l, new GuestOp.TimerTick(10, true));
            KernelStep g = s.guest();
            assertThat(g.result()).isEqualTo(new KernelResult.Ticked(n, 10L * n));
            assertThat(g.exits()).isEqualTo(ExitCount.of("VMCALL", 1));
            assertThat(vmcalls(g, PvHypercalls.HYPERVISOR_VCPU_OP)).isEqualTo(1);
            assertThat(ExitAccounting.split(g).delivery().total()).isZero();
            XenMachine m = machine(g);
            VcpuPv p = m.pv().domain(1).vcpu(0);
            assertThat(p.upcallsInjected()).as("EVT-9: one upcall per tick").isEqualTo(n);
            assertThat(p.interruptFlag()).as("IRET set IF again").isTrue();
            assertThat(p.timerDeadline()).as("TIME-1: a timer fires once").isEqualTo(VcpuPv.NO_DEADLINE);
            long si = m.pv().domain(1).sharedInfo();
            int port = EventChannels.virqPort(m, 1, 0, EventChannels.VIRQ_TIMER);
            assertThat(SharedInfo.upcallPending(m.memory(), si, 0)).as("EVT-10").isFalse();
            assertThat(SharedInfo.pending(m.memory(), si, port)).as("EVT-10").isFalse();
            assertThat(SharedInfo.selected(m.memory(), si, 0, port / 64)).as("EVT-10").isFalse();
            assertThat(m.pv().now()).as("time passed by the tick only").isEqualTo(10L * n);
            l = s.post();
        }
    }

    @Test
    void theEmulatedApicCostsOneMsrWriteExitPerProgrammingAndOnePerEoi() {
        for (MmuMode mode : List.of(MmuMode.SHADOW, MmuMode.HAP)) {
            Lockstep l = booted(mode, BootStage.HYPERCALL_PAGE_INSTALLED);
            Lockstep.LockstepStep first = step(l, new GuestOp.TimerTick(5, false));
            // on first use: divide configuration, LVT timer, initial count, EOI
            assertThat(first.guest().exits()).isEqualTo(ExitCount.of("MSR_WRITE", 4));
            Lockstep.LockstepStep s = step(first.post(), new GuestOp.TimerTick(5, false));
            KernelStep g = s.guest();
            assertThat(g.result()).isEqualTo(new KernelResult.Ticked(2, 10));
            assertThat(g.exits()).isEqualTo(ExitCount.of("MSR_WRITE", 2));
            assertThat(ExitAccounting.split(g).delivery()).as("the EOI after the delivery")
                    .isEqualTo(ExitCount.of("MSR_WRITE", 1));
            EmulatedDevices.TimerInterrupt i = machine(g).domain(1).devices().interrupt();
            assertThat(i.injected()).as("EMU-5: injected at VM entry").isEqualTo(2);
            assertThat(i.inService()).as("EMU-3: the EOI ended it").isZero();
            assertThat(machine(g).domain(1).devices().eois()).isEqualTo(2);
            assertThat(vmcalls(g, PvHypercalls.HYPERVISOR_VCPU_OP)).isZero();
        }
    }

    @Test
    void onKvmPvEoiSavesTheEoiExit() {
        Lockstep l = KernelUnderXenTest.run(Lockstep.start(MmuMode.HAP, 64, 64, Faults.NONE, CpuidIdentity.KVM),
                new GuestOp.Boot(BootStage.DIRECT));
        assertThat(l.guest().kernel().stage()).isEqualTo(BootStage.KVM);
        l = step(l, new GuestOp.TimerTick(5, true)).post();
        Lockstep.LockstepStep s = step(l, new GuestOp.TimerTick(5, true));
        KernelStep g = s.guest();
        // no PV timer on KVM: the emulated x2APIC timer, one MSR write for its initial count, none for the EOI
        assertThat(g.exits()).isEqualTo(ExitCount.of("MSR_WRITE", 1));
        assertThat(g.trace()).noneMatch(e -> e.instruction() instanceof GuestInstruction.Wrmsr w
                && w.msr() == LocalApic.EOI);
        // EMU-6: the first tick's cleared PV EOI word ended its interrupt at the next VM entry
        EmulatedDevices d = machine(g).domain(1).devices();
        assertThat(d.eois()).isEqualTo(1);
        assertThat(d.interrupt().inService()).as("this tick's interrupt ends at the next entry")
                .isEqualTo(KernelTimer.LOCAL_TIMER_VECTOR);
        // ... and the second tick's at the third tick's first VM entry (its initial-count WRMSR exits)
        KernelStep after = step(s.post(), new GuestOp.TimerTick(5, true)).guest();
        assertThat(machine(after).domain(1).devices().eois()).isEqualTo(2);
        assertThat(machine(after).domain(1).devices().interrupt().injected()).isEqualTo(3);
    }

    @Test
    void pvIdleBlocksInSchedopBlockUntilTheTimersEventWakesTheVcpu() {
        Lockstep l = booted(MmuMode.HAP, BootStage.HYPERCALL_PAGE_INSTALLED);
        Lockstep.LockstepStep s = step(l, new GuestOp.Idle(7, true));
        KernelStep g = s.guest();
        assertThat(g.result()).isEqualTo(new KernelResult.Idled());
        // set_singleshot_timer and SCHEDOP_block: two hypercalls, no HLT
        assertThat(g.exits()).isEqualTo(ExitCount.of("VMCALL", 2));
        Executed block = g.trace().stream().filter(e -> e.isHypercall(PvHypercalls.HYPERVISOR_SCHED_OP))
                .findFirst().orElseThrow();
        assertThat(((XenPlatform) block.platform()).machine().vcpu(V).blocked()).as("TIME-3").isTrue();
        assertThat(machine(g).vcpu(V).blocked()).as("woken by VIRQ_TIMER's event").isFalse();
        assertThat(machine(g).pv().domain(1).vcpu(0).upcallsInjected()).isEqualTo(1);
        // the same kernel configured not to use PV idle: HLT and the x2APIC timer (after its set-up)
        Lockstep.LockstepStep h = step(step(s.post(), new GuestOp.Idle(7, false)).post(), new GuestOp.Idle(7, false));
        assertThat(h.guest().exits()).isEqualTo(ExitCount.of("MSR_WRITE", 2).plus(ExitCount.of("HLT", 1)));
        Lockstep.LockstepStep t = step(h.post(), new GuestOp.TimerTick(1, true));
        assertThat(t.guest().result()).as("the clock counts every period").isEqualTo(new KernelResult.Ticked(4, 22));
    }

    @Test
    void nativelyTheLocalApicTimerCostsNothingAndCountsLikeTheGuest() {
        GuestSystem s = Kernel.apply(Loader.onBareMetal(64), new GuestOp.Boot(BootStage.DIRECT)).post();
        KernelStep k = Kernel.apply(s, new GuestOp.TimerTick(10, true));
        assertThat(k.result()).isEqualTo(new KernelResult.Ticked(1, 10));
        assertThat(k.exits().total()).isZero();
        LocalApic a = ((NativePlatform) k.post().platform()).apic();
        assertThat(a.delivered()).isEqualTo(1);
        assertThat(a.inService()).as("EOI").isZero();
        assertThat(a.curCount()).as("one-shot: expired at zero").isZero();
        assertThat(k.trace()).anyMatch(e -> e.instruction() instanceof GuestInstruction.Wrmsr w
                && w.msr() == LocalApic.INIT_COUNT && w.value() == 10);
    }

    @Test
    void theLocalApicTimerCountsAtTheDivideValueAndReloadsInPeriodicMode() {
        // SDM Vol. 3A §10.5.4: divide configuration 0000b divides by 2, 1011b by 1; periodic mode reloads
        assertThat(LocalApic.divisor(0b0000)).isEqualTo(2);
        assertThat(LocalApic.divisor(0b1011)).isEqualTo(1);
        assertThat(LocalApic.divisor(0b1010)).isEqualTo(128);
        LocalApic a = LocalApic.RESET.write(LocalApic.DIV_CONF, 0).write(LocalApic.LVT_TIMER,
                LocalApic.PERIODIC | 0x40).write(LocalApic.INIT_COUNT, 4);
        assertThat(a.countDown(6).curCount()).isEqualTo(1);
        LocalApic fired = a.countDown(8);
        assertThat(fired.curCount()).isEqualTo(4);
        assertThat(fired.requested()).isTrue();
        assertThat(fired.deliver().inService()).isEqualTo(0x40);
        assertThat(LocalApic.RESET.write(LocalApic.INIT_COUNT, 1).countDown(1).requested()).as("masked at reset")
                .isFalse();
        assertThat(LocalApic.RESET.write(LocalApic.EOI, 1)).as("#GP: EOI takes 0 only").isNull();
        assertThat(LocalApic.RESET.read(LocalApic.EOI)).as("#GP: EOI is write-only").isNull();
    }

    @Test
    void clocksShortOfADivideValueCarryOverAndAPeriodicTimerCountsOnAfterItsReload() {
        // SDM Vol. 3A §10.5.4: the count decreases once per divide value of bus clocks, whatever the steps of time
        LocalApic a = LocalApic.RESET.write(LocalApic.DIV_CONF, 0b1010).write(LocalApic.LVT_TIMER, 0x40)
                .write(LocalApic.INIT_COUNT, 2);
        LocalApic t = a.countDown(100);
        assertThat(t.curCount()).as("100 of 128 clocks: no decrement yet").isEqualTo(2);
        t = t.countDown(100);
        assertThat(t.curCount()).as("200 clocks: one decrement, 72 toward the next").isEqualTo(1);
        assertThat(t.countDown(100).countDown(100).requested()).as("400 clocks > 2 x 128: expired").isTrue();
        // periodic, divide by 1, initial count 4: 10 clocks expire it twice and leave 2 of the third period
        LocalApic p = LocalApic.RESET.write(LocalApic.DIV_CONF, 0b1011).write(LocalApic.LVT_TIMER,
                LocalApic.PERIODIC | 0x40).write(LocalApic.INIT_COUNT, 4).countDown(10);
        assertThat(p.curCount()).isEqualTo(2);
        assertThat(p.requested()).isTrue();
    }

    @Test
    void theTimerIsTheBootCpusAndTheSoftwarePvPlatformHasNone() {
        Lockstep l = KernelUnderXenTest.run(Lockstep.start(MmuMode.SHADOW, 64, 64, Faults.NONE, 2),
                new GuestOp.Boot(BootStage.DIRECT));
        l = KernelUnderXenTest.run(l, new GuestOp.StartAp(1));
        Lockstep.LockstepStep s = step(l, new GuestOp.OnCpu(1, new GuestOp.TimerTick(3, true)));
        assertThat(s.guest().result()).isInstanceOf(KernelResult.NotApplicable.class);
        assertThat(step(s.post(), new GuestOp.TimerTick(3, true)).guest().result())
                .isEqualTo(new KernelResult.Ticked(1, 3));
        KernelStep pv = Kernel.apply(PvPlatform.load(64), new GuestOp.TimerTick(3, true));
        assertThat(pv.result()).isInstanceOf(KernelResult.NotApplicable.class);
        assertThat(pv.trace()).isEmpty();
    }
}
