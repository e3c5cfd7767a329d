module xen/entry_validation

/*
 * The direct-paging entry rules of xen/entry_rules checked on frame-table snapshots: an L1 update (mod_l1_entry with
 * its fast path) of a validated L1 table, the rules refusing and accepting, TYP-1 as a consequence, and the shape of
 * XSA-182 as a seeded bug. The run l1UpdateTable is the conformance enumeration replayed through the Java reference.
 *
 * Sources: as xen/entry_rules (docs/rules/xen.md L1-1..3, TYP-1, TYP-2, TYP-4, MU-3, SP-3; XSA-148, XSA-182).
 * Java: org.hybridv.xen.PageTypes.getPageFromL1e, DirectPaging.modL1Entry.
 */
-- solver: minisat

open util/vocab
open xen/entry_rules

-- ---- a snapshot, for the conformance enumeration and the non-vacuity runs ------------------------------------
-- The snapshot's consistency is the frame table's (TYP-1/TYP-4): a frame in use as a page table is validated;
-- unused frames may keep any type (Java keeps the old type with count 0, PageTypes class comment).
one sig Snapshot {
  owner: Frame -> lone Domain,
  type: Frame -> one PageType,
  inUse: set Frame,
  l1: one Frame,          -- the L1 table being updated (in use as a validated L1 of d)
  d: one Domain,
  old: lone Entry,        -- its current entry at the slot updated
  nu: lone Entry          -- the new entry
}
fact snapshotConsistent {
  let s = Snapshot {
    s.type[s.inUse] in Writable + PageTables
    s.l1 in s.inUse and s.type[s.l1] = L1 and s.owner[s.l1] = s.d
    -- the old entry was accepted when it was stored (TYP-4): a writable old mapping holds a WRITABLE reference
    some s.old implies (l1FlagsOk[s.old] and s.owner[s.old.target] = s.d
      and (RW in s.old.flags implies (s.old.target in s.inUse and s.type[s.old.target] = Writable)))
  }
}

-- The conformance enumeration (org.hybridv.spec.conformance.EntryConformance): snapshots of 2 frames and 2 domains
-- with an old and a new entry (L3/L4 types behave as L2 for the L1 rules and are left out); both verdicts are
-- compared with the Java reference.
run l1UpdateTable { no LnUpdate and Snapshot.type[Frame] in None + Writable + L1 + L2 }
  for exactly 2 Frame, exactly 2 Domain, 2 Entry expect 1

-- ---- an L2..L4 entry (get_page_from_lNe), for the conformance enumeration --------------------------------------
-- A present entry nu for slot 0 of table, a frame in use as an L2, L3 or L4 of the snapshot's domain.
lone sig LnUpdate { table: one Frame, nu: one Entry }
fact lnUpdateConsistent {
  all u: LnUpdate | u.table in Snapshot.inUse and Snapshot.type[u.table] in L2 + L3 + L4
    and Snapshot.owner[u.table] = Snapshot.d
}
-- The conformance enumeration (org.hybridv.spec.conformance.LnEntryConformance): every entry rule of
-- getPageFromLne on snapshots of 3 frames and 2 domains (unused frames of type None), compared with
-- PageTypes.getPageFromLne. Two cases where
-- xen/entry_rules abstracts from Xen are left out: a read-only entry naming a table of the same level (a linear
-- page table, LIN-*, which Xen accepts) and an entry naming an unused frame of the domain (which Xen promotes to
-- the child type on the way, TYP-3; the rules require the child validated first).
run lnUpdateTable {
  some u: LnUpdate | let s = Snapshot, t = s.type[u.table], f = u.nu.target {
    not (RW not in u.nu.flags and f in s.inUse and s.type[f] = t)
    not (f not in s.inUse and s.owner[f] = s.d and PS not in u.nu.flags)
    no s.old + s.nu and s.type[Frame - s.inUse] = None   -- neither matters to the rule
  }
} for exactly 3 Frame, exactly 2 Domain, 1 Entry expect 1

-- Non-vacuity: each rule refuses something and an update is accepted.
run refusedByL1_2 { let s = Snapshot | some s.nu and l1FlagsOk[s.nu] and s.owner[s.nu.target] != s.d } for 2 expect 1
run refusedByL1_3 { let s = Snapshot | some s.nu and RW in s.nu.flags and not getPageFromL1e[s.owner, s.type, s.inUse, s.d, s.nu] and s.owner[s.nu.target] = s.d and l1FlagsOk[s.nu] } for 2 expect 1
run acceptedWritable { let s = Snapshot | some s.nu and RW in s.nu.flags and modL1Entry[s.owner, s.type, s.inUse, s.d, s.old, s.nu] } for 2 expect 1

-- TYP-1 through the rules: an accepted writable L1 entry never maps a frame in use as a page table.
assert acceptedWritableMappingIsNeverAPageTable {
  let s = Snapshot | (some s.nu and RW in s.nu.flags and modL1Entry[s.owner, s.type, s.inUse, s.d, s.old, s.nu])
    implies not (s.nu.target in s.inUse and s.type[s.nu.target] in PageTables)
}
check acceptedWritableMappingIsNeverAPageTable for 3 but 4 Entry expect 0

-- Seeded bug (XSA-182 shape): a fast path whitelisting RW: a read-only mapping of a page table made writable
-- without revalidation.
pred fastPathWithRw[old: lone Entry, nu: Entry] {
  some old and old.target = nu.target and (old.flags - USER - RW) = (nu.flags - USER - RW)
}
assert bugFastPathWithRwNeverMapsAPageTableWritable {
  let s = Snapshot | (some s.nu and RW in s.nu.flags and l1FlagsOk[s.nu]
      and (fastPathWithRw[s.old, s.nu] or getPageFromL1e[s.owner, s.type, s.inUse, s.d, s.nu]))
    implies not (s.nu.target in s.inUse and s.type[s.nu.target] in PageTables)
}
check bugFastPathWithRwNeverMapsAPageTableWritable for 3 but 4 Entry expect 1

-- ---- vacuity: each check's premise is satisfiable at the check's scope (docs/spec.md, "Vacuity") -------------
run acceptedWritableMappingIsNeverAPageTablePremise {
  let s = Snapshot | some s.nu and RW in s.nu.flags and modL1Entry[s.owner, s.type, s.inUse, s.d, s.old, s.nu]
} for 3 but 4 Entry expect 1
run bugFastPathWithRwNeverMapsAPageTableWritablePremise {
  let s = Snapshot | some s.nu and RW in s.nu.flags and l1FlagsOk[s.nu]
    and (fastPathWithRw[s.old, s.nu] or getPageFromL1e[s.owner, s.type, s.inUse, s.d, s.nu])
} for 3 but 4 Entry expect 1
