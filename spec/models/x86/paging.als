module x86/paging

/*
 * IA-32e 4-level paging: paging structures over frames, the walk as a relation from a linear address to the
 * entries it visits, the access rights the visited entries grant (R/W and U/S combined over the levels, CR0.WP,
 * CR4.SMEP, CR4.SMAP with RFLAGS.AC and implicit accesses, XD with EFER.NXE), and the #PF error code.
 *
 * Sources: Intel SDM Vol. 3A §4.5.4 (the walk, fig. 4-8, tables 4-14..4-19 for PS and the reserved bits modelled),
 * §4.6 / §4.6.1 (access rights), §4.7 (error code). Java: org.hybridv.x86.PageWalk.walk/decide/checkRights,
 * AccessRights.permits, ErrorCode.of, Rights.narrowedBy (docs/paging.md).
 *
 * Abstractions: a table index is an Index atom (9 bits in hardware), a linear address is its four indices; an entry
 * is a value (flags and a target frame); the only reserved bits modelled are PS in a PML4E and XD with EFER.NXE = 0;
 * protection keys (CR4.PKE = 0), paging-disabled and non-canonical addresses are out of scope (docs/spec.md).
 */
-- solver: minisat

open util/vocab

-- The paging-structure levels (Java org.hybridv.x86.Level).
abstract sig Level {}
one sig PML4, PDPT, PD, PT extends Level {}

-- The entry bits modelled (Java Entry.P, RW, US, PS, XD; SDM tables 4-14..4-19).
abstract sig Flag {}
one sig Present, RW, USER, PS, XD extends Flag {}

-- A 9-bit table index, abstracted.
sig Index {}

-- A paging-structure entry: a value (Java org.hybridv.x86.Entry).
sig Entry { flags: set Flag, target: one Frame }

-- Physical memory as paging structures: every slot of every frame holds an entry (possibly not present).
one sig Memory { slot: Frame -> Index -> one Entry }

-- A linear address: the index it selects at each level (SDM fig. 4-8: bits 47:39, 38:30, 29:21, 20:12).
sig Linear { index: Level -> one Index }

-- The processor state that decides an access (Java CpuState; CR0.PG = CR4.PAE = EFER.LME = 1 throughout).
sig Cpu {
  cr3: one Frame,
  userMode: one Bool,        -- CPL = 3
  wp, smep, smap, ac, nxe: one Bool
}

-- An access (Java org.hybridv.x86.Access): address, kind, and whether it is an implicit supervisor-mode access.
sig Access { cpu: one Cpu, linear: one Linear, kind: one AccessKind, implicit: one Bool }

-- SDM 4.6: an instruction fetch is never an implicit (system-structure) access (Java Access constructor).
fact implicitAccessesAreData { all a: Access | a.implicit = True implies a.kind != Fetch }

-- The level below each level (SDM 4.5.4).
fun below: Level -> Level { PML4 -> PDPT + PDPT -> PD + PD -> PT }

-- SDM 4.5.4 and tables 4-14..4-19 (modelled part): PS is reserved in a PML4E; XD is reserved unless EFER.NXE = 1.
-- fl is the flag relation (a parameter so that assertions can compare memories differing in one flag).
pred reserved[fl: Entry -> Flag, c: Cpu, l: Level, e: Entry] {
  (l = PML4 and PS in e.fl) or (XD in e.fl and c.nxe = False)
}

-- SDM 4.5.4: a PDPTE with PS maps a 1-GByte page, a PDE with PS a 2-MByte page, a PTE a 4-KByte page
-- (Java PageWalk.mapsPage).
pred mapsPage[fl: Entry -> Flag, l: Level, e: Entry] { l = PT or (l in PDPT + PD and PS in e.fl) }

-- The walk continues below a present, non-reserved entry that does not map a page.
pred continues[fl: Entry -> Flag, c: Cpu, l: Level, e: Entry] {
  Present in e.fl and not reserved[fl, c, l, e] and not mapsPage[fl, l, e]
}

-- The walk as a relation (SDM 4.5.4; Java PageWalk.walk): the entry visited at each level for linear address x,
-- from the PML4 at CR3, stopping at the first entry that is not present, has a reserved bit set, or maps a page.
fun walk[fl: Entry -> Flag, c: Cpu, x: Linear]: Level -> lone Entry {
  let e4 = Memory.slot[c.cr3][x.index[PML4]],
      e3 = { e: Entry | continues[fl, c, PML4, e4] and e = Memory.slot[e4.target][x.index[PDPT]] },
      e2 = { e: Entry | some e3 and continues[fl, c, PDPT, e3] and e = Memory.slot[e3.target][x.index[PD]] },
      e1 = { e: Entry | some e2 and continues[fl, c, PD, e2] and e = Memory.slot[e2.target][x.index[PT]] } |
  PML4 -> e4 + PDPT -> e3 + PD -> e2 + PT -> e1
}

-- How the walk ends (Java Walk.End): the last visited entry is not present, has a reserved bit, or maps a page.
pred notPresent[fl: Entry -> Flag, c: Cpu, x: Linear] { some e: Level.(walk[fl, c, x]) | Present not in e.fl }
pred reservedBit[fl: Entry -> Flag, c: Cpu, x: Linear] {
  some l: Level | let e = walk[fl, c, x][l] | some e and Present in e.fl and reserved[fl, c, l, e]
}
pred mapped[fl: Entry -> Flag, c: Cpu, x: Linear] { not notPresent[fl, c, x] and not reservedBit[fl, c, x] }

-- SDM 4.6: R/W and U/S combine by AND, XD by OR, over every entry used (Java Rights.narrowedBy).
pred writable[fl: Entry -> Flag, c: Cpu, x: Linear] { all e: Level.(walk[fl, c, x]) | RW in e.fl }
pred user[fl: Entry -> Flag, c: Cpu, x: Linear] { all e: Level.(walk[fl, c, x]) | USER in e.fl }
pred executeDisable[fl: Entry -> Flag, c: Cpu, x: Linear] { some e: Level.(walk[fl, c, x]) | XD in e.fl }

-- SDM 4.6: supervisor-mode access: CPL < 3, or an implicit access (Java Access.isSupervisorMode).
pred supervisorMode[a: Access] { a.cpu.userMode = False or a.implicit = True }

-- SDM 4.6.1 SMAP: a supervisor data access to a user page is allowed only with RFLAGS.AC = 1 and not implicit.
pred smapAllows[a: Access] { a.cpu.smap = False or (a.cpu.ac = True and a.implicit = False) }
-- SDM 4.6.1: with EFER.NXE = 1, a fetch from a page with XD is not allowed.
pred xdAllows[fl: Entry -> Flag, a: Access] { a.cpu.nxe = False or not executeDisable[fl, a.cpu, a.linear] }

-- SDM 4.6 R/W: a write is allowed through a translation whose entries all have R/W set. With leafOnlyRw = True,
-- the seeded bug below: R/W taken from the leaf only.
pred rwAllows[fl: Entry -> Flag, c: Cpu, x: Linear, leafOnlyRw: Bool] {
  leafOnlyRw = True implies writableLeafOnly[fl, c, x] else writable[fl, c, x]
}

-- SDM 4.6.1, the access-rights rules (Java AccessRights.permits), with the R/W rule as a parameter.
pred permitsWith[fl: Entry -> Flag, a: Access, leafOnlyRw: Bool] {
  let c = a.cpu, x = a.linear {
    supervisorMode[a] implies {
      a.kind = Read implies (not user[fl, c, x] or smapAllows[a])
      a.kind = Write implies ((c.wp = False or rwAllows[fl, c, x, leafOnlyRw]) and (user[fl, c, x] implies smapAllows[a]))
      a.kind = Fetch implies (not (user[fl, c, x] and c.smep = True) and xdAllows[fl, a])
    } else {
      a.kind = Read implies user[fl, c, x]
      a.kind = Write implies (user[fl, c, x] and rwAllows[fl, c, x, leafOnlyRw])
      a.kind = Fetch implies (user[fl, c, x] and xdAllows[fl, a])
    }
  }
}
pred permits[fl: Entry -> Flag, a: Access] { permitsWith[fl, a, False] }

-- The access completes (Java PageWalk.translate returns Translated).
pred succeeds[fl: Entry -> Flag, a: Access] { mapped[fl, a.cpu, a.linear] and permits[fl, a] }

-- SDM 4.7, the error code of the #PF an access that does not succeed raises (Java ErrorCode.of): P = 0 only for a
-- not-present entry; W/R for a write; U/S for a user-mode access; RSVD for a reserved bit; I/D for a fetch when
-- SMEP or NXE is on (PAE is on in IA-32e mode); PK never (CR4.PKE = 0 here).
fun errorCode[fl: Entry -> Flag, a: Access]: set EcBit {
  { b: P | not notPresent[fl, a.cpu, a.linear] }
  + { b: WR | a.kind = Write }
  + { b: US | not supervisorMode[a] }
  + { b: RSVD | reservedBit[fl, a.cpu, a.linear] }
  + { b: ID | a.kind = Fetch and (a.cpu.smep = True or a.cpu.nxe = True) }
}

-- ---- assertions: the monotonicity facts of the Java properties (PageWalkProperties) ---------------------------

-- Clearing R/W in any entry never turns a fault into a success
-- (clearingRwInAnyVisitedEntryNeverTurnsAFaultIntoASuccess).
assert clearingRwNeverGrants {
  all a: Access, e: Entry | not succeeds[flags, a] implies not succeeds[flags - e -> RW, a]
}
check clearingRwNeverGrants for 3 but 2 Index, 2 Linear, 1 Cpu, 1 Access expect 0

-- Clearing U/S never turns a fault into a success for a user-mode access (for a supervisor access it may: SMEP and
-- SMAP apply only to user pages; clearingUsNeverTurnsAFaultIntoASuccessExceptByEscapingSmepSmapOrAKey).
assert clearingUsNeverGrantsUserAccesses {
  all a: Access, e: Entry | not supervisorMode[a] and not succeeds[flags, a] implies not succeeds[flags - e -> USER, a]
}
check clearingUsNeverGrantsUserAccesses for 3 but 2 Index, 2 Linear, 1 Cpu, 1 Access expect 0

-- Setting XD in any entry never turns a fault into a success (settingXdInAnyVisitedEntry…).
assert settingXdNeverGrants {
  all a: Access, e: Entry | not succeeds[flags, a] implies not succeeds[flags + e -> XD, a]
}
check settingXdNeverGrants for 3 but 2 Index, 2 Linear, 1 Cpu, 1 Access expect 0

-- Enabling CR0.WP, CR4.SMEP or CR4.SMAP never turns a fault into a success
-- (enablingWpSmepSmapOrPkeNeverTurnsAFaultIntoASuccess): two CPUs equal except for one more protection.
pred sameExceptProtections[c1, c2: Cpu] {
  c1.cr3 = c2.cr3 and c1.userMode = c2.userMode and c1.ac = c2.ac and c1.nxe = c2.nxe
}
pred moreProtected[c1, c2: Cpu] {
  sameExceptProtections[c1, c2]
  c1.wp = True implies c2.wp = True
  c1.smep = True implies c2.smep = True
  c1.smap = True implies c2.smap = True
}
assert enablingProtectionsNeverGrants {
  all a1, a2: Access |
    (moreProtected[a1.cpu, a2.cpu] and a1.linear = a2.linear and a1.kind = a2.kind and a1.implicit = a2.implicit
      and not succeeds[flags, a1]) implies not succeeds[flags, a2]
}
check enablingProtectionsNeverGrants for 3 but 2 Index, 2 Linear, 2 Cpu, 2 Access expect 0

-- SDM 4.6 / 4.7: a user write through an entry with R/W clear at any level faults, as a protection fault with
-- P|W|U (AccessRightsTest.readOnlyAtAnyLevelDeniesUserWrite).
pred readOnlyAnywhereDeniesUserWrites[fl: Entry -> Flag, ok: Access -> Bool] {
  all a: Access |
    (not supervisorMode[a] and a.kind = Write and mapped[fl, a.cpu, a.linear]
      and (some e: Level.(walk[fl, a.cpu, a.linear]) | RW not in e.fl)) implies a.ok = False
}
fun verdict[fl: Entry -> Flag]: Access -> Bool { { a: Access, b: Bool | succeeds[fl, a] iff b = True } }
assert readOnlyAtAnyLevelDeniesUserWrite { readOnlyAnywhereDeniesUserWrites[flags, verdict[flags]] }
check readOnlyAtAnyLevelDeniesUserWrite for 3 but 2 Index, 2 Linear, 1 Cpu, 1 Access expect 0

-- SDM 4.7, error-code consistency (everyPageFaultErrorCodeBitMeansWhatSdm47Says): P = 0 exactly for not-present,
-- W/R exactly for writes, U/S exactly for user-mode accesses; RSVD implies P; I/D implies a fetch (so not W/R);
-- PK is never set without CR4.PKE.
assert errorCodeConsistency {
  all a: Access | not succeeds[flags, a] implies let ec = errorCode[flags, a] {
    P not in ec iff notPresent[flags, a.cpu, a.linear]
    WR in ec iff a.kind = Write
    US in ec iff not supervisorMode[a]
    RSVD in ec implies P in ec
    ID in ec implies (a.kind = Fetch and WR not in ec)
    PK not in ec
  }
}
check errorCodeConsistency for 3 but 2 Index, 2 Linear, 1 Cpu, 1 Access expect 0

-- ---- non-vacuity: each outcome class of the Java properties is reachable ------------------------------------

run success { some a: Access | succeeds[flags, a] } for 3 but 2 Index, 1 Linear, 1 Cpu, 1 Access expect 1
run notPresentFault { some a: Access | notPresent[flags, a.cpu, a.linear] } for 3 but 2 Index, 1 Linear, 1 Cpu, 1 Access expect 1
run reservedBitFault { some a: Access | reservedBit[flags, a.cpu, a.linear] } for 3 but 2 Index, 1 Linear, 1 Cpu, 1 Access expect 1
run writeProtectionFault {
  some a: Access | mapped[flags, a.cpu, a.linear] and a.kind = Write and not permits[flags, a] and supervisorMode[a]
} for 3 but 2 Index, 1 Linear, 1 Cpu, 1 Access expect 1
run fetchFault { some a: Access | not succeeds[flags, a] and ID in errorCode[flags, a] } for 3 but 2 Index, 1 Linear, 1 Cpu, 1 Access expect 1
run fourLevelWalkToA4KPage { some a: Access | succeeds[flags, a] and some walk[flags, a.cpu, a.linear][PT] }
  for 4 but 2 Index, 1 Linear, 1 Cpu, 1 Access expect 1
run smapDeniesASupervisorRead {
  some a: Access | a.kind = Read and supervisorMode[a] and mapped[flags, a.cpu, a.linear] and not permits[flags, a]
} for 3 but 2 Index, 1 Linear, 1 Cpu, 1 Access expect 1

-- The conformance enumeration (org.hybridv.spec.conformance.PagingConformance): accesses through one- and two-frame
-- paging structures; every instance is replayed through org.hybridv.x86.PageWalk (cap 10,000 instances).
-- The verdict of the access is part of each instance (the skolem $accessTable_ok, determined by the access, so the
-- instances are the same ones): the conformance replay reads it instead of evaluating succeeds per instance.
run accessTable { one Access and some ok: set Access | ok = { a: Access | succeeds[flags, a] } }
  for 2 but 1 Index, 1 Linear, 1 Cpu, 1 Access, 3 Entry expect 1

-- ---- seeded bug: R/W taken from the leaf only (the AND over the levels of SDM 4.6 forgotten) --------------------
pred writableLeafOnly[fl: Entry -> Flag, c: Cpu, x: Linear] {
  some l: Level | let e = walk[fl, c, x][l] | some e and mapsPage[fl, l, e] and RW in e.fl
}
fun verdictLeafOnlyRw[fl: Entry -> Flag]: Access -> Bool {
  { a: Access, b: Bool | (mapped[fl, a.cpu, a.linear] and permitsWith[fl, a, True]) iff b = True }
}
assert bugLeafOnlyRwDeniesUserWrite { readOnlyAnywhereDeniesUserWrites[flags, verdictLeafOnlyRw[flags]] }
check bugLeafOnlyRwDeniesUserWrite for 3 but 2 Index, 2 Linear, 1 Cpu, 1 Access expect 1

-- ---- vacuity: each check's premise is satisfiable at the check's scope (docs/spec.md, "Vacuity") -------------
run clearingRwNeverGrantsPremise { some a: Access, e: Entry | not succeeds[flags, a] and RW in e.flags }
  for 3 but 2 Index, 2 Linear, 1 Cpu, 1 Access expect 1
run clearingUsNeverGrantsUserAccessesPremise {
  some a: Access, e: Entry | not supervisorMode[a] and not succeeds[flags, a] and USER in e.flags
} for 3 but 2 Index, 2 Linear, 1 Cpu, 1 Access expect 1
run settingXdNeverGrantsPremise { some a: Access, e: Entry | not succeeds[flags, a] and XD not in e.flags }
  for 3 but 2 Index, 2 Linear, 1 Cpu, 1 Access expect 1
run enablingProtectionsNeverGrantsPremise {
  some a1, a2: Access | moreProtected[a1.cpu, a2.cpu] and a1.cpu != a2.cpu and a1.linear = a2.linear
    and a1.kind = a2.kind and a1.implicit = a2.implicit and not succeeds[flags, a1]
} for 3 but 2 Index, 2 Linear, 2 Cpu, 2 Access expect 1
pred userWriteThroughAReadOnlyEntry[a: Access] {
  not supervisorMode[a] and a.kind = Write and mapped[flags, a.cpu, a.linear]
    and (some e: Level.(walk[flags, a.cpu, a.linear]) | RW not in e.flags)
}
run readOnlyAtAnyLevelDeniesUserWritePremise { some a: Access | userWriteThroughAReadOnlyEntry[a] }
  for 3 but 2 Index, 2 Linear, 1 Cpu, 1 Access expect 1
run errorCodeConsistencyPremise { some a: Access | not succeeds[flags, a] }
  for 3 but 2 Index, 2 Linear, 1 Cpu, 1 Access expect 1
run bugLeafOnlyRwDeniesUserWritePremise { some a: Access | userWriteThroughAReadOnlyEntry[a] }
  for 3 but 2 Index, 2 Linear, 1 Cpu, 1 Access expect 1
