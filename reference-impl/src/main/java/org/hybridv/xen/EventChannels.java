package org.hybridv.xen;

import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.VmExits;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.PhysicalMemory;

/**
 * Event channels, Xen's 2-level ABI ({@code xen/common/event_channel.c}, {@code xen/common/event_2l.c}): the
 * {@code EVTCHNOP_*} commands of {@code event_channel_op} (hypercall 32, {@code xen/include/public/event_channel.h}),
 * each a function of (machine, calling vCPU, arguments), and the marking of a port pending in the domain's shared-info
 * frame ({@link SharedInfo}) with the wake-up of the vCPU it notifies. Rules EVT-1..EVT-8 of docs/rules/xen.md.
 */
public final class EventChannels {
    private EventChannels() {}

    public static final int EVTCHNOP_BIND_INTERDOMAIN = 0;
    public static final int EVTCHNOP_BIND_VIRQ = 1;
    public static final int EVTCHNOP_CLOSE = 3;
    public static final int EVTCHNOP_SEND = 4;
    public static final int EVTCHNOP_ALLOC_UNBOUND = 6;
    public static final int EVTCHNOP_UNMASK = 9;
    /** {@code DOMID_SELF}: "this domain" in a domain argument ({@code xen.h}). */
    public static final int DOMID_SELF = 0x7FF0;
    /** {@code NR_VIRQS} ({@code xen.h}). */
    public static final int NR_VIRQS = 24;
    /** {@code VIRQ_TIMER}: the per-vCPU timer virtual interrupt ({@code xen.h}). */
    public static final int VIRQ_TIMER = 0;

    /** The {@code event_channel_op} command {@code cmd} with its arguments (by value: {@link Hypercall}). */
    static PvResult op(XenMachine m, VcpuId caller, long cmd, long a1, long a2) {
        int d = caller.domain();
        if (m.pv().domain(d).sharedInfo() < 0) {
            return PvResult.refuse(Errno.EINVAL, "EVT-1", "d" + d + " has no shared-info page: pending and mask"
                    + " bits have nowhere to live (XENMEM_add_to_physmap, XENMAPSPACE_shared_info)");
        }
        if (cmd == EVTCHNOP_ALLOC_UNBOUND) {
            if (self(a1, d) != d) {
                return PvResult.refuse(Errno.EPERM, "EVT-2", "d" + d + " allocates ports for itself only, not for "
                        + a1 + " (a privileged toolstack's case)");
            }
            return allocUnbound(m, d, self(a2, d));
        }
        if (cmd == EVTCHNOP_BIND_INTERDOMAIN) {
            return bindInterdomain(m, d, self(a1, d), a2);
        }
        if (cmd == EVTCHNOP_BIND_VIRQ) {
            return bindVirq(m, d, a1, a2);
        }
        if (cmd == EVTCHNOP_SEND) {
            return send(m, d, a1);
        }
        if (cmd == EVTCHNOP_CLOSE) {
            return close(m, d, a1);
        }
        if (cmd == EVTCHNOP_UNMASK) {
            return unmask(m, d, a1);
        }
        return PvResult.refuse(Errno.ENOSYS, "EVT-1", "event_channel_op command " + cmd + " is not modelled");
    }

    private static long self(long dom, int d) {
        return dom == DOMID_SELF ? d : dom;
    }

    private static boolean bound(XenMachine m, int d, long port) {
        return port > 0 && port < SharedInfo.NR_EVENT_CHANNELS && m.pv().domain(d).ports().containsKey((int) port);
    }

    /** The lowest free port of {@code d} above the reserved port 0 ({@code get_free_port}), or -1. */
    static int freePort(XenMachine m, int d) {
        for (int p = 1; p < SharedInfo.NR_EVENT_CHANNELS; p++) {
            if (!m.pv().domain(d).ports().containsKey(p)) {
                return p;
            }
        }
        return -1;
    }

    /**
     * EVT-2 {@code evtchn_alloc_unbound} (args: {@code dom}, which must be the caller or {@code DOMID_SELF} (-EPERM),
     * and {@code remote_dom}): a new port of {@code d}, the lowest free one, in state unbound for
     * {@code remote} to bind to; it notifies vCPU 0. The remote domain must exist (-ESRCH); no free port: -ENOSPC.
     * RAX = the port.
     */
    static PvResult allocUnbound(XenMachine m, int d, long remote) {
        if (remote < 0 || remote > FrameInfo.MAX_DOMAIN || !m.domains().containsKey((int) remote)) {
            return PvResult.refuse(Errno.ESRCH, "EVT-2", "no domain " + remote);
        }
        int p = freePort(m, d);
        if (p < 0) {
            return PvResult.refuse(Errno.ENOSPC, "EVT-2", "d" + d + " has no free port");
        }
        return new PvResult.Done(withPort(m, d, p, new EventChannel.Unbound((int) remote, 0)), p);
    }

    /**
     * EVT-3 {@code evtchn_bind_interdomain}: connects a new port of {@code d} to port {@code rport} of {@code rd},
     * which must be unbound and allocated for {@code d} (-EINVAL otherwise; an unknown domain -ESRCH, a domain with no
     * shared-info page -EINVAL). Both ports become interdomain, each naming the other; the new local port notifies
     * vCPU 0 and is marked pending at once — Xen's conservative fix-up for notifications sent to the remote port
     * while it was unbound, which were dropped (EVT-5). RAX = the local port.
     */
    static PvResult bindInterdomain(XenMachine m, int d, long rd, long rport) {
        if (rd < 0 || rd > FrameInfo.MAX_DOMAIN || !m.domains().containsKey((int) rd)) {
            return PvResult.refuse(Errno.ESRCH, "EVT-3", "no domain " + rd);
        }
        int r = (int) rd;
        if (!bound(m, r, rport) || !(m.pv().domain(r).ports().get((int) rport) instanceof EventChannel.Unbound u)
                || u.remoteDomain() != d) {
            return PvResult.refuse(Errno.EINVAL, "EVT-3", "port " + rport + " of d" + r
                    + " is not unbound for d" + d);
        }
        int p = freePort(m, d);
        if (p < 0) {
            return PvResult.refuse(Errno.ENOSPC, "EVT-3", "d" + d + " has no free port");
        }
        if (r == d && p == rport) {
            throw new IllegalStateException("a free port cannot be the bound one");
        }
        XenMachine after = withPort(m, d, p, new EventChannel.Interdomain(r, (int) rport, 0));
        after = withPort(after, r, (int) rport, new EventChannel.Interdomain(d, p, u.notifyVcpu()));
        return new PvResult.Done(setPending(after, d, p), p);
    }

    /**
     * EVT-4 {@code evtchn_bind_virq}: a new port of {@code d} bound to virtual interrupt {@code virq} of its vCPU
     * {@code vcpu}, which it notifies. The VIRQ must be one of {@code NR_VIRQS} (-EINVAL), the vCPU must exist
     * (-ENOENT), and a vCPU has at most one port per VIRQ (-EEXIST). RAX = the port.
     */
    static PvResult bindVirq(XenMachine m, int d, long virq, long vcpu) {
        if (virq < 0 || virq >= NR_VIRQS) {
            return PvResult.refuse(Errno.EINVAL, "EVT-4", "VIRQ " + virq + " is not one of " + NR_VIRQS);
        }
        if (vcpu < 0 || vcpu >= m.domain(d).vcpus().size() || vcpu >= SharedInfo.MAX_VCPUS) {
            return PvResult.refuse(Errno.ENOENT, "EVT-4", "d" + d + " has no vCPU " + vcpu);
        }
        if (virqPort(m, d, (int) vcpu, (int) virq) > 0) {
            return PvResult.refuse(Errno.EEXIST, "EVT-4", "VIRQ " + virq + " of d" + d + "v" + vcpu
                    + " is already bound to port " + virqPort(m, d, (int) vcpu, (int) virq));
        }
        int p = freePort(m, d);
        if (p < 0) {
            return PvResult.refuse(Errno.ENOSPC, "EVT-4", "d" + d + " has no free port");
        }
        return new PvResult.Done(withPort(m, d, p, new EventChannel.Virq((int) virq, (int) vcpu)), p);
    }

    /** The port of {@code d} bound to {@code virq} of its vCPU {@code vcpu} ({@code v->virq_to_evtchn}), or 0. */
    public static int virqPort(XenMachine m, int d, int vcpu, int virq) {
        for (var e : m.pv().domain(d).ports().entrySet()) {
            if (e.getValue() instanceof EventChannel.Virq v && v.virq() == virq && v.notifyVcpu() == vcpu) {
                return e.getKey();
            }
        }
        return 0;
    }

    /**
     * EVT-5 {@code evtchn_send}: a notification on port {@code port} of {@code d}. An interdomain port makes its peer
     * — port {@code remotePort} of {@code remoteDomain}, and only that port — pending ({@link #setPending}); an
     * unbound port drops it silently (nobody is connected yet); a VIRQ port or a free port: -EINVAL (a VIRQ is raised
     * by the hypervisor, never sent). Seeded fault {@link Fault#EVTCHN_SEND_TO_FOREIGN_PORT}: the peer's port number is
     * marked in the wrong domain (the sender's own).
     */
    static PvResult send(XenMachine m, int d, long port) {
        if (!bound(m, d, port)) {
            return PvResult.refuse(Errno.EINVAL, "EVT-5", "port " + port + " of d" + d + " is not bound");
        }
        EventChannel c = m.pv().domain(d).ports().get((int) port);
        if (c instanceof EventChannel.Interdomain i) {
            int target = m.faults().breaks(Fault.EVTCHN_SEND_TO_FOREIGN_PORT) ? d : i.remoteDomain();
            return new PvResult.Done(setPending(m, target, i.remotePort()), 0);
        }
        if (c instanceof EventChannel.Unbound) {
            return new PvResult.Done(m, 0);
        }
        return PvResult.refuse(Errno.EINVAL, "EVT-5", "port " + port + " of d" + d + " is bound to a VIRQ: the"
                + " hypervisor raises it, the guest cannot send on it");
    }

    /**
     * EVT-7 {@code evtchn_close}: port {@code port} of {@code d} becomes free and its pending bit is cleared
     * ({@code evtchn_port_clear_pending}); an interdomain peer reverts to unbound, allocated for {@code d} again, so
     * it may be re-bound; a VIRQ is no longer bound to any port. A port that is not bound: -EINVAL.
     */
    static PvResult close(XenMachine m, int d, long port) {
        if (!bound(m, d, port)) {
            return PvResult.refuse(Errno.EINVAL, "EVT-7", "port " + port + " of d" + d + " is not bound");
        }
        int p = (int) port;
        EventChannel c = m.pv().domain(d).ports().get(p);
        XenMachine after = withPort(m, d, p, null);
        if (c instanceof EventChannel.Interdomain i && !(i.remoteDomain() == d && i.remotePort() == p)) {
            EventChannel peer = after.pv().domain(i.remoteDomain()).ports().get(i.remotePort());
            after = withPort(after, i.remoteDomain(), i.remotePort(), new EventChannel.Unbound(d,
                    peer.notifyVcpu()));
        }
        long si = m.pv().domain(d).sharedInfo();
        return new PvResult.Done(withMemory(after, SharedInfo.setPending(after.memory(), si, p, false)), 0);
    }

    /**
     * EVT-8 {@code evtchn_unmask} ({@code evtchn_2l_unmask}): clears port {@code port}'s mask bit; if the port is
     * pending, the notification the mask held back is made now: its selector bit and the vCPU's upcall-pending are set
     * and the vCPU is kicked, as {@link #setPending} does for an unmasked port. A port outside the ABI: -EINVAL.
     */
    static PvResult unmask(XenMachine m, int d, long port) {
        if (port <= 0 || port >= SharedInfo.NR_EVENT_CHANNELS) {
            return PvResult.refuse(Errno.EINVAL, "EVT-8", "port " + port + " is outside 0.." + (SharedInfo
                    .NR_EVENT_CHANNELS - 1));
        }
        int p = (int) port;
        long si = m.pv().domain(d).sharedInfo();
        XenMachine after = withMemory(m, SharedInfo.setMasked(m.memory(), si, p, false));
        EventChannel c = m.pv().domain(d).ports().get(p);
        if (SharedInfo.pending(after.memory(), si, p) && c != null) {
            after = markSelected(after, d, c.notifyVcpu(), p);
        }
        return new PvResult.Done(after, 0);
    }

    /**
     * EVT-6 {@code evtchn_2l_set_pending}: port {@code port} of {@code d} becomes pending. If it already was, nothing
     * more happens (one pending bit stands for any number of notifications). If it is not masked, the word's bit of
     * the notified vCPU's {@code evtchn_pending_sel} is set and, if it was clear, the vCPU is marked
     * ({@code vcpu_mark_events_pending}: {@code evtchn_upcall_pending} set) and kicked ({@link #kick}). A domain
     * with no shared-info page cannot hold the bit: the notification is dropped.
     */
    public static XenMachine setPending(XenMachine m, int d, int port) {
        DomainPv dp = m.pv().domain(d);
        long si = dp.sharedInfo();
        if (si < 0 || SharedInfo.pending(m.memory(), si, port)) {
            return m;
        }
        XenMachine after = withMemory(m, SharedInfo.setPending(m.memory(), si, port, true));
        EventChannel c = dp.ports().get(port);
        if (c == null || SharedInfo.masked(after.memory(), si, port)) {
            return after;
        }
        return markSelected(after, d, c.notifyVcpu(), port);
    }

    /** The selector bit of {@code port}'s word for vCPU {@code vcpu}, then the vCPU marked and kicked (EVT-6). */
    private static XenMachine markSelected(XenMachine m, int d, int vcpu, int port) {
        long si = m.pv().domain(d).sharedInfo();
        if (SharedInfo.selected(m.memory(), si, vcpu, port / 64)) {
            return m;
        }
        XenMachine after = withMemory(m, SharedInfo.setSelected(m.memory(), si, vcpu, port / 64, true));
        return markEventsPending(after, new VcpuId(d, vcpu));
    }

    /**
     * EVT-6 {@code vcpu_mark_events_pending}: sets the vCPU's {@code evtchn_upcall_pending}; if it was clear, kicks
     * the vCPU ({@link #kick}). Only vCPUs that exist and have a {@code vcpu_info} are marked.
     */
    public static XenMachine markEventsPending(XenMachine m, VcpuId v) {
        long si = m.pv().domain(v.domain()).sharedInfo();
        if (si < 0 || v.vcpu() >= m.domain(v.domain()).vcpus().size() || v.vcpu() >= SharedInfo.MAX_VCPUS
                || SharedInfo.upcallPending(m.memory(), si, v.vcpu())) {
            return m;
        }
        return kick(withMemory(m, SharedInfo.setUpcallPending(m.memory(), si, v.vcpu(), true)), v);
    }

    /**
     * TIME-3 / EVT-6 {@code vcpu_kick}: a vCPU with an event to take is unblocked ({@code vcpu_unblock}: blocked in
     * {@code SCHEDOP_block} or HLT), and if it runs in non-root operation on its pCPU it is interrupted there (an
     * event-check IPI: an external-interrupt VM exit, SDM Vol. 3C §25.2), so that its next VM entry can inject the
     * upcall (EVT-9). The machine's active pCPU is unchanged.
     */
    static XenMachine kick(XenMachine m, VcpuId v) {
        XenMachine after = m.vcpu(v).blocked() ? m.withVcpu(m.vcpu(v).withBlocked(false)) : m;
        if (after.running(v)) {
            int from = after.active();
            XenMachine there = after.withActive(after.vcpu(v).pcpu());
            VmxProcessor out = VmExits.exit(there.processor(), ExitInformation.of(ExitReason.EXTERNAL_INTERRUPT, 0));
            after = there.withCurrent(v, out).withActive(from);
        }
        return after;
    }

    /** {@code m} with machine memory {@code mem} (frame table and everything else unchanged). */
    static XenMachine withMemory(XenMachine m, PhysicalMemory mem) {
        return mem == m.memory() ? m : m.withPaging(m.paging().withMemory(mem));
    }

    private static XenMachine withPort(XenMachine m, int d, int port, EventChannel c) {
        return m.withPv(m.pv().with(d, m.pv().domain(d).withPort(port, c)));
    }

    // ---- what the guest does itself (no hypercall) ----------------------------------------------------------------

    /**
     * EVT-10, the guest's upcall handler ({@code xen_evtchn_do_upcall} in Linux, 2-level): vCPU {@code v} clears its
     * {@code evtchn_upcall_pending}, takes and clears its {@code evtchn_pending_sel}, and clears the pending bit of
     * every unmasked pending port it is notified for — the events it handles. Plain stores to its own shared-info
     * frame; the hypervisor is not involved. Only the guest clears a pending bit of a bound port (EVT-10).
     */
    public static XenMachine guestHandleUpcall(XenMachine m, VcpuId v) {
        DomainPv dp = m.pv().domain(v.domain());
        long si = dp.sharedInfo();
        if (si < 0) {
            return m;
        }
        PhysicalMemory mem = SharedInfo.setUpcallPending(m.memory(), si, v.vcpu(), false);
        mem = SharedInfo.clearSelector(mem, si, v.vcpu());
        for (var e : dp.ports().entrySet()) {
            int p = e.getKey();
            if (e.getValue().notifyVcpu() == v.vcpu() && SharedInfo.pending(mem, si, p)
                    && !SharedInfo.masked(mem, si, p)) {
                mem = SharedInfo.setPending(mem, si, p, false);
            }
        }
        return withMemory(m, mem);
    }

    /** The guest sets ({@code mask_evtchn}) or clears port {@code port}'s mask bit with a plain store. */
    public static XenMachine guestMask(XenMachine m, int d, int port, boolean masked) {
        long si = m.pv().domain(d).sharedInfo();
        return si < 0 ? m : withMemory(m, SharedInfo.setMasked(m.memory(), si, port, masked));
    }
}
