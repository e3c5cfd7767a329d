package org.hybridv.xen;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.x86.Entry;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PhysicalMemory;

/**
 * Grant tables, version 1 ({@code xen/common/grant_table.c}, {@code xen/include/public/grant_table.h}): a domain
 * offers one of its frames to another by writing a grant entry into its grant-table frame; the other maps it
 * ({@code GNTTABOP_map_grant_ref}), unmaps it ({@code GNTTABOP_unmap_grant_ref}) or copies through it
 * ({@code GNTTABOP_copy}) with {@code grant_table_op} (hypercall 20). Rules GNT-1..GNT-7 of docs/rules/xen.md.
 *
 * <p>A grant entry ({@code struct grant_entry_v1}, 8 bytes, one word of the grant-table frame per reference, 512 per
 * frame): bits 15:0 {@code flags}, bits 31:16 {@code domid} (who may use it), bits 63:32 {@code frame}.
 */
public final class GrantTables {
    private GrantTables() {}

    public static final int GNTTABOP_MAP_GRANT_REF = 0;
    public static final int GNTTABOP_UNMAP_GRANT_REF = 1;
    public static final int GNTTABOP_COPY = 5;

    public static final long GNTMAP_DEVICE_MAP = 1;
    public static final long GNTMAP_HOST_MAP = 2;
    public static final long GNTMAP_READONLY = 4;
    public static final long GNTMAP_CONTAINS_PTE = 16;

    public static final int GTF_PERMIT_ACCESS = 1;
    public static final int GTF_TYPE_MASK = 3;
    public static final int GTF_READONLY = 1 << 2;
    public static final int GTF_READING = 1 << 3;
    public static final int GTF_WRITING = 1 << 4;

    public static final long GNTCOPY_SOURCE_GREF = 1;
    public static final long GNTCOPY_DEST_GREF = 2;

    /** Grant references of one v1 grant-table frame. */
    public static final int ENTRIES = PhysicalMemory.WORDS_PER_FRAME;
    /** Xen's {@code _PAGE_GNTTAB}: the PTE bit (62) that marks a grant mapping; a guest never writes it (L1-1). */
    public static final long PAGE_GNTTAB = 1L << 62;

    /** A decoded grant entry. */
    public record GrantEntry(int flags, int domid, long frame) {
        public boolean permits(int d) {
            return (flags & GTF_TYPE_MASK) == GTF_PERMIT_ACCESS && domid == d;
        }

        public boolean readonly() {
            return (flags & GTF_READONLY) != 0;
        }

        public long raw() {
            return (flags & 0xFFFFL) | ((domid & 0xFFFFL) << 16) | (frame << 32);
        }

        public static GrantEntry of(long raw) {
            return new GrantEntry((int) (raw & 0xFFFF), (int) ((raw >>> 16) & 0xFFFF), raw >>> 32);
        }
    }

    /** GNT-1: grant {@code ref} of domain {@code d} as its grant-table frame holds it, or null (no table, bad ref). */
    public static GrantEntry entry(XenMachine m, int d, long ref) {
        long table = m.pv().domain(d).grantTable();
        if (table < 0 || ref < 0 || ref >= ENTRIES) {
            return null;
        }
        return GrantEntry.of(m.memory().read(table, (int) ref));
    }

    private static XenMachine withEntry(XenMachine m, int d, int ref, GrantEntry e) {
        long table = m.pv().domain(d).grantTable();
        return EventChannels.withMemory(m, m.memory().write(table, ref, e.raw()));
    }

    /**
     * GNT-1, the granting guest's own store ({@code gnttab_grant_foreign_access_ref}): grant {@code ref} of {@code d}
     * lets domain {@code to} use frame {@code frame}, read-only if {@code readonly}. With {@code end} the guest ends
     * the grant ({@code gnttab_end_foreign_access_ref}), which the guest does only when Xen's GTF_reading and
     * GTF_writing show no mapping: refused (null) while the grant is mapped, GNT-7. Null also without a grant table.
     */
    public static XenMachine guestGrant(XenMachine m, int d, int ref, int to, long frame, boolean readonly,
            boolean end) {
        GrantEntry e = entry(m, d, ref);
        if (e == null) {
            return null;
        }
        if (end) {
            return (e.flags() & (GTF_READING | GTF_WRITING)) != 0 ? null : withEntry(m, d, ref,
                    new GrantEntry(0, 0, 0));
        }
        return withEntry(m, d, ref, new GrantEntry(GTF_PERMIT_ACCESS | (readonly ? GTF_READONLY : 0)
                | (e.flags() & (GTF_READING | GTF_WRITING)), to, frame));
    }

    /** The {@code grant_table_op} command {@code cmd}, arguments by value ({@link Hypercall}). */
    static PvResult op(XenMachine m, VcpuId caller, long cmd, long a1, long a2, long a3, long a4) {
        if (cmd == GNTTABOP_MAP_GRANT_REF) {
            return mapGrantRef(m, caller, a1, a2, a3, a4);
        }
        if (cmd == GNTTABOP_UNMAP_GRANT_REF) {
            return unmapGrantRef(m, caller, a1, a2);
        }
        if (cmd == GNTTABOP_COPY) {
            return copy(m, caller, a1, a2, a3, a4);
        }
        return PvResult.refuse(Errno.ENOSYS, "GNT-2", "grant_table_op command " + cmd + " is not modelled");
    }

    /**
     * GNT-2 {@code map_grant_ref} (args: {@code host_addr}, {@code flags}, {@code ref}, {@code dom}; RAX = the map
     * handle), for a direct-mode caller ({@code create_grant_va_mapping}). Checks, each refusing with nothing changed:
     * {@code GNTMAP_host_map} with a linear {@code host_addr} only (device and PTE-address forms are not modelled);
     * the granting domain exists ({@code GNTST_bad_domain}) and has a grant table holding {@code ref}
     * ({@code GNTST_bad_gntref}); the entry permits access to the caller ({@code GNTST_general_error}: bad flags or
     * domid); a writable mapping of a read-only grant is refused ("write-pin of a r/o grant"); the granted frame is the
     * granting domain's ({@code GNTST_bad_page}) and, for a writable mapping, can take a WRITABLE type reference (GNT-3:
     * not a page table); {@code host_addr} reaches a validated L1 of the caller through its current tables
     * ({@code GNTST_bad_virt_addr}) whose entry is empty. Then: a general reference on the frame (and a WRITABLE type
     * reference if writable, GNT-3), GTF_reading (and GTF_writing) set in the grant entry, the PTE written — the
     * granted frame, P, U/S, A, D, R/W only if not read-only, and {@link #PAGE_GNTTAB} — and a maptrack entry under the
     * lowest free handle. A HAP mapper gets an EPT entry instead ({@link #mapIntoP2m}); a shadow-mode mapper is refused
     * (-EOPNOTSUPP, not modelled). Seeded fault {@link Fault#GRANT_READONLY_MAPPED_WRITABLE}: the read-only check is
     * skipped and a read-only grant is mapped writable.
     */
    static PvResult mapGrantRef(XenMachine m, VcpuId caller, long hostAddr, long flags, long ref, long dom) {
        int ld = caller.domain();
        if ((flags & GNTMAP_HOST_MAP) == 0 || (flags & (GNTMAP_DEVICE_MAP | GNTMAP_CONTAINS_PTE)) != 0) {
            return PvResult.refuse(Errno.EINVAL, "GNT-2", "only GNTMAP_host_map of a linear host_addr is modelled"
                    + " (flags " + Hex.of(flags) + ")");
        }
        if (m.domain(ld).mode() == MmuMode.SHADOW) {
            return PvResult.refuse(Errno.EOPNOTSUPP, "GNT-2", "d" + ld + " is in shadow mode: grant mappings of a"
                    + " shadow-mode domain are not modelled (direct mode: a PTE; HAP: an EPT entry)");
        }
        long rdl = dom == EventChannels.DOMID_SELF ? ld : dom;
        if (rdl < 0 || rdl > FrameInfo.MAX_DOMAIN || !m.domains().containsKey((int) rdl)) {
            return PvResult.refuse(Errno.ESRCH, "GNT-2", "GNTST_bad_domain: no domain " + dom);
        }
        int rd = (int) rdl;
        GrantEntry e = entry(m, rd, ref);
        if (e == null) {
            return PvResult.refuse(Errno.EINVAL, "GNT-2", "GNTST_bad_gntref: d" + rd + " has no grant " + ref);
        }
        if (!e.permits(ld)) {
            return PvResult.refuse(Errno.EINVAL, "GNT-2", "GNTST_general_error: grant " + ref + " of d" + rd
                    + " does not permit access to d" + ld + " (flags " + Hex.of(e.flags()) + ", domid " + e.domid()
                    + ")");
        }
        boolean readonly = (flags & GNTMAP_READONLY) != 0;
        if (!readonly && e.readonly() && !m.faults().breaks(Fault.GRANT_READONLY_MAPPED_WRITABLE)) {
            return PvResult.refuse(Errno.EINVAL, "GNT-2", "GNTST_general_error: write-pin of read-only grant " + ref
                    + " of d" + rd);
        }
        if (m.domain(ld).mode() == MmuMode.HAP) {
            return mapIntoP2m(m, ld, rd, (int) ref, e, hostAddr, readonly);
        }
        DirectPagingState s = m.paging();
        DirectPaging.L1Slot slot = DirectPaging.guestL1Slot(s, caller, hostAddr);
        if (slot == null || s.frame(slot.l1mfn()).owner() != ld || s.frame(slot.l1mfn()).type() != PageType.L1
                || s.frame(slot.l1mfn()).typeCount() == 0) {
            return PvResult.refuse(Errno.EINVAL, "GNT-2", "GNTST_bad_virt_addr: " + Hex.of(hostAddr)
                    + " is not reached through a validated L1 of d" + ld);
        }
        if (s.entry(slot.l1mfn(), slot.index()).present()) {
            return PvResult.refuse(Errno.EINVAL, "GNT-2", "GNTST_general_error: the L1 entry for "
                    + Hex.of(hostAddr) + " is in use");
        }
        MmuResult refs = PageTypes.getPage(s, e.frame(), rd);
        if (refs instanceof MmuResult.Refused r) {
            return PvResult.refuse(Errno.EINVAL, "GNT-2", "GNTST_bad_page: " + r.reason());
        }
        if (!readonly) {
            refs = refs.then(t -> PageTypes.getPageType(t, e.frame(), PageType.WRITABLE));
            if (refs instanceof MmuResult.Refused r) {
                return PvResult.refuse(Errno.EINVAL, "GNT-3", "GNTST_general_error: could not pin granted frame "
                        + Hex.of(e.frame()) + " writable: " + r.reason());
            }
        }
        MmuResult.Success ok = (MmuResult.Success) refs;
        long pte = (e.frame() << 12) | 1L << Entry.P | 1L << Entry.US | 1L << Entry.A | 1L << Entry.D
                | (readonly ? 0 : 1L << Entry.RW) | PAGE_GNTTAB;
        XenMachine after = TlbDiscipline.apply(m.withPaging(ok.state().write(slot.l1mfn(), slot.index(), new Entry(pte))),
                ok.effects());
        after = withEntry(after, rd, (int) ref, new GrantEntry(e.flags() | GTF_READING | (readonly ? 0 : GTF_WRITING),
                e.domid(), e.frame()));
        DomainPv dp = after.pv().domain(ld);
        int handle = 0;
        while (dp.maptrack().containsKey(handle)) {
            handle++;
        }
        GrantMapping g = new GrantMapping(rd, (int) ref, e.frame(), hostAddr, readonly, slot.l1mfn(), slot.index(),
                false);
        return new PvResult.Done(after.withPv(after.pv().with(ld, dp.withMapping(handle, g))), handle);
    }

    /**
     * GNT-2 for a HAP mapper ({@code create_grant_p2m_mapping}: the grant enters the p2m as {@code p2m_grant_map_rw}
     * or {@code p2m_grant_map_ro}): {@code hostAddr} is a page-aligned guest-physical address that is not the domain's
     * RAM; the EPT leaf for it (in the tables already built, which this model does not extend:
     * {@code GNTST_general_error} otherwise) must be empty. It maps the granted frame read/write, or read-only, never
     * executable ({@code ept_p2m_type_to_flags}). References, flags and handle as for a PTE.
     */
    private static PvResult mapIntoP2m(XenMachine m, int ld, int rd, int ref, GrantEntry e, long hostAddr,
            boolean readonly) {
        Domain d = m.domain(ld);
        long gfn = hostAddr >>> 12;
        if ((hostAddr & 0xFFF) != 0 || d.machineFrame(gfn) >= 0) {
            return PvResult.refuse(Errno.EINVAL, "GNT-2", "GNTST_general_error: guest-physical " + Hex.of(hostAddr)
                    + " is not a free page of d" + ld + "'s physical map");
        }
        long table = new org.hybridv.ept.Eptp(d.eptp()).pml4Address() >>> 12;
        for (int level = 4; level > 1; level--) {
            org.hybridv.ept.EptEntry t = new org.hybridv.ept.EptEntry(m.memory().read(table,
                    (int) ((hostAddr >>> (12 + 9 * (level - 1))) & 511)));
            if (!t.present() || t.largePage()) {
                return PvResult.refuse(Errno.EINVAL, "GNT-2", "GNTST_general_error: d" + ld + "'s EPT has no page"
                        + " table for guest-physical " + Hex.of(hostAddr) + " (building EPT tables is not modelled)");
            }
            table = t.frame();
        }
        int index = (int) (gfn & 511);
        if (m.memory().read(table, index) != 0) {
            return PvResult.refuse(Errno.EINVAL, "GNT-2", "GNTST_general_error: the EPT entry for "
                    + Hex.of(hostAddr) + " is in use");
        }
        MmuResult refs = PageTypes.getPage(m.paging(), e.frame(), rd);
        if (refs instanceof MmuResult.Refused r) {
            return PvResult.refuse(Errno.EINVAL, "GNT-2", "GNTST_bad_page: " + r.reason());
        }
        if (!readonly) {
            refs = refs.then(t -> PageTypes.getPageType(t, e.frame(), PageType.WRITABLE));
            if (refs instanceof MmuResult.Refused r) {
                return PvResult.refuse(Errno.EINVAL, "GNT-3", "GNTST_general_error: could not pin granted frame "
                        + Hex.of(e.frame()) + " writable: " + r.reason());
            }
        }
        MmuResult.Success ok = (MmuResult.Success) refs;
        org.hybridv.ept.EptEntry leaf = org.hybridv.ept.EptEntry.pte(e.frame(), readonly
                ? org.hybridv.ept.EptPermissions.READ : org.hybridv.ept.EptPermissions.READ_WRITE);
        XenMachine after = TlbDiscipline.apply(m.withPaging(ok.state().withMemory(ok.state().memory().write(table,
                index, leaf.raw()))), ok.effects());
        after = withEntry(after, rd, ref, new GrantEntry(e.flags() | GTF_READING | (readonly ? 0 : GTF_WRITING),
                e.domid(), e.frame()));
        DomainPv dp = after.pv().domain(ld);
        int handle = 0;
        while (dp.maptrack().containsKey(handle)) {
            handle++;
        }
        GrantMapping g = new GrantMapping(rd, ref, e.frame(), hostAddr, readonly, table, index, true);
        return new PvResult.Done(after.withPv(after.pv().with(ld, dp.withMapping(handle, g))), handle);
    }

    /**
     * GNT-5 {@code unmap_grant_ref} (args: {@code host_addr}, {@code handle}): the handle must name a mapping of the
     * caller ({@code GNTST_bad_handle}) made at {@code host_addr}, whose PTE (or EPT leaf) still maps the granted frame
     * ({@code GNTST_general_error}). The entry is cleared, the frame's references dropped (GNT-3), the maptrack entry
     * released, and GTF_writing / GTF_reading cleared once no mapping of that access remains. Before the hypercall
     * returns, the mapping domain's TLBs are flushed on every pCPU of its dirty CPU mask ({@code gnttab_flush_tlb} →
     * {@code flush_tlb_mask(ld->dirty_cpumask)}, TLB-9): no cached translation of the granted frame survives the
     * unmap (for an EPT leaf too: the cached translations are combined ones, tagged with the domain's VPIDs).
     * Seeded fault {@link Fault#GRANT_UNMAP_NO_FLUSH}: no flush.
     */
    static PvResult unmapGrantRef(XenMachine m, VcpuId caller, long hostAddr, long handle) {
        int ld = caller.domain();
        GrantMapping g = handle < 0 || handle > Integer.MAX_VALUE ? null
                : m.pv().domain(ld).maptrack().get((int) handle);
        if (g == null) {
            return PvResult.refuse(Errno.EINVAL, "GNT-5", "GNTST_bad_handle: d" + ld + " has no map handle " + handle);
        }
        Entry pte = m.paging().entry(g.l1mfn(), g.l1index());
        boolean maps = g.ept() ? new org.hybridv.ept.EptEntry(pte.raw()).present()
                && new org.hybridv.ept.EptEntry(pte.raw()).frame() == g.frame()
                : pte.present() && pte.frame() == g.frame() && (pte.raw() & PAGE_GNTTAB) != 0;
        if (g.hostAddr() != hostAddr || !maps) {
            return PvResult.refuse(Errno.EINVAL, "GNT-5", "GNTST_general_error: handle " + handle + " maps "
                    + Hex.of(g.hostAddr()) + "; the PTE there is " + pte + ", not the grant of " + Hex.of(hostAddr));
        }
        DirectPagingState s = m.paging().write(g.l1mfn(), g.l1index(), Entry.NOT_PRESENT);
        if (!g.readonly()) {
            s = PageTypes.putPageType(s, g.frame());
        }
        s = PageTypes.putPage(s, g.frame());
        XenMachine after = m.withPaging(s);
        after = after.withPv(after.pv().with(ld, after.pv().domain(ld).withMapping((int) handle, null)));
        boolean reading = false;
        boolean writing = false;
        for (DomainPv dp : after.pv().domains().values()) {
            for (GrantMapping o : dp.maptrack().values()) {
                if (o.grantingDomain() == g.grantingDomain() && o.ref() == g.ref()) {
                    reading = true;
                    writing |= !o.readonly();
                }
            }
        }
        GrantEntry e = entry(after, g.grantingDomain(), g.ref());
        int flags = e.flags() & ~((reading ? 0 : GTF_READING) | (writing ? 0 : GTF_WRITING));
        after = withEntry(after, g.grantingDomain(), g.ref(), new GrantEntry(flags, e.domid(), e.frame()));
        if (!m.faults().breaks(Fault.GRANT_UNMAP_NO_FLUSH)) {
            after = TlbDiscipline.apply(after, new Effect.FlushDomain(ld, "GNT-5"));
        }
        return new PvResult.Done(after, 0);
    }

    /**
     * GNT-6 {@code gnttab_copy} (args: source, dest — each {@code domid << 32 | ref-or-gfn} —, flags
     * {@code GNTCOPY_source_gref} / {@code GNTCOPY_dest_gref}, {@code len} in bytes, a multiple of 8 up to a page;
     * offsets 0): copies {@code len} bytes from the source frame to the destination frame. A side named by grant
     * reference must be a grant of that domain permitting the caller ({@code GNTST_bad_gntref} /
     * {@code GNTST_general_error}), and the destination's grant must not be read-only; a side named by gfn must be the
     * caller's own frame ({@code GNTST_permission_denied} otherwise). The destination frame must be able to take a
     * WRITABLE type reference (not a page table: the copy would bypass validation); the references are taken and
     * released around the copy, so nothing remains of them.
     */
    static PvResult copy(XenMachine m, VcpuId caller, long src, long dst, long flags, long len) {
        if (len <= 0 || len > 4096 || len % 8 != 0) {
            return PvResult.refuse(Errno.EINVAL, "GNT-6", "GNTST_bad_copy_arg: len " + len);
        }
        Object from = side(m, caller, src, (flags & GNTCOPY_SOURCE_GREF) != 0, false);
        if (from instanceof PvResult.Refused r) {
            return r;
        }
        Object to = side(m, caller, dst, (flags & GNTCOPY_DEST_GREF) != 0, true);
        if (to instanceof PvResult.Refused r) {
            return r;
        }
        long sf = (Long) from;
        long df = (Long) to;
        int owner = m.frames().get(df).owner();
        MmuResult w = PageTypes.getPageAndType(m.paging(), df, PageType.WRITABLE, owner);
        if (w instanceof MmuResult.Refused r) {
            return PvResult.refuse(Errno.EINVAL, "GNT-6", "GNTST_general_error: destination frame " + Hex.of(df)
                    + " cannot be written: " + r.reason());
        }
        MmuResult.Success ok = (MmuResult.Success) w;
        DirectPagingState s = PageTypes.putPageAndType(ok.state(), df);
        PhysicalMemory mem = s.memory();
        for (int i = 0; i < len / 8; i++) {
            mem = mem.write(df, i, m.memory().read(sf, i));
        }
        return new PvResult.Done(TlbDiscipline.apply(m.withPaging(s.withMemory(mem)), ok.effects()), 0);
    }

    /** A copy side's machine frame (a Long), or the refusal. */
    private static Object side(XenMachine m, VcpuId caller, long word, boolean gref, boolean dest) {
        long dom = word >>> 32;
        long id = word & 0xFFFF_FFFFL;
        int ld = caller.domain();
        int d = dom == EventChannels.DOMID_SELF ? ld : (int) dom;
        if (dom > FrameInfo.MAX_DOMAIN && dom != EventChannels.DOMID_SELF || !m.domains().containsKey(d)) {
            return PvResult.refuse(Errno.ESRCH, "GNT-6", "GNTST_bad_domain: no domain " + dom);
        }
        if (!gref) {
            long mfn = d == ld ? Hypervisor.translateGpfn(m, m.domain(d), id) : -1;
            return mfn < 0 ? PvResult.refuse(Errno.EPERM, "GNT-6", "GNTST_permission_denied: gfn " + Hex.of(id)
                    + " of d" + d + " is not the caller's own frame") : (Object) mfn;
        }
        GrantEntry e = entry(m, d, id);
        if (e == null) {
            return PvResult.refuse(Errno.EINVAL, "GNT-6", "GNTST_bad_gntref: d" + d + " has no grant " + id);
        }
        if (!e.permits(ld) || (dest && e.readonly())) {
            return PvResult.refuse(Errno.EINVAL, "GNT-6", "GNTST_general_error: grant " + id + " of d" + d
                    + (dest && e.permits(ld) ? " is read-only" : " does not permit d" + ld));
        }
        if (!m.frames().contains(e.frame()) || m.frames().get(e.frame()).owner() != d) {
            return PvResult.refuse(Errno.EINVAL, "GNT-6", "GNTST_bad_page: frame " + Hex.of(e.frame())
                    + " is not d" + d + "'s");
        }
        return (Object) e.frame();
    }

    /** The active grant mappings of domain {@code d}'s frames by all domains (for the invariants and reports). */
    public static List<GrantMapping> mappingsOf(XenMachine m, int granting) {
        List<GrantMapping> l = new ArrayList<>();
        for (DomainPv dp : m.pv().domains().values()) {
            for (GrantMapping g : dp.maptrack().values()) {
                if (g.grantingDomain() == granting) {
                    l.add(g);
                }
            }
        }
        return l;
    }
}
