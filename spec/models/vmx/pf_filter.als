module vmx/pf_filter

/*
 * The VM-exit decision for a page fault in VMX non-root operation, and which faults each MMU mode's hypervisor
 * must see.
 *
 * Sources: Intel SDM Vol. 3C §24.6.3 (exception bitmap, PFEC_MASK, PFEC_MATCH), §25.2 (exceptions cause VM exits
 * by the bitmap); Vol. 3A §4.7 (error-code bits); docs/rules/hybrid.md CTL-1 (the seed's filter), CTL-2 (the pitfall);
 * docs/hypervisor.md "The direct-mode #PF filter". Java: org.hybridv.vmx.ExceptionExits.pageFaultExits,
 * org.hybridv.xen.VmcsSetup (shadow, direct, hap).
 *
 * The project's direct-mode filter is MASK = P|W/R|U/S, MATCH = P|W/R (only a supervisor write to a present page
 * exits: the ptwr case), not the seed's MASK = U/S, MATCH = 0 (every supervisor fault exits). Both are modelled;
 * both satisfy safeFilter[Direct]; only the project's keeps supervisor reads and not-present faults in the guest.
 */
-- solver: minisat

open util/vocab

-- An error code: a set of bits (SDM 4.7). One free atom in a check stands for every one of the 64 codes.
sig ErrorCode { bits: set EcBit }

-- The #PF-related VMCS execution controls (SDM 24.6.3; Java ExecutionControls.exceptionBitmap/pfecMask/pfecMatch).
abstract sig Controls {
  bit14: one Bool,          -- exception bitmap bit 14 (#PF)
  pfecMask: set EcBit,      -- PFEC_MASK
  pfecMatch: set EcBit      -- PFEC_MATCH
}

-- The seed's configuration (CTL-1, docs/rules/hybrid.md): bit 14 = 1, MASK = U/S, MATCH = 0.
one sig SeedControls extends Controls {}
-- The project's per-mode choices (Java VmcsSetup.shadow / direct / hap).
one sig ShadowControls, DirectControls, HapControls extends Controls {}
-- Any other configuration: free, for the SDM truth table, the seeded bugs and the conformance enumeration.
sig AnyControls extends Controls {}

fact namedControls {
  -- the seed's filter (weighed against the project's in CTL-1): EB[14] = 1, PFEC_MASK = 0x4 (U/S), PFEC_MATCH = 0
  SeedControls.bit14 = True and SeedControls.pfecMask = US and no SeedControls.pfecMatch
  -- VmcsSetup.shadow (Xen construct_vmcs without HAP, vmcs.c ~1275, ~1329): every #PF exits
  ShadowControls.bit14 = True and no ShadowControls.pfecMask and no ShadowControls.pfecMatch
  -- VmcsSetup.direct: DIRECT_PFEC_MASK = P|W/R|U/S, DIRECT_PFEC_MATCH = P|W/R
  DirectControls.bit14 = True and DirectControls.pfecMask = P + WR + US and DirectControls.pfecMatch = P + WR
  -- VmcsSetup.hap (HAP-5): bit 14 = 0 with MASK = MATCH = 0, so the equality always holds and nothing exits
  HapControls.bit14 = False and no HapControls.pfecMask and no HapControls.pfecMatch
}

-- The project's choice per mode.
fun chosen: MmuMode -> one Controls {
  Shadow -> ShadowControls + Direct -> DirectControls + Hap -> HapControls
}

-- SDM 24.6.3: "Consider the following equality: (PFEC AND PFEC_MASK) = PFEC_MATCH. If the equality holds, a page
-- fault causes a VM exit if bit 14 of the exception bitmap is 1 … If the equality does not hold, a page fault
-- causes a VM exit if bit 14 of the exception bitmap is 0." (Java ExceptionExits.pageFaultExits)
pred equality[c: Controls, e: ErrorCode] { e.bits & c.pfecMask = c.pfecMatch }
pred exits[c: Controls, e: ErrorCode] { equality[c, e] implies c.bit14 = True else c.bit14 = False }

-- Fault classes by error code (SDM 4.7): a supervisor-mode fault has U/S = 0; a write-protection fault on a
-- present page has P = 1 and W/R = 1.
pred supervisorFault[e: ErrorCode] { US not in e.bits }
pred supervisorWriteProtectionFault[e: ErrorCode] { P + WR in e.bits and US not in e.bits }

-- Which faults each mode's hypervisor must see (CTL-1, PTW-1, SH-3, HAP-5):
--   shadow: every fault (the shadow tables are filled on #PF; SH-3 reflects the rest);
--   direct with write-protected page tables: at least the supervisor write-protection faults (PTW-1, the ptwr
--     path: a kernel write to its own read-only page table is emulated by Xen);
--   HAP: none (the guest owns its tables; EPT violations are separate exits, HAP-5).
pred safeFilter[m: MmuMode, c: Controls] {
  m = Shadow implies (all e: ErrorCode | exits[c, e])
  m = Direct implies (all e: ErrorCode | supervisorWriteProtectionFault[e] implies exits[c, e])
  m = Hap implies (no e: ErrorCode | exits[c, e])
}

-- The hybrid design's efficiency goal (seed; CTL-1 "user-mode #PF do not exit"): in direct mode
-- no user-mode fault exits.
pred userFaultsBypass[c: Controls] { all e: ErrorCode | US in e.bits implies not exits[c, e] }

-- The seed's filter exits exactly the supervisor-mode faults (CTL-1; error codes 6 and 7 stay in the guest, 2 exits).
assert seedExitsExactlySupervisorFaults { all e: ErrorCode | exits[SeedControls, e] iff supervisorFault[e] }
check seedExitsExactlySupervisorFaults for 0 AnyControls, 2 ErrorCode, 0 Frame, 0 Domain expect 0

-- The project's chosen controls satisfy safeFilter in every mode.
assert projectFiltersAreSafe { all m: MmuMode | safeFilter[m, chosen[m]] }
check projectFiltersAreSafe for 0 AnyControls, 2 ErrorCode, 0 Frame, 0 Domain expect 0

-- The seed's filter is safe for direct mode too (it exits more: every supervisor fault).
assert seedFilterIsSafeForDirect { safeFilter[Direct, SeedControls] }
check seedFilterIsSafeForDirect for 0 AnyControls, 2 ErrorCode, 0 Frame, 0 Domain expect 0

-- The project's direct filter keeps user faults in the guest and exits exactly supervisor writes to present pages
-- (docs/invariants.md I7-filter).
assert directFilterExitsExactlySupervisorPresentWrites {
  userFaultsBypass[DirectControls]
  all e: ErrorCode | exits[DirectControls, e] iff supervisorWriteProtectionFault[e]
}
check directFilterExitsExactlySupervisorPresentWrites for 0 AnyControls, 2 ErrorCode, 0 Frame, 0 Domain expect 0

-- Non-vacuity: each decision is reachable under each named configuration that allows it.
run someFaultExitsUnderDirect { some e: ErrorCode | exits[DirectControls, e] }
  for 0 AnyControls, 1 ErrorCode, 0 Frame, 0 Domain expect 1
run someFaultStaysInTheGuestUnderDirect { some e: ErrorCode | not exits[DirectControls, e] and not supervisorFault[e] }
  for 0 AnyControls, 1 ErrorCode, 0 Frame, 0 Domain expect 1
-- The SDM truth table: with bit 14 = 0 a fault that does not match exits (the pitfall of CTL-2).
run mismatchExitsWithBit14Clear { some c: AnyControls, e: ErrorCode | c.bit14 = False and not equality[c, e] and exits[c, e] }
  for 1 AnyControls, 1 ErrorCode, 0 Frame, 0 Domain expect 1

-- The conformance enumeration (org.hybridv.spec.conformance.PfFilterConformance): every error code (6 bits) ×
-- every PFEC_MASK and PFEC_MATCH over P|W/R|U/S × bit 14: 64 × 8 × 8 × 2 = 8192 instances.
run filterTable { some AnyControls and (AnyControls.pfecMask + AnyControls.pfecMatch) in P + WR + US }
  for exactly 1 AnyControls, exactly 1 ErrorCode, 0 Frame, 0 Domain expect 1

-- Seeded bug (docs/invariants.md "Teeth": VmcsSetup.DIRECT_PFEC_MASK without U/S): MASK = MATCH = P|W/R makes every
-- write to a present page exit, user writes included — safe, but user faults no longer bypass the hypervisor.
pred maskWithoutUs[c: Controls] { c.bit14 = True and c.pfecMask = P + WR and c.pfecMatch = P + WR }
assert bugMaskWithoutUsKeepsUserFaultsInTheGuest { all c: AnyControls | maskWithoutUs[c] implies userFaultsBypass[c] }
check bugMaskWithoutUsKeepsUserFaultsInTheGuest for 1 AnyControls, 1 ErrorCode, 0 Frame, 0 Domain expect 1

-- Seeded bug: U/S put into MATCH as well (MATCH = P|W/R|U/S): only user writes exit, kernel page-table writes are
-- delivered to the guest, so the ptwr path never runs — safeFilter[Direct] is violated.
pred matchWithUs[c: Controls] { c.bit14 = True and c.pfecMask = P + WR + US and c.pfecMatch = P + WR + US }
assert bugMatchWithUsIsSafeForDirect { all c: AnyControls | matchWithUs[c] implies safeFilter[Direct, c] }
check bugMatchWithUsIsSafeForDirect for 1 AnyControls, 1 ErrorCode, 0 Frame, 0 Domain expect 1

-- Seeded bug (the pitfall of CTL-2): HAP with bit 14 = 0 but MASK = MATCH = P; with bit 14 = 0 a
-- MISmatch exits, so every not-present fault exits — safeFilter[Hap] is violated.
pred hapWithStaleMatch[c: Controls] { c.bit14 = False and c.pfecMask = P and c.pfecMatch = P }
assert bugHapWithStaleMatchIsSafe { all c: AnyControls | hapWithStaleMatch[c] implies safeFilter[Hap, c] }
check bugHapWithStaleMatchIsSafe for 1 AnyControls, 1 ErrorCode, 0 Frame, 0 Domain expect 1

-- ---- vacuity: each check's premise is satisfiable at the check's scope (docs/spec.md, "Vacuity"); the checks
-- quantify over every error code, so the premise is that both sides of each equivalence occur among them.
run seedExitsExactlySupervisorFaultsPremise {
  some e1, e2: ErrorCode | supervisorFault[e1] and not supervisorFault[e2]
} for 0 AnyControls, 2 ErrorCode, 0 Frame, 0 Domain expect 1
run projectFiltersAreSafePremise { some e: ErrorCode | supervisorWriteProtectionFault[e] }
  for 0 AnyControls, 2 ErrorCode, 0 Frame, 0 Domain expect 1
run seedFilterIsSafeForDirectPremise { some e: ErrorCode | supervisorWriteProtectionFault[e] }
  for 0 AnyControls, 2 ErrorCode, 0 Frame, 0 Domain expect 1
run directFilterExitsExactlySupervisorPresentWritesPremise {
  some e1, e2: ErrorCode | supervisorWriteProtectionFault[e1] and not supervisorWriteProtectionFault[e2]
} for 0 AnyControls, 2 ErrorCode, 0 Frame, 0 Domain expect 1
run bugMaskWithoutUsKeepsUserFaultsInTheGuestPremise { some c: AnyControls | maskWithoutUs[c] }
  for 1 AnyControls, 1 ErrorCode, 0 Frame, 0 Domain expect 1
run bugMatchWithUsIsSafeForDirectPremise { some c: AnyControls | matchWithUs[c] }
  for 1 AnyControls, 1 ErrorCode, 0 Frame, 0 Domain expect 1
run bugHapWithStaleMatchIsSafePremise { some c: AnyControls | hapWithStaleMatch[c] }
  for 1 AnyControls, 1 ErrorCode, 0 Frame, 0 Domain expect 1
