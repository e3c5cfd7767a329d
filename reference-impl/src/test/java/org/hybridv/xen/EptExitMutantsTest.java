package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.Hv.H;

import org.hybridv.ept.EptEntry;
import org.hybridv.ept.EptMisconfiguration;
import org.hybridv.ept.EptMisconfigurations;
import org.hybridv.ept.EptPageWalk;
import org.hybridv.ept.EptPermissions;
import org.hybridv.ept.EptSupport;
import org.hybridv.ept.EptVisitedEntry;
import org.hybridv.ept.Eptp;
import org.hybridv.invariants.ExitCorrectness;
import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.InterruptionInfo;
import org.hybridv.x86.Access;
import org.hybridv.x86.Level;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Mutants of the EPT decisions of {@code org.hybridv.ept} against I7. The old I7 judged an EPT exit only by
 * "EPT is on", so every one of these steps held. The restated I7 ({@code ExitCorrectness.eptAccess} over its own
 * statement of SDM Vol. 3C §28.2 in {@code invariants.EptRules}) walks the EPT paging structures itself and reports
 * each as {@code I7-ept}. Each test shows the slip on its input, checks that the reference's own step holds (and, where
 * the SDM fixes it, what the exit must be, worked out by hand from table 27-7), and that the mutant's step is reported.
 *
 * <p>The HAP vCPU H of {@link Hv}: guest tables at gfn 0 → 1 → 2 → 3, the guest L1 maps gfn 4 at VA 0x4000 (RW,
 * supervisor); the EPT (EPTP bit 6 = 0, no EPT A/D) maps gfn i → frame 0x30 + i RWX, all under one EPT PDE.
 */
class EptExitMutantsTest {
    static final int MAXPHY = XenMachine.MAX_PHYS_ADDR;

    static Eptp eptp(XenMachine m) {
        return new Eptp(m.vcpu(H).vmcs().controls().eptp());
    }

    /** The EPT entry at {@code level} of the EPT walk of {@code gpa} (read with the reference walk: tests may). */
    static EptVisitedEntry eptEntry(XenMachine m, long gpa, Level level) {
        return EptPageWalk.walk(m.memory(), eptp(m), EptSupport.full(MAXPHY), gpa).path().get(level.ordinal());
    }

    static XenMachine withEptEntry(XenMachine m, EptVisitedEntry at, EptEntry e) {
        return m.withPaging(m.paging().withMemory(m.memory().writePhysical(at.address(), e.raw())));
    }

    static ExitInformation eptExit(ExitReason reason, long qualification, long linear, long gpa) {
        return new ExitInformation(reason, false, qualification, linear, gpa, InterruptionInfo.NONE, 0, 0);
    }

    /** The reference's step holds under I7 and exits with {@code reason}; returns its exit information. */
    static ExitInformation referenceExit(XenMachine pre, GuestInstruction insn, ExitReason reason) {
        HvStep ref = Hypervisor.run(pre, H, insn);
        assertThat(ExitCorrectness.check(pre, H, insn, ref).toString()).as("the reference's step").isEqualTo("holds");
        ExitInformation exit = ref.machine().vcpu(H).vmcs().exitInformation();
        assertThat(exit.reason()).isEqualTo(reason);
        return exit;
    }

    // ---- a misconfiguration reported as a violation --------------------------------------------------------------

    @Test
    @DisplayName("mutant 'write without read' forgotten: a W-only EPT PTE read → violation instead of misconfiguration → I7-ept")
    void misconfigurationReportedAsViolation() {
        XenMachine m = Hv.machine();
        EptVisitedEntry pte = eptEntry(m, 0x4000, Level.PT);
        EptEntry writeOnly = pte.entry().withPermissionBits(0b010);
        // the slip: of the rules of SDM 28.2.3.1, the entry breaks only the one the mutant forgot
        assertThat(EptMisconfigurations.reasons(Level.PT, writeOnly, EptSupport.full(MAXPHY)))
                .containsOnly(EptMisconfiguration.Reason.WRITE_WITHOUT_READ);
        XenMachine pre = withEptEntry(m, pte, writeOnly);
        GuestInstruction insn = new GuestInstruction.MemoryAccess(Access.read(0x4000));
        ExitInformation ref = referenceExit(pre, insn, ExitReason.EPT_MISCONFIG);
        assertThat(ref.guestPhysicalAddress()).isEqualTo(0x4000L);
        // the mutant walks on and denies the read by the permissions: read (bit 0), AND over the walk = -W- (bit 4),
        // guest-linear valid (bit 7), the access itself (bit 8)
        HvStep mutant = ExitDecisionMutantsTest.drive(pre, H, insn, eptExit(ExitReason.EPT_VIOLATION, 0x191, 0x4000,
                0x4000), 0);
        assertThat(ExitCorrectness.check(pre, H, insn, mutant).toString()).startsWith("I7-ept")
                .contains("EPT_MISCONFIG reported as EPT_VIOLATION", "write permission without read permission");
    }

    // ---- the write bit set on a read ---------------------------------------------------------------------------

    /** Mutant of EptAccessedDirty.treatedAsWrite: a guest paging-structure access counts as a write whatever EPTP bit 6. */
    static boolean treatedAsWriteIgnoringEptp(Eptp eptp, boolean pagingStructureAccess) {
        return pagingStructureAccess;
    }

    @Test
    @DisplayName("mutant A/D 'treated as write' without EPTP bit 6: a denied guest-table read sets qualification bit 1 → I7-ept")
    void writeBitOnARead() {
        XenMachine m = Hv.machine();
        assertThat(eptp(m).accessedDirtyEnabled()).as("H runs without EPT A/D").isFalse();
        assertThat(treatedAsWriteIgnoringEptp(eptp(m), true)).as("the slip").isTrue();
        // the guest L1 (gfn 3) execute-only: the guest's read of its L1 entry for 0x4000 is denied
        EptVisitedEntry pte = eptEntry(m, 0x3000, Level.PT);
        XenMachine pre = withEptEntry(m, pte, pte.entry().withPermissionBits(0b100));
        GuestInstruction insn = new GuestInstruction.MemoryAccess(Access.read(0x4000));
        ExitInformation ref = referenceExit(pre, insn, ExitReason.EPT_VIOLATION);
        // table 27-7: a data read (bit 0); AND over the walk = --X (bit 5); guest-linear valid (bit 7); a
        // paging-structure entry (bit 8 = 0); the guest-physical address of the L1 entry: gfn 3, index 4
        assertThat(ref.qualification()).isEqualTo(0xA1L);
        assertThat(ref.guestPhysicalAddress()).isEqualTo(0x3020L);
        assertThat(ref.guestLinearAddress()).isEqualTo(0x4000L);
        HvStep mutant = ExitDecisionMutantsTest.drive(pre, H, insn, eptExit(ExitReason.EPT_VIOLATION, 0xA3, 0x4000,
                0x3020), 0);
        assertThat(ExitCorrectness.check(pre, H, insn, mutant).toString()).startsWith("I7-ept")
                .contains("qualification is 0xa1", "bit 1 (write) must be 0");
    }

    // ---- the permissions of the leaf instead of the AND over the walk ------------------------------------------------

    /** H's machine with the EPT PDE above every gfn R-X: every EPT translation is readable, none writable. */
    static XenMachine readExecutePde() {
        XenMachine m = Hv.machine();
        EptVisitedEntry pde = eptEntry(m, 0x4000, Level.PD);
        assertThat(pde.entry().largePage()).as("a PDE that references an EPT page table").isFalse();
        return withEptEntry(m, pde, pde.entry().withPermissionBits(0b101));
    }

    @Test
    @DisplayName("mutant qualification bits 5:3 from the EPT leaf only: a write under an R-X PDE reports W → I7-ept")
    void leafPermissionsInsteadOfTheAnd() {
        XenMachine pre = readExecutePde();
        GuestInstruction insn = new GuestInstruction.MemoryAccess(Access.write(0x4000, 7));
        ExitInformation ref = referenceExit(pre, insn, ExitReason.EPT_VIOLATION);
        // the guest walk reads its tables (reads are allowed); its first accessed-flag write, to the L4 entry at gfn
        // 0 index 0, is a data write (bit 1) denied by the AND R-X (bits 3, 5), linear valid, paging structure
        assertThat(ref.qualification()).isEqualTo(0xAAL);
        assertThat(ref.guestPhysicalAddress()).isEqualTo(0x0L);
        EptEntry leaf = eptEntry(pre, 0x0, Level.PT).entry();
        assertThat(leaf.permissions()).as("the leaf alone allows everything").isEqualTo(EptPermissions.ALL);
        long mutantQualification = (ref.qualification() & ~0x38L) | ((long) leaf.permissionBits() << 3);
        HvStep mutant = ExitDecisionMutantsTest.drive(pre, H, insn, eptExit(ExitReason.EPT_VIOLATION,
                mutantQualification, 0x4000, 0x0), 0);
        assertThat(ExitCorrectness.check(pre, H, insn, mutant).toString()).startsWith("I7-ept")
                .contains("bit 4 (writable) must be 0");
    }

    @Test
    @DisplayName("mutant permissions of the EPT leaf only: the write under an R-X PDE completes → I7-ept")
    void completedAlthoughDenied() {
        XenMachine pre = readExecutePde();
        GuestInstruction insn = new GuestInstruction.MemoryAccess(Access.write(0x4000, 7));
        referenceExit(pre, insn, ExitReason.EPT_VIOLATION);
        assertThat(pre.processor().machine().tlb().entries()).as("no cached translation to excuse it").isEmpty();
        HvStep mutant = ExitDecisionMutantsTest.drive(pre, H, insn, null, 7);
        assertThat(ExitCorrectness.check(pre, H, insn, mutant).toString()).startsWith("I7-ept")
                .contains("Retired", "must cause an EPT violation exit");
    }

    // ---- an EPT exit the rules do not demand -------------------------------------------------------------------

    @Test
    @DisplayName("mutant execute-only capability ignored: a fetch from an X-only EPT page exits as misconfiguration → I7-ept")
    void executeOnlyMisconfigurationNotDemanded() {
        XenMachine m = Hv.machine();
        EptVisitedEntry pte = eptEntry(m, 0x4000, Level.PT);
        EptEntry executeOnly = pte.entry().withPermissionBits(0b100);
        // the slip: the rule of SDM 28.2.3.1 without its condition "and this value is not supported"
        assertThat(EptMisconfigurations.reasons(Level.PT, executeOnly, EptSupport.full(MAXPHY).withExecuteOnly(false)))
                .containsOnly(EptMisconfiguration.Reason.EXECUTE_ONLY_NOT_SUPPORTED);
        XenMachine pre = withEptEntry(m, pte, executeOnly);
        GuestInstruction insn = new GuestInstruction.MemoryAccess(Access.fetch(0x4000));
        HvStep ref = Hypervisor.run(pre, H, insn);
        assertThat(ref.outcome()).as("the reference fetches").isInstanceOf(VcpuOutcome.Retired.class);
        assertThat(ExitCorrectness.check(pre, H, insn, ref).toString()).isEqualTo("holds");
        HvStep mutant = ExitDecisionMutantsTest.drive(pre, H, insn, eptExit(ExitReason.EPT_MISCONFIG, 0, 0,
                0x4000), 0);
        assertThat(ExitCorrectness.check(pre, H, insn, mutant).toString()).startsWith("I7-ept")
                .contains("do not demand", "every guest-physical access of it is permitted");
    }

    @Test
    @DisplayName("reference: a not-present EPT entry (gfn outside the p2m) is a violation with bits 5:3 = 0")
    void notPresentHolds() {
        XenMachine pre = Hv.machine();
        GuestInstruction insn = new GuestInstruction.MemoryAccess(Access.read(0x5000));
        ExitInformation ref = referenceExit(pre, insn, ExitReason.EPT_VIOLATION);
        // read (bit 0), nothing permitted at the not-present entry (5:3 = 0), linear valid, the access itself
        assertThat(ref.qualification()).isEqualTo(0x181L);
        assertThat(ref.guestPhysicalAddress()).isEqualTo(0x100000L);
        HvStep wrongLinear = ExitDecisionMutantsTest.drive(pre, H, insn, eptExit(ExitReason.EPT_VIOLATION, 0x181,
                0x5008, 0x100000), 0);
        assertThat(ExitCorrectness.check(pre, H, insn, wrongLinear).toString()).startsWith("I7-ept")
                .contains("guest-linear address is 0x5000");
    }
}
