package org.hybridv.x86;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The translation lookaside buffer (Intel SDM Vol. 3A §4.10), immutable: each operation returns a new TLB.
 *
 * <p>With {@link TlbPolicy#ADVERSARIAL} it keeps every translation filled since the last invalidation that covers it,
 * and a lookup that hits returns the cached, possibly stale, translation. Lookup order, when more than one cached
 * translation could serve an address (SDM 4.10.2.3 lets the processor use any of them): the most recently filled.
 * The paging-structure caches (PML4-, PDPTE- and PDE-caches, §4.10.3) are not modelled; a stale upper-level entry is
 * therefore never used on its own, only through a stale TLB entry.
 *
 * <p>Entries are kept in fill order (a list), so every listing is deterministic.
 */
public final class Tlb {
    private static final Tlb NONE = new Tlb(TlbPolicy.NONE, List.of());
    private static final Tlb EMPTY_ADVERSARIAL = new Tlb(TlbPolicy.ADVERSARIAL, List.of());

    private final TlbPolicy policy;
    private final List<TlbEntry> entries;

    private Tlb(TlbPolicy policy, List<TlbEntry> entries) {
        this.policy = policy;
        this.entries = entries;
    }

    /** An empty TLB with the given policy. */
    public static Tlb empty(TlbPolicy policy) {
        return Checks.notNull("TLB policy", policy) == TlbPolicy.NONE ? NONE : EMPTY_ADVERSARIAL;
    }

    public TlbPolicy policy() {
        return policy;
    }

    /** The cached translations, oldest first. */
    public List<TlbEntry> entries() {
        return entries;
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /**
     * The translation the processor would use for {@code linear} in the context {@code tag} with {@code pcid} current,
     * or null (a miss).
     */
    public TlbEntry lookup(TlbTag tag, int pcid, long linear) {
        for (int i = entries.size() - 1; i >= 0; i--) {
            TlbEntry e = entries.get(i);
            if (e.covers(linear) && e.usableIn(tag, pcid)) {
                return e;
            }
        }
        return null;
    }

    /** {@link #lookup(TlbTag, int, long)} outside VMX ({@link TlbTag#NATIVE}). */
    public TlbEntry lookup(int pcid, long linear) {
        return lookup(TlbTag.NATIVE, pcid, linear);
    }

    /**
     * This TLB after caching {@code entry}. Entries that a lookup of the same page in the same context would have
     * found are replaced (the fill followed a walk, so they are superseded). With {@link TlbPolicy#NONE} nothing is
     * cached.
     */
    public Tlb fill(TlbEntry entry) {
        Checks.notNull("TLB entry", entry);
        if (policy == TlbPolicy.NONE) {
            return this;
        }
        List<TlbEntry> next = new ArrayList<>(entries.size() + 1);
        for (TlbEntry e : entries) {
            if (!(e.usableIn(entry.tag(), entry.pcid()) && e.covers(entry.linearBase()))) {
                next.add(e);
            }
        }
        next.add(entry);
        return new Tlb(policy, List.copyOf(next));
    }

    /**
     * INVLPG (SDM 4.10.4.1): removes the entries for the page of {@code linear} that are associated with the current
     * PCID, and the global entries for that page whatever PCID they were cached under. In VMX non-root operation
     * the instruction has to do so "only for the current VPID (but, for combined mappings, all EP4TAs)" (SDM Vol. 3C
     * §28.3.3.1), so the scope is a VPID.
     */
    public Tlb invalidatePage(int vpid, int currentPcid, long linear) {
        return invalidateWhere(e -> e.tag().vpid() == vpid && e.covers(linear)
                && (e.global() || e.pcid() == currentPcid));
    }

    /**
     * The invalidation a page fault makes for its linear address (SDM Vol. 3A §4.10.4.1, the paragraph after the
     * list of instructions): "any TLB entries that are for a page number corresponding to that linear address and that
     * are associated with the current PCID" — global or not. A global entry cached under another PCID is not named, so
     * the adversarial TLB keeps it (unlike INVLPG, whose sentence names "any global TLB entries … regardless of PCID"):
     * if it produced the fault, the fault recurs until software invalidates it, which is what the SDM lets a processor
     * do. Page faults invalidate "independent of VMX operation", so in non-root operation the scope is the current
     * VPID, all EP4TAs (SDM Vol. 3C §28.3.3.1).
     * The decision is recorded in docs/paging.md ("Choices where the SDM leaves room").
     */
    public Tlb invalidateOnPageFault(int vpid, int currentPcid, long linear) {
        return invalidateWhere(e -> e.tag().vpid() == vpid && e.covers(linear) && e.pcid() == currentPcid);
    }

    /**
     * MOV to CR3 (SDM 4.10.4.1): invalidates the TLB entries associated with {@code pcid} "except those for global
     * pages", for the current VPID (all EP4TAs, SDM Vol. 3C §28.3.3.1).
     */
    public Tlb invalidateNonGlobal(int vpid, int pcid) {
        return invalidateWhere(e -> e.tag().vpid() == vpid && !e.global() && e.pcid() == pcid);
    }

    /**
     * MOV to CR4 changing CR4.PAE, or changing CR4.SMEP from 0 to 1 (Intel SDM Vol. 3A §4.10.4.1): every TLB entry
     * associated with {@code pcid}, global entries included. The SDM's sentence for this case names "all TLB entries"
     * of the current PCID, with no exception for global pages (contrast MOV to CR3, whose sentence excepts them), and
     * a global entry is associated with the PCID that was current when it was cached (§4.10.2.4). Global entries
     * cached under other PCIDs are not named and stay. Scoped to the current VPID, all EP4TAs (SDM Vol. 3C §28.3.3.1).
     */
    public Tlb invalidatePcid(int vpid, int pcid) {
        return invalidateWhere(e -> e.tag().vpid() == vpid && e.pcid() == pcid);
    }

    /**
     * The combined mappings for the page of {@code linear} that are associated with {@code pcid} and with exactly the
     * VPID and EP4TA of {@code tag}: what an EPT violation on the translation of a linear address invalidates (Intel
     * SDM Vol. 3C §28.3.3.1). Unlike INVLPG, the scope is one EP4TA, and a global entry goes only if it was cached
     * under {@code pcid} (that is the PCID it is associated with, §4.10.2.4 of Vol. 3A).
     */
    public Tlb invalidateCombined(TlbTag tag, int pcid, long linear) {
        Checks.notNull("TLB tag", tag);
        return invalidateWhere(e -> e.tag().equals(tag) && e.pcid() == pcid && e.covers(linear));
    }

    /**
     * Every entry of the VPID, global ones included, for all PCIDs and EP4TAs (SDM 4.10.4.1: CR4.PGE change, CR4.PCIDE
     * 1 → 0, CR0.PG 1 → 0; scoped to the current VPID by SDM Vol. 3C §28.3.3.1).
     */
    public Tlb invalidateVpid(int vpid) {
        return invalidateWhere(e -> e.tag().vpid() == vpid);
    }

    /**
     * This TLB without the entries {@code doomed} selects: the primitive the VMX layer builds INVVPID, INVEPT and the
     * VM-transition flushes from (each with its own SDM citation there).
     */
    public Tlb invalidateWhere(Predicate<TlbEntry> doomed) {
        Checks.notNull("predicate", doomed);
        return remove(doomed);
    }

    private Tlb remove(Predicate<TlbEntry> doomed) {
        List<TlbEntry> next = new ArrayList<>(entries.size());
        for (TlbEntry e : entries) {
            if (!doomed.test(e)) {
                next.add(e);
            }
        }
        return next.size() == entries.size() ? this : new Tlb(policy, List.copyOf(next));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tlb t && t.policy == policy && t.entries.equals(entries);
    }

    @Override
    public int hashCode() {
        return policy.hashCode() * 31 + entries.hashCode();
    }

    @Override
    public String toString() {
        return "Tlb[" + policy + ", " + entries.size() + " entries]";
    }
}
