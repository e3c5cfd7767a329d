package org.hybridv.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.hybridv.ept.InveptType;
import org.hybridv.gen.TlbScopeCase;
import org.hybridv.gen.TlbScopeCase.Op;
import org.hybridv.x86.InvpcidType;
import org.hybridv.x86.PscEntry;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbTag;

/**
 * The scope of every TLB invalidation, restated from the SDM independently of the reference: predicates over the
 * fields of a {@link TlbEntry} (its VPID and EP4TA, PCID, global flag, page) and of a paging-structure-cache entry
 * ({@link PscEntry}: VPID, EP4TA, PCID, level, the linear-address bits it is indexed by), never the reference's
 * {@code Tlb} or {@code PscEntry} methods. With an adversarial TLB, which keeps whatever the SDM does not require to
 * be removed, the TLB after an operation must be exactly the one before it without the entries {@link #mustRemove}
 * selects, and the paging-structure caches exactly the ones before without the entries {@link #mustRemovePsc}
 * selects, each in the same order.
 */
public final class TlbScopes {
    private TlbScopes() {}

    private static boolean onPage(TlbEntry e, long linear) {
        long size = e.pageSize().bytes();
        return e.linearBase() == (linear & -size);
    }

    private static boolean ofVpid(TlbEntry e, int vpid) {
        return e.tag().vpid() == vpid;
    }

    /**
     * Whether the paging-structure-cache entry {@code p} would be used for {@code linear}: SDM 4.10.3.1, a PML4-cache
     * entry "is used for linear addresses for which bits 47:39 have that value", a PDPTE-cache entry bits 47:30, a
     * PDE-cache entry bits 47:21.
     */
    private static boolean usedFor(PscEntry p, long linear) {
        int low = switch (p.level()) {
            case PML4 -> 39;
            case PDPT -> 30;
            case PD -> 21;
            case PT -> throw new IllegalArgumentException("no PTE cache");
        };
        long bits = ((1L << 48) - 1) & ~((1L << low) - 1);
        return (p.linearBase() & bits) == (linear & bits);
    }

    /**
     * Whether the SDM requires {@code op} to remove {@code e}:
     * <ul>
     * <li>INVLPG: entries for the page associated with the current PCID, and global entries for the page of any PCID
     * (Vol. 3A §4.10.4.1); current VPID, all EP4TAs (Vol. 3C §28.3.3.1, as for every item up to MOV to CR0).</li>
     * <li>MOV to CR3: non-global entries of PCID 000H (PCIDE = 0) or of the loaded PCID (PCIDE = 1, bit 63 clear);
     * nothing with bit 63 set.</li>
     * <li>MOV to CR4: everything if PGE changes or PCIDE goes 1 → 0; every entry of the current PCID, global ones
     * included, if PAE changes or SMEP goes 0 → 1; otherwise nothing.</li>
     * <li>MOV to CR0 clearing PG: everything.</li>
     * <li>#PF: entries for the page associated with the current PCID, global or not; a global entry cached under
     * another PCID is not named (INVLPG's sentence names those, this one does not) and stays.</li>
     * <li>INVVPID (Vol. 3C §28.3.3.3): type 0 the VPID's entries for the page; 1 all of the VPID; 2 all but VPID
     * 0000H; 3 the VPID's non-global entries.</li>
     * <li>INVEPT: combined mappings of the EP4TA (type 1) or of every EP4TA (type 2), any VPID and PCID.</li>
     * <li>VM entry and VM exit with "enable VPID" = 0: everything of VPID 0000H (§28.3.3.1); with VPID, nothing.</li>
     * <li>EPT violation with bit 8 = 1: combined mappings for the page of the current PCID, VPID and EP4TA
     * (§28.3.3.1); with bit 8 = 0 none. The VM exit that follows adds its own scope.</li>
     * </ul>
     */
    public static boolean mustRemove(Op op, TlbEntry e) {
        if (op instanceof TlbScopeCase.Invlpg o) {
            return ofVpid(e, o.tag().vpid()) && onPage(e, o.linear()) && (e.global() || e.pcid() == o.pcid());
        }
        if (op instanceof TlbScopeCase.MovToCr3 o) {
            int pcid = o.pcide() ? o.newPcid() : 0;
            return !o.noFlush() && ofVpid(e, o.tag().vpid()) && !e.global() && e.pcid() == pcid;
        }
        if (op instanceof TlbScopeCase.MovToCr4 o) {
            boolean all = o.old().pge() != o.next().pge() || (o.old().pcide() && !o.next().pcide());
            boolean currentPcid = o.old().pae() != o.next().pae() || (!o.old().smep() && o.next().smep());
            return ofVpid(e, o.tag().vpid()) && (all || (currentPcid && e.pcid() == o.currentPcid()));
        }
        if (op instanceof TlbScopeCase.MovToCr0ClearingPg o) {
            return ofVpid(e, o.tag().vpid());
        }
        if (op instanceof TlbScopeCase.PageFault o) {
            return ofVpid(e, o.tag().vpid()) && onPage(e, o.linear()) && e.pcid() == o.pcid();
        }
        if (op instanceof TlbScopeCase.Invvpid o) {
            return switch (o.type()) {
                case INDIVIDUAL_ADDRESS -> ofVpid(e, o.vpid()) && onPage(e, o.linear());
                case SINGLE_CONTEXT -> ofVpid(e, o.vpid());
                case ALL_CONTEXT -> e.tag().vpid() != 0;
                case SINGLE_CONTEXT_RETAINING_GLOBALS -> ofVpid(e, o.vpid()) && !e.global();
            };
        }
        if (op instanceof TlbScopeCase.Invept o) {
            return e.tag().ep4ta() != TlbTag.NO_EPT
                    && (o.type() == InveptType.ALL_CONTEXT || e.tag().ep4ta() == o.ep4ta());
        }
        if (op instanceof TlbScopeCase.VmEntry o) {
            return !o.vpidEnabled() && ofVpid(e, 0);
        }
        if (op instanceof TlbScopeCase.VmExit o) {
            return !o.vpidEnabled() && ofVpid(e, 0);
        }
        if (op instanceof TlbScopeCase.Invpcid o) {
            // Vol. 2A INVPCID: type 0 "mappings—except global translations—for the linear address and PCID", type 1
            // "all mappings—except global translations—associated with the PCID", type 2 "all mappings—including global
            // translations—associated with any PCID", type 3 "all mappings—except global translations—associated with
            // any PCID"; current VPID, all EP4TAs (Vol. 3C §28.3.3.1)
            boolean vpid = ofVpid(e, o.tag().vpid());
            return switch (o.type()) {
                case INDIVIDUAL_ADDRESS -> vpid && !e.global() && e.pcid() == o.pcid() && onPage(e, o.linear());
                case SINGLE_CONTEXT -> vpid && !e.global() && e.pcid() == o.pcid();
                case ALL_CONTEXT_INCLUDING_GLOBALS -> vpid;
                case ALL_CONTEXT -> vpid && !e.global();
            };
        }
        TlbScopeCase.EptViolation o = (TlbScopeCase.EptViolation) op;
        boolean violation = o.translatedAccess() && e.tag().vpid() == o.tag().vpid()
                && e.tag().ep4ta() == o.tag().ep4ta() && e.pcid() == 0 && onPage(e, o.linear());
        return violation || (!o.vpidEnabled() && ofVpid(e, 0));
    }

    /**
     * Whether the SDM requires {@code op} to remove the paging-structure-cache entry {@code p} (Vol. 3A §4.10.4.1,
     * Vol. 3C §28.3.3). Such entries are never global translations, so "except global" never keeps one:
     * <ul>
     * <li>INVLPG: "all entries in all paging-structure caches associated with the current PCID, regardless of the
     * linear addresses to which they correspond"; current VPID, all EP4TAs.</li>
     * <li>MOV to CR3 (bit 63 clear or PCIDE = 0): "all entries in all paging-structure caches associated with" the
     * PCID loaded (000H without PCIDE); with bit 63 set, "not required to invalidate ... entries in paging-structure
     * caches": none.</li>
     * <li>MOV to CR4: all of the VPID if PGE changes or PCIDE goes 1 → 0 ("all entries in all paging-structure caches
     * (for all PCIDs)"); those of the current PCID if PAE changes or SMEP goes 0 → 1.</li>
     * <li>MOV to CR0 clearing PG: all of the VPID.</li>
     * <li>#PF: "all entries in the paging-structure caches that would be used for that linear address and that are
     * associated with the current PCID".</li>
     * <li>INVPCID: types 0 and 1 every entry of the descriptor's PCID (type 0 "regardless of the linear addresses");
     * types 2 and 3 every entry.</li>
     * <li>INVVPID type 0: the VPID's entries that would be used to translate the address; 1 and 3 all of the VPID; 2
     * all but VPID 0000H. INVEPT: combined entries of the EP4TA (type 1) or of all EP4TAs (type 2).</li>
     * <li>VM entry and exit without VPID: all of VPID 0000H. EPT violation with bit 8 = 1: the combined entries for
     * the address of the current VPID, EP4TA and PCID.</li>
     * </ul>
     */
    public static boolean mustRemovePsc(Op op, PscEntry p) {
        if (op instanceof TlbScopeCase.Invlpg o) {
            return p.tag().vpid() == o.tag().vpid() && p.pcid() == o.pcid();
        }
        if (op instanceof TlbScopeCase.MovToCr3 o) {
            int pcid = o.pcide() ? o.newPcid() : 0;
            return !o.noFlush() && p.tag().vpid() == o.tag().vpid() && p.pcid() == pcid;
        }
        if (op instanceof TlbScopeCase.MovToCr4 o) {
            boolean all = o.old().pge() != o.next().pge() || (o.old().pcide() && !o.next().pcide());
            boolean currentPcid = o.old().pae() != o.next().pae() || (!o.old().smep() && o.next().smep());
            return p.tag().vpid() == o.tag().vpid() && (all || (currentPcid && p.pcid() == o.currentPcid()));
        }
        if (op instanceof TlbScopeCase.MovToCr0ClearingPg o) {
            return p.tag().vpid() == o.tag().vpid();
        }
        if (op instanceof TlbScopeCase.PageFault o) {
            return p.tag().vpid() == o.tag().vpid() && p.pcid() == o.pcid() && usedFor(p, o.linear());
        }
        if (op instanceof TlbScopeCase.Invpcid o) {
            boolean vpid = p.tag().vpid() == o.tag().vpid();
            return switch (o.type()) {
                case INDIVIDUAL_ADDRESS, SINGLE_CONTEXT -> vpid && p.pcid() == o.pcid();
                case ALL_CONTEXT_INCLUDING_GLOBALS, ALL_CONTEXT -> vpid;
            };
        }
        if (op instanceof TlbScopeCase.Invvpid o) {
            return switch (o.type()) {
                case INDIVIDUAL_ADDRESS -> p.tag().vpid() == o.vpid() && usedFor(p, o.linear());
                case SINGLE_CONTEXT, SINGLE_CONTEXT_RETAINING_GLOBALS -> p.tag().vpid() == o.vpid();
                case ALL_CONTEXT -> p.tag().vpid() != 0;
            };
        }
        if (op instanceof TlbScopeCase.Invept o) {
            return p.tag().ep4ta() != TlbTag.NO_EPT
                    && (o.type() == InveptType.ALL_CONTEXT || p.tag().ep4ta() == o.ep4ta());
        }
        if (op instanceof TlbScopeCase.VmEntry o) {
            return !o.vpidEnabled() && p.tag().vpid() == 0;
        }
        if (op instanceof TlbScopeCase.VmExit o) {
            return !o.vpidEnabled() && p.tag().vpid() == 0;
        }
        TlbScopeCase.EptViolation o = (TlbScopeCase.EptViolation) op;
        boolean violation = o.translatedAccess() && p.tag().vpid() == o.tag().vpid()
                && p.tag().ep4ta() == o.tag().ep4ta() && p.pcid() == 0 && usedFor(p, o.linear());
        return violation || (!o.vpidEnabled() && p.tag().vpid() == 0);
    }

    /** What the paging-structure caches must hold after {@code op}: {@code before} without what the SDM removes. */
    public static List<PscEntry> expectedPscAfter(List<PscEntry> before, Op op) {
        List<PscEntry> kept = new ArrayList<>();
        for (PscEntry p : before) {
            if (!mustRemovePsc(op, p)) {
                kept.add(p);
            }
        }
        return kept;
    }

    /**
     * Empty if the caches {@code after} are what the SDM demands of {@code op} on {@code before}; else the difference.
     */
    public static Optional<String> judgePsc(List<PscEntry> before, Op op, List<PscEntry> after) {
        return difference(expectedPscAfter(before, op), before, op, after, "paging-structure-cache entry");
    }

    /** What the TLB must hold after {@code op}: {@code before} without what the SDM requires removed. */
    public static List<TlbEntry> expectedAfter(List<TlbEntry> before, Op op) {
        List<TlbEntry> kept = new ArrayList<>();
        for (TlbEntry e : before) {
            if (!mustRemove(op, e)) {
                kept.add(e);
            }
        }
        return kept;
    }

    /** Empty if {@code after} is what the SDM demands of {@code op} on {@code before}; otherwise the difference. */
    public static Optional<String> judge(List<TlbEntry> before, Op op, List<TlbEntry> after) {
        return difference(expectedAfter(before, op), before, op, after, "TLB entry");
    }

    private static <T> Optional<String> difference(List<T> expected, List<T> before, Op op, List<T> after,
            String what) {
        if (expected.equals(after)) {
            return Optional.empty();
        }
        List<String> problems = new ArrayList<>();
        for (T e : expected) {
            if (!after.contains(e)) {
                problems.add("removed, though the SDM does not require it: " + e);
            }
        }
        for (T e : after) {
            if (!expected.contains(e)) {
                problems.add(before.contains(e) ? "kept, though the SDM requires it gone: " + e
                        : "appeared without a fill: " + e);
            }
        }
        if (problems.isEmpty()) {
            problems.add("the order of the kept entries changed");
        }
        return Optional.of(op + " (" + what + "): " + String.join("; ", problems));
    }
}
