module xen/entry_rules

/*
 * Xen's direct-paging entry rules over one frame-table snapshot: when a present entry may be stored in a page table
 * of type L1..L4 of domain d, and the L1 update with its fast path. Static (no time), no commands: xen/direct_paging applies
 * these rules to its mutable state, xen/entry_validation checks them on frame-table snapshots (and the conformance
 * check replays those snapshots through the Java reference).
 *
 * Sources: Xen mm.c get_page_from_l1e (L1-1, L1-2, L1-3), get_page_from_l2e/l3e/l4e (LN-1, LN-2, LN-3, SP-1),
 * _get_page_type (TYP-1, TYP-2), mod_l1_entry and its fast path (MU-3, SP-3), as recorded in
 * docs/rules/xen.md (TYP-, L1-, LN-, SP-, MU-). Java: org.hybridv.xen.PageTypes.getPageFromL1e,
 * getPageFromLne, DirectPaging.modL1Entry, EntryRules.
 *
 * Abstractions: the entry flags are RW, US and PS (PS is PAT in an L1 entry, disallowed there by L1-1, and SP-1 in
 * an L2/L3 entry); the other disallowed flags behave like PS; every frame is RAM (L1-4 not modelled); linear page
 * tables (LIN-*) are not modelled, so a same-level entry is refused by LN-2; a type count is "in use or not".
 */
open util/vocab

-- The entry flags modelled (Java EntryRules.RW, US, PSE).
abstract sig Flag {}
one sig RW, USER, PS extends Flag {}

-- A present page-table entry, as a value.
sig Entry { flags: set Flag, target: one Frame }

-- The frame table (owner, type, the frames whose type count is > 0 — "in use", the validated frames) is passed as
-- parameters, so that direct_paging can apply the rules to its mutable state.

-- L1-1: no disallowed flag (PAT/PS stands for L1_DISALLOW_MASK).
pred l1FlagsOk[e: Entry] { PS not in e.flags }

-- get_page_from_l1e(e, l1e_owner = pg_owner = d): L1-1, L1-2 (the frame is d's), L1-3 with TYP-1/TYP-2 (a
-- writable mapping takes a WRITABLE type reference: the frame is unused, or already WRITABLE).
pred getPageFromL1e[owner: Frame -> lone Domain, type: Frame -> one PageType, inUse: set Frame, d: Domain, e: Entry] {
  l1FlagsOk[e]                                                         -- L1-1
  owner[e.target] = d                                                  -- L1-2
  RW in e.flags implies (e.target not in inUse or type[e.target] = Writable)   -- L1-3, TYP-1
}

-- get_page_from_lNe for a table of type t (L2..L4) of d: LN-1/SP-1 (no PS), LN-3 (the frame is d's), LN-2 (the
-- frame is in use, validated, as the child type; promotion of an unused child on the way is not modelled).
pred getPageFromLne[owner: Frame -> lone Domain, type: Frame -> one PageType, validated: set Frame, d: Domain,
    t: PageType, e: Entry] {
  PS not in e.flags                                                    -- LN-1, SP-1
  owner[e.target] = d                                                  -- LN-3
  e.target in validated and type[e.target] = child[t]                  -- LN-2
}

-- MU-3 / SP-3 fast path (mod_l1_entry, lNe_has_changed): a present new entry that differs from the old one only in
-- whitelisted flags (here: U/S) is stored without revalidation. RW and PS are never whitelisted (XSA-148, XSA-182).
pred fastPath[old: lone Entry, nu: Entry] {
  some old and old.target = nu.target and (old.flags - USER) = (nu.flags - USER)
}

-- mod_l1_entry (Java DirectPaging.modL1Entry): a not-present new entry is always stored; a present one with a
-- disallowed flag is refused before the fast path; then the fast path, else get_page_from_l1e.
pred modL1Entry[owner: Frame -> lone Domain, type: Frame -> one PageType, inUse: set Frame, d: Domain,
    old: lone Entry, nu: lone Entry] {
  some nu implies (l1FlagsOk[nu] and (fastPath[old, nu] or getPageFromL1e[owner, type, inUse, d, nu]))
}

