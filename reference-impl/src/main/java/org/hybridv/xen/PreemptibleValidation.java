package org.hybridv.xen;

import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hybridv.x86.Entry;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PhysicalMemory;

/**
 * Pinning an L2, L3 or L4 table entry by entry, with other pCPUs stepping in between (Xen rule TYP-8; Xen
 * {@code alloc_l2_table}/{@code alloc_l3_table}/{@code alloc_l4_table} called preemptibly from {@code validate_page},
 * with {@code nr_validated_ptes} and {@code PGT_partial}, XSA-299). On a machine with several pCPUs
 * {@code MMUEXT_PIN_L2_TABLE}..{@code PIN_L4_TABLE} of a frame with no type reference first takes the general
 * reference and the new type, held but not validated ({@link #pinBegin}); the vCPU stays inside the hypercall
 * ({@link HypercallInFlight#nextEntry}); each {@link #continueHypercall} step validates the next present entry (under
 * the table's lock, atomically: its references, a lower table's promotion); after the last the table is validated and
 * pinned and the hypercall returns. Meanwhile the frame's type is held: a writable reference or a use as another type
 * is refused (TYP-1, TYP-2), and a use as this type sees it not validated (TYP-3). A refused entry undoes the
 * references the entries before it took and the hypercall returns the refusal. With one pCPU a pin validates in its
 * own step, as before. Preemption of the validation (the {@code -ERESTART} continuation) is not modelled: the pCPU
 * stays in the hypercall until the last entry.
 */
public final class PreemptibleValidation {
    private PreemptibleValidation() {}

    /** Whether {@code call} on {@code m} is a pin validated entry by entry: an L2–L4 pin, several pCPUs. */
    public static boolean applies(XenMachine m, Hypercall call) {
        return m.pcpuCount() > 1 && pinType(call).isPresent();
    }

    /** The table type an {@code MMUEXT_PIN_L2/L3/L4_TABLE} call pins, if it is one. */
    public static Optional<PageType> pinType(Hypercall call) {
        if (call.number() != Hypercalls.HYPERVISOR_MMUEXT_OP) {
            return Optional.empty();
        }
        long cmd = call.arg(0);
        return cmd == Hypercalls.MMUEXT_PIN_L2_TABLE ? Optional.of(PageType.L2)
                : cmd == Hypercalls.MMUEXT_PIN_L3_TABLE ? Optional.of(PageType.L3)
                : cmd == Hypercalls.MMUEXT_PIN_L4_TABLE ? Optional.of(PageType.L4) : Optional.empty();
    }

    /**
     * MX-1 with TYP-8, the first step: the frame must be RAM of {@code d}; a frame that already has a type reference
     * is pinned at once ({@link DirectPaging#pin}: its type validated, or a refusal). Otherwise the general reference
     * is taken and the new type held with count 1, not validated ({@link #holdsTypeDuringValidation}), with the TLB-1
     * flush a type change owes; no entry is validated yet.
     */
    public static MmuResult pinBegin(DirectPagingState s, int d, long mfn, PageType type) {
        if (!s.isFrame(mfn) || s.frame(mfn).owner() != d) {
            return DirectPaging.pin(s, d, mfn, type);
        }
        FrameInfo f = s.frame(mfn);
        if (f.typeCount() > 0) {
            return DirectPaging.pin(s, d, mfn, type);
        }
        MmuResult g = PageTypes.getPage(s, mfn, d);
        if (g instanceof MmuResult.Refused) {
            return g;
        }
        DirectPagingState t = ((MmuResult.Success) g).state();
        if (holdsTypeDuringValidation(s)) {
            t = t.withFrame(mfn, t.frame(mfn).withType(type).withTypeCount(1).withValidated(false)
                    .withLinearCount(0));
        }
        return new MmuResult.Success(t, PageTypes.typeChangeObligation(s, mfn, f.type(), type));
    }

    /**
     * Xen rule TYP-8: whether a table being validated entry by entry holds its new type meanwhile (it does: count 1,
     * not validated, so no other reference of another type can be taken). Seeded fault
     * {@link Fault#PARTIAL_VALIDATION_TYPE_NOT_HELD}: the frame keeps its old type and no type reference until the
     * last entry is validated, when the new type is stored over whatever the frame has become.
     */
    static boolean holdsTypeDuringValidation(DirectPagingState s) {
        return !s.faults().breaks(Fault.PARTIAL_VALIDATION_TYPE_NOT_HELD);
    }

    /** The first guest slot at or after {@code from} of table {@code mfn} holding a present entry, or 512. */
    static int nextPresent(DirectPagingState s, long mfn, PageType type, int from) {
        for (int i = from; i < PhysicalMemory.WORDS_PER_FRAME; i++) {
            if (EntryRules.isGuestSlot(type, i) && s.entry(mfn, i).present()) {
                return i;
            }
        }
        return PhysicalMemory.WORDS_PER_FRAME;
    }

    /** PRO-1 for one entry: the references entry {@code index} of table {@code mfn} of type {@code type} needs. */
    static MmuResult validateEntry(DirectPagingState s, long mfn, PageType type, int index, int d) {
        Entry e = s.entry(mfn, index);
        MmuResult r = PageTypes.getPageFromLne(s, mfn, type, e, d);
        return r instanceof MmuResult.Refused x ? x.at(type + " " + Hex.of(mfn) + "[" + index + "]") : r;
    }

    /**
     * The last entry is validated: an L4 gets Xen's slots cleared (PRO-2), and the table is validated and pinned (the
     * pin holds the general and type reference the first step took). Under the seeded fault the type is stored now.
     */
    static DirectPagingState finish(DirectPagingState s, long mfn, PageType type) {
        DirectPagingState t = s;
        if (type == PageType.L4) {
            PhysicalMemory m = t.memory();
            for (int i = EntryRules.FIRST_XEN_SLOT; i <= EntryRules.LAST_XEN_SLOT; i++) {
                m = m.write(mfn, i, 0L);
            }
            t = t.withMemory(m);
        }
        FrameInfo f = t.frame(mfn);
        if (!holdsTypeDuringValidation(s)) {
            f = f.withType(type).withTypeCount(1);
        }
        return t.withFrame(mfn, f.withValidated(true).withPinned(true));
    }

    /**
     * Entry {@code upTo} was refused: the references entries 0..upTo-1 took are dropped in reverse order (PRO-3's
     * order), the type reference and the general reference of the pin go. The frame keeps its new type with count 0.
     */
    static DirectPagingState abort(DirectPagingState s, long mfn, PageType type, int upTo) {
        DirectPagingState t = s;
        for (int i = upTo - 1; i >= 0; i--) {
            if (EntryRules.isGuestSlot(type, i)) {
                t = PageTypes.putPageFromLne(t, mfn, type, t.entry(mfn, i));
            }
        }
        FrameInfo f = t.frame(mfn);
        if (holdsTypeDuringValidation(s)) {
            t = t.withFrame(mfn, f.withTypeCount(0).withValidated(false));
        }
        return PageTypes.putPage(t, mfn);
    }

    /**
     * One step of vCPU {@code id}'s pin in progress (TYP-8), on its pCPU: the next present entry is validated (its
     * flushes as any hypercall's: IPI-1..IPI-3, so a lower table promoted from writable waits for its flush before
     * its type), or, after the last, the table is validated and pinned and the hypercall returns ({@code
     * HypercallDone}); a refused entry rolls the pin back and the hypercall returns the refusal. A batched
     * {@code mmu_update} in flight applies its next request instead ({@link MmuBatch#continueBatch}, MU-7). A vCPU
     * with no pin to continue (none, or one waiting for acknowledgements): {@code NotModelled}, nothing changes.
     */
    public static HvStep continueHypercall(XenMachine m, VcpuId id) {
        Optional<HypercallInFlight> h = m.tlbFlush().inFlight(id);
        if (h.isPresent() && MmuBatch.isBatch(h.get().call())) {
            return MmuBatch.continueBatch(m, id); // MU-7: a batched mmu_update's next request
        }
        if (h.isEmpty() || !h.get().canContinue()) {
            return new HvStep(new VcpuOutcome.NotModelled(null, id + " is inside no hypercall it can continue"
                    + (h.isPresent() ? " (it waits for flush acknowledgements)" : "")), m, 0);
        }
        HypercallInFlight x = h.get();
        m = m.withActive(m.vcpu(id).pcpu());
        Hypercall call = x.call();
        long mfn = call.arg(1);
        PageType type = pinType(call).orElseThrow();
        DirectPagingState s = m.paging();
        int i = nextPresent(s, mfn, type, x.nextEntry());
        if (i == PhysicalMemory.WORDS_PER_FRAME) {
            XenMachine after = m.withPaging(finish(s, mfn, type));
            after = after.withTlbFlush(after.tlbFlush().withInFlight(id, null));
            return new HvStep(new VcpuOutcome.HypercallDone(call, x.effects()), after, 0);
        }
        MmuResult r = validateEntry(s, mfn, type, i, id.domain());
        if (r instanceof MmuResult.Refused refused) {
            XenMachine after = m.withPaging(abort(s, mfn, type, i));
            after = after.withTlbFlush(after.tlbFlush().withInFlight(id, null));
            return new HvStep(new VcpuOutcome.HypercallRefused(call, refused.errno(), refused.rule(),
                    refused.reason()), after, 0);
        }
        MmuResult.Success ok = (MmuResult.Success) r;
        List<Effect> effects = new java.util.ArrayList<>(x.effects());
        FlushIpis.Stage st = FlushIpis.stage(m, id, call, ok, x.flushed(), i, effects);
        if (st.waiting() != null) {
            return new HvStep(st.waiting().outcome(), st.waiting().machine(), 0);
        }
        effects.addAll(ok.effects());
        SortedSet<Integer> awaiting = FlushIpis.awaitsFlushAcks(m) ? st.awaiting() : new TreeSet<>();
        XenMachine after = st.machine().withTlbFlush(st.machine().tlbFlush().withInFlight(id,
                new HypercallInFlight(call, awaiting, false, effects, new TreeMap<>(), i + 1)));
        return new HvStep(new VcpuOutcome.InHypercall(id, call, awaiting), after, 0);
    }
}
