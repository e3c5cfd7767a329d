package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.Tree.*;

import org.hybridv.x86.Entry;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Re-enactments of advisories against the fast path: the correct code refuses. */
class XsaTest {

    @Test
    @DisplayName("XSA-148 (SP-3/MU-3): setting PSE on a present L2 entry is not a fast-path change; it is refused (SP-1)")
    void xsa148PseNeverOnTheFastPath() {
        DirectPagingState s = running();
        Entry old = s.entry(L2, 0);
        Entry superpage = old.withPageSize(true);
        // Same frame, one flag more: exactly the shape XSA-148's fast path let through.
        assertThat(EntryRules.takesFastPath(PageType.L2, old, superpage)).isFalse();
        refused(update(s, L2, 0, superpage), Errno.EINVAL, "SP-1", s);
        // The L1 analogue (PAT, the same bit) and an RW change are not fast-path changes either.
        Entry pte = s.entry(L1, 6);
        assertThat(EntryRules.takesFastPath(PageType.L1, pte, pte.with(7, true))).isFalse();
        assertThat(EntryRules.takesFastPath(PageType.L1, pte, pte.withWritable(true))).isFalse();
        // Whitelisted flags (A, D, G, NX, US, AVAIL) do take it.
        assertThat(EntryRules.takesFastPath(PageType.L1, pte, pte.withAccessed(true).withGlobal(true))).isTrue();
    }

    @Test
    @DisplayName("XSA-182 (LIN-6): RW on a read-only linear L4 entry must not take the fast path; it is refused (LIN-1)")
    void xsa182RwOnLinearEntryRevalidated() {
        DirectPagingState s = success(update(running(), L4, 1, ro(L4)));
        Entry old = s.entry(L4, 1);
        Entry writable = old.withWritable(true);
        assertThat(EntryRules.takesFastPath(PageType.L4, old, writable)).isFalse();
        refused(update(s, L4, 1, writable), Errno.EINVAL, "LIN-1", s);
        // The same for an L2 linear entry to another L2.
        DirectPagingState t = success(op(s, Hypercalls.MMUEXT_PIN_L2_TABLE, SPARE));
        t = success(update(t, L2, 1, ro(SPARE)));
        refused(update(t, L2, 1, rw(SPARE)), Errno.EINVAL, "LIN-1", t);
        // An A-bit change on the linear entry does take the fast path and changes no count.
        DirectPagingState u = success(update(s, L4, 1, old.withAccessed(true)));
        assertThat(u.frames()).isEqualTo(s.frames());
    }

    @Test
    @DisplayName("LIN-6: an RW change on a non-linear L3 entry takes the full path and keeps the counts")
    void rwChangeOnOrdinaryEntryRevalidates() {
        DirectPagingState s = running();
        DirectPagingState t = success(update(s, L3, 0, ro(L2)));
        assertThat(t.frames()).isEqualTo(s.frames());
        assertThat(t.entry(L3, 0)).isEqualTo(ro(L2));
    }
}
