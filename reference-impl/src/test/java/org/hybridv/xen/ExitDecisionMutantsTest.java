package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.Hv.K;

import org.hybridv.invariants.ExitCorrectness;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.vmx.EntryOutcome;
import org.hybridv.vmx.EntryStep;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.IoBitmaps;
import org.hybridv.vmx.MsrBitmap;
import org.hybridv.vmx.VmEntries;
import org.hybridv.vmx.VmExits;
import org.hybridv.vmx.VmxMode;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.Access;
import org.hybridv.x86.ErrorCode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Mutants of the VMX exit decisions against I7. Each test holds a copy of one decision of
 * {@code org.hybridv.vmx} with one slip, lets it decide an instruction of vCPU K (d1, direct mode) and drives the step
 * the hypervisor would then take ({@link #drive}: enter, and either exit and run the real handler, or complete in the
 * guest), and asserts that {@link ExitCorrectness} reports it. The old I7 re-decided "was this exit demanded" with the
 * same {@code ExceptionExits}/{@code IoExits}/{@code MsrExits}/{@code CrAccessExits} predicates that non-root
 * operation uses, so with the slip in the predicate both agreed and the old I7 held on every one of these steps (for
 * the I/O and MSR mutants that left an instruction retiring in the guest, the old I7 did not even look: it judged
 * only exceptions and CPUID/VMCALL that did not exit). The restated I7 decides from the SDM over the VMCS fields.
 * Each test also checks that the reference's own step holds and differs from the mutant's.
 */
class ExitDecisionMutantsTest {

    /** The step of vCPU {@code id} when non-root operation decides {@code exit} (null: the instruction retires). */
    static HvStep drive(XenMachine pre, VcpuId id, GuestInstruction insn, ExitInformation exit, long retired) {
        Vcpu v = pre.vcpu(id);
        assertThat(pre.current().isEmpty() || pre.current().get().equals(id)).isTrue();
        VmxProcessor p = pre.processor();
        if (p.mode() == VmxMode.ROOT) {
            EntryStep e = VmEntries.enter(new VmxProcessor(p.machine(), VmxMode.ROOT, v.vmcs(), v.launched()),
                    v.launched());
            assertThat(e.outcome()).isInstanceOf(EntryOutcome.Entered.class);
            p = e.processor();
        }
        if (exit == null) {
            return new HvStep(new VcpuOutcome.Retired(retired), pre.withCurrent(id, p));
        }
        XenMachine after = pre.withCurrent(id, VmExits.exit(p, exit));
        return Hypervisor.handle(after, id, exit, insn, Hypercall.of(0));
    }

    /** {@code m} with K's execution controls replaced. */
    static XenMachine withControls(XenMachine m, ExecutionControls c) {
        Vcpu v = m.vcpu(K);
        return m.withVcpu(v.withVmcs(v.vmcs().withControls(c)));
    }

    static void assertHolds(XenMachine pre, GuestInstruction insn) {
        HvStep ref = Hypervisor.run(pre, K, insn);
        assertThat(ExitCorrectness.check(pre, K, insn, ref).toString()).as("the reference's step").isEqualTo("holds");
    }

    // ---- PFEC compared with the wrong polarity ----------------------------------------------------------------

    /** Mutant of ExceptionExits.pageFaultExits: "if the equality holds, exit iff bit 14 is 0" (polarity swapped). */
    static boolean pfExitsSwapped(int bitmap, int mask, int match, int errorCode) {
        boolean equality = (errorCode & mask) == match;
        boolean bit14 = ((bitmap >>> 14) & 1) != 0;
        return equality ? !bit14 : bit14;
    }

    @Test
    @DisplayName("mutant PFEC polarity: a supervisor write-protection #PF the filter must exit is delivered → I7-demanded")
    void pfecPolaritySwapped() {
        XenMachine pre = Hv.machine();
        GuestInstruction insn = new GuestInstruction.MemoryAccess(Access.write(0x6000, 1)); // RO page, CPL 0
        int ec = ErrorCode.P | ErrorCode.WR;
        ExecutionControls c = pre.vcpu(K).vmcs().controls();
        assertThat(pfExitsSwapped(c.exceptionBitmap(), c.pfecMask(), c.pfecMatch(), ec)).as("the slip").isFalse();
        assertHolds(pre, insn);
        // the mutant delivers the #PF through the guest IDT: CR2 := the address
        Vcpu v = pre.vcpu(K);
        VmxProcessor p = VmEntries.enter(new VmxProcessor(pre.processor().machine(), VmxMode.ROOT, v.vmcs(),
                v.launched()), v.launched()).processor();
        p = p.withMachine(p.machine().withCpu(p.machine().cpu().withCr2(0x6000)));
        HvStep mutant = new HvStep(new VcpuOutcome.Delivered(14, ec, true, 0x6000), pre.withCurrent(K, p));
        InvariantResult r = ExitCorrectness.check(pre, K, insn, mutant);
        assertThat(r.toString()).startsWith("I7-demanded").contains("vector 14", "demand an exit");
    }

    // ---- I/O bitmap checked only for the first byte -------------------------------------------------------------

    /** Mutant of IoExits.exits: only the first port of the access is looked up. */
    static boolean ioFirstByteOnly(ExecutionControls c, int port, int size) {
        return c.primary().useIoBitmaps() ? c.ioBitmaps().bitFor(port) : c.primary().unconditionalIoExiting();
    }

    @Test
    @DisplayName("mutant I/O first byte only: a 2-byte OUT to 0x60 with port 0x61 intercepted retires → I7-demanded")
    void ioFirstByteOnly() {
        XenMachine m = Hv.machine();
        ExecutionControls c0 = m.vcpu(K).vmcs().controls();
        ExecutionControls c = c0.withPrimary(c0.primary().withUseIoBitmaps(true))
                .withIoBitmaps(IoBitmaps.none().with(0x61, true));
        XenMachine pre = withControls(m, c);
        GuestInstruction insn = new GuestInstruction.Io(0x60, 2, false, false, false, false, 0xABCD);
        assertThat(ioFirstByteOnly(c, 0x60, 2)).as("the slip").isFalse();
        assertHolds(pre, insn);
        HvStep mutant = drive(pre, K, insn, null, 0xABCD);
        InvariantResult r = ExitCorrectness.check(pre, K, insn, mutant);
        assertThat(r.toString()).startsWith("I7-demanded").contains("retired", "I/O of 2 byte(s) at port 0x60");
    }

    // ---- MSR high range read from the wrong region --------------------------------------------------------------

    /** Mutant of MsrExits/MsrBitmap: a high MSR (C0000000H–C0001FFFH) is looked up in the LOW read/write region. */
    static boolean msrHighFromLowRegion(ExecutionControls c, long msr, boolean write) {
        if (!c.primary().useMsrBitmaps() || !MsrBitmap.covers(msr)) {
            return true;
        }
        MsrBitmap b = c.msrBitmap();
        return (write ? b.writeLow() : b.readLow()).get((int) (msr & 0x1FFF));
    }

    @Test
    @DisplayName("mutant MSR regions: RDMSR EFER (read-high bit set) retires → I7-demanded")
    void msrHighRangeMissed() {
        XenMachine m = Hv.machine();
        long efer = 0xC000_0080L;
        ExecutionControls c0 = m.vcpu(K).vmcs().controls();
        ExecutionControls c = c0.withPrimary(c0.primary().withUseMsrBitmaps(true))
                .withMsrBitmap(MsrBitmap.none().with(efer, false, true));
        XenMachine pre = withControls(m, c);
        GuestInstruction insn = new GuestInstruction.Rdmsr(efer);
        assertThat(msrHighFromLowRegion(c, efer, false)).as("the slip").isFalse();
        assertHolds(pre, insn);
        HvStep mutant = drive(pre, K, insn, null, pre.guestCpu(K).eferBits());
        assertThat(ExitCorrectness.check(pre, K, insn, mutant).toString()).startsWith("I7-demanded")
                .contains("RDMSR 0xc0000080 is intercepted");
    }

    @Test
    @DisplayName("mutant MSR regions: RDMSR EFER exits on the read-LOW bit of MSR 0x80 → I7-demanded")
    void msrHighRangeExitsOnLowBit() {
        XenMachine m = Hv.machine();
        long efer = 0xC000_0080L;
        ExecutionControls c0 = m.vcpu(K).vmcs().controls();
        ExecutionControls c = c0.withPrimary(c0.primary().withUseMsrBitmaps(true))
                .withMsrBitmap(MsrBitmap.none().with(0x80, false, true));
        XenMachine pre = withControls(m, c);
        GuestInstruction insn = new GuestInstruction.Rdmsr(efer);
        assertThat(msrHighFromLowRegion(c, efer, false)).as("the slip").isTrue();
        assertHolds(pre, insn);
        HvStep mutant = drive(pre, K, insn, ExitInformation.of(ExitReason.MSR_READ, 0), 0);
        assertThat(ExitCorrectness.check(pre, K, insn, mutant).toString()).startsWith("I7-demanded")
                .contains("MSR_READ", "not intercepted");
    }

    // ---- CR access: the guest/host mask applied to the source instead of the difference from the read shadow ----

    /** Mutant of CrAccessExits.movToCrExits: exits if the source sets a host-owned bit (ignores the read shadow). */
    static boolean movToCrSetsOwnedBit(long mask, long readShadow, long source) {
        return (source & mask) != 0;
    }

    @Test
    @DisplayName("mutant CR0 mask: MOV to CR0 keeping WP as the read shadow has it exits → I7-demanded")
    void crMaskIgnoresReadShadow() {
        XenMachine m = Hv.machine();
        long wp = 1L << 16;
        assertThat(m.vcpu(K).vmcs().controls().cr0GuestHostMask() & wp).as("direct mode owns WP (MISC-1)")
                .isEqualTo(wp);
        // the guest set WP = 1 (read shadow) and writes CR0 again with WP = 1: no host-owned bit changes
        ExecutionControls c = m.vcpu(K).vmcs().controls().withCr0Ownership(wp, wp);
        XenMachine pre = withControls(m, c);
        long source = pre.guestCpu(K).cr0().bits() | wp;
        GuestInstruction insn = new GuestInstruction.MovToCr(0, source, 0);
        assertThat(movToCrSetsOwnedBit(c.cr0GuestHostMask(), c.cr0ReadShadow(), source)).as("the slip").isTrue();
        assertHolds(pre, insn);
        HvStep mutant = drive(pre, K, insn, ExitInformation.of(ExitReason.CR_ACCESS, 0), 0);
        assertThat(ExitCorrectness.check(pre, K, insn, mutant).toString()).startsWith("I7-demanded")
                .contains("CR_ACCESS", "not intercepted");
    }

    // ---- qualification slips -------------------------------------------------------------------------------

    @Test
    @DisplayName("mutant I/O qualification: the port in bits 15:0 instead of 31:16 → I7-demanded (SDM table 27-5)")
    void ioQualificationWrong() {
        XenMachine m = Hv.machine();
        ExecutionControls c0 = m.vcpu(K).vmcs().controls();
        XenMachine pre = withControls(m, c0.withPrimary(c0.primary().withUnconditionalIoExiting(true)
                .withUseIoBitmaps(false)));
        GuestInstruction insn = new GuestInstruction.Io(0x70, 1, true, false, false, false, 0);
        assertHolds(pre, insn);
        HvStep mutant = drive(pre, K, insn, ExitInformation.of(ExitReason.IO_INSTRUCTION, 0x70 | (1 << 3)), 0);
        assertThat(ExitCorrectness.check(pre, K, insn, mutant).toString()).startsWith("I7-demanded")
                .contains("qualification");
    }
}
