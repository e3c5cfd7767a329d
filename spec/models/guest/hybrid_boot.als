module guest/hybrid_boot

/*
 * The boot of the hybrid kernel as a temporal model: real mode → protected mode → long mode, then — when a
 * hypervisor is present — detection through CPUID, the hypercall page, and SWITCH_MMU; without one, the same kernel
 * continues as a native kernel. Safety: no hypercall before the hypercall page is installed; SWITCH_MMU at most once
 * and only after it. Progress: under weak fairness, a kernel on a hypervisor eventually runs in direct mode, and a
 * native kernel eventually finishes booting without ever issuing a hypercall.
 *
 * Sources: the seed (J. Nakajima, "The Next Generation of XenLinux", 2007); docs/rules/hybrid.md: BOOT-1 (CPU
 * modes, SDM 9.8.5 sequence), BOOT-2 and BOOT-3 (hv_present, hv_detected, hypercall_page_installed; CPUID leaf
 * 0x40000000, the hypercall MSR), BOOT-5 (the order), PRE-1 (SWITCH_MMU at CPL 0 in long mode after the hypercall page, once). Java:
 * org.hybridv.guest (boot stages), org.hybridv.xen.CpuidLeaves, HypercallPage.
 */
-- solver: sat4j

open util/vocab

-- The CPU mode states of BOOT-1 (PAGED32/PAE folded into the step to long mode).
abstract sig Stage {}
one sig RealMode, ProtectedMode, LongMode extends Stage {}

one sig Machine { hypervisorPresent: one Bool }   -- CPUID.1:ECX[31] (hv_present), fixed for the boot

one sig Kernel {
  var stage: one Stage,
  var detected: one Bool,          -- hv_detected: CPUID 0x40000000 returned "XenVMMXenVMM"
  var hypercallPage: one Bool,     -- hypercall_page_installed (WRMSR of the Xen MSR)
  var mmu: one MmuMode,            -- shadow until SWITCH_MMU, then direct
  var native: one Bool             -- booted as a native kernel (no hypervisor found)
}

-- Events, recorded so that safety properties can talk about them.
abstract sig Event {}
one sig EnterProtected, EnterLong, DetectHypervisor, InstallHypercallPage, Hypercall, SwitchMmu, FinishNative
  extends Event {}
one sig Trace { var happened: lone Event }

-- The seeded fault: the kernel issues SWITCH_MMU as soon as it has detected the hypervisor, before installing the
-- hypercall page (it would have to hand-write the VMCALL stub; BOOT-3 makes the page the prerequisite).
abstract sig Fault {}
one sig SwitchBeforeHypercallPage extends Fault {}
one sig Planted { faults: set Fault }

pred keep[e: Event] {
  Trace.happened' = e
}
pred frame[stage0: Stage, det: Bool, hp: Bool, mmu0: MmuMode, nat: Bool] {
  Kernel.stage' = stage0 and Kernel.detected' = det and Kernel.hypercallPage' = hp
  Kernel.mmu' = mmu0 and Kernel.native' = nat
}

-- MOV CR0.PE = 1 (BOOT-1).
pred enterProtected {
  Kernel.stage = RealMode
  frame[ProtectedMode, Kernel.detected, Kernel.hypercallPage, Kernel.mmu, Kernel.native]
  keep[EnterProtected]
}
-- SDM 9.8.5: PAE, CR3, EFER.LME, CR0.PG.
pred enterLong {
  Kernel.stage = ProtectedMode
  frame[LongMode, Kernel.detected, Kernel.hypercallPage, Kernel.mmu, Kernel.native]
  keep[EnterLong]
}
-- CPUID 0x40000000: finds Xen iff a hypervisor is present (hv_detected).
pred detectHypervisor {
  Kernel.stage = LongMode and Kernel.detected = False and Kernel.native = False
  Machine.hypervisorPresent = True
  frame[Kernel.stage, True, Kernel.hypercallPage, Kernel.mmu, Kernel.native]
  keep[DetectHypervisor]
}
-- WRMSR(0x40000000, gpa | 0): Xen writes the stubs (guest_wrmsr_xen).
pred installHypercallPage {
  Kernel.detected = True and Kernel.hypercallPage = False
  frame[Kernel.stage, Kernel.detected, True, Kernel.mmu, Kernel.native]
  keep[InstallHypercallPage]
}
-- Any other hypercall through the page (CPL 0, hvm_hypercall; XSA-76).
pred hypercall {
  Kernel.hypercallPage = True
  frame[Kernel.stage, Kernel.detected, Kernel.hypercallPage, Kernel.mmu, Kernel.native]
  keep[Hypercall]
}
-- SWITCH_MMU (PRE-1): long mode, hypercall page, still in shadow mode.
pred switchMmu {
  Kernel.stage = LongMode and Kernel.mmu = Shadow
  SwitchBeforeHypercallPage in Planted.faults implies Kernel.detected = True else Kernel.hypercallPage = True
  frame[Kernel.stage, Kernel.detected, Kernel.hypercallPage, Direct, Kernel.native]
  keep[SwitchMmu]
}
-- Native fallback: in long mode, CPUID finds no hypervisor; the kernel continues as a native kernel.
pred finishNative {
  Kernel.stage = LongMode and Machine.hypervisorPresent = False and Kernel.native = False
  frame[Kernel.stage, Kernel.detected, Kernel.hypercallPage, Kernel.mmu, True]
  keep[FinishNative]
}
pred idle {
  frame[Kernel.stage, Kernel.detected, Kernel.hypercallPage, Kernel.mmu, Kernel.native]
  no Trace.happened'
}

pred init {
  Kernel.stage = RealMode and Kernel.detected = False and Kernel.hypercallPage = False
  Kernel.mmu = Shadow and Kernel.native = False and no Trace.happened
}

fact behaviour {
  init
  always (enterProtected or enterLong or detectHypervisor or installHypercallPage or hypercall or switchMmu
    or finishNative or idle)
}

-- Weak fairness of the boot steps: a step enabled forever eventually happens.
pred fairness {
  (eventually always (Kernel.stage = RealMode)) implies (always eventually Trace.happened = EnterProtected)
  (eventually always (Kernel.stage = ProtectedMode)) implies (always eventually Trace.happened = EnterLong)
  (eventually always (Kernel.stage = LongMode and Kernel.detected = False and Kernel.native = False
    and Machine.hypervisorPresent = True)) implies (always eventually Trace.happened = DetectHypervisor)
  (eventually always (Kernel.detected = True and Kernel.hypercallPage = False))
    implies (always eventually Trace.happened = InstallHypercallPage)
  (eventually always (Kernel.stage = LongMode and Kernel.mmu = Shadow and Kernel.hypercallPage = True))
    implies (always eventually Trace.happened = SwitchMmu)
  (eventually always (Kernel.stage = LongMode and Machine.hypervisorPresent = False and Kernel.native = False))
    implies (always eventually Trace.happened = FinishNative)
}

pred correct { no Planted.faults }

-- Safety: no hypercall, and no SWITCH_MMU, before the hypercall page is installed.
assert noHypercallBeforeHypercallPage {
  correct implies always (some (Trace.happened' & (Hypercall + SwitchMmu)) implies Kernel.hypercallPage = True)
}
check noHypercallBeforeHypercallPage for 1 but 1..8 steps expect 0

-- Safety: SWITCH_MMU at most once.
assert switchMmuOnlyOnce {
  correct implies always (Trace.happened = SwitchMmu implies after always Trace.happened != SwitchMmu)
}
check switchMmuOnlyOnce for 1 but 1..8 steps expect 0

-- Progress: with a hypervisor, under fairness, the kernel eventually runs in direct mode.
assert hybridBootCompletes {
  (correct and fairness and Machine.hypervisorPresent = True) implies eventually Kernel.mmu = Direct
}
check hybridBootCompletes for 1 but 1..8 steps expect 0

-- Native fallback: without a hypervisor, under fairness, the kernel finishes as a native kernel and never issues a
-- hypercall.
assert nativeBootCompletes {
  (correct and fairness and Machine.hypervisorPresent = False)
    implies (eventually Kernel.native = True and always Trace.happened != Hypercall)
}
check nativeBootCompletes for 1 but 1..8 steps expect 0

-- Non-vacuity: a full hybrid boot, and a native one.
run hybridBoot { correct and eventually (Kernel.mmu = Direct and Trace.happened = Hypercall) } for 1 but 1..8 steps expect 1
run nativeBoot { correct and eventually Kernel.native = True } for 1 but 1..8 steps expect 1

-- Seeded fault caught by the safety property.
assert bugSwitchBeforeHypercallPageIsSafe {
  Planted.faults = SwitchBeforeHypercallPage
    implies always (some (Trace.happened' & (Hypercall + SwitchMmu)) implies Kernel.hypercallPage = True)
}
check bugSwitchBeforeHypercallPageIsSafe for 1 but 1..8 steps expect 1

-- ---- vacuity: each check's premise is satisfiable at the check's scope (docs/spec.md, "Vacuity") -------------
run noHypercallBeforeHypercallPagePremise {
  correct and eventually some (Trace.happened' & (Hypercall + SwitchMmu))
} for 1 but 1..8 steps expect 1
run switchMmuOnlyOncePremise { correct and eventually Trace.happened = SwitchMmu } for 1 but 1..8 steps expect 1
run hybridBootCompletesPremise { correct and fairness and Machine.hypervisorPresent = True }
  for 1 but 1..8 steps expect 1
run nativeBootCompletesPremise { correct and fairness and Machine.hypervisorPresent = False }
  for 1 but 1..8 steps expect 1
run bugSwitchBeforeHypercallPageIsSafePremise {
  Planted.faults = SwitchBeforeHypercallPage and eventually some (Trace.happened' & (Hypercall + SwitchMmu))
} for 1 but 1..8 steps expect 1
