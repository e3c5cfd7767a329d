package org.hybridv.x86;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The translation lookaside buffer and the paging-structure caches (Intel SDM Vol. 3A §4.10.2, §4.10.3), immutable:
 * each operation returns a new value.
 *
 * <p>With {@link TlbPolicy#ADVERSARIAL} it keeps every translation ({@link TlbEntry}) and every paging-structure-cache
 * entry ({@link PscEntry}: PML4-, PDPTE- and PDE-cache) filled since the last invalidation that covers it, and a
 * lookup that hits returns the cached, possibly stale, value. Lookup order, when more than one cached translation
 * could serve an address (SDM 4.10.2.3 lets the processor use any of them): the most recently filled. A walk that
 * misses the TLB starts from the deepest usable paging-structure-cache entry ({@link #lookupPsc}; §4.10.3.2 lets
 * the processor use any of them), so a stale upper-level entry is used even when no translation is cached.
 * {@link #evict} drops one entry, as the processor may at any time (§4.10.4.1: "The processor is always free to
 * invalidate additional entries in the TLBs and paging-structure caches."), for scenarios and generators that
 * need a leaf gone and its upper levels kept. With {@link TlbPolicy#NONE} nothing is cached at all.
 *
 * <p>Every invalidation removes TLB entries and paging-structure-cache entries each by the sentence of §4.10.4.1
 * (or Vol. 3C §28.3.3) that names them; the two scopes differ (INVLPG, for example, removes the translations of one
 * page but every paging-structure-cache entry of the current PCID).
 *
 * <p>Entries are kept in fill order (lists), so every listing is deterministic.
 */
public final class Tlb {
    private static final Tlb NONE = new Tlb(TlbPolicy.NONE, List.of(), List.of());
    private static final Tlb EMPTY_ADVERSARIAL = new Tlb(TlbPolicy.ADVERSARIAL, List.of(), List.of());

    private final TlbPolicy policy;
    private final List<TlbEntry> entries;
    private final List<PscEntry> psc;

    private Tlb(TlbPolicy policy, List<TlbEntry> entries, List<PscEntry> psc) {
        this.policy = policy;
        this.entries = entries;
        this.psc = psc;
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

    /** The paging-structure-cache entries (all three caches), oldest first. */
    public List<PscEntry> pscEntries() {
        return psc;
    }

    /** Whether no translation is cached (the paging-structure caches are not considered). */
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
        return new Tlb(policy, java.util.Collections.unmodifiableList(next), psc);
    }

    /**
     * The paging-structure-cache entry a walk for {@code linear} may start from in the context {@code tag} with
     * {@code pcid} current, or null. SDM 4.10.3.2: "If the processor does not find a TLB entry, it may use the upper
     * bits of the linear address to select an entry from the PDE cache"; without one, an entry from the PDPTE cache,
     * then from the PML4 cache. The
     * deterministic choice here: the deepest usable entry (PDE before PDPTE before PML4), the most recently filled
     * among entries of one level. Entries are used only under the PCID (and VPID, EP4TA) they were created with:
     * paging-structure-cache entries are never global.
     */
    public PscEntry lookupPsc(TlbTag tag, int pcid, long linear) {
        PscEntry best = null;
        for (int i = psc.size() - 1; i >= 0; i--) {
            PscEntry e = psc.get(i);
            if (e.usableIn(tag, pcid) && e.covers(linear)
                    && (best == null || e.level().ordinal() > best.level().ordinal())) {
                best = e;
            }
        }
        return best;
    }

    /**
     * The entry of the paging-structure cache for {@code level} (PML4, PDPT or PD) that the processor would use for
     * {@code linear} in the context {@code tag} with {@code pcid} current, or null: the most recently filled usable
     * one. For inspection and eviction of one cache; a walk uses {@link #lookupPsc(TlbTag, int, long)}.
     */
    public PscEntry lookupPsc(TlbTag tag, int pcid, long linear, Level level) {
        Checks.notNull("level", level);
        for (int i = psc.size() - 1; i >= 0; i--) {
            PscEntry e = psc.get(i);
            if (e.level() == level && e.usableIn(tag, pcid) && e.covers(linear)) {
                return e;
            }
        }
        return null;
    }

    /**
     * This TLB after creating the paging-structure-cache entry {@code entry} (SDM 4.10.3.1); an entry of the same
     * cache for the same linear-address bits in the same context is replaced (the walk that created it read the
     * current entry). With {@link TlbPolicy#NONE} nothing is cached.
     */
    public Tlb fillPsc(PscEntry entry) {
        Checks.notNull("paging-structure-cache entry", entry);
        return fillPsc(List.of(entry));
    }

    /**
     * This TLB after creating each of {@code created} in order ({@link #fillPsc(PscEntry)} for each): the entries a
     * walk creates, which are for different caches (one per level), filled with one copy of the caches.
     */
    public Tlb fillPsc(List<PscEntry> created) {
        Checks.notNull("paging-structure-cache entries", created);
        if (policy == TlbPolicy.NONE || created.isEmpty()) {
            return this;
        }
        List<PscEntry> next = new ArrayList<>(psc.size() + created.size());
        for (PscEntry e : psc) {
            if (!replacedByAny(e, created)) {
                next.add(e);
            }
        }
        for (int i = 0; i < created.size(); i++) {
            PscEntry c = created.get(i);
            if (!replacedByAny(c, created.subList(i + 1, created.size()))) {
                next.add(c);
            }
        }
        return new Tlb(policy, entries, java.util.Collections.unmodifiableList(next));
    }

    /** Whether one of {@code later} is for the same cache, linear-address bits and context as {@code e}. */
    private static boolean replacedByAny(PscEntry e, List<PscEntry> later) {
        for (PscEntry n : later) {
            if (e.tag().equals(n.tag()) && e.pcid() == n.pcid() && e.level() == n.level()
                    && e.linearBase() == n.linearBase()) {
                return true;
            }
        }
        return false;
    }

    /**
     * INVLPG (SDM 4.10.4.1): "The instruction invalidates any TLB entries that are for a page number corresponding
     * to the linear address and that are associated with the current PCID. It also invalidates any global TLB entries
     * with that page number, regardless of PCID." and "INVLPG also invalidates all entries in all paging-structure
     * caches associated with the current PCID, regardless of the linear addresses to which they correspond." In VMX
     * non-root operation the instruction does so "only for the current VPID (but, for combined mappings, all
     * EP4TAs)" (SDM Vol. 3C §28.3.3.1), so the scope is a VPID.
     */
    public Tlb invalidatePage(int vpid, int currentPcid, long linear) {
        return remove(e -> e.tag().vpid() == vpid && e.covers(linear) && (e.global() || e.pcid() == currentPcid),
                // all paging-structure-cache entries of the current PCID, whatever their linear addresses
                p -> p.tag().vpid() == vpid && p.pcid() == currentPcid);
    }

    /**
     * The invalidation a page fault makes for its linear address (SDM Vol. 3A §4.10.4.1, the paragraph after the
     * list of instructions): "any TLB entries that are for a page number corresponding to that linear address and that
     * are associated with the current PCID" — global or not — and "all entries in the paging-structure caches that
     * would be used for that linear address and that are associated with the current PCID". A global entry cached
     * under another PCID is not named, so the adversarial TLB keeps it (unlike INVLPG, whose sentence names "any
     * global TLB entries … regardless of PCID"): if it produced the fault, the fault recurs until software invalidates
     * it, which is what the SDM lets a processor do. Page faults invalidate "independent of VMX operation", so in
     * non-root operation the scope is the current VPID, all EP4TAs (SDM Vol. 3C §28.3.3.1).
     * The decision is recorded in docs/paging.md ("Choices where the SDM leaves room").
     */
    public Tlb invalidateOnPageFault(int vpid, int currentPcid, long linear) {
        return invalidateWhere(e -> e.tag().vpid() == vpid && e.covers(linear) && e.pcid() == currentPcid);
    }

    /**
     * MOV to CR3 (SDM 4.10.4.1): invalidates the TLB entries associated with {@code pcid} "except those for global
     * pages", and "all entries in all paging-structure caches associated with" that PCID, for the current VPID (all
     * EP4TAs, SDM Vol. 3C §28.3.3.1).
     */
    public Tlb invalidateNonGlobal(int vpid, int pcid) {
        return remove(e -> e.tag().vpid() == vpid && !e.global() && e.pcid() == pcid,
                p -> p.tag().vpid() == vpid && p.pcid() == pcid);
    }

    /**
     * MOV to CR4 changing CR4.PAE, or changing CR4.SMEP from 0 to 1 (Intel SDM Vol. 3A §4.10.4.1): "all TLB entries
     * and all entries in all paging-structure caches for the current PCID". The SDM's sentence for this case names
     * "all TLB entries" of the current PCID, with no exception for global pages (contrast MOV to CR3, whose sentence
     * excepts them), and a global entry is associated with the PCID that was current when it was cached
     * (§4.10.2.4). Global entries cached under other PCIDs are not named and stay. Scoped to the current VPID, all
     * EP4TAs (SDM Vol. 3C §28.3.3.1).
     */
    public Tlb invalidatePcid(int vpid, int pcid) {
        return invalidateWhere(e -> e.tag().vpid() == vpid && e.pcid() == pcid);
    }

    /**
     * The combined mappings for {@code linear} that are associated with {@code pcid} and with exactly the VPID and
     * EP4TA of {@code tag}: what an EPT violation on the translation of a linear address invalidates (Intel SDM
     * Vol. 3C §28.3.3.1: "any combined mappings for that linear address associated with the current PCID, the current
     * VPID and the current EP4TA"). Combined mappings include combined paging-structure-cache entries (§28.3.1), so
     * the PSC entries that would be used for the address go too. Unlike INVLPG, the scope is one EP4TA, and a global
     * entry goes only if it was cached under {@code pcid} (that is the PCID it is associated with, §4.10.2.4 of
     * Vol. 3A).
     */
    public Tlb invalidateCombined(TlbTag tag, int pcid, long linear) {
        Checks.notNull("TLB tag", tag);
        return invalidateWhere(e -> e.tag().equals(tag) && e.pcid() == pcid && e.covers(linear));
    }

    /**
     * Every entry of the VPID, global ones included, for all PCIDs and EP4TAs, TLB and paging-structure caches alike
     * (SDM 4.10.4.1: "all TLB entries (including global entries) and all entries in all paging-structure caches (for
     * all PCIDs)" on a CR4.PGE change, CR4.PCIDE 1 → 0, CR0.PG 1 → 0; INVPCID type 2; scoped to the current VPID by
     * SDM Vol. 3C §28.3.3.1).
     */
    public Tlb invalidateVpid(int vpid) {
        return invalidateWhere(e -> e.tag().vpid() == vpid);
    }

    /**
     * INVPCID type 0, individual-address invalidation. SDM Vol. 2A INVPCID: "the logical processor invalidates
     * mappings—except global translations—for the linear address and PCID specified in the INVPCID descriptor"; SDM
     * Vol. 3A §4.10.4.1 adds for the paging-structure caches that it "also invalidates all entries in all
     * paging-structure caches associated with the PCID specified in the INVPCID descriptor (regardless of the linear
     * addresses to which they correspond)". The instruction "may invalidate global translations or mappings for other
     * linear addresses (or other PCIDs) as well": the adversarial TLB does not. Current VPID, all EP4TAs (SDM Vol. 3C
     * §28.3.3.1).
     */
    public Tlb invalidateIndividualAddress(int vpid, int pcid, long linear) {
        return remove(e -> e.tag().vpid() == vpid && e.pcid() == pcid && e.covers(linear) && !e.global(),
                p -> p.tag().vpid() == vpid && p.pcid() == pcid);
    }

    /**
     * INVPCID type 1, single-context invalidation. SDM Vol. 2A INVPCID: "the logical processor invalidates all
     * mappings—except global translations—associated with the PCID specified in the INVPCID descriptor";
     * paging-structure-cache entries are mappings and never global translations, so every one of the PCID goes
     * (§4.10.4.1: "all entries in all paging-structure caches associated with the PCID"). Current VPID, all EP4TAs.
     */
    public Tlb invalidateSingleContext(int vpid, int pcid) {
        return remove(e -> e.tag().vpid() == vpid && e.pcid() == pcid && !e.global(),
                p -> p.tag().vpid() == vpid && p.pcid() == pcid);
    }

    /**
     * INVPCID type 3, all-context invalidation. SDM Vol. 2A INVPCID: "the logical processor invalidates all
     * mappings—except global translations—associated with any PCID". Global translations are TLB entries only, so
     * every paging-structure-cache entry goes. Current VPID, all EP4TAs. (Type 2, "all mappings—including global
     * translations—associated with any PCID", is {@link #invalidateVpid}.)
     */
    public Tlb invalidateAllContextExceptGlobals(int vpid) {
        return remove(e -> e.tag().vpid() == vpid && !e.global(), p -> p.tag().vpid() == vpid);
    }

    /**
     * This TLB without {@code entry}, a TLB or paging-structure-cache entry, if it holds it: an eviction, which the
     * SDM allows at any time (Intel SDM Vol. 3A §4.10.4.1: "The processor is always free to invalidate additional
     * entries in the TLBs and paging-structure caches."). Nothing else changes. Maximal retention stays the default:
     * only an explicit eviction drops an entry no invalidation requires gone.
     */
    public Tlb evict(CachedMapping entry) {
        Checks.notNull("entry", entry);
        return invalidateWhere(e -> e.equals(entry));
    }

    /**
     * This TLB without the entries {@code doomed} selects, TLB and paging-structure-cache entries alike: the
     * primitive the VMX layer builds INVVPID, INVEPT and the VM-transition flushes from (each with its own SDM
     * citation there; Vol. 3C §28.3.1 makes paging-structure-cache entries "mappings" like translations).
     */
    public Tlb invalidateWhere(Predicate<? super CachedMapping> doomed) {
        Checks.notNull("predicate", doomed);
        return remove(doomed::test, doomed::test);
    }

    private Tlb remove(Predicate<TlbEntry> doomedTranslation, Predicate<PscEntry> doomedPsc) {
        List<TlbEntry> next = new ArrayList<>(entries.size());
        for (TlbEntry e : entries) {
            if (!doomedTranslation.test(e)) {
                next.add(e);
            }
        }
        List<PscEntry> nextPsc = new ArrayList<>(psc.size());
        for (PscEntry e : psc) {
            if (!doomedPsc.test(e)) {
                nextPsc.add(e);
            }
        }
        if (next.size() == entries.size() && nextPsc.size() == psc.size()) {
            return this;
        }
        return new Tlb(policy, List.copyOf(next), List.copyOf(nextPsc));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tlb t && t.policy == policy && t.entries.equals(entries) && t.psc.equals(psc);
    }

    @Override
    public int hashCode() {
        return (policy.hashCode() * 31 + entries.hashCode()) * 31 + psc.hashCode();
    }

    @Override
    public String toString() {
        return "Tlb[" + policy + ", " + entries.size() + " entries, " + psc.size() + " paging-structure-cache entries]";
    }
}
