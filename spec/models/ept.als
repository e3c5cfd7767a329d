module ept

/*
 * EPT and the 2-D translation under HAP: a guest's own page tables map linear addresses to guest-physical frames
 * (GFNs), and the domain's EPT maps GFNs to machine frames; every guest paging-structure access is itself a
 * guest-physical access translated by the EPT. An EPT entry that denies the access is an EPT violation; one whose
 * permissions are write-without-read is an EPT misconfiguration.
 *
 * Sources: Intel SDM Vol. 3C §28.2.2 (EPT translation, also of guest paging-structure accesses), §28.2.3.1 (EPT
 * misconfiguration: bits 2:0 = 010b or 110b), §28.2.3.2 (EPT violation); Xen HAP-1, HAP-2 (p2m-ept.c,
 * guest_physmap_add_entry; docs/rules/xen.md HAP-1, HAP-2). Java: org.hybridv.ept.EptPageWalk,
 * EptMisconfigurations, org.hybridv.vmx.TwoDimensional, org.hybridv.invariants.Isolation (I1, HAP part).
 *
 * Abstractions: the EPT is one level (a GFN maps to at most one leaf); the guest's tables are arbitrary (any
 * guest page tables), given as the GFNs a walk of each linear address touches and the GFN it ends at.
 */
-- solver: minisat

open util/vocab

-- EPT permissions (SDM 28.2.2: bits 0 read, 1 write, 2 execute).
abstract sig EptPerm {}
one sig R, W, X extends EptPerm {}

-- A guest-physical frame number.
sig Gfn {}

-- An EPT leaf (Java org.hybridv.ept.EptEntry): permissions and the machine frame it maps.
sig EptEntry { perms: set EptPerm, mfn: one Frame }

-- The frame table's owner of each machine frame (Java FrameInfo.owner; a frame with no owner is Xen's or free).
one sig FrameTable { owner: Frame -> lone Domain }

-- Each HAP domain's EPT (HAP-1: built from its p2m) and its guest page tables, arbitrary.
sig Linear {}
sig HapDomain extends Domain {
  ept: Gfn -> lone EptEntry,
  tableGfns: Linear -> Gfn,   -- the guest paging structures a walk of each linear address reads (SDM 28.2.2)
  leafGfn: Linear -> lone Gfn -- the guest-physical page it maps
}

-- SDM 28.2.3.1: an entry with write but not read permission is misconfigured.
pred misconfigured[e: EptEntry] { W in e.perms and R not in e.perms }

-- SDM 28.2.2 / 28.2.3.2: a guest-physical access of kind k to g is translated when g has a present,
-- well-configured leaf granting k (paging-structure reads and data reads need R, writes W, fetches X).
fun needs: AccessKind -> EptPerm { Read -> R + Write -> W + Fetch -> X }
pred translated[d: HapDomain, g: Gfn, k: AccessKind] {
  some e: d.ept[g] | not misconfigured[e] and needs[k] in e.perms
}
pred violation[d: HapDomain, g: Gfn, k: AccessKind] { let e = d.ept[g] | no e or (not misconfigured[e] and needs[k] not in e.perms) }
pred misconfiguration[d: HapDomain, g: Gfn] { some e: d.ept[g] | misconfigured[e] }

-- The 2-D translation as a composition (SDM 28.2.2): the machine frames an access of kind k to x by a vCPU of d
-- touches — the frames of the guest's paging structures (read through the EPT) and, if every one of those reads
-- translates, the frame of the page.
fun reached[d: HapDomain, x: Linear, k: AccessKind]: set Frame {
  { f: Frame | some g: d.tableGfns[x] | translated[d, g, Read] and f = d.ept[g].mfn }
  + { f: Frame | (all g: d.tableGfns[x] | translated[d, g, Read])
        and some g: d.leafGfn[x] | translated[d, g, k] and f = d.ept[g].mfn }
}

-- HAP-2: every EPT leaf of d maps one of d's own frames.
pred eptLeavesOwned[d: HapDomain] { all e: Gfn.(d.ept) | FrameTable.owner[e.mfn] = d }

-- I1 for HAP (docs/invariants.md): if every EPT leaf of a domain targets its own frames, no guest access — through
-- any guest page tables — reaches another domain's (or Xen's) frame.
assert hapIsolation {
  all d: HapDomain, x: Linear, k: AccessKind | eptLeavesOwned[d] implies FrameTable.owner[reached[d, x, k]] in d
}
check hapIsolation for 3 but 2 Domain expect 0

-- ---- the p2m update that keeps HAP-2 (XENMEM_populate_physmap / guest_physmap_add_entry) -------------------------
-- add(d, g, e): d's EPT gains leaf e for g; HAP-2 requires e's frame to be d's (guest_physmap_add_entry checks the
-- owner). ept2 is the EPT afterwards.
pred physmapAdd[d: HapDomain, g: Gfn, e: EptEntry, ept2: Gfn -> lone EptEntry] {
  FrameTable.owner[e.mfn] = d          -- HAP-2
  ept2 = d.ept ++ g -> e
}
-- Seeded bug: the owner check skipped (a foreign frame added to the physmap).
pred physmapAddNoOwnerCheck[d: HapDomain, g: Gfn, e: EptEntry, ept2: Gfn -> lone EptEntry] { ept2 = d.ept ++ g -> e }

pred ownedLeaves[d: Domain, ept2: Gfn -> lone EptEntry] { all e: Gfn.ept2 | FrameTable.owner[e.mfn] = d }

assert physmapAddKeepsLeavesOwned {
  all d: HapDomain, g: Gfn, e: EptEntry, ept2: Gfn -> lone EptEntry |
    (eptLeavesOwned[d] and physmapAdd[d, g, e, ept2]) implies ownedLeaves[d, ept2]
}
check physmapAddKeepsLeavesOwned for 3 but 2 Domain expect 0

assert bugPhysmapAddNoOwnerCheckKeepsLeavesOwned {
  all d: HapDomain, g: Gfn, e: EptEntry, ept2: Gfn -> lone EptEntry |
    (eptLeavesOwned[d] and physmapAddNoOwnerCheck[d, g, e, ept2]) implies ownedLeaves[d, ept2]
}
check bugPhysmapAddNoOwnerCheckKeepsLeavesOwned for 3 but 2 Domain expect 1

-- Seeded bug on the invariant side: the isolation argument without HAP-2 (a leaf may map a foreign frame).
assert bugIsolationWithoutHap2 {
  all d: HapDomain, x: Linear, k: AccessKind | FrameTable.owner[reached[d, x, k]] in d
}
check bugIsolationWithoutHap2 for 3 but 2 Domain expect 1

-- Non-vacuity: a write reaches a page through two guest tables; a violation and a misconfiguration occur.
run twoDimensionalWrite {
  some d: HapDomain, x: Linear | eptLeavesOwned[d] and #d.tableGfns[x] = 2 and some (reached[d, x, Write] - d.ept[d.tableGfns[x]].mfn)
} for 3 but 2 Domain expect 1
run eptViolation { some d: HapDomain, x: Linear | violation[d, d.leafGfn[x], Write] and some d.leafGfn[x] } for 3 but 2 Domain expect 1
run eptMisconfiguration { some d: HapDomain, g: Gfn | misconfiguration[d, g] } for 3 but 2 Domain expect 1

-- ---- vacuity: each check's premise is satisfiable at the check's scope (docs/spec.md, "Vacuity") -------------
run hapIsolationPremise {
  some d: HapDomain, x: Linear, k: AccessKind | eptLeavesOwned[d] and some reached[d, x, k]
} for 3 but 2 Domain expect 1
run physmapAddKeepsLeavesOwnedPremise {
  some d: HapDomain, g: Gfn, e: EptEntry, ept2: Gfn -> lone EptEntry | eptLeavesOwned[d] and physmapAdd[d, g, e, ept2]
} for 3 but 2 Domain expect 1
run bugPhysmapAddNoOwnerCheckKeepsLeavesOwnedPremise {
  some d: HapDomain, g: Gfn, e: EptEntry, ept2: Gfn -> lone EptEntry |
    eptLeavesOwned[d] and physmapAddNoOwnerCheck[d, g, e, ept2]
} for 3 but 2 Domain expect 1
run bugIsolationWithoutHap2Premise { some d: HapDomain, x: Linear, k: AccessKind | some reached[d, x, k] }
  for 3 but 2 Domain expect 1

-- ---- the conformance enumeration (org.hybridv.spec.conformance.EptConformance) -------------------------------
-- One HAP domain and one GFN: no leaf, or a leaf with any permissions and either machine frame; for every access
-- kind, translated (to which frame) / violation / misconfiguration is compared with EptPageWalk.translate.
run eptTable { one HapDomain and EptEntry in Gfn.(HapDomain.ept) and no FrameTable.owner }
  for 2 but exactly 1 Gfn, 1 EptEntry, 1 Domain, 0 Linear expect 1
