package org.hybridv.xen;

/**
 * The PV timer and idle (rules TIME-1..TIME-3): machine time that advances only by an explicit step, the per-vCPU
 * single-shot timer of {@code vcpu_op} (hypercall 24, {@code xen/include/public/vcpu.h}) raising {@code VIRQ_TIMER},
 * and {@code SCHEDOP_block} of {@code sched_op} (hypercall 29, {@code sched.h}) as the idle of a PV-aware guest,
 * beside HLT.
 */
public final class VirtualTime {
    private VirtualTime() {}

    public static final int VCPUOP_SET_SINGLESHOT_TIMER = 10;
    public static final int VCPUOP_STOP_SINGLESHOT_TIMER = 11;
    /** {@code VCPU_SSHOTTMR_future}: refuse a deadline already passed (-ETIME). */
    public static final long VCPU_SSHOTTMR_FUTURE = 1;
    public static final int SCHEDOP_YIELD = 0;
    public static final int SCHEDOP_BLOCK = 1;

    /**
     * TIME-1: machine time advances by {@code ticks} (no other step changes it); then every vCPU whose single-shot
     * timer's deadline has been reached is disarmed and gets {@code VIRQ_TIMER} ({@link #sendTimerEvent}), in domain
     * and vCPU order — a timer fires once.
     */
    public static XenMachine advanceTime(XenMachine m, long ticks) {
        if (ticks < 0) {
            throw new IllegalArgumentException("time does not go back: " + ticks + " ticks");
        }
        XenMachine after = m.withPv(m.pv().withNow(Math.addExact(m.pv().now(), ticks)));
        after = X2ApicEmulation.countDown(after, ticks); // EMU-5: the emulated local APIC timers run on the same time
        for (int d : after.pv().domains().keySet()) {
            for (var e : after.pv().domain(d).vcpus().entrySet()) {
                long deadline = e.getValue().timerDeadline();
                if (deadline != VcpuPv.NO_DEADLINE && deadline <= after.pv().now()) {
                    after = fire(after, new VcpuId(d, e.getKey()));
                }
            }
        }
        return after;
    }

    private static XenMachine fire(XenMachine m, VcpuId v) {
        DomainPv dp = m.pv().domain(v.domain());
        XenMachine after = m.withPv(m.pv().with(v.domain(), dp.withVcpu(v.vcpu(), dp.vcpu(v.vcpu())
                .withTimerDeadline(VcpuPv.NO_DEADLINE))));
        return sendTimerEvent(after, v);
    }

    /**
     * TIME-1 {@code send_timer_event} → {@code send_guest_vcpu_virq(v, VIRQ_TIMER)}: the port of {@code v} bound to
     * {@code VIRQ_TIMER} becomes pending ({@link EventChannels#setPending}); with no port bound the event is dropped.
     */
    static XenMachine sendTimerEvent(XenMachine m, VcpuId v) {
        int port = EventChannels.virqPort(m, v.domain(), v.vcpu(), EventChannels.VIRQ_TIMER);
        return port == 0 ? m : EventChannels.setPending(m, v.domain(), port);
    }

    /**
     * TIME-2 {@code VCPUOP_set_singleshot_timer} ({@code vcpu_op}, {@code xen/common/domain.c}): only for the calling
     * vCPU itself (-EINVAL otherwise); with {@code VCPU_SSHOTTMR_future} a deadline before now is refused (-ETIME).
     * The timer is (re)armed for {@code deadline}; a deadline already reached fires at once (Xen's {@code set_timer}
     * with an expired time runs the handler from the softirq before the guest resumes). {@code VCPUOP_stop_singleshot_timer}
     * disarms it.
     */
    static PvResult vcpuOp(XenMachine m, VcpuId caller, long cmd, long vcpuid, long deadline, long flags) {
        if (cmd != VCPUOP_SET_SINGLESHOT_TIMER && cmd != VCPUOP_STOP_SINGLESHOT_TIMER) {
            return PvResult.refuse(Errno.ENOSYS, "TIME-2", "vcpu_op command " + cmd + " is not modelled");
        }
        if (vcpuid != caller.vcpu()) {
            return PvResult.refuse(Errno.EINVAL, "TIME-2", "the single-shot timer is set by the vCPU itself, not by "
                    + caller + " for vCPU " + vcpuid);
        }
        DomainPv dp = m.pv().domain(caller.domain());
        if (cmd == VCPUOP_STOP_SINGLESHOT_TIMER) {
            return new PvResult.Done(m.withPv(m.pv().with(caller.domain(), dp.withVcpu(caller.vcpu(), dp.vcpu(
                    caller.vcpu()).withTimerDeadline(VcpuPv.NO_DEADLINE)))), 0);
        }
        if (deadline < 0 || ((flags & VCPU_SSHOTTMR_FUTURE) != 0 && deadline < m.pv().now())) {
            return PvResult.refuse(Errno.ETIME, "TIME-2", "deadline " + deadline + " is before now ("
                    + m.pv().now() + ")");
        }
        XenMachine armed = m.withPv(m.pv().with(caller.domain(), dp.withVcpu(caller.vcpu(), dp.vcpu(caller.vcpu())
                .withTimerDeadline(deadline))));
        return new PvResult.Done(deadline <= m.pv().now() ? fire(armed, caller) : armed, 0);
    }

    /**
     * TIME-3 {@code SCHEDOP_block} ({@code vcpu_block_enable_events}): the vCPU blocks — it runs no guest instruction
     * ({@link Hypervisor#run} answers {@code Blocked} without entering it) until an event is marked for it
     * ({@link EventChannels#kick} unblocks it). Checked after blocking, as Xen does to close the wake-up race: with its
     * {@code evtchn_upcall_pending} already set it does not stay blocked. {@code SCHEDOP_yield} does nothing here
     * (one vCPU per pCPU step).
     */
    static PvResult schedOp(XenMachine m, VcpuId caller, long cmd) {
        if (cmd == SCHEDOP_YIELD) {
            return new PvResult.Done(m, 0);
        }
        if (cmd != SCHEDOP_BLOCK) {
            return PvResult.refuse(Errno.ENOSYS, "TIME-3", "sched_op command " + cmd + " is not modelled");
        }
        return new PvResult.Done(block(m, caller), 0);
    }

    /** TIME-3: {@code v} blocked unless an event is already pending for it ({@code local_events_need_delivery}). */
    static XenMachine block(XenMachine m, VcpuId v) {
        long si = m.pv().domain(v.domain()).sharedInfo();
        boolean pending = si >= 0 && v.vcpu() < SharedInfo.MAX_VCPUS && SharedInfo.upcallPending(m.memory(), si,
                v.vcpu()) || X2ApicEmulation.timerRequested(m, v); // EMU-5: an APIC interrupt is an event too
        return pending ? m : m.withVcpu(m.vcpu(v).withBlocked(true));
    }

    /**
     * TIME-3, HLT of an HVM vCPU (Xen {@code hvm_hlt}: "if an event is pending, return; else SCHEDOP_block"): the
     * exit's outcome is {@code Blocked} and the vCPU blocks; with an event pending for it, it is resumed at once
     * instead ({@code Resumed}, HLT, rule TIME-3) and the next entry injects the upcall (EVT-9).
     */
    static HvStep hlt(XenMachine m, VcpuId v) {
        XenMachine after = block(m, v);
        return after.vcpu(v).blocked() ? new HvStep(new VcpuOutcome.Blocked(), after)
                : new HvStep(new VcpuOutcome.Resumed(org.hybridv.vmx.ExitReason.HLT, 0, "TIME-3"), after);
    }
}
