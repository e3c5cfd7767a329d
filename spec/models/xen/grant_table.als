module xen/grant_table

/*
 * Grant tables (v1): a domain offers one of its frames to another by filling an entry of its own grant table; the
 * other maps the grant into its page tables (GNTTABOP_map_grant_ref), uses it, and unmaps it
 * (GNTTABOP_unmap_grant_ref); the granter ends the grant only once nobody maps it. What has to hold is isolation: a
 * domain reaches a frame it does not own only through a PTE or a cached translation backed by an active grant of the
 * owner to it, with no more than the granted access — and nothing of a mapping survives its unmap, on any CPU.
 *
 * Sources: docs/rules/xen.md GNT-1 (the entry: permit-access, read-only, the grantee, the frame; the guest's own
 * store), GNT-2 (map: only an entry permitting the caller, writable only if the grant is not read-only, only a frame
 * the granter owns, at an empty slot; a map handle), GNT-3 (a reference on the frame, a WRITABLE type reference when
 * writable), GNT-5 (unmap: the PTE cleared, the references dropped, the mapper's TLBs flushed on every CPU, TLB-9),
 * GNT-7 (the granter ends a grant only when it is unmapped); I1's grant clause, I11. Java: org.hybridv.xen.GrantTables
 * (guestGrant, mapGrantRef, unmapGrantRef), GrantMapping; the checks in org.hybridv.invariants.Isolation
 * (notOwnedNorGranted) and PvInvariants.grants.
 *
 * Abstractions: a map handle also names the PTE slot the mapping was made at (Java: the handle's host_addr); the
 * mapper's page tables are reduced to those grant PTEs, its own frames' mappings are not modelled (they are
 * isolated by the rules of xen/direct_paging). Frames are plain data (a page-table frame cannot take the WRITABLE
 * reference of a writable mapping: GNT-3, checked in xen/direct_paging's terms, not here). A TLB entry is a cached
 * translation of a domain to a frame on a CPU, writable when the PTE it was filled from is (the A and D bits are set
 * by the map, so a read caches the write right too). The unmap flushes every TLB entry of the mapping domain on every
 * CPU (Xen's flush_tlb_mask of the domain's dirty CPU mask), a superset of the mapping's own entries.
 */
-- solver: sat4j

abstract sig Mode {}
one sig RO, RW extends Mode {}                -- a mapping's access (GNTMAP_readonly or not)

-- Which hypervisor: Xen's, or one with a seeded bug.
abstract sig Variant {}
one sig Xen extends Variant {}
one sig NoFlush extends Variant {}            -- the unmap does not flush the TLBs (fault grant-unmap-no-flush)
one sig RoWritable extends Variant {}         -- a read-only grant is mapped writable (grant-readonly-mapped-writable)

-- A domain's mappings: its maptrack (which grant a handle maps) and the PTE each map installed.
sig Dom {
  var maptrack: Handle -> lone Ref,
  var pte: Handle -> lone Frame,
  var pteW: set Handle                        -- the PTE is writable
}
-- A frame, its owner, and the references its grant mappings hold (GNT-3): general, and WRITABLE type references.
sig Frame {
  owner: one Dom,
  var count: one Int,
  var wcount: one Int
}
-- A CPU's TLB: domain d holds a cached translation to frame f (writable in tlbW).
sig Cpu {
  var tlb: Dom -> Frame,
  var tlbW: Dom -> Frame
}
-- A grant reference: one entry of its granter's grant table, as the granter stores it (GNT-1): the domain it
-- permits and the frame it offers; permit-access and read-only are the sets Permit and ReadOnly.
sig Ref {
  granter: one Dom,
  var grantee: lone Dom,
  var gframe: lone Frame
}
var sig Permit in Ref {}                      -- GTF_permit_access
var sig ReadOnly in Ref {}                    -- GTF_readonly
sig Handle {}                                 -- a map handle: a maptrack slot and the PTE slot of the mapping

pred init {
  no Permit and no ReadOnly and no grantee and no gframe
  no maptrack and no pte and no pteW
  no tlb and no tlbW
  all f: Frame | f.count = 0 and f.wcount = 0
}

-- The frame conditions: everything not named stays.
pred keepEntries { Permit' = Permit and ReadOnly' = ReadOnly and grantee' = grantee and gframe' = gframe }
pred keepMappings { maptrack' = maptrack and pte' = pte and pteW' = pteW and count' = count and wcount' = wcount }
pred keepTlbs { tlb' = tlb and tlbW' = tlbW }

-- Whether grant r is mapped by anybody now.
pred mapped[r: Ref] { some maptrack.r }

-- GNT-1: the granter fills entry r (a reference it is not using: no mapping of it) for domain d and frame f.
pred grant[r: Ref, d: Dom, f: Frame, m: Mode] {
  d != r.granter and not mapped[r]
  Permit' = Permit + r
  m = RO implies ReadOnly' = ReadOnly + r else ReadOnly' = ReadOnly - r
  grantee' = grantee ++ r -> d
  gframe' = gframe ++ r -> f
  keepMappings and keepTlbs
}

-- GNT-2's checks: what map_grant_ref of grant r by d at handle h with access m requires.
pred mapAllowed[v: Variant, d: Dom, h: Handle, r: Ref, m: Mode] {
  r in Permit and r.grantee = d                          -- the entry permits the caller
  m = RW and v != RoWritable implies r not in ReadOnly   -- no write-pin of a read-only grant
  r.gframe.owner = r.granter                             -- a frame the granter owns (GNTST_bad_page)
  no d.maptrack[h] and no d.pte[h]                       -- a free handle, an empty slot
}

-- GNT-2, GNT-3: the mapping is made: a maptrack entry, the PTE, a reference (and a WRITABLE type reference).
pred map[v: Variant, d: Dom, h: Handle, r: Ref, m: Mode] {
  mapAllowed[v, d, h, r, m]
  let f = r.gframe {
    maptrack' = maptrack + d -> h -> r
    pte' = pte + d -> h -> f
    m = RW implies pteW' = pteW + d -> h else pteW' = pteW
    count' = count ++ f -> f.count.plus[1]
    m = RW implies wcount' = wcount ++ f -> f.wcount.plus[1] else wcount' = wcount
  }
  keepEntries and keepTlbs
}

-- A guest access of d on CPU c through the PTE of handle h: the CPU caches the translation, with the PTE's rights.
pred use[c: Cpu, d: Dom, h: Handle] {
  some d.pte[h]
  tlb' = tlb + c -> d -> d.pte[h]
  d -> h in pteW implies tlbW' = tlbW + c -> d -> d.pte[h] else tlbW' = tlbW
  keepEntries and keepMappings
}

-- GNT-5: unmap of d's handle h: the PTE cleared, the references dropped, the maptrack entry released, and (TLB-9)
-- every TLB entry of d flushed on every CPU before the hypercall returns — unless the variant forgets the flush.
pred unmap[v: Variant, d: Dom, h: Handle] {
  some d.maptrack[h]
  let f = d.pte[h] {
    maptrack' = maptrack - d -> h -> Ref
    pte' = pte - d -> h -> Frame
    pteW' = pteW - d -> h
    count' = count ++ f -> f.count.minus[1]
    d -> h in pteW implies wcount' = wcount ++ f -> f.wcount.minus[1] else wcount' = wcount
  }
  v = NoFlush implies keepTlbs else (tlb' = tlb - Cpu -> d -> Frame and tlbW' = tlbW - Cpu -> d -> Frame)
  keepEntries
}

-- GNT-7: the granter ends grant r (the entry cleared), only when no mapping of it is active.
pred endAccess[r: Ref] {
  r in Permit and not mapped[r]
  Permit' = Permit - r and ReadOnly' = ReadOnly - r
  grantee' = grantee - r -> Dom and gframe' = gframe - r -> Frame
  keepMappings and keepTlbs
}

pred stutter { keepEntries and keepMappings and keepTlbs }

pred step[v: Variant] {
  stutter
  or (some r: Ref, d: Dom, f: Frame, m: Mode | grant[r, d, f, m])
  or (some d: Dom, h: Handle, r: Ref, m: Mode | map[v, d, h, r, m])
  or (some c: Cpu, d: Dom, h: Handle | use[c, d, h])
  or (some d: Dom, h: Handle | unmap[v, d, h])
  or (some r: Ref | endAccess[r])
}

pred behaviour[v: Variant] { init and always step[v] }

-- ---- What has to hold ------------------------------------------------------------------------------------------

-- d reaches its foreign frame f through handle h legitimately: the maptrack names an active grant of f's owner to d
-- for f, and a writable PTE only for a grant that is not read-only.
pred backedByGrant[d: Dom, h: Handle] {
  some r: d.maptrack[h] {
    r in Permit and r.grantee = d and r.gframe = d.pte[h] and d.pte[h].owner = r.granter
    d -> h in pteW implies r not in ReadOnly
  }
}

-- I1's grant clause: every grant PTE and every TLB entry of a domain for a frame it does not own is backed by an
-- active grant of the owner to it, with no more than the granted access.
pred isolated {
  all d: Dom, h: Handle | some d.pte[h] and d.pte[h].owner != d implies backedByGrant[d, h]
  all c: Cpu, d: Dom, f: c.tlb[d] | f.owner != d implies
    (some h: Handle | d.pte[h] = f and backedByGrant[d, h] and (f in c.tlbW[d] implies d -> h in pteW))
}

-- I11: the references of a frame are those of its grant mappings (so a mapped frame's count is positive).
pred counted {
  all f: Frame | f.count = #(pte.f) and f.wcount = #((pte.f) & pteW)
}
pred mappedFramesReferenced { all f: Handle.(Dom.pte) | gt[f.count, 0] and (some (pte.f & pteW) implies gt[f.wcount, 0]) }

-- GNT-5: nothing of a mapping survives its unmap: after it, no PTE at the handle, no maptrack entry, and no CPU holds
-- a translation of the domain to the frame unless another mapping of it remains. (The frame is quantified, not
-- let-bound: a let is expanded in place, and after the unmap d.pte[h] is empty.)
pred unmapLeavesNothing[v: Variant] {
  all d: Dom, h: Handle, f: Frame | (f = d.pte[h] and unmap[v, d, h]) implies after {
    no d.pte[h] and no d.maptrack[h]
    f not in Handle.(d.pte) implies no tlb.f.d
  }
}

-- GNT-7: a grant is never revoked (nor re-filled) while a mapping of it is active.
pred noRevokeWhileMapped {
  all r: Ref | mapped[r] implies (r in Permit' and r.grantee' = r.grantee and r.gframe' = r.gframe
    and (r in ReadOnly iff r in ReadOnly'))
}

-- ---- Proved for every length of trace, by induction (at scope 2) -----------------------------------------------
-- Integers of 3 bits (up to 3) suffice at scope 2: only the one domain that is not a frame's owner can be granted it,
-- through at most 2 handles, so a count is at most 2 before a map and 3 after it.
-- The invariant: no grant names its own granter; a handle has a maptrack entry iff it has a PTE, and then the PTE is backed by the grant; a writable
-- PTE is a mapped handle's; every TLB entry was filled from a PTE of the domain still mapping that frame, writable
-- only from a writable one; the references are counted.
pred inv {
  all r: Ref | r.grantee != r.granter
  all d: Dom, h: Handle | (some d.maptrack[h] iff some d.pte[h]) and (some d.maptrack[h] implies backedByGrant[d, h])
  all d: Dom | d.pteW in (d.maptrack).Ref
  all c: Cpu, d: Dom, f: c.tlb[d] | some h: Handle | d.pte[h] = f and (f in c.tlbW[d] implies h in d.pteW)
  tlbW in tlb
  counted
}

assert initEstablishesInv { init implies inv }
check initEstablishesInv for 2 but 3 Int, 1 steps expect 0
run initEstablishesInvPremise { init } for 2 but 3 Int, 1 steps expect 1

assert stepPreservesInv { (inv and step[Xen]) implies after inv }
check stepPreservesInv for 2 but 3 Int, 2 steps expect 0
run stepPreservesInvPremise { inv and step[Xen] and not stutter } for 2 but 3 Int, 2 steps expect 1

-- I1's grant clause and the reference counts follow from the invariant.
assert invIsolates { inv implies (isolated and mappedFramesReferenced) }
check invIsolates for 2 but 3 Int, 1 steps expect 0
run invIsolatesPremise { inv and some tlb } for 2 but 3 Int, 1 steps expect 1

-- Every step from an invariant state leaves nothing of an unmapped grant and revokes no mapped grant.
assert unmapIsComplete { (inv and step[Xen]) implies (unmapLeavesNothing[Xen] and noRevokeWhileMapped) }
check unmapIsComplete for 2 but 3 Int, 2 steps expect 0
run unmapIsCompletePremise { inv and some d: Dom, h: Handle | unmap[Xen, d, h] and some tlb.(d.pte[h]).d }
  for 2 but 3 Int, 2 steps expect 1

-- ---- The seeded bugs are refuted -------------------------------------------------------------------------------

-- Without the flush, an unmap leaves a CPU translating to the frame: the step breaks the invariant, and from boot a
-- trace of grant, map, use, unmap reaches a TLB entry with no grant behind it.
assert noFlushUnmapIsComplete { (inv and step[NoFlush]) implies unmapLeavesNothing[NoFlush] }
check noFlushUnmapIsComplete for 2 but 3 Int, 2 steps expect 1
run noFlushUnmapIsCompletePremise { inv and step[NoFlush] } for 2 but 3 Int, 2 steps expect 1
assert noFlushIsolates { behaviour[NoFlush] implies always isolated }
check noFlushIsolates for 2 but 1 Ref, 1 Handle, 1 Cpu, 3 Int, 1..5 steps expect 1
run noFlushIsolatesPremise { behaviour[NoFlush] } for 2 but 1 Ref, 1 Handle, 1 Cpu, 3 Int, 1..5 steps expect 1

-- A read-only grant mapped writable: a writable PTE beyond the granted access, from boot in two steps.
assert roWritableIsolates { behaviour[RoWritable] implies always isolated }
check roWritableIsolates for 2 but 3 Int, 1..4 steps expect 1
run roWritableIsolatesPremise { behaviour[RoWritable] } for 2 but 3 Int, 1..4 steps expect 1

-- ---- Not vacuous -----------------------------------------------------------------------------------------------

-- A grant is mapped, used on two CPUs, unmapped (both CPUs flushed) and ended.
run mapUseUnmapEnd {
  behaviour[Xen]
  some c1, c2: Cpu, d: Dom, h: Handle, r: Ref | c1 != c2 and eventually {
    map[Xen, d, h, r, RW]
    after eventually (use[c1, d, h] and after eventually (use[c2, d, h] and after eventually
      (unmap[Xen, d, h] and after eventually endAccess[r])))
  }
} for 2 but 1 Ref, 1 Handle, 3 Int, 1..7 steps expect 1

-- Two mappings of one grant (two handles of its grantee): the frame holds two references.
run twoMappingsOfAGrant { inv and some f: Frame | f.count = 2 } for 2 but 3 Int, 1 steps expect 1

-- ---- The conformance run ---------------------------------------------------------------------------------------

-- Traces of 2 domains with a frame each, 1 CPU (the Java's vCPUs all run on pCPU 0), 1 grant reference of each
-- domain, 2 handles, that map, use and unmap: each state and step replayed on org.hybridv.xen (GrantTableConformance).
run grantTraces {
  behaviour[Xen]
  all d: Dom | one owner.d and one granter.d
  eventually (some d: Dom, h: Handle | unmap[Xen, d, h] and before some tlb)
} for exactly 2 Dom, exactly 2 Frame, exactly 1 Cpu, exactly 2 Ref, exactly 2 Handle, 3 Int, 1..6 steps expect 1
