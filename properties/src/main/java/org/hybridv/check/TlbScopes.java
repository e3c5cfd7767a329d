package org.hybridv.check;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.hybridv.ept.InveptType;
import org.hybridv.gen.TlbScopeCase;
import org.hybridv.gen.TlbScopeCase.Op;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbTag;

/**
 * The scope of every TLB invalidation, restated from the SDM independently of the reference: predicates over the
 * fields of a {@link TlbEntry} (its VPID and EP4TA, PCID, global flag, page), never the reference's {@code Tlb}
 * methods. With an adversarial TLB, which keeps whatever the SDM does not require to be removed, the TLB after an
 * operation must be exactly the one before it without the entries {@link #mustRemove} selects, in the same order.
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
        TlbScopeCase.EptViolation o = (TlbScopeCase.EptViolation) op;
        boolean violation = o.translatedAccess() && e.tag().vpid() == o.tag().vpid()
                && e.tag().ep4ta() == o.tag().ep4ta() && e.pcid() == 0 && onPage(e, o.linear());
        return violation || (!o.vpidEnabled() && ofVpid(e, 0));
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
        List<TlbEntry> expected = expectedAfter(before, op);
        if (expected.equals(after)) {
            return Optional.empty();
        }
        List<String> problems = new ArrayList<>();
        for (TlbEntry e : expected) {
            if (!after.contains(e)) {
                problems.add("removed, though the SDM does not require it: " + e);
            }
        }
        for (TlbEntry e : after) {
            if (!expected.contains(e)) {
                problems.add(before.contains(e) ? "kept, though the SDM requires it gone: " + e
                        : "appeared without a fill: " + e);
            }
        }
        if (problems.isEmpty()) {
            problems.add("the order of the kept entries changed");
        }
        return Optional.of(op + ": " + String.join("; ", problems));
    }
}
