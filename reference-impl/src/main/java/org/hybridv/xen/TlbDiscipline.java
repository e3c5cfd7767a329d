package org.hybridv.xen;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import org.hybridv.vmx.InvvpidType;
import org.hybridv.vmx.Invvpid;
import org.hybridv.vmx.RootOutcome;
import org.hybridv.vmx.RootStep;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.CpuState;

/**
 * Performing the direct-paging core's TLB obligations ({@link Effect}) on the processor's VPID-tagged TLB with INVVPID
 * (CTL-5, docs/rules/hybrid.md: with VPID on, a CR3 change does not flush the guest's other translations, so every
 * hypervisor-initiated invalidation names the VPIDs of the vCPUs that may cache the translation). A domain's
 * translations are those tagged with its VPIDs. Domain-wide obligations go to the pCPUs of the domain's dirty CPU mask
 * (Xen rule TLB-9, {@link #flushTlbMask}): the active pCPU flushes directly, every other one by a flush IPI. For the PV
 * MMU hypercalls the IPIs are in flight: pending on their targets, handled in steps of their own while the hypercall
 * waits ({@link FlushIpis}, rules IPI-1..IPI-5); here, for the exits that flush and SWITCH_MMU, each is handled at once
 * (the sender waits for every acknowledgement within its step; the handlers' exits and re-entries are not shown,
 * docs/smp.md). A type change (TLB-1) flushes only the pCPUs of the mask the TLB-flush
 * clock cannot clear (TLB-8, {@link #tlbflushFilter}), each completely ({@link #flushAreaLocal}). A vCPU's own
 * obligations are performed on the active pCPU, the one the vCPU runs on. With one pCPU all of them are that pCPU.
 */
public final class TlbDiscipline {
    private TlbDiscipline() {}

    /** Applies {@code effects} in order (the processor must be in root operation). */
    public static XenMachine apply(XenMachine m, List<Effect> effects) {
        for (Effect e : effects) {
            m = apply(m, e);
        }
        return m;
    }

    /**
     * One obligation:
     * <ul>
     * <li>{@link Effect.FlushDomain} (MU-5/TLB-3, MX-5, UVA-2): INVVPID single-context for every VPID of the domain,
     * on the pCPUs of its dirty CPU mask ({@link #flushDomain});</li>
     * <li>{@link Effect.TypeChange} (TLB-1: no translation made under the old type may survive; the owner's vCPUs are
     * the only ones that can hold one): a whole flush of each pCPU of the owner's mask that the clock does not clear
     * for the frame's stamp ({@link #typeChangeFlush});</li>
     * <li>{@link Effect.FlushLocal}: single-context for the vCPU's VPID;</li>
     * <li>{@link Effect.InvlpgLocal} / {@link Effect.InvlpgDomain}: individual-address for the vCPU's / each of the
     * domain's VPIDs (the latter on the pCPUs of the domain's mask); a non-canonical address is dropped (TLB-6,
     * XSA-168: INVVPID would fail);</li>
     * <li>{@link Effect.FlushMulti} / {@link Effect.InvlpgMulti} (MX-7): single-context / individual-address for
     * each of the domain's VPIDs on the pCPUs the masked vCPUs run on ({@link #vcpumaskToPcpumask});</li>
     * <li>{@link Effect.LoadBase} (MX-3, TLB-4): the vCPU's guest CR3 becomes the new base, and its non-global
     * translations are flushed (single-context retaining globals) on the pCPU it runs on, as a CR3 load does.</li>
     * </ul>
     */
    public static XenMachine apply(XenMachine m, Effect e) {
        if (e instanceof Effect.FlushDomain f) {
            return flushDomain(m, f.domain());
        }
        if (e instanceof Effect.TypeChange t) {
            int owner = m.frames().get(t.mfn()).owner();
            return m.domains().containsKey(owner) ? typeChangeFlush(m, owner, t.mfn()) : m;
        }
        if (e instanceof Effect.FlushLocal f) {
            return invvpid(m, InvvpidType.SINGLE_CONTEXT, m.vcpu(f.vcpu()).vpid(), 0);
        }
        if (e instanceof Effect.InvlpgLocal i) {
            return invvpid(m, InvvpidType.INDIVIDUAL_ADDRESS, m.vcpu(i.vcpu()).vpid(), i.linear());
        }
        if (e instanceof Effect.InvlpgDomain i) {
            for (int q : flushTlbMask(m, m.tlbFlush().dirtyCpumask(i.domain()))) {
                for (int vpid : m.vpids(i.domain())) {
                    m = invvpidAt(m, q, InvvpidType.INDIVIDUAL_ADDRESS, vpid, i.linear());
                }
            }
            return m;
        }
        if (e instanceof Effect.FlushMulti f) {
            return flushMulti(m, f.domain(), f.vcpumask());
        }
        if (e instanceof Effect.InvlpgMulti i) {
            for (int q : flushTlbMask(m, vcpumaskToPcpumask(m, i.domain(), i.vcpumask()))) {
                for (int vpid : m.vpids(i.domain())) {
                    m = invvpidAt(m, q, InvvpidType.INDIVIDUAL_ADDRESS, vpid, i.linear());
                }
            }
            return m;
        }
        if (e instanceof Effect.LoadBase b) {
            Vcpu v = m.vcpu(b.vcpu());
            CpuState g = v.vmcs().guest().cpu();
            CpuState loaded = g.withCr3(new Cr3(Cr3.ofFrame(b.mfn()).pml4Base(), g.cr3().pcid()));
            m = m.withVcpu(v.withVmcs(v.vmcs().withGuest(new org.hybridv.vmx.GuestState(loaded,
                    v.vmcs().guest().rip()))));
            // on the pCPU the vCPU runs on: the caller's own (MX-3), or a paused sibling's (SWITCH_MMU, PRE-3)
            return invvpidAt(m, v.pcpu(), InvvpidType.SINGLE_CONTEXT_RETAINING_GLOBALS, v.vpid(), 0);
        }
        throw new IllegalArgumentException("unknown effect " + e);
    }

    /**
     * A domain-wide flush of domain {@code d} ({@code flush_tlb_mask(d->dirty_cpumask)}): INVVPID single-context for
     * each of its VPIDs on each pCPU {@link #flushTlbMask} sends it to; each such pCPU then holds none of the domain's
     * translations and leaves its mask ({@link #leaveDirtyCpumask}). Also the flush of a shadow drop (SH-4).
     */
    static XenMachine flushDomain(XenMachine m, int d) {
        for (int q : flushTlbMask(m, m.tlbFlush().dirtyCpumask(d))) {
            for (int vpid : m.vpids(d)) {
                m = invvpidAt(m, q, InvvpidType.SINGLE_CONTEXT, vpid, 0);
            }
            m = leaveDirtyCpumask(m, d, q);
        }
        return m;
    }

    /**
     * Xen rule MX-7 ({@code vcpumask_to_pcpumask}, xen/arch/x86/mm.c): the pCPUs on which the vCPUs of domain
     * {@code d} named by {@code vcpumask} (bit i: vCPU i) run — each one's {@link Vcpu#pcpu} (Xen's
     * {@code v->dirty_cpu}: where its state, and the translations tagged with its VPID, live). Bits that name no vCPU
     * of the domain are ignored, as Xen stops at {@code d->max_vcpus}. A vCPU that never ran contributes its pCPU too:
     * that pCPU holds nothing of its VPID, so the flush there is redundant but harmless.
     */
    public static Set<Integer> vcpumaskToPcpumask(XenMachine m, int d, long vcpumask) {
        Set<Integer> out = new TreeSet<>();
        for (Vcpu v : m.domain(d).vcpus()) {
            int i = v.id().vcpu();
            if (i < Long.SIZE && ((vcpumask >>> i) & 1) != 0) {
                out.add(v.pcpu());
            }
        }
        return out;
    }

    /**
     * Xen rule MX-7 ({@code MMUEXT_TLB_FLUSH_MULTI}: {@code flush_tlb_mask} on the pCPUs of
     * {@link #vcpumaskToPcpumask}): on each, INVVPID single-context for every VPID of the domain, as the model's other
     * domain flushes (Xen flushes those CPUs whole); such a pCPU then holds none of the domain's translations and
     * leaves its mask ({@link #leaveDirtyCpumask}). A pCPU none of the named vCPUs runs on is not interrupted.
     */
    static XenMachine flushMulti(XenMachine m, int d, long vcpumask) {
        for (int q : flushTlbMask(m, vcpumaskToPcpumask(m, d, vcpumask))) {
            for (int vpid : m.vpids(d)) {
                m = invvpidAt(m, q, InvvpidType.SINGLE_CONTEXT, vpid, 0);
            }
            m = leaveDirtyCpumask(m, d, q);
        }
        return m;
    }

    /**
     * Xen rule TLB-9 ({@code flush_tlb_mask}, xen/arch/x86/smp.c): the pCPUs a flush for {@code mask} reaches — every
     * pCPU of the mask, the active one (the sender, which flushes its own TLB directly) first, then the others in
     * order, each by a flush IPI whose handler flushes at once; the sender spins until every CPU of the mask has
     * acknowledged, so all are flushed when the obligation is done. A pCPU outside the mask holds no translation the
     * flush is for and is not interrupted. Seeded fault {@link Fault#FLUSH_IPI_LOCAL_ONLY}: the IPIs are not sent, only
     * the active pCPU flushes (whether or not it is in the mask).
     */
    public static List<Integer> flushTlbMask(XenMachine m, Set<Integer> mask) {
        if (m.faults().breaks(Fault.FLUSH_IPI_LOCAL_ONLY)) {
            return List.of(m.active());
        }
        List<Integer> targets = new ArrayList<>();
        if (mask.contains(m.active())) {
            targets.add(m.active());
        }
        for (int q = 0; q < m.pcpuCount(); q++) {
            if (q != m.active() && mask.contains(q)) {
                targets.add(q);
            }
        }
        return targets;
    }

    /**
     * Xen rule TLB-9 ({@code dirty_cpumask}; Xen adds a CPU to it in {@code context_switch} when a vCPU of the domain
     * is switched in there): a vCPU of domain {@code d} executing in non-root operation on pCPU {@code q} may fill
     * {@code q}'s TLB with translations tagged with its VPID, so {@code q} joins {@code d}'s mask. Seeded fault
     * {@link Fault#DIRTY_MASK_NOT_UPDATED}: it never joins.
     */
    static XenMachine joinDirtyCpumask(XenMachine m, int d, int q) {
        SortedSet<Integer> mask = m.tlbFlush().dirtyCpumask(d);
        if (m.faults().breaks(Fault.DIRTY_MASK_NOT_UPDATED) || mask.contains(q)) {
            return m;
        }
        Set<Integer> joined = new TreeSet<>(mask);
        joined.add(q);
        return m.withTlbFlush(m.tlbFlush().withDirtyCpumask(d, joined));
    }

    /**
     * Xen rule TLB-9: pCPU {@code q} has just invalidated every translation tagged with domain {@code d}'s VPIDs, so
     * it leaves {@code d}'s mask — unless a vCPU of {@code d} is current on it: that vCPU re-enters non-root operation
     * after the flush IPI's handler (or after the hypercall that flushed) and may cache again, so {@code q} stays (as
     * Xen never removes the CPU a domain's vCPU is running on from its {@code dirty_cpumask}).
     */
    static XenMachine leaveDirtyCpumask(XenMachine m, int d, int q) {
        Optional<VcpuId> c = m.current(q);
        if (c.isPresent() && c.get().domain() == d || !m.tlbFlush().dirtyCpumask(d).contains(q)) {
            return m;
        }
        Set<Integer> left = new TreeSet<>(m.tlbFlush().dirtyCpumask(d));
        left.remove(q);
        return m.withTlbFlush(m.tlbFlush().withDirtyCpumask(d, left));
    }

    /**
     * Xen rule TLB-1 with TLB-8 ({@code _get_page_type}: "cpumask_copy(mask, d->dirty_cpumask);
     * tlbflush_filter(mask, page->tlbflush_timestamp); if (!cpumask_empty(mask)) flush_tlb_mask(mask)"): frame
     * {@code mfn} of domain {@code owner} changes type, so every pCPU of the owner's mask that may still cache a
     * translation from the frame's last use is flushed; the clock removes from the mask those that flushed after the
     * frame's stamp (TLB-2). A frame that has no stamp (its type was set up before the model took stamps, a scenario's
     * initial frame table; a machine that does not run the clock; or its use ended within this very step, when the
     * stamp would be the clock's value now, which every pCPU's time is at most) is treated as used until now: every
     * pCPU of the mask is flushed. Each target is flushed whole ({@link #flushAreaLocal}), as Xen's {@code FLUSH_TLB}
     * retires every guest ASID of the CPU: only a whole flush may advance the pCPU's clock time, since the clock clears
     * a pCPU for frames of every domain. The frame's stamp is then dropped: the frame is in use again.
     */
    static XenMachine typeChangeFlush(XenMachine m, int owner, long mfn) {
        for (int q : typeChangeTargets(m, owner, mfn)) {
            m = flushAreaLocal(m, q);
        }
        // the frame is in use under its new type: the stamp of its old use has been read (TLB-2)
        return m.withTlbflushTimestamp(mfn, FrameInfo.NO_TIMESTAMP);
    }

    /**
     * The pCPUs a type change of frame {@code mfn} of domain {@code owner} flushes whole ({@link #typeChangeFlush}):
     * the owner's mask filtered by the clock for the frame's stamp (none: unfiltered), as {@link #flushTlbMask} sends
     * it — the active pCPU first.
     */
    static List<Integer> typeChangeTargets(XenMachine m, int owner, long mfn) {
        long stamp = m.frames().get(mfn).tlbflushTimestamp();
        Set<Integer> mask = m.tlbFlush().dirtyCpumask(owner);
        Set<Integer> filtered = stamp == FrameInfo.NO_TIMESTAMP ? mask : tlbflushFilter(m, mask, stamp);
        return flushTlbMask(m, filtered);
    }

    /**
     * Xen rule TLB-8 ({@code tlbflush_filter}, {@code NEED_FLUSH}): the pCPUs of {@code mask} that must be flushed for
     * a frame stamped {@code pageStamp}, by {@link TlbFlushClock#needFlush} with the pCPU's last flush time as the
     * first argument. Seeded fault {@link Fault#TLB_CLOCK_REVERSED}: the two times are swapped, so a pCPU that has
     * never flushed since the stamp is cleared and one that flushed after it is flushed.
     */
    static Set<Integer> tlbflushFilter(XenMachine m, Set<Integer> mask, long pageStamp) {
        TlbFlushClock clock = m.tlbFlush().clock();
        boolean reversed = m.faults().breaks(Fault.TLB_CLOCK_REVERSED);
        Set<Integer> out = new TreeSet<>();
        for (int q : mask) {
            long cpuStamp = clock.cpuTime().get(q);
            if (reversed ? clock.needFlush(pageStamp, cpuStamp) : clock.needFlush(cpuStamp, pageStamp)) {
                out.add(q);
            }
        }
        return out;
    }

    /**
     * Xen rule TLB-8 ({@code flush_area_local} with {@code FLUSH_TLB}, bracketed by {@code pre_flush} and
     * {@code post_flush}): pCPU {@code q} flushes its whole TLB — INVVPID all-context, every guest translation (the
     * host's, VPID 0, are not the guests' and stay) — and the clock ticks, {@code q}'s time becoming the new value.
     * {@code q} then holds no domain's translations and leaves every mask ({@link #leaveDirtyCpumask}). If the tick
     * wrapped the clock, the new period is started at once ({@link #newTlbflushClockPeriod}). On a machine that does
     * not run the clock (one pCPU, {@link XenMachine#runsTlbFlushClock}) nothing ticks.
     */
    static XenMachine flushAreaLocal(XenMachine m, int q) {
        m = invvpidAt(m, q, InvvpidType.ALL_CONTEXT, 0, 0);
        if (m.runsTlbFlushClock()) {
            m = m.withTlbFlush(m.tlbFlush().withClock(m.tlbFlush().clock().flush(q)));
        }
        for (int d : m.domains().keySet()) {
            m = leaveDirtyCpumask(m, d, q);
        }
        return m.tlbFlush().clock().wrapped() ? newTlbflushClockPeriod(m) : m;
    }

    /**
     * Xen rule TLB-8 ({@code new_tlbflush_clock_period}): after the clock wrapped to 0 the order of old and new stamps
     * is lost, so every pCPU is flushed whole — whatever the masks say — and the clock restarts its period
     * ({@link TlbFlushClock#newPeriod}): every pCPU's time 0, the counter 1.
     */
    static XenMachine newTlbflushClockPeriod(XenMachine m) {
        for (int q = 0; q < m.pcpuCount(); q++) {
            m = invvpidAt(m, q, InvvpidType.ALL_CONTEXT, 0, 0);
            for (int d : m.domains().keySet()) {
                m = leaveDirtyCpumask(m, d, q);
            }
        }
        return m.withTlbFlush(m.tlbFlush().withClock(m.tlbFlush().clock().newPeriod()));
    }

    /**
     * INVVPID on pCPU {@code q}: on the active pCPU as the hypervisor's own instruction ({@link #invvpid}), on another
     * as the handler of a flush IPI there ({@link #invvpidOn}).
     */
    static XenMachine invvpidAt(XenMachine m, int q, InvvpidType type, int vpid, long linear) {
        return q == m.active() && m.processor().mode() == org.hybridv.vmx.VmxMode.ROOT
                ? invvpid(m, type, vpid, linear) : invvpidOn(m, q, type, vpid, linear);
    }

    /**
     * INVVPID executed by the hypervisor on pCPU {@code q} (in root operation there: a pCPU running a guest is
     * interrupted for it, an exit and re-entry this model does not show); only {@code q}'s TLB changes. A VMfailValid
     * (VPID 0, a non-canonical address) changes nothing.
     */
    static XenMachine invvpidOn(XenMachine m, int q, InvvpidType type, int vpid, long linear) {
        VmxProcessor p = m.processor(q);
        RootStep r = Invvpid.execute(new VmxProcessor(p.machine(), org.hybridv.vmx.VmxMode.ROOT, p.vmcs(),
                p.launched(), p.capabilities()), type, vpid, linear);
        if (r.outcome() instanceof RootOutcome.VmFailValid) {
            return m;
        }
        return m.withPcpu(q, m.pcpu(q).withTlb(r.processor().machine().tlb()));
    }

    static XenMachine invvpid(XenMachine m, InvvpidType type, int vpid, long linear) {
        RootStep r = Invvpid.execute(m.processor(), type, vpid, linear);
        if (r.outcome() instanceof RootOutcome.VmFailValid) {
            return m;
        }
        VmxProcessor p = r.processor();
        return m.withProcessor(p);
    }
}
