package org.hybridv.vmx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.vmx.VmxFixture.*;

import java.util.List;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.TlbPolicy;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Instruction-driven VM exits in VMX non-root operation, executed by a guest through {@link NonRoot}: I/O (Intel SDM
 * Vol. 3C §25.1.3, qualification table 27-5), RDMSR/WRMSR (§25.1.3, §24.6.9), CPUID and VMCALL (§25.1.2), HLT and
 * INVLPG (§25.1.3, §25.1.1 for the priority of privilege faults), and control-register accesses (§25.1.3, §25.3,
 * qualification table 27-3). Qualifications are written out bit by bit from the tables.
 */
class NonRootExitsTest {
    private static VmxProcessor guestWith(ExecutionControls c) {
        return launched(plainWords(), c, guest(), TlbPolicy.NONE);
    }

    private static VmxProcessor userGuestWith(ExecutionControls c) {
        return launched(plainWords(), c, guest().withCpl(3), TlbPolicy.NONE);
    }

    private static ExecutionControls primary(PrimaryControls p) {
        return ExecutionControls.none().withPrimary(p);
    }

    // ---- I/O instructions ----

    private static final PrimaryControls USE_IO_BITMAPS = PrimaryControls.NONE.withUseIoBitmaps(true);

    private static GuestInstruction.Io out(int port, int size) {
        return new GuestInstruction.Io(port, size, false, false, false, false, 0x41);
    }

    @Test
    @DisplayName("SDM 25.1.3, table 27-5: OUT DX, AL to a port whose bit is set exits; qualification = port << 16")
    void ioExitQualificationForOut() {
        ExecutionControls c = primary(USE_IO_BITMAPS).withIoBitmaps(IoBitmaps.none().with(0x3F8, true));
        GuestStep s = run(guestWith(c), out(0x3F8, 1));
        ExitInformation e = exited(s);
        assertThat(e.reason()).isEqualTo(ExitReason.IO_INSTRUCTION);
        // bits 2:0 size - 1 = 0; bit 3 OUT = 0; bit 4 string 0; bit 5 REP 0; bit 6 DX = 0; bits 31:16 = 0x3F8
        assertThat(e.qualification()).isEqualTo(0x03F8_0000L);
    }

    @Test
    @DisplayName("SDM 25.1.3, table 27-5: a 2-byte IN imm8 touching the set port 3F8H from 3F7H exits; qualification 0x03F70049")
    void ioExitQualificationForAMultiByteIn() {
        ExecutionControls c = primary(USE_IO_BITMAPS).withIoBitmaps(IoBitmaps.none().with(0x3F8, true));
        GuestStep s = run(guestWith(c), new GuestInstruction.Io(0x3F7, 2, true, false, false, true, 0));
        // size - 1 = 1 (bits 2:0), IN = bit 3 (0x8), immediate = bit 6 (0x40), port 0x3F7 in bits 31:16
        assertThat(exited(s).qualification()).isEqualTo(0x03F7_0049L);
    }

    @Test
    @DisplayName("SDM 25.1.3, table 27-5: REP INSD at FFFEH wraps past FFFFH and exits with clear bitmaps; qualification 0xFFFE003B")
    void ioWrapExitsAndReportsStringRep() {
        ExecutionControls c = primary(USE_IO_BITMAPS);
        GuestStep s = run(guestWith(c), new GuestInstruction.Io(0xFFFE, 4, true, true, true, false, 0));
        // size - 1 = 3, IN 0x8, string 0x10, REP 0x20 → 0x3B; port 0xFFFE << 16
        assertThat(exited(s).qualification()).isEqualTo(0xFFFE_003BL);
        assertThat(retired(run(guestWith(c), new GuestInstruction.Io(0xFFFC, 4, true, false, false, false, 0))))
                .as("FFFCH..FFFFH does not wrap").isEqualTo(0xFFFF_FFFFL);
    }

    @Test
    @DisplayName("SDM 24.6.4, 25.1.3: ports 0000H-7FFFH use bitmap A, 8000H-FFFFH bitmap B; an unset port executes in the guest")
    void ioBitmapsAAndB() {
        IoBitmaps b = IoBitmaps.none().with(0x8000, true).with(0x7FFF, true);
        ExecutionControls c = primary(USE_IO_BITMAPS).withIoBitmaps(b);
        assertThat(exited(run(guestWith(c), out(0x8000, 1))).qualification()).isEqualTo(0x8000_0000L);
        assertThat(exited(run(guestWith(c), out(0x7FFF, 1))).qualification()).isEqualTo(0x7FFF_0000L);
        assertThat(retired(run(guestWith(c), out(0x7FFE, 1)))).as("OUT retires with the value written").isEqualTo(0x41);
        assertThat(retired(run(guestWith(c), new GuestInstruction.Io(0x8001, 2, true, false, false, false, 0))))
                .as("IN of an unmodelled port reads all ones").isEqualTo(0xFFFF);
        // a 2-byte access at 7FFEH touches 7FFEH and 7FFFH (set, bitmap A)
        assertThat(exited(run(guestWith(c), out(0x7FFE, 2))).reason()).isEqualTo(ExitReason.IO_INSTRUCTION);
    }

    @Test
    @DisplayName("SDM 25.1.3: unconditional I/O exiting alone exits every port; with use I/O bitmaps it is ignored")
    void unconditionalIoExiting() {
        ExecutionControls unconditional = primary(PrimaryControls.NONE.withUnconditionalIoExiting(true));
        assertThat(exited(run(guestWith(unconditional), out(0x80, 1))).qualification()).isEqualTo(0x0080_0000L);
        ExecutionControls both = primary(USE_IO_BITMAPS.withUnconditionalIoExiting(true));
        assertThat(retired(run(guestWith(both), out(0x80, 1)))).isEqualTo(0x41);
        assertThat(retired(run(guestWith(ExecutionControls.none()), out(0x80, 1)))).isEqualTo(0x41);
    }

    // ---- RDMSR / WRMSR ----

    private static final long EFER = 0xC000_0080L;
    private static final long SYSENTER_CS = 0x174L;

    @Test
    @DisplayName("SDM 25.1.3: without use MSR bitmaps every RDMSR (reason 31) and WRMSR (reason 32) exits")
    void msrWithoutBitmapsAlwaysExits() {
        ExitInformation r = exited(run(guestWith(ExecutionControls.none()), new GuestInstruction.Rdmsr(EFER)));
        assertThat(r.reason()).isEqualTo(ExitReason.MSR_READ);
        assertThat(r.reason().number()).isEqualTo(31);
        assertThat(r.qualification()).isZero();
        ExitInformation w = exited(run(guestWith(ExecutionControls.none()), new GuestInstruction.Wrmsr(0x10, 5)));
        assertThat(w.reason()).isEqualTo(ExitReason.MSR_WRITE);
        assertThat(w.reason().number()).isEqualTo(32);
    }

    @Test
    @DisplayName("SDM 24.6.9, 25.1.3: read/write bitmaps for low and high MSRs are separate; a clear bit executes RDMSR in the guest")
    void msrBitmapRegions() {
        MsrBitmap bitmap = MsrBitmap.none().with(SYSENTER_CS, false, true).with(EFER, true, true);
        ExecutionControls c = primary(PrimaryControls.NONE.withUseMsrBitmaps(true)).withMsrBitmap(bitmap);
        assertThat(exited(run(guestWith(c), new GuestInstruction.Rdmsr(SYSENTER_CS))).reason())
                .isEqualTo(ExitReason.MSR_READ);
        assertThat(exited(run(guestWith(c), new GuestInstruction.Wrmsr(EFER, 0x900))).reason())
                .isEqualTo(ExitReason.MSR_WRITE);
        // RDMSR of IA32_EFER: read-high bit 80H is clear → no exit; EFER = LME (bit 8) | LMA (bit 10) = 0x500
        assertThat(retired(run(guestWith(c), new GuestInstruction.Rdmsr(EFER)))).isEqualTo(0x500L);
        // WRMSR 174H: write-low bit 174H is clear → no exit; the reference implements no such MSR → #GP(0)
        assertThat(run(guestWith(c), new GuestInstruction.Wrmsr(SYSENTER_CS, 1)).outcome())
                .isEqualTo(new GuestOutcome.Delivered(13, 0, true, 0));
    }

    @Test
    @DisplayName("SDM 25.1.3: an MSR outside 0-1FFFH and C0000000H-C0001FFFH exits even with a clear bitmap")
    void msrOutsideTheBitmapRangesAlwaysExits() {
        ExecutionControls c = primary(PrimaryControls.NONE.withUseMsrBitmaps(true)).withMsrBitmap(MsrBitmap.none());
        for (long msr : new long[] {0x2000L, 0x4000_0000L, 0xBFFF_FFFFL, 0xC000_2000L, 0xFFFF_FFFFL}) {
            assertThat(exited(run(guestWith(c), new GuestInstruction.Rdmsr(msr))).reason()).as("RDMSR %x", msr)
                    .isEqualTo(ExitReason.MSR_READ);
            assertThat(exited(run(guestWith(c), new GuestInstruction.Wrmsr(msr, 0))).reason()).as("WRMSR %x", msr)
                    .isEqualTo(ExitReason.MSR_WRITE);
        }
        for (long msr : new long[] {0x0L, 0x1FFFL, 0xC000_0000L, 0xC000_1FFFL}) {
            assertThat(run(guestWith(c), new GuestInstruction.Rdmsr(msr)).outcome()).as("RDMSR %x in range", msr)
                    .isNotInstanceOf(GuestOutcome.Exited.class);
        }
    }

    @Test
    @DisplayName("SDM 25.1.1: RDMSR at CPL 3 raises #GP before the MSR exit is considered")
    void rdmsrAtCpl3FaultsFirst() {
        GuestStep s = run(userGuestWith(ExecutionControls.none()), new GuestInstruction.Rdmsr(EFER));
        assertThat(s.outcome()).isEqualTo(new GuestOutcome.Delivered(13, 0, true, 0));
    }

    // ---- CPUID, VMCALL ----

    @Test
    @DisplayName("SDM 25.1.2: CPUID exits unconditionally (reason 10), at CPL 0 and CPL 3")
    void cpuidAlwaysExits() {
        for (VmxProcessor p : List.of(guestWith(ExecutionControls.none()), userGuestWith(ExecutionControls.none()))) {
            ExitInformation e = exited(run(p, new GuestInstruction.Cpuid(0x4000_0000L, 0)));
            assertThat(e.reason()).isEqualTo(ExitReason.CPUID);
            assertThat(e.reason().number()).isEqualTo(10);
            assertThat(e.qualification()).isZero();
        }
    }

    @Test
    @DisplayName("SDM 25.1.2, VMCALL pseudocode: VMCALL exits (reason 18) at any CPL, before any privilege check")
    void vmcallExitsRegardlessOfCpl() {
        for (int cpl = 0; cpl <= 3; cpl++) {
            VmxProcessor p = launched(plainWords(), ExecutionControls.none(), guest().withCpl(cpl), TlbPolicy.NONE);
            ExitInformation e = exited(run(p, new GuestInstruction.Vmcall()));
            assertThat(e.reason()).as("CPL %d", cpl).isEqualTo(ExitReason.VMCALL);
            assertThat(e.reason().number()).isEqualTo(18);
        }
    }

    // ---- HLT ----

    @Test
    @DisplayName("SDM 25.1.3: HLT exits (reason 12) iff HLT exiting is 1")
    void hltExiting() {
        ExitInformation e = exited(run(guestWith(primary(PrimaryControls.NONE.withHltExiting(true))),
                new GuestInstruction.Hlt()));
        assertThat(e.reason()).isEqualTo(ExitReason.HLT);
        assertThat(e.reason().number()).isEqualTo(12);
        assertThat(retired(run(guestWith(ExecutionControls.none()), new GuestInstruction.Hlt()))).isZero();
    }

    @Test
    @DisplayName("SDM 25.1.1: HLT at CPL 3 is #GP(0) before the HLT exit — delivered, or an exception exit if bitmap bit 13 = 1")
    void hltAtCpl3IsAGeneralProtectionFaultFirst() {
        PrimaryControls hltExiting = PrimaryControls.NONE.withHltExiting(true);
        GuestStep delivered = run(userGuestWith(primary(hltExiting)), new GuestInstruction.Hlt());
        assertThat(delivered.outcome()).isEqualTo(new GuestOutcome.Delivered(13, 0, true, 0));
        assertThat(delivered.processor().mode()).isEqualTo(VmxMode.NON_ROOT);

        ExitInformation e = exited(run(userGuestWith(primary(hltExiting).withExceptionControls(1 << 13, 0, 0)),
                new GuestInstruction.Hlt()));
        assertThat(e.reason()).as("the #GP exits, not the HLT").isEqualTo(ExitReason.EXCEPTION_OR_NMI);
        assertThat(e.interruption().bits()).as("vector 13, type 3, error code valid, valid").isEqualTo(0x8000_0B0D);
        assertThat(e.interruptionErrorCode()).isZero();
    }

    // ---- INVLPG ----

    @Test
    @DisplayName("SDM 25.1.3, 27.2.1: INVLPG exits (reason 14) iff INVLPG exiting; the qualification is the linear address")
    void invlpgExiting() {
        ExitInformation e = exited(run(guestWith(primary(PrimaryControls.NONE.withInvlpgExiting(true))),
                new GuestInstruction.Invlpg(LINEAR)));
        assertThat(e.reason()).isEqualTo(ExitReason.INVLPG);
        assertThat(e.reason().number()).isEqualTo(14);
        assertThat(e.qualification()).isEqualTo(LINEAR);
        assertThat(retired(run(guestWith(ExecutionControls.none()), new GuestInstruction.Invlpg(LINEAR)))).isZero();
        GuestStep user = run(userGuestWith(primary(PrimaryControls.NONE.withInvlpgExiting(true))),
                new GuestInstruction.Invlpg(LINEAR));
        assertThat(user.outcome()).as("CPL 3: #GP first (SDM 25.1.1)")
                .isEqualTo(new GuestOutcome.Delivered(13, 0, true, 0));
    }

    // ---- INVPCID ----

    private static final GuestInstruction.Invpcid INVPCID_ALL = new GuestInstruction.Invpcid(2, 0, 0);

    private static ExecutionControls invpcid(boolean enable, boolean invlpgExiting) {
        return primary(PrimaryControls.NONE.withInvlpgExiting(invlpgExiting).withActivateSecondaryControls(true))
                .withSecondary(SecondaryControls.NONE.withEnableInvpcid(enable));
    }

    @Test
    @DisplayName("SDM 24.6.2 table 24-7: without \"enable INVPCID\" any INVPCID is #UD, before privilege and exits")
    void invpcidWithoutEnableInvpcidIsUndefined() {
        // "If this control is 0, any execution of INVPCID causes a #UD."
        GuestOutcome ud = new GuestOutcome.Delivered(6, 0, false, 0);
        assertThat(run(guestWith(invpcid(false, true)), INVPCID_ALL).outcome()).isEqualTo(ud);
        assertThat(run(userGuestWith(invpcid(false, false)), INVPCID_ALL).outcome()).isEqualTo(ud);
        // with the secondary controls not activated, the processor "operates as if" they were all 0
        assertThat(run(guestWith(primary(PrimaryControls.NONE)), INVPCID_ALL).outcome()).isEqualTo(ud);
    }

    @Test
    @DisplayName("SDM 25.1.3: INVPCID exits (reason 58) iff \"INVLPG exiting\" and \"enable INVPCID\"; CPL 3 is #GP first")
    void invpcidExitsWithInvlpgExiting() {
        // "The INVPCID instruction causes a VM exit if the 'INVLPG exiting' and 'enable INVPCID' VM-execution controls
        // are both 1."
        ExitInformation e = exited(run(guestWith(invpcid(true, true)), INVPCID_ALL));
        assertThat(e.reason()).isEqualTo(ExitReason.INVPCID);
        assertThat(e.reason().number()).isEqualTo(58);
        assertThat(retired(run(guestWith(invpcid(true, false)), INVPCID_ALL))).isZero();
        // §25.1.1: "faults based on privilege level" have priority over VM exits
        assertThat(run(userGuestWith(invpcid(true, true)), INVPCID_ALL).outcome())
                .isEqualTo(new GuestOutcome.Delivered(13, 0, true, 0));
        // the exit comes before the instruction's own operand checks (type 4 is #GP only when it executes)
        assertThat(exited(run(guestWith(invpcid(true, true)), new GuestInstruction.Invpcid(4, 0, 0))).reason())
                .isEqualTo(ExitReason.INVPCID);
        assertThat(run(guestWith(invpcid(true, false)), new GuestInstruction.Invpcid(4, 0, 0)).outcome())
                .isEqualTo(new GuestOutcome.Delivered(13, 0, true, 0));
    }

    // ---- control registers ----

    @Test
    @DisplayName("SDM 25.1.3, table 27-3: MOV to CR3 with CR3-load exiting exits unless the value is a CR3-target value")
    void movToCr3WithCr3LoadExitingAndTargets() {
        ExecutionControls c = primary(PrimaryControls.NONE.withCr3LoadExiting(true))
                .withCr3TargetValues(List.of(0x5000L, 0x6000L));
        GuestStep target = run(guestWith(c), new GuestInstruction.MovToCr(3, 0x6000L, 3));
        assertThat(retired(target)).isEqualTo(0x6000L);
        assertThat(target.processor().machine().cpu().cr3().bits()).isEqualTo(0x6000L);

        ExitInformation e = exited(run(guestWith(c), new GuestInstruction.MovToCr(3, 0x7000L, 3)));
        assertThat(e.reason()).isEqualTo(ExitReason.CR_ACCESS);
        assertThat(e.reason().number()).isEqualTo(28);
        // bits 3:0 = 3 (CR3), bits 5:4 = 0 (MOV to CR), bits 11:8 = 3 (RBX)
        assertThat(e.qualification()).isEqualTo(0x303L);

        ExecutionControls noTargets = primary(PrimaryControls.NONE.withCr3LoadExiting(true));
        assertThat(exited(run(guestWith(noTargets), new GuestInstruction.MovToCr(3, 0x1000L, 0))).qualification())
                .as("with no CR3-target values even the current CR3 exits; RAX → bits 11:8 = 0").isEqualTo(0x3L);
        assertThat(retired(run(guestWith(ExecutionControls.none()), new GuestInstruction.MovToCr(3, 0x7000L, 3))))
                .as("CR3-load exiting 0: no exit").isEqualTo(0x7000L);
    }

    @Test
    @DisplayName("SDM 25.1.3, table 27-3: MOV from CR3 exits iff CR3-store exiting; qualification CR3 | type 1 << 4 | register << 8")
    void movFromCr3WithCr3StoreExiting() {
        ExecutionControls c = primary(PrimaryControls.NONE.withCr3StoreExiting(true));
        ExitInformation e = exited(run(guestWith(c), new GuestInstruction.MovFromCr(3, 0)));
        assertThat(e.reason()).isEqualTo(ExitReason.CR_ACCESS);
        assertThat(e.qualification()).as("CR3, MOV from CR (1 << 4), RAX").isEqualTo(0x13L);
        assertThat(exited(run(guestWith(c), new GuestInstruction.MovFromCr(3, 15))).qualification())
                .as("R15 → bits 11:8 = 15").isEqualTo(0xF13L);
        assertThat(retired(run(guestWith(ExecutionControls.none()), new GuestInstruction.MovFromCr(3, 0))))
                .isEqualTo(0x1000L);
    }

    @Test
    @DisplayName("SDM 25.1.3, 25.3: MOV to CR0 changing a host-owned bit exits; keeping it does not, the bit stays, MOV from CR0 reads the shadow")
    void movToCr0AndTheGuestHostMask() {
        long wp = 1L << 16;
        // The host owns CR0.WP and forces it to 1, while the guest believes it wrote 0 (read shadow WP = 0).
        ExecutionControls c = ExecutionControls.none().withCr0Ownership(wp, 0);
        CpuState g = guest().withCr0(new Cr0(true, true, true));
        VmxProcessor in = launched(plainWords(), c, g, TlbPolicy.NONE);

        ExitInformation e = exited(run(in, new GuestInstruction.MovToCr(0, 0x8001_0001L, 1)));
        assertThat(e.reason()).isEqualTo(ExitReason.CR_ACCESS);
        // CR0 (bits 3:0 = 0), MOV to CR (bits 5:4 = 0), RCX (bits 11:8 = 1)
        assertThat(e.qualification()).isEqualTo(0x100L);

        GuestStep keep = run(in, new GuestInstruction.MovToCr(0, 0x8000_0001L, 1));
        assertThat(keep.outcome()).isInstanceOf(GuestOutcome.Retired.class);
        assertThat(keep.processor().machine().cpu().cr0()).as("WP is host-owned: it keeps its value 1")
                .isEqualTo(new Cr0(true, true, true));
        assertThat(retired(run(keep.processor(), new GuestInstruction.MovFromCr(0, 2))))
                .as("MOV from CR0: WP from the read shadow (0), PE and PG from CR0").isEqualTo(0x8000_0001L);
    }

    @Test
    @DisplayName("SDM 25.1.1: MOV to/from a control register at CPL 3 is #GP(0) before any CR-access exit")
    void controlRegisterAccessAtCpl3FaultsFirst() {
        ExecutionControls c = primary(PrimaryControls.NONE.withCr3LoadExiting(true).withCr3StoreExiting(true));
        assertThat(run(userGuestWith(c), new GuestInstruction.MovToCr(3, 0x7000L, 0)).outcome())
                .isEqualTo(new GuestOutcome.Delivered(13, 0, true, 0));
        assertThat(run(userGuestWith(c), new GuestInstruction.MovFromCr(3, 0)).outcome())
                .isEqualTo(new GuestOutcome.Delivered(13, 0, true, 0));
    }
}
