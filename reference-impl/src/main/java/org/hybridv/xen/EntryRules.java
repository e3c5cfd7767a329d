package org.hybridv.xen;

import org.hybridv.x86.Entry;
import org.hybridv.x86.Hex;

/**
 * The flag masks and slot rules of direct-paging entries (docs/rules/xen.md): which flags a guest entry may
 * carry, which L4 slots belong to Xen, and when an update may skip revalidation (the fast path).
 *
 * <p>Bit names follow Xen's {@code _PAGE_*}: flag bits 11:0 and 63:52 of an entry; {@code _PAGE_AVAIL} = bits 11:9,
 * {@code _PAGE_AVAIL_HIGH} = bits 62:52, {@code _PAGE_NX} = bit 63, {@code _PAGE_GNTTAB} = bit 62 (flag bit 22 of
 * {@code put_pte_flags}), {@code _PAGE_PSE} = bit 7 (PAT in an L1 entry).
 */
public final class EntryRules {
    private EntryRules() {}

    public static final long P = 1L << Entry.P;
    public static final long RW = 1L << Entry.RW;
    public static final long US = 1L << Entry.US;
    public static final long PWT = 1L << Entry.PWT;
    public static final long PCD = 1L << Entry.PCD;
    public static final long A = 1L << Entry.A;
    public static final long D = 1L << Entry.D;
    /** {@code _PAGE_PSE} in L2/L3 entries; the same bit is PAT in an L1 entry. */
    public static final long PSE = 1L << Entry.PS;
    public static final long PAT = PSE;
    public static final long G = 1L << Entry.G;
    public static final long AVAIL = 0x7L << 9;
    public static final long AVAIL_HIGH = 0x7FFL << 52;
    public static final long NX = 1L << Entry.XD;
    /** {@code _PAGE_GNTTAB}: marks grant PTEs, which guests may never forge (L1-1, GNT-4). */
    public static final long GNTTAB = 1L << 62;
    /** Every non-address bit: bits 11:0 and 63:52. */
    public static final long FLAGS = ~Entry.ADDRESS_FIELD;

    /**
     * LN-1: {@code base_disallow_mask = ~(P|RW|US|A|D|AVAIL|AVAIL_HIGH|NX)} ({@code arch_init_memory}, mm.c): PWT,
     * PCD, PSE (SP-1) and G are refused in L2, L3 and L4 entries ({@code L2_DISALLOW_MASK}, {@code
     * l3_disallow_mask}, {@code L4_DISALLOW_MASK} all equal it).
     */
    public static final long BASE_DISALLOW_MASK = FLAGS & ~(P | RW | US | A | D | AVAIL | AVAIL_HIGH | NX);
    public static final long LN_DISALLOW_MASK = BASE_DISALLOW_MASK;

    /**
     * L1-1 for a ring-0 hybrid guest without I/O memory or cache-flush permission: {@code L1_DISALLOW_MASK =
     * (base_disallow_mask & ~_PAGE_GLOBAL) | _PAGE_GNTTAB}, with the cache attributes PWT, PCD and PAT refused as
     * {@code l1_disallow_mask(d)} refuses them for a domain without {@code cache_flush_permitted} (mm.c 157–177).
     * Allowed: P, RW, US, A, D, AVAIL, AVAIL_HIGH except GNTTAB, NX, G. (L1-7, {@code adjust_guest_l1e}, does not
     * apply: the hybrid kernel runs in ring 0 of VMX non-root operation.)
     */
    public static final long L1_DISALLOW_MASK = (BASE_DISALLOW_MASK & ~G) | GNTTAB;

    /**
     * MU-3 / SP-3 {@code FASTPATH_FLAG_WHITELIST = NX|AVAIL_HIGH|AVAIL|G|D|A|US} (mm.c ~2135): flags an update may
     * change without revalidation. Never PSE, never RW (XSA-148).
     */
    public static final long FASTPATH_FLAG_WHITELIST = NX | AVAIL_HIGH | AVAIL | G | D | A | US;

    /**
     * LIN-6 {@code FASTPATH_PDE_FLAG_WHITELIST}: the whitelist for L2–L4 entries. It adds RW only when linear page
     * tables are compiled out; this model has linear page tables, so RW changes in L2–L4 entries take the full path
     * (XSA-182: a read-only linear entry made writable through the fast path gave write access to page tables).
     */
    public static final long FASTPATH_PDE_FLAG_WHITELIST = FASTPATH_FLAG_WHITELIST;

    /** SLOT-1: the first PML4 slot reserved for Xen ({@code ROOT_PAGETABLE_FIRST_XEN_SLOT}, asm/config.h). */
    public static final int FIRST_XEN_SLOT = 256;
    /** SLOT-1: the last PML4 slot reserved for Xen ({@code ROOT_PAGETABLE_LAST_XEN_SLOT}): VA 0xffff8000_00000000–0xffff87ff_ffffffff. */
    public static final int LAST_XEN_SLOT = 271;

    /**
     * SLOT-1/SLOT-3 ({@code is_guest_l4_slot}, x86_64/page.h): whether L4 slot {@code index} is the guest's. Slots
     * 256–271 are Xen's in every 64-bit PV L4. Under VMX Xen needs no slots in a guest's tables (it runs in root mode
     * with its own CR3); the hybrid guest keeps the 64-bit PV layout so that a kernel built for PV runs unchanged, and
     * Xen installs nothing there (see {@link PageTypes#promote}, PRO-2): the slots stay empty, so nothing of the
     * hypervisor is ever mapped into a ring-0 guest.
     */
    public static boolean isGuestL4Slot(int index) {
        return index < FIRST_XEN_SLOT || index > LAST_XEN_SLOT;
    }

    /** Whether slot {@code index} of a table of type {@code type} is a guest slot (all slots except L4 256–271). */
    public static boolean isGuestSlot(PageType type, int index) {
        return type != PageType.L4 || isGuestL4Slot(index);
    }

    /** L1-1: the disallowed flags {@code entry} carries (0 when none). */
    public static long l1DisallowedFlags(Entry entry) {
        return entry.raw() & L1_DISALLOW_MASK;
    }

    /** LN-1 / SP-1: the disallowed flags an L2–L4 {@code entry} carries (0 when none). */
    public static long lnDisallowedFlags(Entry entry) {
        return entry.raw() & LN_DISALLOW_MASK;
    }

    /**
     * LN-1 / SP-1 for a present L2–L4 {@code entry} of a table of type {@code tableType}: null when its flags are
     * allowed, otherwise the refusal ({@link #lnFlagsRefusal}). The one place both {@code mod_lN_entry}
     * ({@link DirectPaging#modLnEntry}) and {@code get_page_from_lNe} ({@link PageTypes#getPageFromLne}) check flags.
     * Seeded fault {@link Fault#SUPERPAGE_ACCEPTED}: PSE in an L2/L3 entry is not refused (the entry is then validated
     * as if it pointed at a table).
     */
    static MmuResult.Refused lnFlagsCheck(DirectPagingState s, PageType tableType, Entry entry) {
        long bad = lnDisallowedFlags(entry);
        if (s.faults().breaks(Fault.SUPERPAGE_ACCEPTED) && (tableType == PageType.L2 || tableType == PageType.L3)) {
            bad &= ~PSE;
        }
        return bad == 0 ? null : lnFlagsRefusal(tableType, entry);
    }

    /**
     * The refusal for an L2–L4 entry with disallowed flags: SP-1 when PSE is among them in an L2 or L3 entry (a
     * superpage), otherwise LN-1. Both are {@code -EINVAL} ("Bad L2 flags", {@code get_page_from_l2e}).
     */
    static MmuResult.Refused lnFlagsRefusal(PageType tableType, Entry entry) {
        long bad = lnDisallowedFlags(entry);
        if ((bad & PSE) != 0 && (tableType == PageType.L2 || tableType == PageType.L3)) {
            return MmuResult.refuse(Errno.EINVAL, "SP-1", "superpage (PSE) in an " + tableType + " entry "
                    + entry + ": PV guests get no superpages");
        }
        return MmuResult.refuse(Errno.EINVAL, "LN-1", "flags " + Hex.of(bad) + " of " + entry
                + " are disallowed in an " + tableType + " entry");
    }

    /**
     * {@code lNe_has_changed(old, new, ~whitelist)}: whether the two entries differ in the address or in any flag
     * outside {@code whitelist} (present included). When they do not, {@code mod_lN_entry} stores the new entry
     * without revalidation (MU-3 fast path).
     */
    public static boolean changedOutside(Entry old, Entry nu, long whitelist) {
        return ((old.raw() ^ nu.raw()) & (Entry.ADDRESS_FIELD | (FLAGS & ~whitelist))) != 0;
    }

    /** MU-3, SP-3, LIN-6: whether an update of an entry of {@code type} from {@code old} to {@code nu} takes the fast path. */
    public static boolean takesFastPath(PageType type, Entry old, Entry nu) {
        long whitelist = type == PageType.L1 ? FASTPATH_FLAG_WHITELIST : FASTPATH_PDE_FLAG_WHITELIST;
        return nu.present() && !changedOutside(old, nu, whitelist);
    }

    /**
     * {@link #takesFastPath(PageType, Entry, Entry)} as the hypervisor of state {@code s} decides it. Seeded fault
     * {@link Fault#FASTPATH_RW_CHANGE}: the L2–L4 whitelist includes RW, as if linear page tables were compiled out
     * (XSA-182).
     */
    public static boolean takesFastPath(DirectPagingState s, PageType type, Entry old, Entry nu) {
        if (type != PageType.L1 && s.faults().breaks(Fault.FASTPATH_RW_CHANGE)) {
            return nu.present() && !changedOutside(old, nu, FASTPATH_PDE_FLAG_WHITELIST | RW);
        }
        return takesFastPath(type, old, nu);
    }
}
