package org.hybridv.xen;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hybridv.vmx.InvvpidType;

/**
 * TLB shootdowns as a protocol between pCPUs (docs/smp.md, "Flush IPIs in flight"; Xen rules IPI-1..IPI-5): a
 * hypercall that owes a flush on other pCPUs flushes its own pCPU, sends a flush IPI to each other target (the request
 * is pending there, {@link TlbFlushState#pendingFlushes}) and waits inside the hypervisor for their acknowledgements
 * ({@link TlbFlushState#inFlight}); each target's handler runs in its own step ({@link #deliverIpi}); the hypercall
 * completes with the last acknowledgement. Between the send and a target's handler every other pCPU steps, and the
 * target's guest may still use the translations the flush is for: the window Xen closes by spinning in
 * {@code flush_area_mask} until {@code flush_cpumask} is empty.
 *
 * <p>Each logical processor has its own TLB and only its own instructions invalidate it (Intel SDM Vol. 3A §4.10;
 * §4.10.5 describes the TLB shootdown: the processor that changed a paging structure has the others invalidate their
 * TLBs, typically by interprocessor interrupts). A machine with one pCPU never sends an IPI:
 * every obligation is performed by the pCPU the hypervisor runs on, within the step, as before.
 *
 * <p>Scope: the PV MMU hypercalls ({@code mmu_update}, {@code update_va_mapping}, {@code mmuext_op}) use the protocol.
 * The exits that flush (page-table-write emulation, MOV to CR3, shadow drops) and SWITCH_MMU still complete their
 * shootdown within their step ({@link TlbDiscipline#apply}), as does the wrap of the TLB-flush clock (TLB-8).
 */
public final class FlushIpis {
    private FlushIpis() {}

    /**
     * What a flush IPI's handler did on its pCPU: the machine after it, the requests it handled, and the hypercalls its
     * acknowledgement completed (each with its outcome, now returned to its guest).
     */
    public record Delivery(XenMachine machine, List<FlushRequest> handled, List<Completion> completed) {
        public Delivery {
            handled = List.copyOf(handled);
            completed = List.copyOf(completed);
        }
    }

    /** A hypercall completed by an acknowledgement: its vCPU and the step's outcome (returned to the guest). */
    public record Completion(VcpuId vcpu, VcpuOutcome outcome) {}

    /**
     * An MMU hypercall of vCPU {@code id} (the dispatch checked its CPL and the domain's mode) on the active pCPU, its
     * vCPU's. The direct-paging core computes the whole result ({@link Hypervisor#mmuCore}); then:
     * <ol>
     * <li>IPI-3 ({@link #validatesAfterFlushAck}): if a type change of it must flush other pCPUs, the new type is not
     * installed yet: the hypercall flushes its own pCPU, sends the flush IPIs and waits, with the machine otherwise as
     * before the hypercall (Xen {@code _get_page_type} flushes before the {@code cmpxchg} that installs the type and
     * before {@code validate_page}). On completion it is executed again from its start; a type change whose frame is
     * as it was when its flush was sent ({@code flushed}: the {@code cmpxchg} succeeds) is not flushed again, one
     * whose frame changed meanwhile is decided afresh (the {@code cmpxchg} loop).</li>
     * <li>Otherwise the result is committed and its TLB obligations performed ({@link #performObligations}): on the
     * own pCPU at once, on the others by flush IPIs; if any was sent the hypercall waits (IPI-2,
     * {@link #awaitsFlushAcks}) and returns with the last acknowledgement.</li>
     * </ol>
     */
    static HvStep mmuHypercall(XenMachine m, VcpuId id, Hypercall call, SortedMap<Long, FrameInfo> flushed) {
        boolean preemptible = PreemptibleValidation.applies(m, call);
        MmuResult r = Hypervisor.mmuCore(m.paging(), id, call, preemptible);
        if (r instanceof MmuResult.Refused x) {
            return Hypervisor.refused(m, call, x.errno(), x.rule(), x.reason());
        }
        MmuResult.Success ok = (MmuResult.Success) r;
        Stage st = stage(m, id, call, ok, flushed, -1, List.of());
        if (st.waiting() != null) {
            return st.waiting();
        }
        SortedSet<Integer> awaiting = awaitsFlushAcks(m) ? st.awaiting() : new TreeSet<>();
        if (preemptible && !st.machine().frames().get(call.arg(1)).pinned()) {
            // TYP-8: the table is validated entry by entry in the vCPU's next steps (PreemptibleValidation)
            XenMachine s = st.machine().withTlbFlush(st.machine().tlbFlush().withInFlight(id, new HypercallInFlight(
                    call, awaiting, false, ok.effects(), new TreeMap<>(), 0)));
            return new HvStep(new VcpuOutcome.InHypercall(id, call, awaiting), s);
        }
        if (!awaiting.isEmpty()) {
            XenMachine s = st.machine().withTlbFlush(st.machine().tlbFlush().withInFlight(id, new HypercallInFlight(
                    call, awaiting, false, ok.effects(), new TreeMap<>())));
            return new HvStep(new VcpuOutcome.InHypercall(id, call, awaiting), s);
        }
        return new HvStep(new VcpuOutcome.HypercallDone(call, ok.effects()), st.machine());
    }

    /**
     * A step of a hypercall after the direct-paging core computed {@code ok} from {@code m}: either it waits for a
     * type change's flush before committing anything ({@code waiting}, IPI-3), or it is committed with its
     * obligations performed ({@code machine}) and the pCPUs it sent IPIs to ({@code awaiting}).
     */
    record Stage(HvStep waiting, XenMachine machine, SortedSet<Integer> awaiting) {}

    /**
     * IPI-3 then the commit, for a whole hypercall ({@code nextEntry} -1) or one entry of a table validated entry by
     * entry (its index; {@code effects}: the obligations of the entries before it, kept while it waits).
     */
    static Stage stage(XenMachine m, VcpuId id, Hypercall call, MmuResult.Success ok,
            SortedMap<Long, FrameInfo> flushed, int nextEntry, List<Effect> effects) {
        Set<Long> done = new TreeSet<>();
        flushed.forEach((mfn, was) -> {
            if (m.frames().get(mfn).equals(was)) {
                done.add(mfn);
            }
        });
        XenMachine post = m.withPaging(ok.state());
        if (validatesAfterFlushAck(m) && awaitsFlushAcks(m)) {
            SortedSet<Integer> targets = new TreeSet<>();
            SortedMap<Long, FrameInfo> sent = new TreeMap<>();
            for (Effect e : ok.effects()) {
                if (e instanceof Effect.TypeChange t && !done.contains(t.mfn())
                        && post.domains().containsKey(post.frames().get(t.mfn()).owner())) {
                    targets.addAll(TlbDiscipline.typeChangeTargets(post, post.frames().get(t.mfn()).owner(),
                            t.mfn()));
                    sent.put(t.mfn(), m.frames().get(t.mfn()));
                }
            }
            if (targets.stream().anyMatch(q -> q != m.active())) {
                XenMachine s = m;
                if (targets.contains(m.active())) {
                    s = TlbDiscipline.flushAreaLocal(s, m.active());
                }
                SortedSet<Integer> awaiting = new TreeSet<>();
                for (int q : targets) {
                    if (q != m.active()) {
                        s = sendFlushIpi(s, q, FlushRequest.whole(id));
                        awaiting.add(q);
                    }
                }
                s = s.withTlbFlush(s.tlbFlush().withInFlight(id, new HypercallInFlight(call, awaiting, true,
                        effects, sent, nextEntry)));
                return new Stage(new HvStep(new VcpuOutcome.InHypercall(id, call, awaiting), s), null, null);
            }
        }
        Performed p = performObligations(post, id, ok.effects(), done);
        return new Stage(null, p.machine(), p.awaiting());
    }

    /** The machine after a hypercall's obligations, and the pCPUs it sent flush IPIs to. */
    record Performed(XenMachine machine, SortedSet<Integer> awaiting) {}

    /**
     * Performs a hypercall's TLB obligations {@code effects} in order (IPI-1): each domain-wide one
     * ({@link Effect.FlushDomain}, {@link Effect.InvlpgDomain}, {@link Effect.TypeChange}) on the pCPUs
     * {@link TlbDiscipline#flushTlbMask} names — the active one (the sender) directly, each other by a flush IPI of the
     * same scope ({@link #sendFlushIpi}); a type change of a frame in {@code done} was flushed already (IPI-3) and is
     * not flushed again. A vCPU's own obligations are performed on the active pCPU ({@link TlbDiscipline#apply}).
     * With one pCPU this is exactly {@link TlbDiscipline#apply}.
     */
    static Performed performObligations(XenMachine m, VcpuId sender, List<Effect> effects, Set<Long> done) {
        SortedSet<Integer> awaiting = new TreeSet<>();
        for (Effect e : effects) {
            if (e instanceof Effect.FlushDomain f) {
                for (int q : TlbDiscipline.flushTlbMask(m, m.tlbFlush().dirtyCpumask(f.domain()))) {
                    if (q == m.active()) {
                        m = flushDomainOn(m, f.domain(), q);
                    } else {
                        m = sendFlushIpi(m, q, new FlushRequest(sender, FlushRequest.Scope.DOMAIN, f.domain(), 0));
                        awaiting.add(q);
                    }
                }
            } else if (e instanceof Effect.InvlpgDomain i) {
                for (int q : TlbDiscipline.flushTlbMask(m, m.tlbFlush().dirtyCpumask(i.domain()))) {
                    if (q == m.active()) {
                        m = invlpgDomainOn(m, i.domain(), i.linear(), q);
                    } else {
                        m = sendFlushIpi(m, q, new FlushRequest(sender, FlushRequest.Scope.ADDRESS, i.domain(),
                                i.linear()));
                        awaiting.add(q);
                    }
                }
            } else if (e instanceof Effect.TypeChange t) {
                int owner = m.frames().get(t.mfn()).owner();
                if (!m.domains().containsKey(owner)) {
                    continue;
                }
                if (!done.contains(t.mfn())) {
                    for (int q : TlbDiscipline.typeChangeTargets(m, owner, t.mfn())) {
                        if (q == m.active()) {
                            m = TlbDiscipline.flushAreaLocal(m, q);
                        } else {
                            m = sendFlushIpi(m, q, FlushRequest.whole(sender));
                            awaiting.add(q);
                        }
                    }
                }
                // the frame is in use under its new type: the stamp of its old use has been read (TLB-2)
                m = m.withTlbflushTimestamp(t.mfn(), FrameInfo.NO_TIMESTAMP);
            } else {
                m = TlbDiscipline.apply(m, e);
            }
        }
        return new Performed(m, awaiting);
    }

    /**
     * Xen rule IPI-1 ({@code flush_area_mask}: {@code send_IPI_mask(&flush_cpumask, INVALIDATE_TLB_VECTOR)}): the flush
     * request {@code r} is pending on pCPU {@code q} until {@code q}'s handler runs ({@link #deliverIpi}). Several
     * requests pending on one pCPU are handled by one interrupt (one vector: the local APIC holds one request per
     * vector, Intel SDM Vol. 3A §10.8.4), each in its scope.
     */
    static XenMachine sendFlushIpi(XenMachine m, int q, FlushRequest r) {
        Set<FlushRequest> pending = new TreeSet<>(m.tlbFlush().pendingFlushes(q));
        pending.add(r);
        return m.withTlbFlush(m.tlbFlush().withPendingFlushes(q, pending));
    }

    /**
     * Xen rule IPI-1, the target side ({@code invalidate_interrupt} → {@code flush_area_local}, then
     * {@code cpumask_clear_cpu(smp_processor_id(), &flush_cpumask)}): pCPU {@code q} handles every flush IPI pending
     * on it — a whole flush ({@link TlbDiscipline#flushAreaLocal}: all guest translations, the clock ticks), a domain
     * flush (INVVPID single-context for each of the domain's VPIDs, then {@code q} leaves the domain's mask, TLB-9) or
     * one address of a domain (INVVPID individual-address per VPID) — and acknowledges each. A pCPU running a guest
     * takes the interrupt through a VM exit and re-enters after the handler; that exit and entry are not shown (the
     * vCPU's state does not change). With the last acknowledgement a waiting hypercall completes on its own pCPU
     * (IPI-2): it returns, or, if a type change waited for its flush, it is executed again (IPI-3), which may send
     * IPIs and wait again. Nothing is pending on {@code q}: nothing happens.
     */
    public static Delivery deliverIpi(XenMachine m, int q) {
        m.pcpu(q); // a pCPU of this machine (API misuse otherwise)
        SortedSet<FlushRequest> requests = m.tlbFlush().pendingFlushes(q);
        if (requests.isEmpty()) {
            return new Delivery(m, List.of(), List.of());
        }
        for (FlushRequest r : requests) {
            switch (r.scope()) {
                case WHOLE -> m = TlbDiscipline.flushAreaLocal(m, q);
                case DOMAIN -> m = flushDomainOn(m, r.domain(), q);
                default -> m = invlpgDomainOn(m, r.domain(), r.linear(), q);
            }
        }
        m = m.withTlbFlush(m.tlbFlush().withPendingFlushes(q, Set.of()));
        List<Completion> completed = new ArrayList<>();
        for (VcpuId sender : new TreeSet<>(requests.stream().map(FlushRequest::sender).toList())) {
            Optional<HypercallInFlight> h = m.tlbFlush().inFlight(sender);
            if (h.isEmpty() || !h.get().awaiting().contains(q)) {
                continue;
            }
            if (h.get().awaiting().size() > 1) {
                m = m.withTlbFlush(m.tlbFlush().withInFlight(sender, h.get().acknowledged(q)));
                continue;
            }
            if (h.get().nextEntry() >= 0) {
                // TYP-8: a pin validating entry by entry goes on with its next step (an entry whose flush this was
                // is validated again then, IPI-3); so does a batched mmu_update (MU-7)
                m = m.withTlbFlush(m.tlbFlush().withInFlight(sender, h.get().resumed()));
                continue;
            }
            m = m.withTlbFlush(m.tlbFlush().withInFlight(sender, null));
            HvStep done = complete(m.withActive(m.vcpu(sender).pcpu()), sender, h.get());
            m = done.machine();
            completed.add(new Completion(sender, done.outcome()));
        }
        return new Delivery(m, new ArrayList<>(requests), completed);
    }

    /**
     * The synchronous interleaving of a hypercall step {@code step} of vCPU {@code id}: while the hypercall waits for
     * flush acknowledgements, the awaited pCPUs take their IPIs in pCPU order and nothing else steps (and a pin
     * validated entry by entry, TYP-8, continues to its end); the step returned carries the hypercall's final outcome
     * and machine. For callers that do not interleave other pCPUs with a hypercall (a kernel on one vCPU, tests); a
     * step that did not enter a hypercall is returned as it is.
     */
    public static HvStep runToCompletion(HvStep step, VcpuId id) {
        return runToCompletion(step, id, new Taken() { });
    }

    /** The steps {@link #runToCompletion(HvStep, VcpuId, Taken)} takes, in order, for a caller that records them. */
    public interface Taken {
        /** pCPU {@code pcpu} took its pending flush IPIs ({@link #deliverIpi}). */
        default void delivered(int pcpu) { }

        /** The hypercall went on by one entry ({@link PreemptibleValidation#continueHypercall}). */
        default void continued() { }
    }

    /**
     * {@link #runToCompletion(HvStep, VcpuId)}, telling {@code taken} each delivery and continuation as it is made (a
     * counterexample writer replays them as steps). A hypercall that neither completes nor stays in flight after a
     * delivery is left where it stands.
     */
    public static HvStep runToCompletion(HvStep step, VcpuId id, Taken taken) {
        VcpuOutcome o = step.outcome();
        XenMachine m = step.machine();
        while (o instanceof VcpuOutcome.InHypercall w && w.vcpu().equals(id)) {
            if (w.awaiting().isEmpty()) {
                taken.continued();
                HvStep c = PreemptibleValidation.continueHypercall(m, id);
                o = c.outcome();
                m = c.machine();
                continue;
            }
            int q = w.awaiting().first();
            taken.delivered(q);
            Delivery d = deliverIpi(m, q);
            m = d.machine();
            VcpuOutcome before = o;
            java.util.Optional<VcpuOutcome> done = d.completed().stream().filter(x -> x.vcpu().equals(id))
                    .map(Completion::outcome).findFirst();
            if (done.isEmpty() && m.tlbFlush().inFlight(id).isEmpty()) {
                break;
            }
            o = done.orElseGet(() -> standing(d.machine(), id, before));
        }
        return new HvStep(o, m, step.vmExits());
    }

    /** {@code id}'s hypercall as it stands in {@code m}: still in flight, or {@code last} if it is not. */
    private static VcpuOutcome standing(XenMachine m, VcpuId id, VcpuOutcome last) {
        return m.tlbFlush().inFlight(id).map(h -> (VcpuOutcome) new VcpuOutcome.InHypercall(id, h.call(),
                h.awaiting())).orElse(last);
    }

    /**
     * Xen rule IPI-2: every acknowledgement of hypercall {@code h} of vCPU {@code id} is in; it completes on its
     * vCPU's pCPU (the active one): a hypercall whose work is done returns ({@code HypercallDone}); one whose type
     * change waited for its flush is executed again (IPI-3).
     */
    static HvStep complete(XenMachine m, VcpuId id, HypercallInFlight h) {
        if (h.retry()) {
            HvStep s = Hypervisor.vmcallAgain(m, id, h.call(), h.flushed());
            return new HvStep(s.outcome(), s.machine(), 0);
        }
        return new HvStep(new VcpuOutcome.HypercallDone(h.call(), h.effects()), m, 0);
    }

    /** A domain flush on pCPU {@code q}: INVVPID single-context for each VPID of {@code d}; {@code q} leaves d's mask. */
    static XenMachine flushDomainOn(XenMachine m, int d, int q) {
        for (int vpid : m.vpids(d)) {
            m = TlbDiscipline.invvpidAt(m, q, InvvpidType.SINGLE_CONTEXT, vpid, 0);
        }
        return TlbDiscipline.leaveDirtyCpumask(m, d, q);
    }

    /** One address of domain {@code d} on pCPU {@code q}: INVVPID individual-address for each VPID of {@code d}. */
    static XenMachine invlpgDomainOn(XenMachine m, int d, long linear, int q) {
        for (int vpid : m.vpids(d)) {
            m = TlbDiscipline.invvpidAt(m, q, InvvpidType.INDIVIDUAL_ADDRESS, vpid, linear);
        }
        return m;
    }

    /**
     * Xen rule IPI-3: whether a type change's new type waits for its flush's acknowledgements (it does). Seeded fault
     * {@link Fault#VALIDATE_BEFORE_FLUSH_ACK}: the type is installed and validated when the IPIs are sent, so the new
     * page table exists while a target still holds a writable translation of it.
     */
    static boolean validatesAfterFlushAck(XenMachine m) {
        return !m.faults().breaks(Fault.VALIDATE_BEFORE_FLUSH_ACK);
    }

    /**
     * Xen rule IPI-2: whether a hypercall that sent flush IPIs waits for every acknowledgement before it returns (it
     * does). Seeded fault {@link Fault#IPI_ACK_NOT_AWAITED}: it returns at once, its IPIs still pending (and a type
     * change installs its type at once, as nothing is waited for).
     */
    static boolean awaitsFlushAcks(XenMachine m) {
        return !m.faults().breaks(Fault.IPI_ACK_NOT_AWAITED);
    }

    /**
     * Xen rule IPI-5: the vCPU whose hypercall occupies pCPU {@code q} (waiting for flush acknowledgements), if any —
     * the hypervisor on {@code q} spins and is not preempted, so no guest instruction runs there meanwhile and that
     * vCPU is not moved.
     */
    public static Optional<VcpuId> occupying(XenMachine m, int q) {
        for (VcpuId id : m.tlbFlush().inFlight().keySet()) {
            if (m.vcpu(id).pcpu() == q) {
                return Optional.of(id);
            }
        }
        return Optional.empty();
    }
}
