module xen/switch_mmu

/*
 * SWITCH_MMU, the shadow → direct transition of the hybrid design: the hypercall with which a booted guest kernel
 * moves its MMU from shadow page tables to direct paging. Its preconditions, its atomicity (a refused switch changes
 * nothing), and its postconditions: the same linear → machine translation and permissions as through shadow + p2m,
 * every reachable table validated, and no stale TLB entry.
 *
 * Sources: docs/rules/hybrid.md (this project's contract, PRE-1..3, POST-1..3, INV-1; the prototype's was never
 * published; a refused switch changes nothing); docs/rules/xen.md TYP-1, TYP-4, L1-1..3, LN-1..3, SP-1, MX-3, TLB-4,
 * SH-2, SH-4. Java: org.hybridv.xen.Hypervisor (SWITCH_MMU), DirectPaging, ShadowPaging.
 *
 * Abstractions: the guest's tables have two levels (a root whose entries reference leaf tables, and leaf tables
 * whose entries map pages) — L4..L2 folded into the root level, whose rules are the same (LN-*); one domain with one
 * vCPU, which is the only vCPU (PRE-3 holds trivially); POST-3 is the identity p2m on the domain's frames (the
 * guest's tables hold frame numbers that are valid both as GFNs under shadow and as MFNs under direct paging).
 */
-- solver: sat4j

open util/vocab

sig Index {}
abstract sig Flag {}
one sig Present, RW, PS extends Flag {}   -- Present: the rights of any translation

-- A present entry (a value): flags and the frame it references.
sig Entry { flags: set Flag, target: one Frame }

-- The domain's static part: its frames, its tables, its p2m (shadow mode: guest-physical → machine).
one sig Guest {
  owns: set Frame,
  contents: Frame -> Index -> lone Entry,   -- the guest's page tables in its memory
  p2m: Frame -> lone Frame                  -- gfn → mfn (shadow mode)
}

-- A linear address: its root index and its leaf index.
sig Linear { rootIndex: one Index, leafIndex: one Index }

-- The mutable part.
one sig Vcpu {
  var mode: one MmuMode,
  var cpl0: one Bool,                        -- CPL = 0
  var longMode: one Bool,
  var hypercallPage: one Bool,
  var cr3: one Frame,                        -- the guest's root (a GFN under shadow, an MFN under direct)
  var typed: set Frame,                      -- frames holding a page-table type with PGT_validated (POST-1)
  var tlb: Linear -> Frame -> set Flag,      -- cached translations: frame and rights (RW)
  var requested: lone Frame                  -- the argument of the SWITCH_MMU the guest issues in this step (an event)
}

-- The walk of the guest's tables from root r, each table frame translated by m (p2m under shadow, identity under
-- direct): linear x maps to frame f with rights: Present always, RW iff both levels have RW (SDM 4.6), PS when the
-- root entry maps a superpage.
fun translation[r: Frame, m: Frame -> Frame]: Linear -> Frame -> set Flag {
  { x: Linear, f: Frame, fl: Flag |
      some e1, e2: Entry | e1 = Guest.contents[r.m][x.rootIndex] and e2 = Guest.contents[e1.target.m][x.leafIndex]
        and f = e2.target.m
        and (fl = Present or (fl = RW and RW in e1.flags & e2.flags) or (fl = PS and PS in e1.flags)) }
}
fun identity: Frame -> Frame { iden & (Frame -> Frame) }

-- What the guest sees in each mode: under shadow the guest walk through the p2m (SH-2: the shadow grants no more
-- than guest tables ∩ p2m; the model takes the shadow equal to it), under direct the hardware walk (identity).
fun currentTranslation: Linear -> Frame -> set Flag {
  Vcpu.mode = Direct => translation[Vcpu.cr3, identity] else translation[Vcpu.cr3, Guest.p2m]
}

-- The tables reachable from root r (by identity: frame numbers are machine numbers after the switch).
fun leafTables[r: Frame]: set Frame { Index.(Guest.contents[r]).target }

-- PRE-2: r can be promoted to a validated root under the direct-paging rules: every reachable table and page is the
-- domain's (L1-2, LN-3), no superpage (SP-1), no writable mapping of a page-table frame (TYP-1, L1-3), and POST-3's
-- identity p2m on the domain's frames.
pred rootValidates[r: Frame, checkLeaves: Bool] {
  r in Guest.owns
  all e: Index.(Guest.contents[r]) | e.target in Guest.owns and PS not in e.flags and e.target != r   -- LN-1..3, SP-1
  checkLeaves = True implies all t: leafTables[r], e: Index.(Guest.contents[t]) |
    e.target in Guest.owns and PS not in e.flags                                                       -- L1-1, L1-2
      and (RW in e.flags implies e.target not in r + leafTables[r])                                    -- L1-3, TYP-1
  all f: Guest.owns | Guest.p2m[f] = f                                                                 -- POST-3
}

-- PRE-1..3 (docs/rules/hybrid.md): CPL 0, long mode, hypercall page installed, shadow mode (a repeated switch is
-- refused), and the root validates.
pred switchAllowed[r: Frame, checkLeaves: Bool] {
  Vcpu.cpl0 = True and Vcpu.longMode = True and Vcpu.hypercallPage = True and Vcpu.mode = Shadow
  r = Guest.p2m[Vcpu.cr3]              -- PRE-2: r is the machine frame of the root the guest runs on
  rootValidates[r, checkLeaves]
}

-- The seeded fault: SWITCH_MMU validates only the root's own entries, not the lower levels.
abstract sig Fault {}
one sig SkipLowerLevels extends Fault {}
one sig Planted { faults: set Fault }
fun checksLeaves: Bool { SkipLowerLevels in Planted.faults => False else True }

-- SWITCH_MMU(r), accepted: mode := direct, CR3 := r, the root and its leaf tables get their types validated
-- (POST-1), every shadow is destroyed and the TLB is flushed (POST-2, TLB-4, SH-4).
pred switchMmu[r: Frame] {
  Vcpu.requested = r
  switchAllowed[r, checksLeaves]
  Vcpu.mode' = Direct and Vcpu.cr3' = r
  Vcpu.typed' = r + leafTables[r]
  no Vcpu.tlb'
  Vcpu.cpl0' = Vcpu.cpl0 and Vcpu.longMode' = Vcpu.longMode and Vcpu.hypercallPage' = Vcpu.hypercallPage
}

-- SWITCH_MMU(r), refused (-EINVAL / -EPERM): nothing changes (atomicity).
pred switchRefused[r: Frame] {
  Vcpu.requested = r
  not switchAllowed[r, checksLeaves]
  unchanged
}

pred unchanged {
  Vcpu.mode' = Vcpu.mode and Vcpu.cr3' = Vcpu.cr3 and Vcpu.typed' = Vcpu.typed and Vcpu.tlb' = Vcpu.tlb
  Vcpu.cpl0' = Vcpu.cpl0 and Vcpu.longMode' = Vcpu.longMode and Vcpu.hypercallPage' = Vcpu.hypercallPage
}

-- The guest runs: its TLB caches translations the current tables give (SDM 4.10.2); it may also change CPL.
pred guestRuns {
  no Vcpu.requested
  Vcpu.tlb' in Vcpu.tlb + currentTranslation
  Vcpu.mode' = Vcpu.mode and Vcpu.cr3' = Vcpu.cr3 and Vcpu.typed' = Vcpu.typed
  Vcpu.longMode' = Vcpu.longMode and Vcpu.hypercallPage' = Vcpu.hypercallPage
}

pred init {
  Vcpu.mode = Shadow and no Vcpu.typed
  Vcpu.tlb in currentTranslation     -- SH-4: under shadow the TLB never grants more than the shadow
}

-- A step in which the guest issues no hypercall and nothing changes.
pred stutter { no Vcpu.requested and unchanged }

fact behaviour { init and always (guestRuns or stutter or some r: Frame | switchMmu[r] or switchRefused[r]) }

-- ---- checks ----------------------------------------------------------------------------------------------------

pred correct { no Planted.faults }

-- POST: the switch keeps the translation and the permissions (as through shadow + p2m), leaves no TLB entry the
-- new tables do not give, and (INV) every reachable table is validated with no writable mapping of a table and no
-- foreign frame.
pred directIntegrity {
  Vcpu.mode = Direct implies {
    Vcpu.cr3 + leafTables[Vcpu.cr3] in Vcpu.typed
    no { x: Linear, f: Vcpu.typed | RW in currentTranslation[x][f] }      -- TYP-1
    Linear.(currentTranslation.Flag) in Guest.owns                        -- I1 (L1-2)
    no currentTranslation.PS                                              -- SP-1
  }
}
assert switchPreservesTranslation {
  correct implies always (all r: Frame | switchMmu[r] implies (currentTranslation)' = currentTranslation)
}
check switchPreservesTranslation for 4 but 2 Index, 3 Entry, 2 Linear, 1..3 steps expect 0

assert noStaleTlbAfterSwitch { correct implies always (Vcpu.mode = Direct implies Vcpu.tlb in currentTranslation) }
check noStaleTlbAfterSwitch for 4 but 2 Index, 3 Entry, 2 Linear, 1..4 steps expect 0

assert directModeIntegrity { correct implies always directIntegrity }
check directModeIntegrity for 4 but 2 Index, 3 Entry, 2 Linear, 1..3 steps expect 0

-- Atomicity (the SWITCH_MMU contract, docs/rules/hybrid.md) and PRE-1..3: a SWITCH_MMU issued while a precondition fails — from user mode,
-- outside long mode, before the hypercall page, a second switch, or a root that does not validate at any level —
-- changes nothing: the mode, CR3, the validated tables, the TLB and the vCPU state are as before.
assert refusedSwitchChangesNothing {
  correct implies always (all r: Frame | (Vcpu.requested = r and not switchAllowed[r, True]) implies unchanged)
}
check refusedSwitchChangesNothing for 4 but 2 Index, 3 Entry, 2 Linear, 1..3 steps expect 0

-- Atomicity (docs/rules/hybrid.md): the MMU mode, CR3 and the validated tables change only in a step that is an
-- accepted switch — a refused SWITCH_MMU, or any other step, leaves them as they were.
assert modeChangesOnlyByAnAcceptedSwitch {
  correct implies always ((Vcpu.mode' != Vcpu.mode or Vcpu.cr3' != Vcpu.cr3 or Vcpu.typed' != Vcpu.typed)
    implies some r: Frame | switchAllowed[r, True] and switchMmu[r])
}
check modeChangesOnlyByAnAcceptedSwitch for 4 but 2 Index, 3 Entry, 2 Linear, 1..3 steps expect 0

-- Non-vacuity: an accepted switch after which a writable page is reached; a refused one.
run switchAccepted {
  correct and eventually (Vcpu.mode = Direct and some x: Linear | some (currentTranslation[x]).RW)
} for 4 but 2 Index, 3 Entry, 2 Linear, 1..3 steps expect 1
run switchRefusedForAWritableTableMapping {
  correct and Vcpu.cpl0 = True and Vcpu.longMode = True and Vcpu.hypercallPage = True and
  some r: Frame | rootValidates[r, False] and not rootValidates[r, True] and switchRefused[r]
} for 4 but 2 Index, 3 Entry, 2 Linear, 1..2 steps expect 1

-- Seeded fault: SWITCH_MMU without validating the lower levels lets a writable mapping of a page table (or a
-- superpage, or a foreign frame) into direct mode.
assert bugSkipLowerLevelsKeepsIntegrity { Planted.faults = SkipLowerLevels implies always directIntegrity }
check bugSkipLowerLevelsKeepsIntegrity for 4 but 2 Index, 3 Entry, 2 Linear, 1..3 steps expect 1

-- The same fault seen by the atomicity check: a root whose leaf tables do not validate is accepted.
assert bugSkipLowerLevelsRefusedSwitchChangesNothing {
  Planted.faults = SkipLowerLevels
    implies always (all r: Frame | (Vcpu.requested = r and not switchAllowed[r, True]) implies unchanged)
}
check bugSkipLowerLevelsRefusedSwitchChangesNothing for 4 but 2 Index, 3 Entry, 2 Linear, 1..3 steps expect 1

-- ---- vacuity: each check's premise is satisfiable at the check's scope (docs/spec.md, "Vacuity") -------------
run switchPreservesTranslationPremise { correct and eventually (some r: Frame | switchMmu[r]) }
  for 4 but 2 Index, 3 Entry, 2 Linear, 1..3 steps expect 1
run noStaleTlbAfterSwitchPremise { correct and eventually (Vcpu.mode = Direct and some Vcpu.tlb) }
  for 4 but 2 Index, 3 Entry, 2 Linear, 1..4 steps expect 1
run directModeIntegrityPremise { correct and eventually Vcpu.mode = Direct }
  for 4 but 2 Index, 3 Entry, 2 Linear, 1..3 steps expect 1
run refusedSwitchChangesNothingPremise {
  correct and eventually (some r: Frame | Vcpu.requested = r and not switchAllowed[r, True])
} for 4 but 2 Index, 3 Entry, 2 Linear, 1..3 steps expect 1
run modeChangesOnlyByAnAcceptedSwitchPremise {
  correct and eventually (Vcpu.mode' != Vcpu.mode or Vcpu.cr3' != Vcpu.cr3 or Vcpu.typed' != Vcpu.typed)
} for 4 but 2 Index, 3 Entry, 2 Linear, 1..3 steps expect 1
run bugSkipLowerLevelsKeepsIntegrityPremise { Planted.faults = SkipLowerLevels and eventually Vcpu.mode = Direct }
  for 4 but 2 Index, 3 Entry, 2 Linear, 1..3 steps expect 1
run bugSkipLowerLevelsRefusedSwitchChangesNothingPremise {
  Planted.faults = SkipLowerLevels and eventually (some r: Frame | Vcpu.requested = r and not switchAllowed[r, True])
} for 4 but 2 Index, 3 Entry, 2 Linear, 1..3 steps expect 1

-- ---- conformance: SWITCH_MMU replayed through the Java reference (docs/spec.md, "Conformance") ------------------
-- Each instance's first state (the vCPU state, the guest's frames and tables) is rebuilt in the Java, and every
-- SWITCH_MMU of the trace is issued there in turn; the verdicts and the states after them are compared. A temporal
-- run's enumeration varies only the mutable state of one configuration (the guest's frames and tables stay as the
-- first instance has them), so each table shape PRE-2 distinguishes has a run of its own below. Every run fixes the
-- identity p2m and requests the root the guest runs on (cr3 = r): the Java checks neither (PRE-2 does not ask it;
-- the Java installs the identity itself, POST-3), so the model's clause r = p2m[cr3] always holds in these runs.

-- The reasons a root fails PRE-2 (rootValidates[r, True] with the identity p2m is the absence of all of them).
pred rootForeign[r: Frame] { r not in Guest.owns }                                                  -- LN-3 (OWN-1)
pred rootEntryForeign[r: Frame] { some e: Index.(Guest.contents[r]) | e.target not in Guest.owns }   -- LN-3
pred rootEntrySuperpage[r: Frame] { some e: Index.(Guest.contents[r]) | PS in e.flags }              -- SP-1
pred rootSelfEntry[r: Frame] { some e: Index.(Guest.contents[r]) | e.target = r }                    -- LN-2 here
pred leafEntryForeign[r: Frame] {
  some t: leafTables[r], e: Index.(Guest.contents[t]) | e.target not in Guest.owns }                -- L1-2
pred leafEntrySuperpage[r: Frame] { some t: leafTables[r], e: Index.(Guest.contents[t]) | PS in e.flags }  -- L1-1
pred leafEntryWritesATable[r: Frame] {
  some t: leafTables[r], e: Index.(Guest.contents[t]) | RW in e.flags and e.target in r + leafTables[r] } -- L1-3, TYP-1

-- Which of the reasons hold for r, one flag each in the order above (the runs below ask for one reason at a time, so
-- that the Java's rule for it is compared; the solver otherwise picks tables that fail several ways at once).
pred reasons[r: Frame, rf, ref, rsp, rse, lef, lsp, lwt: Bool] {
  rootForeign[r] iff rf = True
  rootEntryForeign[r] iff ref = True
  rootEntrySuperpage[r] iff rsp = True
  rootSelfEntry[r] iff rse = True
  leafEntryForeign[r] iff lef = True
  leafEntrySuperpage[r] iff lsp = True
  leafEntryWritesATable[r] iff lwt = True
}

-- PRE-2 as docs/rules/hybrid.md words it ("linear entries read-only", LIN-1, LIN-3): like rootValidates, but a
-- read-only entry of the root to the root itself is a self-map, not a leaf table. The Java follows this; the model
-- above refuses every self-entry (its tables have no linear entries). The conformance check compares the Java with
-- this predicate on the instances where the two readings differ (a named exclusion, docs/spec.md).
pred rootValidatesWithSelfMap[r: Frame] {
  r in Guest.owns
  all e: Index.(Guest.contents[r]) | e.target in Guest.owns and PS not in e.flags
    and (e.target = r implies RW not in e.flags)                                                    -- LIN-1, LIN-3
  all t: leafTables[r] - r, e: Index.(Guest.contents[t]) | e.target in Guest.owns and PS not in e.flags
    and (RW in e.flags implies e.target not in leafTables[r] + r)
  all f: Guest.owns | Guest.p2m[f] = f
}

-- One SWITCH_MMU in the first state, its outcome in the second.
pred oneSwitch { correct and Guest.p2m = identity and some Vcpu.requested and Vcpu.cr3 = Vcpu.requested
  after no Vcpu.requested }
-- The vCPU state that lets a switch reach PRE-2.
pred reachesPre2 { Vcpu.cpl0 = True and Vcpu.longMode = True and Vcpu.hypercallPage = True }

-- Any table and vCPU state (the run of the first session: in practice one owned frame, empty tables).
run switchTable { oneSwitch } for 4 but 2 Index, 3 Entry, 0 Linear, 2 steps expect 1
-- A root that validates, with a leaf table holding a writable entry: accepted, or refused by CPL or PRE-1 as the
-- vCPU state varies across the instances.
run switchValidTables {
  oneSwitch and rootValidates[Vcpu.requested, True]
  some t: leafTables[Vcpu.requested], e: Index.(Guest.contents[t]) | RW in e.flags
} for 4 but 2 Index, 3 Entry, 0 Linear, 2 steps expect 1
-- One run per PRE-2 reason, the vCPU state otherwise allowing the switch.
run switchRootForeign {
  oneSwitch and reachesPre2 and reasons[Vcpu.requested, True, False, False, False, False, False, False]
} for 4 but 2 Index, 3 Entry, 0 Linear, 2 steps expect 1
run switchRootEntryForeign {
  oneSwitch and reachesPre2 and reasons[Vcpu.requested, False, True, False, False, False, False, False]
} for 4 but 2 Index, 3 Entry, 0 Linear, 2 steps expect 1
run switchRootEntrySuperpage {
  oneSwitch and reachesPre2 and reasons[Vcpu.requested, False, False, True, False, False, False, False]
} for 4 but 2 Index, 3 Entry, 0 Linear, 2 steps expect 1
run switchWritableSelfEntry {
  -- a writable self-entry also maps the root writable through itself: leafEntryWritesATable holds with it
  oneSwitch and reachesPre2 and reasons[Vcpu.requested, False, False, False, True, False, False, True]
  some e: Index.(Guest.contents[Vcpu.requested]) | e.target = Vcpu.requested and RW in e.flags
} for 4 but 2 Index, 3 Entry, 0 Linear, 2 steps expect 1
run switchLeafEntryForeign {
  oneSwitch and reachesPre2 and reasons[Vcpu.requested, False, False, False, False, True, False, False]
} for 4 but 2 Index, 3 Entry, 0 Linear, 2 steps expect 1
run switchLeafEntrySuperpage {
  oneSwitch and reachesPre2 and reasons[Vcpu.requested, False, False, False, False, False, True, False]
} for 4 but 2 Index, 3 Entry, 0 Linear, 2 steps expect 1
run switchLeafWritesATable {
  oneSwitch and reachesPre2 and reasons[Vcpu.requested, False, False, False, False, False, False, True]
} for 4 but 2 Index, 3 Entry, 0 Linear, 2 steps expect 1
-- The named exclusion: a read-only self-entry, the root otherwise valid — refused here, accepted by the Java.
run switchReadOnlySelfMap {
  oneSwitch and reachesPre2 and rootSelfEntry[Vcpu.requested] and rootValidatesWithSelfMap[Vcpu.requested]
} for 4 but 2 Index, 3 Entry, 0 Linear, 2 steps expect 1
-- Two SWITCH_MMUs in one trace (states 0 and 2, the guest running in between, its CPL free to change): an accepted
-- switch followed by a refused one (a repeated switch, PRE-1), or a refused one followed by another attempt.
run switchTwice {
  correct and Guest.p2m = identity and rootValidates[Vcpu.requested, True]
  some Vcpu.requested and Vcpu.cr3 = Vcpu.requested and Vcpu.longMode = True and Vcpu.hypercallPage = True
  after (no Vcpu.requested and after (some Vcpu.requested and Vcpu.requested = Vcpu.cr3
    and after no Vcpu.requested))
} for 4 but 2 Index, 3 Entry, 0 Linear, 4 steps expect 1
