module xen/direct_paging

/*
 * Xen direct paging as a state machine (Alloy 6 mutable state): the frame table (owner, page type, validated,
 * pinned; type counts derived from the references), the contents of page-table frames, each domain's base pointer
 * (guest_table = CR3) and the writable translations its TLB may hold; the hypercalls as operations; and the
 * invariants isolation (I1) and page-table integrity (I2) of docs/invariants.md, with the TLB part of I6 (TLB-1).
 *
 * Sources: Xen mm.c (_get_page_type, _put_page_type, promote/demote, mod_lN_entry, do_mmu_update, do_mmuext_op,
 * __do_update_va_mapping), pv/ro-page-fault.c (ptwr), rules of docs/rules/xen.md: TYP-1..5, L1-1..3,
 * LN-1..3, SP-1, MU-1..5, MX-1..3, UVA-1, PTW-1..3, TLB-1, TLB-3, TLB-7. Java: org.hybridv.xen.DirectPaging,
 * PageTypes, org.hybridv.invariants.Isolation, TranslationIntegrity, TlbCoherence.
 *
 * Abstractions: one vCPU per domain; the type count of a frame is derived — the references Xen counts (TYP-4: one
 * per present entry of a validated table, plus a pin, plus a base pointer) — so "count > 0" is "referenced"; a
 * child table must be validated before an entry references it (the guest pins bottom-up, as Linux does); the entry
 * rules are those of xen/entry_rules (RW, US, PS; no linear page tables); the TLB holds only writable translations.
 *
 * Checking: the invariants are checked inductively (operationsPreserveInvariants: from ANY state satisfying them,
 * every operation yields a state satisfying them, 2 steps), which covers every reachable state at the scope; bounded
 * traces from boot of the length needed to build 4-level tables were too slow to solve here (docs/spec.md).
 */
-- solver: sat4j

open util/vocab
open xen/entry_rules

sig Index {}

-- The frame table's owner (static; a frame with no owner is Xen's or free).
one sig FrameTable { owner: Frame -> lone Domain }

-- The mutable state.
one sig Xen {
  var type: Frame -> one PageType,            -- type_info & PGT_type_mask
  var validated: set Frame,                   -- PGT_validated
  var pinned: set Frame,                      -- PGT_pinned
  var contents: Frame -> Index -> lone Entry, -- present entries of each frame (no entry = not present)
  var base: Domain -> lone Frame,             -- guest_table of the domain's vCPU (CR3)
  var tlbW: Domain -> Frame                   -- frames the domain's TLB may still write (TLB-1, TLB-7)
}

fun owner: Frame -> lone Domain { FrameTable.owner }

-- ---- derived state ----------------------------------------------------------------------------------------------

-- The type references on each frame (TYP-4): present entries of validated tables (an L1 entry only with RW, L1-3;
-- an L2..L4 entry always, LN-2), pins (MX-1) and base pointers (MX-3).
fun referenced: set Frame {
  Xen.pinned + Domain.(Xen.base)
  + { f: Frame | some t: Xen.validated, e: Index.(t.(Xen.contents)) |
        e.target = f and (Xen.type[t] = L1 implies RW in e.flags) }
}

-- t points at f: some entry of t references f; with RW when the entry has RW.
fun points: Frame -> Frame { { t, f: Frame | some t.(Xen.contents).target.f } }
fun pointsRW: Frame -> Frame { { t, f: Frame | some (t.(Xen.contents) :> flags.RW).target.f } }

-- The tables each page table references (L2..L4 entries).
fun childTables: Frame -> Frame { (Xen.type.(L2 + L3 + L4)) <: points }

-- The page tables reachable from d's base pointer, the frames its L1 entries map, and those it maps with write
-- permission (RW at every level, SDM 4.6; no superpages: SP-1).
fun tables[d: Domain]: set Frame { (Xen.base[d]).*childTables }
fun leaves[d: Domain]: set Frame { (tables[d] & Xen.type.L1).points }
fun mapsWritable[d: Domain]: set Frame { Xen.base[d].pointsRW.pointsRW.pointsRW.pointsRW }

-- ---- the invariants (docs/invariants.md) ----------------------------------------------------------------------

-- I1 Isolation (L1-2, LN-3; TLB-3 for the TLB): no table or leaf reachable from d's base pointer, and no frame d's
-- TLB may write, belongs to another domain or to Xen.
pred isolation {
  all d: Domain | owner[tables[d] + leaves[d] + Xen.tlbW[d]] in d
}

-- I2 Page-table integrity (TYP-1, TYP-4, L1-1..3, LN-1..3, SP-1): every table reachable from a base pointer or a
-- pin is validated with the type of its level; every entry of a validated table obeys the entry rules; no
-- translation grants write access to a frame in use as a page table.
pred integrity {
  all d: Domain | Xen.base[d] in Xen.validated and Xen.type[Xen.base[d]] in L4
  all f: Xen.pinned | f in Xen.validated
  all t: Xen.validated | Xen.type[t] in PageTables and all e: Index.(t.(Xen.contents)) |
    (Xen.type[t] = L1 implies (l1FlagsOk[e] and owner[e.target] = owner[t]
        and (RW in e.flags implies Xen.type[e.target] = Writable)))
      and (Xen.type[t] in L2 + L3 + L4 implies getPageFromLne[owner, Xen.type, Xen.validated, owner[t], Xen.type[t], e])
  no (Domain.mapsWritable & Xen.validated)
}

-- I6, TLB-1 part: no TLB entry may write a frame in use as a page table; stated in its inductive form, every frame
-- a TLB may write still has the WRITABLE type (a change to a page-table type flushed it, TLB-1).
pred tlbCoherence { Xen.type[Domain.(Xen.tlbW)] in Writable }

-- The frame table's bookkeeping (TYP-4, TYP-5): exactly the tables reachable from the pins and base pointers are
-- validated (a table stays validated while a type reference holds it).
pred bookkeeping { Xen.validated = (Xen.pinned + Domain.(Xen.base)).*childTables }

pred invariants { isolation and integrity and tlbCoherence and bookkeeping }

-- ---- the operations (one predicate each, explicit frame conditions) -----------------------------------------------

-- A seeded fault (docs/invariants.md "Teeth"): each replaces one named rule.
abstract sig Fault {}
one sig NoFlushOnTypeChange, SuperpageAccepted extends Fault {}
-- The faults planted in this run (none in the correct model).
one sig Planted { faults: set Fault }

-- The validated set after the references change: a validated table stays validated only while something still
-- references it, transitively from the pins and base pointers (TYP-5: the last type reference going devalidates,
-- demote drops the references of its entries, recursively).
pred revalidate[keep: set Frame] {
  Xen.validated' = keep & (Xen.pinned' + Domain.(Xen.base')).*(childTables')
}

-- TLB-1: a frame changing to a page-table type flushes every TLB (the flush in _get_page_type); with the seeded
-- fault the flush is skipped. Otherwise Xen does not flush for L1 changes (TLB-7).
pred typeChangeFlush[changed: set Frame] {
  (some changed and NoFlushOnTypeChange not in Planted.faults) implies no Xen.tlbW' else Xen.tlbW' = Xen.tlbW
}

-- The rule an L2..L4 entry must pass; with SuperpageAccepted, PS is not checked (SP-1 skipped).
pred lnEntryOk[d: Domain, t: PageType, e: Entry] {
  SuperpageAccepted in Planted.faults
    implies (owner[e.target] = d and e.target in Xen.validated and Xen.type[e.target] = child[t])
    else getPageFromLne[owner, Xen.type, Xen.validated, d, t, e]
}

-- mod_lN_entry (MU-2, MU-3): d stores entry nu (or clears the slot) at t[i], t a validated page table of d. An L1
-- entry passes get_page_from_l1e (a writable target becomes WRITABLE, TYP-2); an L2..L4 entry passes
-- get_page_from_lNe and the update flushes every TLB (MU-5, TLB-3).
-- modEntryPre is the precondition (the conformance check asks it of every d, t, i, nu); modEntry adds the effects.
pred modEntryPre[d: Domain, t: Frame, i: Index, nu: lone Entry] {
  owner[t] = d and t in Xen.validated and Xen.type[t] in PageTables           -- MU-1, MU-2
  Xen.type[t] = L1 implies modL1Entry[owner, Xen.type, referenced, d, t.(Xen.contents)[i], nu]  -- L1-1..3, fast path
  (Xen.type[t] in L2 + L3 + L4 and some nu) implies lnEntryOk[d, Xen.type[t], nu]           -- LN-1..3, SP-1
}
pred modEntry[d: Domain, t: Frame, i: Index, nu: lone Entry] {
  modEntryPre[d, t, i, nu]
  let old = t.(Xen.contents)[i] {
    Xen.type[t] = L1 implies {
      Xen.type' = Xen.type ++ { f: Frame, w: Writable | some nu and RW in nu.flags and f = nu.target }
      Xen.tlbW' = Xen.tlbW                                                   -- TLB-7: no flush for L1 changes
    }
    Xen.type[t] in L2 + L3 + L4 implies {
      Xen.type' = Xen.type
      no Xen.tlbW'                                                           -- MU-5
    }
  }
  Xen.contents' = Xen.contents - t -> i -> Entry + t -> i -> nu
  Xen.pinned' = Xen.pinned and Xen.base' = Xen.base
  revalidate[Xen.validated]
}

-- HYPERVISOR_mmu_update, MMU_NORMAL_PT_UPDATE (MU-1..3): d names a page table of its own and an index.
pred mmuUpdate[d: Domain, t: Frame, i: Index, nu: lone Entry] { modEntry[d, t, i, nu] }

-- HYPERVISOR_update_va_mapping (UVA-1): the L1 holding the PTE is found through d's current tables.
pred updateVaMapping[d: Domain, t: Frame, i: Index, nu: lone Entry] {
  t in tables[d] and Xen.type[t] = L1
  modEntry[d, t, i, nu]
}

-- Writable page-table emulation (PTW-1..3): a kernel write #PF on an L1 that d maps read-only is emulated as an
-- L1 update validated like MU-3.
pred ptwrEmulate[d: Domain, t: Frame, i: Index, nu: lone Entry] {
  t in leaves[d] and t not in mapsWritable[d] and Xen.type[t] = L1             -- PTW-1
  modEntry[d, t, i, nu]                                                       -- PTW-3
}

-- The entries of frame f all pass the rules for type ty (PRO-1, promote_lN_table).
pred promotable[d: Domain, f: Frame, ty: PageType] {
  all e: Index.(f.(Xen.contents)) {
    (ty = L1 implies getPageFromL1e[owner, Xen.type ++ f -> ty, referenced + f, d, e])  -- f is already ty (TYP-3)
    (ty in L2 + L3 + L4 implies lnEntryOk[d, ty, e])
  }
}

-- MMUEXT_PIN_Ln_TABLE (MX-1): f is d's and not pinned; get_page_type(f, ty): in use as ty already, or unused and
-- then promoted (TYP-2, TYP-3: the type changes, validation of every entry; the L1's writable targets become
-- WRITABLE) with the TLB-1 flush when the type changes.
-- pinPre is the precondition (the conformance check asks it of every d, f, ty); pin adds the effects.
pred pinPre[d: Domain, f: Frame, ty: PageType] {
  ty in PageTables and owner[f] = d and f not in Xen.pinned
  f in Xen.validated implies Xen.type[f] = ty else (f not in referenced and promotable[d, f, ty])
}
pred pin[d: Domain, f: Frame, ty: PageType] {
  pinPre[d, f, ty]
  f in Xen.validated implies {
    Xen.type' = Xen.type and Xen.tlbW' = Xen.tlbW
  } else {
    Xen.type' = Xen.type ++ f -> ty ++ { g: Frame, w: Writable | ty = L1 and some e: Index.(f.(Xen.contents)) |
      RW in e.flags and g = e.target }
    typeChangeFlush[{ g: Frame | g = f and Xen.type[f] != ty }]
  }
  Xen.pinned' = Xen.pinned + f
  Xen.contents' = Xen.contents and Xen.base' = Xen.base
  revalidate[Xen.validated + f]
}

-- MMUEXT_UNPIN_TABLE (MX-2): the pin's type reference goes; the table may be devalidated (TYP-5).
-- unpinPre is the precondition (the conformance check asks it of every d, f); unpin adds the effects.
pred unpinPre[d: Domain, f: Frame] { owner[f] = d and f in Xen.pinned }
pred unpin[d: Domain, f: Frame] {
  unpinPre[d, f]
  Xen.pinned' = Xen.pinned - f
  Xen.type' = Xen.type and Xen.contents' = Xen.contents and Xen.base' = Xen.base and Xen.tlbW' = Xen.tlbW
  revalidate[Xen.validated]
}

-- MMUEXT_NEW_BASEPTR (MX-3, new_guest_cr3): f is a validated L4 of d; the CR3 load flushes d's TLB (TLB-4).
-- newBaseptrPre is the precondition (the conformance check asks it of every d, f); newBaseptr adds the effects.
pred newBaseptrPre[d: Domain, f: Frame] { owner[f] = d and f in Xen.validated and Xen.type[f] = L4 }
pred newBaseptr[d: Domain, f: Frame] {
  newBaseptrPre[d, f]
  Xen.base' = Xen.base ++ d -> f
  Xen.tlbW' = Xen.tlbW - d -> Frame
  Xen.type' = Xen.type and Xen.contents' = Xen.contents and Xen.pinned' = Xen.pinned
  revalidate[Xen.validated]
}

-- The guest runs: its TLB caches writable translations of its current tables (SDM 4.10.2).
pred tlbFill[d: Domain] {
  Xen.tlbW' = Xen.tlbW + d -> mapsWritable[d]
  Xen.type' = Xen.type and Xen.validated' = Xen.validated and Xen.pinned' = Xen.pinned
  Xen.contents' = Xen.contents and Xen.base' = Xen.base
}

pred stutter {
  Xen.type' = Xen.type and Xen.validated' = Xen.validated and Xen.pinned' = Xen.pinned
  Xen.contents' = Xen.contents and Xen.base' = Xen.base and Xen.tlbW' = Xen.tlbW
}

-- The initial state: frames of any type and contents (the domain builder's memory), nothing in use, empty TLBs.
pred init {
  no Xen.validated and no Xen.pinned and no Xen.base and no Xen.tlbW
}

-- One step of the system. update_va_mapping and ptwr emulation are mmu_update with stronger preconditions (UVA-1,
-- PTW-1), so their steps are among mmu_update's; the step lists mmu_update once (runs below show the others enabled).
pred step {
  stutter
    or (some d: Domain, t: Frame, i: Index | mmuUpdate[d, t, i, none] or (some nu: Entry | mmuUpdate[d, t, i, nu]))
    or (some d: Domain, f: Frame, ty: PageType | pin[d, f, ty])
    or (some d: Domain, f: Frame | unpin[d, f] or newBaseptr[d, f])
    or (some d: Domain | tlbFill[d])
}

-- The behaviours: from boot, one step at a time. (Not a fact: the inductive check starts from any state.)
pred behaviour { init and always step }

-- ---- checks ----------------------------------------------------------------------------------------------------

pred correct { no Planted.faults }

-- The boot state establishes the invariants, and every operation preserves them (inductively: from any state
-- satisfying them, not only from the states reachable in a bounded number of steps).
assert initEstablishesInvariants { init implies invariants }
check initEstablishesInvariants for 5 but 2 Domain, 1 Index, 3 Entry, 1 steps expect 0
assert operationsPreserveInvariants { (correct and invariants and step) implies after invariants }
check operationsPreserveInvariants for 4 but 2 Domain, 1 Index, 3 Entry, 2 steps expect 0

-- Non-vacuity: the inductive check is not vacuous — a state with a domain running on 4-level tables takes a step,
-- and one with a writable mapping in a TLB; each operation is enabled; and from boot a table gets pinned.
run fourLevelTablesInUse {
  correct and invariants and step and (some d: Domain | some (tables[d] & Xen.type.L1))
} for 4 but 2 Domain, 1 Index, 3 Entry, 2 steps expect 1
run writableMappingCached {
  correct and invariants and step and (some d: Domain | some Xen.tlbW[d] and some mapsWritable[d])
} for 5 but 2 Domain, 1 Index, 4 Entry, 2 steps expect 1
run updateVaMappingEnabled {
  correct and invariants and (some d: Domain, t: Frame, i: Index, nu: Entry | updateVaMapping[d, t, i, nu])
} for 4 but 2 Domain, 1 Index, 3 Entry, 2 steps expect 1
run ptwrEmulateEnabled {
  correct and invariants and (some d: Domain, t: Frame, i: Index, nu: Entry | ptwrEmulate[d, t, i, nu])
} for 4 but 2 Domain, 1 Index, 3 Entry, 2 steps expect 1
run bootPinsATable { correct and behaviour and eventually some Xen.pinned } for 3 but 1 Domain, 1 Index, 2 Entry, 1..3 steps expect 1

-- Seeded faults, each breaking the preservation of the invariants by one step:
-- a superpage accepted without checks (SP-1 skipped) breaks I2;
assert bugSuperpageAcceptedPreservesInvariants {
  (Planted.faults = SuperpageAccepted and invariants and step) implies after invariants
}
check bugSuperpageAcceptedPreservesInvariants for 4 but 2 Domain, 1 Index, 2 Entry, 2 steps expect 1
-- a type change to a page table without the TLB-1 flush leaves a writable TLB entry to a page table (I6).
assert bugNoFlushOnTypeChangePreservesInvariants {
  (Planted.faults = NoFlushOnTypeChange and invariants and step) implies after invariants
}
check bugNoFlushOnTypeChangePreservesInvariants for 4 but 2 Domain, 1 Index, 2 Entry, 2 steps expect 1

-- Conformance (DirectPagingConformance): single pin steps from a state satisfying the invariants; each instance's
-- pre-state is replayed through the Java reference, which must accept exactly the (d, f, ty) of pinPre and, for the
-- pin taken, reach the instance's next state (types, validated, pinned, the TLB-1 flush). Alloy's enumeration of a
-- temporal run varies the mutable state of one configuration (owner, entries), so three runs fix three shapes: any
-- pin, a pin that promotes a table with contents, a pin of a table already in use.
-- The configuration of the conformance runs: a superpage entry, a writable one, and one to a frame of another
-- domain or of none (so that SP-1, L1-3/TYP-1 and the owner rules L1-2/LN-3 all have something to refuse).
pred conformanceConfig {
  some e: Entry | PS in e.flags
  some e: Entry | RW in e.flags and PS not in e.flags
  some e: Entry, f: Frame | owner[e.target] != owner[f]
}
run pinTable { correct and invariants and conformanceConfig and some Xen.validated and some d: Domain, f: Frame, ty: PageType | pin[d, f, ty] }
  for 3 but exactly 3 Frame, exactly 2 Domain, 1 Index, 3 Entry, 2 steps expect 1
run pinPromotes {
  correct and invariants and conformanceConfig and some d: Domain, f: Frame, ty: PageType |
    pin[d, f, ty] and f not in Xen.validated and some f.(Xen.contents)
} for 3 but exactly 3 Frame, exactly 2 Domain, 1 Index, 3 Entry, 2 steps expect 1
run pinValidated {
  correct and invariants and conformanceConfig and some d: Domain, f: Frame, ty: PageType | pin[d, f, ty] and f in Xen.validated
} for 3 but exactly 3 Frame, exactly 2 Domain, 1 Index, 3 Entry, 2 steps expect 1

-- Single mmu_update steps (MU-1..3, MU-5), the same way: any update of a page table, and one that stores a present
-- entry in an L2..L4 table.
run mmuUpdateTable {
  correct and invariants and conformanceConfig and some d: Domain, t: Frame, i: Index, nu: lone Entry | mmuUpdate[d, t, i, nu]
} for 3 but exactly 3 Frame, exactly 2 Domain, 1 Index, 3 Entry, 2 steps expect 1
run mmuUpdateLn {
  correct and invariants and conformanceConfig and some d: Domain, t: Frame, i: Index, nu: Entry |
    mmuUpdate[d, t, i, nu] and Xen.type[t] in L2 + L3 + L4
} for 3 but exactly 3 Frame, exactly 2 Domain, 1 Index, 3 Entry, 2 steps expect 1

-- A validated L2 or L3 table and a superpage entry that would pass every other rule there (the table's domain, a
-- validated table of the child level): the candidate update only SP-1 refuses. The first instances of the runs above
-- held no such pair.
run mmuUpdateSuperpage {
  correct and invariants and conformanceConfig
  some d: Domain, t: Frame, i: Index | mmuUpdate[d, t, i, none] or (some nu: Entry | mmuUpdate[d, t, i, nu])
  some t: Xen.validated, nu: Entry | Xen.type[t] in L2 + L3 and PS in nu.flags and some owner[t]
    and owner[nu.target] = owner[t]
    and nu.target in Xen.validated and Xen.type[nu.target] = child[Xen.type[t]]
} for 3 but exactly 3 Frame, exactly 2 Domain, 1 Index, 3 Entry, 2 steps expect 1

-- Single unpin steps (MX-2, TYP-5: the table may lose its validation) and single NEW_BASEPTR steps (MX-3, TLB-4),
-- the same way; the base pointer run with a writable translation cached, so that the flush is visible.
run unpinTable {
  correct and invariants and conformanceConfig and some d: Domain, f: Frame | unpin[d, f] and some f.(Xen.contents)
} for 3 but exactly 3 Frame, exactly 2 Domain, 1 Index, 3 Entry, 2 steps expect 1
run newBaseptrTable {
  correct and invariants and conformanceConfig and some d: Domain, f: Frame | newBaseptr[d, f] and some Xen.tlbW[d]
} for 3 but exactly 3 Frame, exactly 2 Domain, 1 Index, 3 Entry, 2 steps expect 1

-- ---- vacuity: each check's premise is satisfiable at the check's scope (docs/spec.md, "Vacuity") -------------
run initEstablishesInvariantsPremise { init and some Xen.contents } for 5 but 2 Domain, 1 Index, 3 Entry, 1 steps expect 1
run operationsPreserveInvariantsPremise { correct and invariants and step and some Xen.validated }
  for 4 but 2 Domain, 1 Index, 3 Entry, 2 steps expect 1
run bugSuperpageAcceptedPreservesInvariantsPremise {
  Planted.faults = SuperpageAccepted and invariants and step and some Xen.validated
} for 4 but 2 Domain, 1 Index, 2 Entry, 2 steps expect 1
run bugNoFlushOnTypeChangePreservesInvariantsPremise {
  Planted.faults = NoFlushOnTypeChange and invariants and step and some Xen.validated
} for 4 but 2 Domain, 1 Index, 2 Entry, 2 steps expect 1
