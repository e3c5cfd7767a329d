package org.hybridv.xen;

import org.hybridv.x86.Checks;

/**
 * What the hypervisor tracks per machine frame (Xen {@code struct page_info}, docs/rules/xen.md): owner, page type, type count,
 * general reference count, and the {@code PGT_validated} and {@code PGT_pinned} flags, plus {@code linear_pt_count}
 * for linear page tables (LIN-4).
 *
 * <p>Counting convention of this model: the owner's allocation reference ({@code PGC_allocated}) is represented by
 * {@link #owner} alone and is <em>not</em> included in {@link #count}; {@code count} is the number of references in
 * use (mappings, page-table entries, pins, base pointers, OWN-3). Freeing (OWN-4's last step, after
 * {@code decrease_reservation}) is not modelled, so a frame whose count drops to 0 stays with its owner.
 *
 * @param owner       a domain id 0..{@link #MAX_DOMAIN}, {@link #FREE} (Xen: owner NULL) or {@link #XEN}
 *                    ({@code dom_xen}: a hypervisor frame no guest may reach)
 * @param type        the current type; meaningful while {@code typeCount > 0} (TYP-2)
 * @param typeCount   the type reference count ({@code type_info & PGT_count_mask})
 * @param count       the general reference count ({@code count_info & PGC_count_mask}) excluding the allocation
 * @param validated   {@code PGT_validated}: the contents were audited for {@code type} (TYP-3, TYP-4)
 * @param pinned      {@code PGT_pinned}: a pin holds one type and one general reference (MX-1)
 * @param linearCount {@code linear_pt_count}: &gt; 0 the number of same-level entries this table holds, &lt; 0 minus
 *                    the number of same-level tables that map it (LIN-4)
 * @param tlbflushTimestamp {@code tlbflush_timestamp}: the TLB-flush clock's value when the frame's last type
 *                    reference went (Xen rule TLB-2), kept while its type count is 0; {@link #NO_TIMESTAMP} otherwise.
 *                    Set by the machine ({@code XenMachine.withPaging}), read by a type change's flush
 *                    ({@code TlbDiscipline.typeChangeFlush}); the direct-paging core carries it unchanged
 */
public record FrameInfo(int owner, PageType type, int typeCount, int count, boolean validated, boolean pinned,
        int linearCount, long tlbflushTimestamp) {
    /** Owner of an unallocated frame (Xen: {@code page_get_owner() == NULL}). */
    public static final int FREE = -1;
    /** {@code DOMID_XEN} (xen/include/public/xen.h): frames of the hypervisor itself. */
    public static final int XEN = 0x7FF2;
    /** The largest ordinary domain id ({@code DOMID_FIRST_RESERVED} - 1, xen.h). */
    public static final int MAX_DOMAIN = 0x7FEF;
    /**
     * The model's bound on either count; a reference that would exceed it is refused (OWN-2, TYP-2: "overflow
     * fails"). Xen's bounds are 2<sup>54</sup>-ish; the rule is the same.
     */
    public static final int MAX_COUNT = Integer.MAX_VALUE;
    /** The bound on |linear_pt_count| (an {@code int16_t} in Xen: "more than 32k uses fail", LIN-4). */
    public static final int MAX_LINEAR = Short.MAX_VALUE;

    /** The {@link #tlbflushTimestamp} of a frame that has none (TLB-2). */
    public static final long NO_TIMESTAMP = -1;

    /** A free frame: no owner, no type, no references. */
    public static final FrameInfo UNUSED = new FrameInfo(FREE, PageType.NONE, 0, 0, false, false, 0);

    public FrameInfo {
        if (owner != FREE && owner != XEN) {
            Checks.inRange("owner", owner, 0, MAX_DOMAIN);
        }
        Checks.notNull("page type", type);
        Checks.inRange("type count", typeCount, 0, MAX_COUNT);
        Checks.inRange("count", count, 0, MAX_COUNT);
        Checks.inRange("linear count", linearCount, -MAX_LINEAR, MAX_LINEAR);
        Checks.inRange("TLB timestamp", tlbflushTimestamp, NO_TIMESTAMP, 0xFFFFFFFFL);
    }

    /** A frame with no TLB timestamp (TLB-2). */
    public FrameInfo(int owner, PageType type, int typeCount, int count, boolean validated, boolean pinned,
            int linearCount) {
        this(owner, type, typeCount, count, validated, pinned, linearCount, NO_TIMESTAMP);
    }

    /** A frame newly allocated to {@code owner}: untyped, unreferenced. */
    public static FrameInfo ownedBy(int owner) {
        return UNUSED.withOwner(owner);
    }

    public FrameInfo withOwner(int o) {
        return new FrameInfo(o, type, typeCount, count, validated, pinned, linearCount, tlbflushTimestamp);
    }

    public FrameInfo withType(PageType t) {
        return new FrameInfo(owner, t, typeCount, count, validated, pinned, linearCount, tlbflushTimestamp);
    }

    public FrameInfo withTypeCount(int c) {
        return new FrameInfo(owner, type, c, count, validated, pinned, linearCount, tlbflushTimestamp);
    }

    public FrameInfo withCount(int c) {
        return new FrameInfo(owner, type, typeCount, c, validated, pinned, linearCount, tlbflushTimestamp);
    }

    public FrameInfo withValidated(boolean v) {
        return new FrameInfo(owner, type, typeCount, count, v, pinned, linearCount, tlbflushTimestamp);
    }

    public FrameInfo withPinned(boolean p) {
        return new FrameInfo(owner, type, typeCount, count, validated, p, linearCount, tlbflushTimestamp);
    }

    public FrameInfo withLinearCount(int l) {
        return new FrameInfo(owner, type, typeCount, count, validated, pinned, l, tlbflushTimestamp);
    }

    public FrameInfo withTlbflushTimestamp(long t) {
        return new FrameInfo(owner, type, typeCount, count, validated, pinned, linearCount, t);
    }

    /** Whether the frame is in use as a page table: a page-table type with a type reference (TYP-1). */
    public boolean inUseAsPageTable() {
        return type.isPageTable() && typeCount > 0;
    }

    /** The owner as Xen's messages name it: {@code d1}, {@code dom_xen}, {@code no owner}. */
    public static String ownerName(int owner) {
        return owner == FREE ? "no owner" : owner == XEN ? "dom_xen" : "d" + owner;
    }

    @Override
    public String toString() {
        return "Frame[" + ownerName(owner) + " " + type + " tc=" + typeCount + " c=" + count
                + (validated ? " validated" : "") + (pinned ? " pinned" : "")
                + (linearCount != 0 ? " linear=" + linearCount : "")
                + (tlbflushTimestamp != NO_TIMESTAMP ? " stamp=" + tlbflushTimestamp : "") + "]";
    }
}
