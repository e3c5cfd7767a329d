package org.hybridv.xen;

import static org.hybridv.xen.MmuResult.ok;
import static org.hybridv.xen.MmuResult.refuse;

import org.hybridv.x86.Canonical;
import org.hybridv.x86.Entry;
import org.hybridv.x86.Hex;
import org.hybridv.x86.Level;

/**
 * The direct-paging hypercalls as {@code post = f(pre, call)}: {@code mmu_update} (MMU_NORMAL_PT_UPDATE),
 * {@code mmuext_op} (pin, unpin, new base pointer, TLB operations), {@code update_va_mapping}, and writable-page-table
 * emulation (Xen {@code do_mmu_update}, {@code do_mmuext_op}, {@code __do_update_va_mapping} in mm.c;
 * {@code ptwr_emulated_update} in pv/ro-page-fault.c).
 *
 * <p>Scope: the caller is the page-table owner and the owner of the mapped frames ({@code pg_owner = pt_owner =
 * currd}; {@code foreigndom} is not modelled). The "domain is in direct mode" check (MU-1, XSA-109) and the CPL check
 * belong to the hypervisor's dispatch, which calls these functions only for a direct-mode domain. A batch of
 * {@code mmu_update} requests is a sequence of single-request calls: Xen keeps the requests done before a failing one
 * and reports how many in {@code success_count}.
 */
public final class DirectPaging {
    private DirectPaging() {}

    // ---- mmu_update ----------------------------------------------------------------------------------------------

    /**
     * {@code HYPERVISOR_mmu_update} with one request {@code (ptr, val)} from {@code caller}.
     * <ol>
     * <li>The command is {@code ptr & 7}; only MMU_NORMAL_PT_UPDATE is modelled (others: -ENOSYS).</li>
     * <li>MU-1: the target frame {@code ptr >> 12} must be RAM owned by the caller (-EINVAL).</li>
     * <li>MU-2: with the page lock (type count &gt; 0 and validated) dispatch on the frame's type: L1 →
     * {@link #modL1Entry}, L2–L4 → {@link #modLnEntry}, WRITABLE → plain store. Without it, take a WRITABLE type,
     * store, put it (a frame in use as a page table cannot reach this path).</li>
     * <li>MU-5 (XSA-286): a successful L2–L4 update obliges the caller to flush the domain's TLBs before returning
     * to the guest ({@link Effect.FlushDomain}). Seeded fault {@link Fault#PT_UPDATE_NO_FLUSH}: no such obligation.</li>
     * </ol>
     */
    public static MmuResult mmuUpdate(DirectPagingState s, VcpuId caller, long ptr, long val) {
        int cmd = (int) (ptr & 7);
        if (cmd != Hypercalls.MMU_NORMAL_PT_UPDATE) {
            return refuse(Errno.ENOSYS, cmd == Hypercalls.MMU_MACHPHYS_UPDATE ? "MU-4" : "MU-1", "mmu_update command " + cmd + " is not modelled (only"
                    + " MMU_NORMAL_PT_UPDATE)");
        }
        long mfn = ptr >>> 12;
        int index = (int) ((ptr & 0xFFF) >>> 3);
        int d = caller.domain();
        if (!s.isFrame(mfn) || s.frame(mfn).owner() != d) {
            return refuse(Errno.EINVAL, "MU-1", "mmu_update target " + Hex.of(ptr) + ": frame " + Hex.of(mfn)
                    + (s.isFrame(mfn) ? " is owned by " + FrameInfo.ownerName(s.frame(mfn).owner())
                            : " is not RAM") + ", not by d" + d);
        }
        FrameInfo f = s.frame(mfn);
        Entry nu = new Entry(val);
        if (f.typeCount() > 0 && f.validated()) {
            switch (f.type()) {
                case L1:
                    return modL1Entry(s, mfn, index, nu, d);
                case L2:
                case L3:
                case L4:
                    MmuResult r = modLnEntry(s, mfn, f.type(), index, nu, d);
                    return s.faults().breaks(Fault.PT_UPDATE_NO_FLUSH) ? r : r.with(new Effect.FlushDomain(d, "MU-5"));
                case WRITABLE:
                    return ok(s.write(mfn, index, nu));
                default:
                    return refuse(Errno.EINVAL, "MU-2", "frame " + Hex.of(mfn) + " has type " + f.type());
            }
        }
        MmuResult w = PageTypes.getPageType(s, mfn, PageType.WRITABLE);
        if (w instanceof MmuResult.Refused r) {
            return refuse(Errno.EINVAL, "MU-2", r.reason());
        }
        return w.map(t -> PageTypes.putPageType(t.write(mfn, index, nu), mfn));
    }

    /**
     * MU-3 {@code mod_l1_entry}: the update of entry {@code index} of validated L1 {@code l1mfn} to {@code nu}.
     * <ol>
     * <li>A present new entry must pass L1-1 first.</li>
     * <li>Fast path (SP-3, XSA-148): if it differs from the old one only in
     * {@link EntryRules#FASTPATH_FLAG_WHITELIST} (never the frame, P, RW or PAT), store without revalidation.</li>
     * <li>Otherwise take the new entry's references ({@link PageTypes#getPageFromL1e}), store, drop the old
     * entry's (L1-6).</li>
     * </ol>
     * No TLB flush: keeping TLBs coherent with L1 changes is the guest's job (TLB-7).
     */
    public static MmuResult modL1Entry(DirectPagingState s, long l1mfn, int index, Entry nu, int d) {
        Entry old = s.entry(l1mfn, index);
        if (nu.present()) {
            if (EntryRules.l1DisallowedFlags(nu) != 0) {
                return PageTypes.getPageFromL1e(s, nu, d);
            }
            if (EntryRules.takesFastPath(s, PageType.L1, old, nu)) {
                return ok(s.write(l1mfn, index, nu));
            }
            return PageTypes.getPageFromL1e(s, nu, d)
                    .map(t -> PageTypes.putPageFromL1e(t.write(l1mfn, index, nu), old));
        }
        return ok(PageTypes.putPageFromL1e(s.write(l1mfn, index, nu), old));
    }

    /**
     * MU-3 {@code mod_l2_entry/mod_l3_entry/mod_l4_entry}: the update of entry {@code index} of validated table
     * {@code mfn} (type L2..L4) to {@code nu}.
     * <ol>
     * <li>SLOT-2: an L4 update in Xen's slots 256–271 is refused (-EINVAL). Seeded fault
     * {@link Fault#XEN_SLOT_UPDATE}: it is not.</li>
     * <li>A present new entry must pass LN-1 / SP-1 first.</li>
     * <li>Fast path: only flags of {@link EntryRules#FASTPATH_PDE_FLAG_WHITELIST} change — never the frame, P, PSE
     * (SP-3, XSA-148) or RW (LIN-6, XSA-182).</li>
     * <li>Otherwise {@link PageTypes#getPageFromLne} for the new entry, store, {@link PageTypes#putPageFromLne} for
     * the old one (LN-5; Xen defers that put through {@code old_guest_table}, MU-6, not modelled).</li>
     * </ol>
     */
    public static MmuResult modLnEntry(DirectPagingState s, long mfn, PageType type, int index, Entry nu, int d) {
        if (!EntryRules.isGuestSlot(type, index) && !s.faults().breaks(Fault.XEN_SLOT_UPDATE)) {
            return refuse(Errno.EINVAL, "SLOT-2", "L4 slot " + index + " of " + Hex.of(mfn) + " belongs to Xen ("
                    + EntryRules.FIRST_XEN_SLOT + "–" + EntryRules.LAST_XEN_SLOT + ")");
        }
        Entry old = s.entry(mfn, index);
        if (nu.present()) {
            MmuResult.Refused flags = EntryRules.lnFlagsCheck(s, type, nu);
            if (flags != null) {
                return flags;
            }
            if (EntryRules.takesFastPath(s, type, old, nu)) {
                return ok(s.write(mfn, index, nu));
            }
            return PageTypes.getPageFromLne(s, mfn, type, nu, d)
                    .map(t -> PageTypes.putPageFromLne(t.write(mfn, index, nu), mfn, type, old));
        }
        return ok(PageTypes.putPageFromLne(s.write(mfn, index, nu), mfn, type, old));
    }

    // ---- mmuext_op -----------------------------------------------------------------------------------------------

    /**
     * {@code HYPERVISOR_mmuext_op} with one operation {@code (cmd, arg1)} from {@code caller}: PIN_L1..L4 and UNPIN
     * ({@link #pin}, {@link #unpin}), NEW_BASEPTR ({@link #newBaseptr}), TLB_FLUSH_LOCAL, INVLPG_LOCAL, TLB_FLUSH_ALL,
     * INVLPG_ALL (MX-5: effects for the caller; an INVLPG of a non-canonical address is a no-op, TLB-6),
     * TLB_FLUSH_MULTI and INVLPG_MULTI (MX-7: for the vCPUs of a mask, see the five-argument form),
     * MARK_SUPER/UNMARK_SUPER (-EOPNOTSUPP, SP-1). Other commands are not modelled (-ENOSYS, as Xen answers an
     * unknown command).
     */
    public static MmuResult mmuextOp(DirectPagingState s, VcpuId caller, int cmd, long arg1) {
        return mmuextOp(s, caller, cmd, arg1, 0);
    }

    /**
     * {@link #mmuextOp(DirectPagingState, VcpuId, int, long)} with the operation's {@code arg2}: the vCPU mask of
     * TLB_FLUSH_MULTI and INVLPG_MULTI (bit i names vCPU i of the caller's domain; Xen passes a pointer to the bitmap,
     * the model its value, docs/rules/xen.md MX-7). The other commands ignore it.
     */
    public static MmuResult mmuextOp(DirectPagingState s, VcpuId caller, int cmd, long arg1, long vcpumask) {
        int d = caller.domain();
        switch (cmd) {
            case Hypercalls.MMUEXT_PIN_L1_TABLE:
                return pin(s, d, arg1, PageType.L1);
            case Hypercalls.MMUEXT_PIN_L2_TABLE:
                return pin(s, d, arg1, PageType.L2);
            case Hypercalls.MMUEXT_PIN_L3_TABLE:
                return pin(s, d, arg1, PageType.L3);
            case Hypercalls.MMUEXT_PIN_L4_TABLE:
                return pin(s, d, arg1, PageType.L4);
            case Hypercalls.MMUEXT_UNPIN_TABLE:
                return unpin(s, d, arg1);
            case Hypercalls.MMUEXT_NEW_BASEPTR:
                return newBaseptr(s, caller, arg1);
            case Hypercalls.MMUEXT_TLB_FLUSH_LOCAL:
                return ok(s, new Effect.FlushLocal(caller, "MX-5"));
            case Hypercalls.MMUEXT_INVLPG_LOCAL:
                return Canonical.isCanonical(arg1) ? ok(s, new Effect.InvlpgLocal(caller, arg1, "MX-5")) : ok(s);
            case Hypercalls.MMUEXT_TLB_FLUSH_MULTI:
                return ok(s, new Effect.FlushMulti(d, vcpumask, "MX-7"));
            case Hypercalls.MMUEXT_INVLPG_MULTI:
                return Canonical.isCanonical(arg1) ? ok(s, new Effect.InvlpgMulti(d, vcpumask, arg1, "MX-7")) : ok(s);
            case Hypercalls.MMUEXT_TLB_FLUSH_ALL:
                return ok(s, new Effect.FlushDomain(d, "MX-5"));
            case Hypercalls.MMUEXT_INVLPG_ALL:
                return Canonical.isCanonical(arg1) ? ok(s, new Effect.InvlpgDomain(d, arg1, "MX-5")) : ok(s);
            case Hypercalls.MMUEXT_MARK_SUPER:
            case Hypercalls.MMUEXT_UNMARK_SUPER:
                return refuse(Errno.EOPNOTSUPP, "SP-1", "PV superpages were removed (MMUEXT_[UN]MARK_SUPER)");
            default:
                return refuse(Errno.ENOSYS, "MX-6", "mmuext_op command " + cmd + " is not modelled");
        }
    }

    /**
     * MX-1 {@code MMUEXT_PIN_Ln_TABLE}: the frame must be RAM owned by {@code d} (-EINVAL); a type reference of
     * {@code type}, validating on the first (TYP-3), with its general reference; then {@code PGT_pinned}, which must
     * not be set already: pins do not nest (-EINVAL).
     */
    public static MmuResult pin(DirectPagingState s, int d, long mfn, PageType type) {
        if (!s.isFrame(mfn) || s.frame(mfn).owner() != d) {
            return refuse(Errno.EINVAL, "MX-1", "cannot pin " + Hex.of(mfn) + ": not a frame of d" + d);
        }
        MmuResult r = PageTypes.getPage(s, mfn, d).then(t -> PageTypes.getPageType(t, mfn, type));
        if (r instanceof MmuResult.Refused) {
            return r;
        }
        if (s.frame(mfn).pinned()) {
            return refuse(Errno.EINVAL, "MX-1", "frame " + Hex.of(mfn) + " is already pinned (pins do not nest)");
        }
        return r.map(t -> t.withFrame(mfn, t.frame(mfn).withPinned(true)));
    }

    /**
     * MX-2 {@code MMUEXT_UNPIN_TABLE}: the frame must be RAM of {@code d} and pinned (-EINVAL); drops the pin's
     * references. Seeded fault {@link Fault#UNPIN_LEAKS_TYPE_REF}: only the general reference is dropped.
     */
    public static MmuResult unpin(DirectPagingState s, int d, long mfn) {
        if (!s.isFrame(mfn) || s.frame(mfn).owner() != d) {
            return refuse(Errno.EINVAL, "MX-2", "cannot unpin " + Hex.of(mfn) + ": not a frame of d" + d);
        }
        FrameInfo f = s.frame(mfn);
        if (!f.pinned()) {
            return refuse(Errno.EINVAL, "MX-2", "frame " + Hex.of(mfn) + " is not pinned");
        }
        DirectPagingState unpinned = s.withFrame(mfn, f.withPinned(false));
        return ok(s.faults().breaks(Fault.UNPIN_LEAKS_TYPE_REF) ? PageTypes.putPage(unpinned, mfn)
                : PageTypes.putPageAndType(unpinned, mfn));
    }

    /**
     * MX-3 {@code MMUEXT_NEW_BASEPTR} ({@code new_guest_cr3}): an L4 type and general reference on {@code mfn}
     * (validating it if needed, TYP-3), then the old base's references are dropped and the caller loads CR3
     * ({@link Effect.LoadBase}, TLB-4). Reloading the current base takes and drops nothing.
     */
    public static MmuResult newBaseptr(DirectPagingState s, VcpuId caller, long mfn) {
        java.util.OptionalLong old = s.guestTable(caller);
        Effect load = new Effect.LoadBase(caller, mfn, "MX-3");
        if (old.isPresent() && old.getAsLong() == mfn) {
            return ok(s, load);
        }
        MmuResult r = PageTypes.getPageAndType(s, mfn, PageType.L4, caller.domain());
        if (r instanceof MmuResult.Refused refused) {
            return refused.rule().equals("LN-3") || refused.rule().equals("LN-2")
                    ? refuse(refused.errno(), "MX-3", refused.reason()) : refused;
        }
        return r.map(t -> {
            DirectPagingState u = t.withGuestTable(caller, mfn);
            return old.isPresent() ? PageTypes.putPageAndType(u, old.getAsLong()) : u;
        }).with(load);
    }

    // ---- update_va_mapping ---------------------------------------------------------------------------------------

    /** Where the L1 entry for a linear address lives: table frame and index. */
    public record L1Slot(long l1mfn, int index) {}

    /**
     * {@code map_guest_l1e}: the L1 entry that maps {@code linear} in {@code vcpu}'s current tables, or null when the
     * vCPU has no base pointer, the address is not canonical, or an L4/L3/L2 entry on the way is not present (or maps
     * a superpage, which validated tables never hold).
     */
    public static L1Slot guestL1Slot(DirectPagingState s, VcpuId vcpu, long linear) {
        if (s.guestTable(vcpu).isEmpty() || !Canonical.isCanonical(linear)) {
            return null;
        }
        long table = s.guestTable(vcpu).getAsLong();
        for (Level level = Level.PML4; level != Level.PT; level = level.next()) {
            Entry e = s.entry(table, level.index(linear));
            if (!e.present() || (level != Level.PML4 && e.pageSize()) || !s.isFrame(e.frame())) {
                return null;
            }
            table = e.frame();
        }
        return new L1Slot(table, Level.PT.index(linear));
    }

    /**
     * {@code HYPERVISOR_update_va_mapping(va, val, flags)}.
     * <ul>
     * <li>UVA-1: the L1 entry for {@code va} is found through the caller's current tables; that L1 must belong to
     * the caller and be a validated L1 (-EINVAL); then {@link #modL1Entry}.</li>
     * <li>UVA-2 (XSA-279): the flush {@code flags} ask for is an effect only when the update succeeded.</li>
     * </ul>
     * Flags: flush type {@code UVMF_NONE/TLB_FLUSH/INVLPG} × scope {@code UVMF_LOCAL/UVMF_ALL}; a vCPU-mask scope is
     * not modelled and refused up front (-EINVAL), as is flush type 3.
     */
    public static MmuResult updateVaMapping(DirectPagingState s, VcpuId caller, long va, long val, long flags) {
        long type = flags & Hypercalls.UVMF_FLUSHTYPE_MASK;
        long scope = flags & ~Hypercalls.UVMF_FLUSHTYPE_MASK;
        if (type == 3 || (scope != Hypercalls.UVMF_LOCAL && scope != Hypercalls.UVMF_ALL)) {
            return refuse(Errno.EINVAL, "UVA-2", "flags " + Hex.of(flags) + " not modelled (vCPU masks)");
        }
        L1Slot slot = guestL1Slot(s, caller, va);
        if (slot == null) {
            return refuse(Errno.EINVAL, "UVA-1", "no L1 entry maps " + Hex.of(va) + " in " + caller
                    + "'s current tables");
        }
        FrameInfo l1 = s.frame(slot.l1mfn());
        if (l1.owner() != caller.domain() || l1.type() != PageType.L1 || l1.typeCount() == 0 || !l1.validated()) {
            return refuse(Errno.EINVAL, "UVA-1", "frame " + Hex.of(slot.l1mfn()) + " holding the entry for "
                    + Hex.of(va) + " is not a validated L1 of " + caller + ": " + l1);
        }
        MmuResult r = modL1Entry(s, slot.l1mfn(), slot.index(), new Entry(val), caller.domain());
        boolean all = scope == Hypercalls.UVMF_ALL;
        if (type == Hypercalls.UVMF_TLB_FLUSH) {
            return r.with(all ? new Effect.FlushDomain(caller.domain(), "UVA-2")
                    : new Effect.FlushLocal(caller, "UVA-2"));
        }
        if (type == Hypercalls.UVMF_INVLPG) {
            return r.with(all ? new Effect.InvlpgDomain(caller.domain(), va, "UVA-2")
                    : new Effect.InvlpgLocal(caller, va, "UVA-2"));
        }
        return r;
    }

    // ---- writable page tables ------------------------------------------------------------------------------------

    /**
     * Writable-page-table emulation ({@code ptwr_do_page_fault} / {@code ptwr_emulated_update}): the guest kernel
     * stored {@code value} ({@code bytes} = 1, 2, 4 or 8 bytes) at {@code cr2} and took a supervisor write #PF (the
     * dispatch checked the error code: P = 1, W/R = 1). A refusal means "not emulated": the dispatch reflects the #PF
     * to the guest.
     * <ol>
     * <li>PTW-1: the PTE mapping {@code cr2} in the caller's current tables is present and read-only, and the frame
     * it maps (the store's target) is a validated L1 of the caller. Stores into L2–L4 tables are not emulated.</li>
     * <li>PTW-2: the store is naturally aligned; a narrower store is widened to the 8-byte PTE by reading the rest.</li>
     * <li>PTW-3: the new PTE is validated like MU-3 with {@code l1e_owner = pg_owner = d}, without the fast path
     * ({@link PageTypes#getPageFromL1e}), stored, and the old PTE's references dropped.</li>
     * </ol>
     */
    public static MmuResult ptwrEmulate(DirectPagingState s, VcpuId caller, long cr2, long value, int bytes) {
        if (bytes != 1 && bytes != 2 && bytes != 4 && bytes != 8) {
            throw new IllegalArgumentException("store size = " + bytes + " is not 1, 2, 4 or 8");
        }
        int d = caller.domain();
        L1Slot slot = guestL1Slot(s, caller, cr2);
        if (slot == null) {
            return refuse(Errno.EINVAL, "PTW-1", "no PTE maps " + Hex.of(cr2));
        }
        Entry pte = s.entry(slot.l1mfn(), slot.index());
        if (!pte.present() || pte.writable()) {
            return refuse(Errno.EINVAL, "PTW-1", "the PTE for " + Hex.of(cr2) + " is not present and read-only: "
                    + pte);
        }
        long target = pte.frame();
        FrameInfo t = s.isFrame(target) ? s.frame(target) : null;
        if (t == null || t.owner() != d || t.type() != PageType.L1 || t.typeCount() == 0 || !t.validated()) {
            return refuse(Errno.EINVAL, "PTW-1", "the store's target frame " + Hex.of(target)
                    + " is not a validated L1 of d" + d + (t == null ? "" : ": " + t));
        }
        if ((cr2 & (bytes - 1)) != 0) {
            return refuse(Errno.EINVAL, "PTW-2", "a " + bytes + "-byte store at " + Hex.of(cr2)
                    + " is not naturally aligned");
        }
        int index = (int) ((cr2 & 0xFFF) >>> 3);
        Entry old = s.entry(target, index);
        long full = value;
        if (bytes != 8) {
            int shift = (int) (cr2 & 7) * 8;
            long mask = ((1L << (bytes * 8)) - 1) << shift;
            full = (old.raw() & ~mask) | ((value << shift) & mask);
        }
        Entry nu = new Entry(full);
        return PageTypes.getPageFromL1e(s, nu, d)
                .map(u -> PageTypes.putPageFromL1e(u.write(target, index, nu), old));
    }
}
