package org.hybridv.guest;

import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.Hex;
import org.hybridv.xen.EventChannels;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.PvHypercalls;
import org.hybridv.xen.SharedInfo;
import org.hybridv.xen.VirtualTime;

/**
 * The kernel's timer, idle and interrupt controller (the last three rows of {@link PvOps#TABLE}; rules BOOT-8..10 of
 * docs/rules/hybrid.md), per platform as Linux does it:
 * <ul>
 * <li>natively, and under a hypervisor without the PV interface (KVM; a kernel configured not to use it): the local
 * APIC timer through the x2APIC MSRs — divide configuration and LVT timer (one-shot, {@link #LOCAL_TIMER_VECTOR}) on
 * first use, then the initial count per event ({@code lapic_next_event}); the timer's interrupt through the IDT; EOI
 * by WRMSR, or on KVM with PV EOI by clearing the PV EOI word when the hypervisor set it
 * ({@code kvm_guest_apic_eoi_write}); HLT to idle. Under VMX each x2APIC access exits (EMU-1) and is emulated (EMU-3,
 * EMU-5, EMU-6);</li>
 * <li>under Xen once the hypercall page is installed (BOOT-8): at boot the shared-info page
 * ({@code XENMEM_add_to_physmap}), the callback vector ({@code HVM_PARAM_CALLBACK_IRQ}) and {@code VIRQ_TIMER}
 * bound to a port; then each event by {@code VCPUOP_set_singleshot_timer} ({@code xen_vcpuop_set_next_event}), the
 * upcall injected at VM entry (EVT-9), whose handler ({@code xen_evtchn_do_upcall}) clears upcall-pending, the
 * selector and the pending bits in the shared-info page with plain stores (EVT-10) — no EOI; {@code SCHEDOP_block}
 * to idle (TIME-3).</li>
 * </ul>
 * The clock event device is the boot CPU's. Time passes only by {@link Platform#advanceTime}, which these operations
 * take as their explicit step; what the kernel observes — its tick count and clock, in its data page — is the same on
 * every platform (I3).
 */
final class KernelTimer {
    private KernelTimer() {}

    /** The longest timer period: the APIC timer's initial count is 32 bits (SDM Vol. 3A §10.5.4). */
    static final long MAX_TICKS = 0xFFFF_FFFFL;
    /** Linux's {@code LOCAL_TIMER_VECTOR} (arch/x86/include/asm/irq_vectors.h). */
    static final int LOCAL_TIMER_VECTOR = 0xEC;
    /** Linux's {@code HYPERVISOR_CALLBACK_VECTOR}: the vector of the Xen event upcall. */
    static final int CALLBACK_VECTOR = 0xF3;
    /** Divide configuration 1011b: divide by 1 (SDM Vol. 3A Figure 10-10): one count per tick. */
    static final long DIVIDE_BY_1 = 0b1011;

    /**
     * BOOT-8, at boot right after the hypercall page (Linux {@code xen_hvm_guest_init}: {@code init_hvm_pv_info},
     * then {@code xen_hvm_init_shared_info}, the callback via {@code xen_set_callback_via}, and the timer's
     * {@code bind_virq_to_irqhandler(VIRQ_TIMER)} in {@code xen_setup_timer}): three hypercalls, the port kept in the
     * kernel's data page. Null when done, an oops otherwise.
     */
    static KernelResult setUpEvents(Kernel.Run r) {
        long gfn = r.kernel.frameOf(Layout.sharedInfo(r.kernel.frames()));
        Observed o = r.hypercall(Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP, PvHypercalls.XENMEM_ADD_TO_PHYSMAP,
                PvHypercalls.XENMAPSPACE_SHARED_INFO, gfn));
        if (!(o instanceof Observed.Value v) || v.value() != 0) {
            return new KernelResult.Oops("XENMEM_add_to_physmap shared info at " + Hex.of(gfn) + ": " + o);
        }
        o = r.hypercall(Hypercall.of(PvHypercalls.HYPERVISOR_HVM_OP, PvHypercalls.HVMOP_SET_PARAM,
                PvHypercalls.HVM_PARAM_CALLBACK_IRQ, (PvHypercalls.HVM_PARAM_CALLBACK_TYPE_VECTOR << 56)
                        | CALLBACK_VECTOR));
        if (!(o instanceof Observed.Value v2) || v2.value() != 0) {
            return new KernelResult.Oops("HVM_PARAM_CALLBACK_IRQ: " + o);
        }
        o = r.hypercall(Hypercall.of(PvHypercalls.HYPERVISOR_EVENT_CHANNEL_OP, EventChannels.EVTCHNOP_BIND_VIRQ,
                EventChannels.VIRQ_TIMER, r.cpu));
        if (!(o instanceof Observed.Value v3) || v3.value() <= 0) {
            return new KernelResult.Oops("bind_virq VIRQ_TIMER: " + o);
        }
        return r.store(Layout.TIMER_PORT_VAR, ((Observed.Value) o).value());
    }

    /** BOOT-9: one timer tick ({@link GuestOp.TimerTick}). */
    static KernelResult tick(Kernel.Run r, GuestOp.TimerTick op) {
        return period(r, op.ticks(), op.pv(), false);
    }

    /** BOOT-10: an idle period of {@code op.ticks()} ({@link GuestOp.Idle} with ticks &gt; 0). */
    static KernelResult idle(Kernel.Run r, GuestOp.Idle op) {
        return period(r, op.ticks(), op.pv(), true);
    }

    private static KernelResult period(Kernel.Run r, long ticks, boolean wantPv, boolean idle) {
        if (r.cpu != 0) {
            return new KernelResult.NotApplicable("the clock event device is the boot CPU's, not CPU " + r.cpu + "'s");
        }
        if (r.platform instanceof PvPlatform) {
            return new KernelResult.NotApplicable("the software-only PV platform models no time and no events");
        }
        long[] port = new long[1];
        KernelResult bad = load(r, Layout.TIMER_PORT_VAR, port);
        if (bad != null) {
            return bad;
        }
        boolean pv = PvOps.pvTimer(r.platform, port[0], wantPv);
        bad = pv ? programSingleShot(r, ticks) : programApic(r, ticks);
        if (bad != null) {
            return bad;
        }
        if (idle) {
            bad = pv ? block(r) : halt(r);
            if (bad != null) {
                return bad;
            }
        }
        r.platform = r.platform.advanceTime(ticks);
        bad = pv ? upcall(r, ticks, (int) port[0]) : apicInterrupt(r, ticks);
        if (bad != null) {
            return bad;
        }
        if (idle) {
            return new KernelResult.Idled();
        }
        long[] jiffies = new long[1];
        long[] clock = new long[1];
        bad = load(r, Layout.JIFFIES_VAR, jiffies);
        if (bad == null) {
            bad = load(r, Layout.CLOCK_VAR, clock);
        }
        return bad != null ? bad : new KernelResult.Ticked(jiffies[0], clock[0]);
    }

    /**
     * BOOT-9, PV ({@code xen_vcpuop_set_next_event}): {@code VCPUOP_set_singleshot_timer} for this vCPU at the
     * kernel's clock + {@code ticks}, with {@code VCPU_SSHOTTMR_future} (TIME-2). The model's shared-info page carries
     * no {@code vcpu_time_info}: the kernel's clock stands for Linux's {@code xen_clocksource_read}, which is the
     * machine's time as long as only the kernel's timer operations advance it.
     */
    private static KernelResult programSingleShot(Kernel.Run r, long ticks) {
        long[] clock = new long[1];
        KernelResult bad = load(r, Layout.CLOCK_VAR, clock);
        if (bad != null) {
            return bad;
        }
        Observed o = r.hypercall(Hypercall.of(PvHypercalls.HYPERVISOR_VCPU_OP,
                VirtualTime.VCPUOP_SET_SINGLESHOT_TIMER, r.cpu, clock[0] + ticks, VirtualTime.VCPU_SSHOTTMR_FUTURE));
        return o instanceof Observed.Value v && v.value() == 0 ? null
                : new KernelResult.Oops("VCPUOP_set_singleshot_timer " + (clock[0] + ticks) + ": " + o);
    }

    /**
     * BOOT-9, the local APIC ({@code lapic_timer_set_oneshot} on first use, then {@code lapic_next_event}): divide by
     * 1 and the LVT timer one-shot with {@link #LOCAL_TIMER_VECTOR}, unmasked; then the initial count = {@code ticks}.
     */
    private static KernelResult programApic(Kernel.Run r, long ticks) {
        long[] oneshot = new long[1];
        KernelResult bad = load(r, Layout.APIC_ONESHOT_VAR, oneshot);
        if (bad == null && oneshot[0] == 0) {
            bad = wrmsr(r, LocalApic.DIV_CONF, DIVIDE_BY_1);
            if (bad == null) {
                bad = wrmsr(r, LocalApic.LVT_TIMER, LOCAL_TIMER_VECTOR);
            }
            if (bad == null) {
                bad = r.store(Layout.APIC_ONESHOT_VAR, 1);
            }
        }
        return bad != null ? bad : wrmsr(r, LocalApic.INIT_COUNT, ticks);
    }

    /** BOOT-10, PV idle ({@code xen_safe_halt}): {@code SCHEDOP_block} — the vCPU sleeps until an event (TIME-3). */
    private static KernelResult block(Kernel.Run r) {
        Observed o = r.hypercall(Hypercall.of(PvHypercalls.HYPERVISOR_SCHED_OP, VirtualTime.SCHEDOP_BLOCK));
        return o instanceof Observed.Value v && v.value() == 0 ? null : new KernelResult.Oops("SCHEDOP_block: " + o);
    }

    /** BOOT-10, HLT ({@code native_safe_halt}): idle, or resumed at once if an interrupt is already pending. */
    private static KernelResult halt(Kernel.Run r) {
        Observed o = r.exec(new GuestInstruction.Hlt());
        return o instanceof Observed.Idle || o instanceof Observed.Value ? null : new KernelResult.Oops("HLT: " + o);
    }

    /**
     * BOOT-9, the event upcall (EVT-9, EVT-10; Linux {@code xen_evtchn_do_upcall}, 2-level ABI): the handler's first
     * access to its {@code vcpu_info} is where the upcall was injected (at that instruction's VM entry); it clears
     * {@code evtchn_upcall_pending}, takes and clears {@code evtchn_pending_sel}, and for each selected word clears the
     * pending, unmasked ports ({@code clear_evtchn}) and runs their handlers — the timer's for {@code timerPort}. No
     * EOI; IRET.
     */
    private static KernelResult upcall(Kernel.Run r, long ticks, int timerPort) {
        int before = r.platform.interruptsDelivered();
        long si = Layout.directMap(Layout.sharedInfo(r.kernel.frames()));
        long vcpuInfo = si + 8L * SharedInfo.VCPU_INFO_WORDS * r.cpu;
        long[] w = new long[1];
        KernelResult bad = load(r, vcpuInfo, w);
        if (bad != null) {
            return bad;
        }
        if (r.platform.interruptsDelivered() == before) {
            return new KernelResult.Oops("the timer's event upcall was not delivered");
        }
        bad = r.store(vcpuInfo, w[0] & ~SharedInfo.UPCALL_PENDING);
        long[] sel = new long[1];
        if (bad == null) {
            bad = load(r, vcpuInfo + 8, sel);
        }
        if (bad == null) {
            bad = r.store(vcpuInfo + 8, 0);
        }
        boolean timer = false;
        for (int word = 0; bad == null && word < 64; word++) {
            if ((sel[0] >>> word & 1) == 0) {
                continue;
            }
            long[] pending = new long[1];
            long[] mask = new long[1];
            bad = load(r, si + 8L * (SharedInfo.PENDING_WORD + word), pending);
            if (bad == null) {
                bad = load(r, si + 8L * (SharedInfo.MASK_WORD + word), mask);
            }
            long ready = pending[0] & ~mask[0];
            if (bad == null && ready != 0) {
                bad = r.store(si + 8L * (SharedInfo.PENDING_WORD + word), pending[0] & ~ready);
                timer |= timerPort / 64 == word && (ready >>> (timerPort % 64) & 1) != 0;
            }
        }
        if (bad != null) {
            return bad;
        }
        if (!timer) {
            return new KernelResult.Oops("the upcall carried no event on the VIRQ_TIMER port " + timerPort);
        }
        bad = account(r, ticks);
        r.platform = r.platform.interruptReturn();
        return bad;
    }

    /**
     * BOOT-9, the local APIC timer's interrupt ({@code sysvec_apic_timer_interrupt}): the handler's first instruction
     * is where it was delivered; it counts the tick, then ends the interrupt: on KVM with PV EOI, if the hypervisor set
     * the PV EOI word's bit 0 the kernel clears it instead ({@code kvm_guest_apic_eoi_write}: no exit, EMU-6), else
     * WRMSR to the EOI register (EMU-3 under the hypervisor). IRET.
     */
    private static KernelResult apicInterrupt(Kernel.Run r, long ticks) {
        int before = r.platform.interruptsDelivered();
        long[] jiffies = new long[1];
        KernelResult bad = load(r, Layout.JIFFIES_VAR, jiffies);
        if (bad != null) {
            return bad;
        }
        if (r.platform.interruptsDelivered() == before) {
            return new KernelResult.Oops("the local APIC timer's interrupt was not delivered");
        }
        bad = account(r, ticks);
        long[] pvEoi = new long[1];
        if (bad == null) {
            bad = load(r, Layout.PV_EOI_VAR, pvEoi);
        }
        boolean done = false;
        if (bad == null && pvEoi[0] != 0) {
            long addr = Layout.directMap(Layout.HYPERCALL_PAGE) + KvmGuest.PV_EOI_OFFSET;
            long[] word = new long[1];
            bad = load(r, addr, word);
            if (bad == null && (word[0] & 1) != 0) {
                bad = r.store(addr, word[0] & ~1L);
                done = true;
            }
        }
        if (bad == null && !done) {
            bad = wrmsr(r, LocalApic.EOI, 0);
        }
        r.platform = r.platform.interruptReturn();
        return bad;
    }

    /** The tick handler proper: {@code jiffies} + 1, the clock + {@code ticks}, in the kernel's data page. */
    private static KernelResult account(Kernel.Run r, long ticks) {
        long[] v = new long[1];
        KernelResult bad = load(r, Layout.JIFFIES_VAR, v);
        if (bad == null) {
            bad = r.store(Layout.JIFFIES_VAR, v[0] + 1);
        }
        if (bad == null) {
            bad = load(r, Layout.CLOCK_VAR, v);
        }
        return bad != null ? bad : r.store(Layout.CLOCK_VAR, v[0] + ticks);
    }

    /** A kernel read into {@code into[0]}; null when done, an oops otherwise. */
    private static KernelResult load(Kernel.Run r, long linear, long[] into) {
        Observed o = r.exec(new GuestInstruction.MemoryAccess(Access.read(linear)));
        if (o instanceof Observed.Value v) {
            into[0] = v.value();
            return null;
        }
        return new KernelResult.Oops("read " + Hex.of(linear) + ": " + o);
    }

    private static KernelResult wrmsr(Kernel.Run r, long msr, long value) {
        Observed o = r.exec(new GuestInstruction.Wrmsr(msr, value));
        return o instanceof Observed.Value ? null : new KernelResult.Oops("WRMSR " + Hex.of(msr) + ": " + o);
    }
}
