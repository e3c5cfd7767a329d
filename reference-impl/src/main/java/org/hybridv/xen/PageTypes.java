package org.hybridv.xen;

import static org.hybridv.xen.MmuResult.ok;
import static org.hybridv.xen.MmuResult.refuse;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.x86.Entry;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PhysicalMemory;

/**
 * Reference counting, page types, (de)validation and the references page-table entries hold (Xen
 * {@code xen/arch/x86/mm.c}: {@code get_page}, {@code put_page}, {@code _get_page_type}, {@code _put_page_type},
 * {@code promote_lN_table} / {@code demote_lN_table}, {@code get_page_from_lNe} / {@code put_page_from_lNe},
 * {@code define_get_linear_pagetable}).
 *
 * <p>A refused step returns a {@link MmuResult.Refused} and no state: Xen's roll-back of a failed promotion (the
 * references of the entries before the failing one are dropped, PRO-1) is the caller keeping the pre-state. One
 * difference is deliberate: Xen resets the {@code type_info} of a frame whose validation failed to 0; here the frame
 * keeps its old type with count 0, which is equivalent except for the TLB-1 timestamp logic (not modelled).
 * Preemptible validation (TYP-8) of a pinned L2–L4 table on a machine with several pCPUs is
 * {@link PreemptibleValidation}'s; every other (de)validation runs to completion within its step.
 */
public final class PageTypes {
    private PageTypes() {}

    // ---- general references (OWN-)---------------------------------------------------------------------------------

    /**
     * OWN-2 {@code get_page(page, d)}: one more general reference, only on a frame of this machine owned by {@code d}
     * (a free frame, a {@code dom_xen} frame and another domain's frame are refused) and only without overflow.
     */
    public static MmuResult getPage(DirectPagingState s, long mfn, int d) {
        if (!s.isFrame(mfn)) {
            return refuse(Errno.EINVAL, "OWN-2", "mfn " + Hex.of(mfn) + " is not a frame of this machine");
        }
        FrameInfo f = s.frame(mfn);
        if (f.owner() != d) {
            return refuse(Errno.EINVAL, "OWN-2", "frame " + Hex.of(mfn) + " is owned by "
                    + FrameInfo.ownerName(f.owner()) + ", not d" + d);
        }
        if (f.count() == FrameInfo.MAX_COUNT) {
            return refuse(Errno.EINVAL, "OWN-2", "general count of frame " + Hex.of(mfn) + " would overflow");
        }
        return ok(s.withFrame(mfn, f.withCount(f.count() + 1)));
    }

    /**
     * OWN-4 {@code put_page}: one general reference less. The frame stays with its owner at count 0 (its allocation
     * reference is not counted in this model, see {@link FrameInfo}). API misuse when nobody holds a reference.
     */
    public static DirectPagingState putPage(DirectPagingState s, long mfn) {
        FrameInfo f = s.frame(mfn);
        if (f.count() == 0) {
            throw new IllegalArgumentException("put_page on frame " + Hex.of(mfn) + " with count 0: " + f);
        }
        return s.withFrame(mfn, f.withCount(f.count() - 1));
    }

    // ---- type references (TYP-)------------------------------------------------------------------------------------

    /**
     * {@code _get_page_type(page, type)}.
     * <ul>
     * <li>TYP-2: with type count &gt; 0 the type must already be {@code type}, otherwise -EINVAL (reported as TYP-1
     * when one side is WRITABLE: a page table is never also writable). Overflow is refused.</li>
     * <li>TYP-2: with type count 0 the type may change; the change clears {@code PGT_validated} and, when the old type
     * may have left translations in TLBs, hands the caller a TLB-1 flush obligation ({@link Effect.TypeChange}).</li>
     * <li>TYP-3: on the first reference to a page-table type the contents are validated ({@link #promote}, PRO-1)
     * with the frame already holding the new type and count 1, as Xen installs the type before {@code validate_page};
     * only on success is {@code PGT_validated} set. WRITABLE is validated without audit.</li>
     * </ul>
     * Seeded fault {@link Fault#TYPE_CHANGE_NO_FLUSH}: a type change hands out no TLB-1 flush obligation.
     * Xen's {@code get_page_type} does not check the owner: callers take a general reference first.
     */
    public static MmuResult getPageType(DirectPagingState s, long mfn, PageType type) {
        if (type == PageType.NONE) {
            throw new IllegalArgumentException("page type NONE cannot be taken");
        }
        FrameInfo f = s.frame(mfn);
        if (f.typeCount() > 0) {
            if (f.type() != type) {
                String rule = (type == PageType.WRITABLE || f.type() == PageType.WRITABLE) ? "TYP-1" : "TYP-2";
                return refuse(Errno.EINVAL, rule, "frame " + Hex.of(mfn) + " is in use as " + f.type()
                        + " (type count " + f.typeCount() + "), cannot also be " + type);
            }
            if (!f.validated()) {
                return refuse(Errno.EINVAL, "TYP-3", "frame " + Hex.of(mfn) + " is being validated as " + type
                        + " (a second reference waits for PGT_validated; preemption is not modelled)");
            }
            if (f.typeCount() == FrameInfo.MAX_COUNT) {
                return refuse(Errno.EINVAL, "TYP-2", "type count of frame " + Hex.of(mfn) + " would overflow");
            }
            return ok(s.withFrame(mfn, f.withTypeCount(f.typeCount() + 1)));
        }
        List<Effect> effects = new ArrayList<>(typeChangeObligation(s, mfn, f.type(), type));
        if (type == PageType.WRITABLE) {
            DirectPagingState t = s.withFrame(mfn, f.withType(type).withTypeCount(1).withValidated(true));
            return new MmuResult.Success(t, effects);
        }
        DirectPagingState installed = s.withFrame(mfn, f.withType(type).withTypeCount(1).withValidated(false)
                .withLinearCount(0));
        MmuResult promoted = promote(installed, mfn, type);
        if (promoted instanceof MmuResult.Refused r) {
            return r;
        }
        MmuResult.Success p = (MmuResult.Success) promoted;
        effects.addAll(p.effects());
        DirectPagingState t = p.state();
        return new MmuResult.Success(t.withFrame(mfn, t.frame(mfn).withValidated(true)), effects);
    }

    /**
     * TLB-1: the flush a type change of frame {@code mfn} from {@code from} to {@code to} owes (none when the type
     * stays, or the frame had no type yet). Seeded fault {@link Fault#TYPE_CHANGE_NO_FLUSH}: none ever.
     */
    static List<Effect> typeChangeObligation(DirectPagingState s, long mfn, PageType from, PageType to) {
        if (from == to || from == PageType.NONE || s.faults().breaks(Fault.TYPE_CHANGE_NO_FLUSH)) {
            return List.of();
        }
        return List.of(new Effect.TypeChange(mfn, from, to, "TLB-1"));
    }

    /**
     * {@code _put_page_type}: one type reference less. TYP-5: when the last reference to a page-table type goes,
     * {@code PGT_validated} is cleared and the table is devalidated ({@link #demote}), which drops the references its
     * entries hold, recursively; the count reaches 0 afterwards ({@code _put_final_page_type}). API misuse when nobody
     * holds a type reference (TYP-7: Xen BUG()s).
     */
    public static DirectPagingState putPageType(DirectPagingState s, long mfn) {
        FrameInfo f = s.frame(mfn);
        if (f.typeCount() == 0) {
            throw new IllegalArgumentException("put_page_type on frame " + Hex.of(mfn) + " with type count 0: " + f);
        }
        if (f.typeCount() == 1 && f.type().isPageTable()) {
            DirectPagingState t = demote(s.withFrame(mfn, f.withValidated(false)), mfn, f.type());
            return t.withFrame(mfn, t.frame(mfn).withTypeCount(0));
        }
        return s.withFrame(mfn, f.withTypeCount(f.typeCount() - 1));
    }

    /**
     * {@code get_page_and_type_from_mfn(mfn, type, d)}: a general and a type reference (LN-2, LN-3, MX-1, MX-3). A
     * frame not of this machine or not owned by {@code d} is refused (LN-3 / OWN-2), a frame in use as another type
     * too (LN-2); a refusal from a validation it triggers keeps its own errno and rule.
     */
    public static MmuResult getPageAndType(DirectPagingState s, long mfn, PageType type, int d) {
        if (!s.isFrame(mfn)) {
            return refuse(Errno.EINVAL, "LN-2", "mfn " + Hex.of(mfn) + " is not RAM of this machine");
        }
        FrameInfo f = s.frame(mfn);
        if (f.owner() != d) {
            return refuse(Errno.EINVAL, "LN-3", "frame " + Hex.of(mfn) + " is owned by "
                    + FrameInfo.ownerName(f.owner()) + ", the table by d" + d);
        }
        if (f.typeCount() > 0 && f.type() != type) {
            return refuse(Errno.EINVAL, "LN-2", "frame " + Hex.of(mfn) + " is in use as " + f.type()
                    + " (type count " + f.typeCount() + "), not " + type);
        }
        return getPage(s, mfn, d).then(t -> getPageType(t, mfn, type));
    }

    /** {@code put_page_and_type}: the type reference, then the general reference. */
    public static DirectPagingState putPageAndType(DirectPagingState s, long mfn) {
        return putPage(putPageType(s, mfn), mfn);
    }

    // ---- promotion / demotion (PRO-)-------------------------------------------------------------------------------

    /**
     * PRO-1 {@code promote_lN_table}: validates every guest slot of table {@code mfn} of page-table type {@code type}
     * in index order, taking the references each present entry needs (L1: {@link #getPageFromL1e}; L2–L4:
     * {@link #getPageFromLne}). The first refusal refuses the whole promotion (the pre-state is kept: the references
     * already taken are as good as dropped). PRO-2: an L4 then gets Xen's slots (SLOT-1) overwritten; under VMX Xen
     * installs nothing there, so they become not present.
     */
    public static MmuResult promote(DirectPagingState s, long mfn, PageType type) {
        int d = s.frame(mfn).owner();
        MmuResult r = ok(s);
        for (int i = 0; i < PhysicalMemory.WORDS_PER_FRAME; i++) {
            if (!EntryRules.isGuestSlot(type, i)) {
                continue;
            }
            int index = i;
            Entry e = s.entry(mfn, i);
            if (!e.present()) {
                continue;
            }
            r = r.then(t -> type == PageType.L1 ? getPageFromL1e(t, e, d) : getPageFromLne(t, mfn, type, e, d));
            if (r instanceof MmuResult.Refused refused) {
                return refused.at(type + " " + Hex.of(mfn) + "[" + index + "]");
            }
        }
        if (type == PageType.L4) {
            r = r.map(t -> {
                PhysicalMemory m = t.memory();
                for (int i = EntryRules.FIRST_XEN_SLOT; i <= EntryRules.LAST_XEN_SLOT; i++) {
                    m = m.write(mfn, i, 0L);
                }
                return t.withMemory(m);
            });
        }
        return r;
    }

    /**
     * PRO-3 {@code demote_lN_table}: drops, in reverse index order, exactly the references promotion took (L1-6,
     * LN-5), recursively through tables whose last type reference goes.
     */
    public static DirectPagingState demote(DirectPagingState s, long mfn, PageType type) {
        DirectPagingState t = s;
        for (int i = PhysicalMemory.WORDS_PER_FRAME - 1; i >= 0; i--) {
            if (!EntryRules.isGuestSlot(type, i)) {
                continue;
            }
            Entry e = t.entry(mfn, i);
            t = type == PageType.L1 ? putPageFromL1e(t, e) : putPageFromLne(t, mfn, type, e);
        }
        return t;
    }

    // ---- L1 entries (L1-)-----------------------------------------------------------------------------------------

    /**
     * {@code get_page_from_l1e(l1e, l1e_owner = d, pg_owner = d)}: the references a present L1 entry holds.
     * <ol>
     * <li>L1-1: no flag of {@link EntryRules#L1_DISALLOW_MASK} (-EINVAL).</li>
     * <li>L1-4: a frame that is not RAM is MMIO; no domain of this model has I/O-memory permission (-EPERM).</li>
     * <li>L1-2: the frame's owner must be {@code d} — not another domain, not {@code dom_xen}, not free (-EPERM).</li>
     * <li>OWN-2: a general reference (-EBUSY on overflow, Xen's {@code could_not_pin}).</li>
     * <li>L1-3: with RW, a WRITABLE type reference (-EBUSY): never on a frame in use as a page table (TYP-1).</li>
     * </ol>
     * Seeded faults: {@link Fault#FOREIGN_FRAME_IN_L1} skips the owner check of L1-2 (the general reference is then
     * taken for the frame's real owner); {@link Fault#WRITABLE_PAGETABLE_MAPPING} replaces L1-3's type check on a
     * frame in use as another type by one more reference of that type (the counts stay balanced, the type is wrong).
     */
    public static MmuResult getPageFromL1e(DirectPagingState s, Entry e, int d) {
        if (!e.present()) {
            return ok(s);
        }
        long bad = EntryRules.l1DisallowedFlags(e);
        if (bad != 0) {
            return refuse(Errno.EINVAL, "L1-1", "flags " + Hex.of(bad) + " of " + e
                    + " are disallowed in an L1 entry");
        }
        long mfn = e.frame();
        if (!s.isFrame(mfn)) {
            return refuse(Errno.EPERM, "L1-4", "frame " + Hex.of(mfn) + " is not RAM (MMIO): d" + d
                    + " has no I/O-memory permission");
        }
        FrameInfo f = s.frame(mfn);
        if (f.owner() != d && !s.faults().breaks(Fault.FOREIGN_FRAME_IN_L1)) {
            return refuse(Errno.EPERM, "L1-2", "frame " + Hex.of(mfn) + " is owned by "
                    + FrameInfo.ownerName(f.owner()) + ", the mapping is d" + d + "'s");
        }
        MmuResult r = getPage(s, mfn, f.owner());
        if (r instanceof MmuResult.Refused refused) {
            return refuse(Errno.EBUSY, refused.rule(), refused.reason());
        }
        if (!e.writable()) {
            return r;
        }
        if (s.faults().breaks(Fault.WRITABLE_PAGETABLE_MAPPING) && f.typeCount() > 0 && f.type() != PageType.WRITABLE
                && f.typeCount() < FrameInfo.MAX_COUNT) {
            return r.map(t -> t.withFrame(mfn, t.frame(mfn).withTypeCount(t.frame(mfn).typeCount() + 1)));
        }
        MmuResult w = r.then(t -> getPageType(t, mfn, PageType.WRITABLE));
        if (w instanceof MmuResult.Refused refused) {
            return refuse(Errno.EBUSY, "L1-3", "writable mapping " + e + " refused: " + refused.reason());
        }
        return w;
    }

    /** L1-6 {@code put_page_from_l1e}: drops the writable type reference iff RW, then the general reference. */
    public static DirectPagingState putPageFromL1e(DirectPagingState s, Entry e) {
        if (!e.present() || !s.isFrame(e.frame())) {
            return s;
        }
        return e.writable() ? putPageAndType(s, e.frame()) : putPage(s, e.frame());
    }

    // ---- L2/L3/L4 entries (LN-) and linear page tables (LIN-)--------------------------------------------------------

    /**
     * {@code get_page_from_l2e/l3e/l4e(e, pfn = tableMfn, d)}: the references a present entry of table
     * {@code tableMfn} (type {@code tableType}, L2..L4) holds.
     * <ol>
     * <li>LN-1 / SP-1: no flag of {@link EntryRules#LN_DISALLOW_MASK} (-EINVAL).</li>
     * <li>LN-2, LN-3: a general and a type reference of the next level down on a frame of {@code d}, which may
     * validate it (TYP-3).</li>
     * <li>If that fails with -EINVAL, the entry may still be a linear entry ({@link #getLinearPagetable}).</li>
     * </ol>
     * When both fail, the refusal reported is the linear one if the entry points at the table itself or at a table
     * of the same level (the guest meant a linear entry), otherwise the direct one; both are -EINVAL as in Xen.
     */
    public static MmuResult getPageFromLne(DirectPagingState s, long tableMfn, PageType tableType, Entry e, int d) {
        if (!e.present()) {
            return ok(s);
        }
        MmuResult.Refused flags = EntryRules.lnFlagsCheck(s, tableType, e);
        if (flags != null) {
            return flags;
        }
        long child = e.frame();
        MmuResult direct = getPageAndType(s, child, tableType.child(), d);
        if (!(direct instanceof MmuResult.Refused r) || r.errno() != Errno.EINVAL) {
            return direct;
        }
        MmuResult linear = getLinearPagetable(s, tableMfn, tableType, e, d);
        if (linear.succeeded()) {
            return linear;
        }
        boolean meantLinear = child == tableMfn
                || (s.isFrame(child) && s.frame(child).type() == tableType && s.frame(child).typeCount() > 0);
        return meantLinear ? linear : direct;
    }

    /**
     * {@code get_lN_linear_pagetable} ({@code define_get_linear_pagetable}, mm.c 669): an entry of an L{@code N} table
     * that references an L{@code N} table.
     * <ol>
     * <li>LIN-1: it must be read-only.</li>
     * <li>LIN-3: a self-map (the table itself) takes no reference.</li>
     * <li>LIN-4 ({@code inc_linear_entries}): the table must not itself be used as a linear table by another.</li>
     * <li>LIN-2: the target belongs to {@code d} (XSA-240).</li>
     * <li>LIN-4 ({@code inc_linear_uses}): the target must not have linear entries itself: depth ≤ 1.</li>
     * <li>LIN-2: the target is already a validated table of the same level; a general and a type reference.</li>
     * </ol>
     * Seeded faults: {@link Fault#WRITABLE_LINEAR_ACCEPTED} skips LIN-1; {@link Fault#LINEAR_CHAIN_UNBOUNDED} skips
     * both LIN-4 depth checks.
     */
    public static MmuResult getLinearPagetable(DirectPagingState s, long tableMfn, PageType tableType, Entry e,
            int d) {
        String what = "linear " + tableType + " entry " + e + " in " + Hex.of(tableMfn);
        if (e.writable() && !s.faults().breaks(Fault.WRITABLE_LINEAR_ACCEPTED)) {
            return refuse(Errno.EINVAL, "LIN-1", what + " must be read-only");
        }
        boolean depthUnchecked = s.faults().breaks(Fault.LINEAR_CHAIN_UNBOUNDED);
        long child = e.frame();
        if (child == tableMfn) {
            return ok(s);
        }
        FrameInfo table = s.frame(tableMfn);
        if (!depthUnchecked && (table.linearCount() < 0 || table.linearCount() == FrameInfo.MAX_LINEAR)) {
            return refuse(Errno.EINVAL, "LIN-4", what + ": the table is itself mapped by a same-level table, a"
                    + " chain would be two deep (XSA-240)");
        }
        if (!s.isFrame(child) || s.frame(child).owner() != d) {
            return refuse(Errno.EINVAL, "LIN-2", what + ": target is not a frame of d" + d);
        }
        FrameInfo c = s.frame(child);
        if (!depthUnchecked && (c.linearCount() > 0 || c.linearCount() == -FrameInfo.MAX_LINEAR)) {
            return refuse(Errno.EINVAL, "LIN-4", what + ": the target has linear entries itself, a chain would be"
                    + " two deep (XSA-240)");
        }
        if (c.type() != tableType || c.typeCount() == 0 || !c.validated() || c.typeCount() == FrameInfo.MAX_COUNT
                || c.count() == FrameInfo.MAX_COUNT) {
            return refuse(Errno.EINVAL, "LIN-2", what + ": the target must already be a validated " + tableType
                    + " table, is " + c);
        }
        DirectPagingState t = s.withFrame(tableMfn, table.withLinearCount(table.linearCount() + 1));
        t = t.withFrame(child, c.withLinearCount(c.linearCount() - 1).withCount(c.count() + 1)
                .withTypeCount(c.typeCount() + 1));
        return ok(t);
    }

    /**
     * LN-5 {@code put_page_from_l2e/l3e/l4e} and {@code put_pt_page}: a self-map drops nothing (LIN-3); a linear entry
     * (target of the table's own type) first undoes its linear counts; then the type and general references go.
     */
    public static DirectPagingState putPageFromLne(DirectPagingState s, long tableMfn, PageType tableType, Entry e) {
        if (!e.present() || e.frame() == tableMfn || !s.isFrame(e.frame())) {
            return s;
        }
        long child = e.frame();
        DirectPagingState t = s;
        FrameInfo c = t.frame(child);
        if (c.type() == tableType) {
            t = t.withFrame(child, c.withLinearCount(c.linearCount() + 1));
            FrameInfo table = t.frame(tableMfn);
            t = t.withFrame(tableMfn, table.withLinearCount(table.linearCount() - 1));
        }
        return putPageAndType(t, child);
    }
}
