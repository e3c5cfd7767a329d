package org.hybridv.vmx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.vmx.VmxFixture.*;

import java.util.Map;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.TlbPolicy;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * #PF in VMX non-root operation without EPT, end to end: a real guest access faults in the guest's own page tables,
 * and the exception bitmap with PFEC_MASK/PFEC_MATCH (Intel SDM Vol. 3C §24.6.3, §25.2) decides whether it is
 * delivered to the guest (CR2 written, Vol. 3A §6.15) or causes a VM exit (CR2 not written, §27.1; exit qualification
 * = the linear address and interruption information, §27.2.1, §27.2.2).
 *
 * <p>The guest page at {@link VmxFixture#LINEAR} is made read-only and user-accessible: its PTE at 0x4020 is 0x9005
 * (P | U/S, R/W = 0). Guest CR0.WP = 1, so a supervisor write faults too (Vol. 3A §4.6.1).
 */
class PageFaultFilteringTest {
    private static final int BIT14 = 1 << 14;
    private static final int US = 0x4;
    private static final long CR2_BEFORE = 0x5555_0000L;
    private static final long READ_ONLY_USER_PTE = 0x9005L;

    private static ExecutionControls filter(int bitmap, int mask, int match) {
        return ExecutionControls.none().withExceptionControls(bitmap, mask, match);
    }

    /** The seed's filter: exception bitmap bit 14 = 1, PFEC_MASK = U/S, PFEC_MATCH = 0. */
    private static final ExecutionControls SEED = filter(BIT14, US, 0);
    /** Shadow paging: every #PF exits (mask = match = 0, bit 14 = 1). */
    private static final ExecutionControls SHADOW = filter(BIT14, 0, 0);

    private static VmxProcessor guestAt(int cpl, ExecutionControls c, long pte) {
        Map<Long, Long> words = plainWords();
        words.put(PTE_AT, pte);
        CpuState g = guest().withCr0(new Cr0(true, true, true)).withCpl(cpl);
        return launch(root(words, vmcs(c, g), TlbPolicy.ADVERSARIAL, CR2_BEFORE));
    }

    @Test
    @DisplayName("SDM 24.6.3 (seed filter): a user-mode write to a read-only page is delivered: vector 14, error P|W|U = 7, CR2 = linear")
    void seedFilterDeliversUserModeFaults() {
        VmxProcessor in = guestAt(3, SEED, READ_ONLY_USER_PTE);
        GuestStep s = write(in, LINEAR, 0xBAD);
        // error code 7: (7 AND 4) = 4 ≠ PFEC_MATCH 0 → "a page fault causes a VM exit if bit 14 ... is 0": no exit.
        assertThat(s.outcome()).isEqualTo(new GuestOutcome.Delivered(14, 7, true, LINEAR));
        assertThat(s.processor().mode()).isEqualTo(VmxMode.NON_ROOT);
        assertThat(s.processor().machine().cpu().cr2()).as("delivery loads CR2 (Vol. 3A §6.15)").isEqualTo(LINEAR);
        assertThat(s.processor().machine().memory().readPhysical(DATA_AT)).as("nothing written")
                .isEqualTo(PAGE_DATA);
    }

    @Test
    @DisplayName("SDM 24.6.3, 27.2.1, 27.2.2 (seed filter): a supervisor write fault (WP = 1) exits with qualification, interruption info 0x80000B0E and error 3; CR2 unchanged")
    void seedFilterExitsOnSupervisorFaults() {
        VmxProcessor in = guestAt(0, SEED, READ_ONLY_USER_PTE);
        GuestStep s = write(in, LINEAR, 0xBAD);
        // error code 3 (P | W): (3 AND 4) = 0 = PFEC_MATCH → exit because bit 14 is 1.
        ExitInformation e = exited(s);
        assertThat(e.reason()).isEqualTo(ExitReason.EXCEPTION_OR_NMI);
        assertThat(e.exitReasonField()).as("basic exit reason 0, not an entry failure").isZero();
        assertThat(e.qualification()).as("#PF: the exit qualification is the linear address").isEqualTo(LINEAR);
        // vector 14 = 0x0E, type 3 (hardware exception) in bits 10:8 = 0x300, bit 11 error code valid = 0x800,
        // bit 31 valid → 0x80000B0E.
        assertThat(e.interruption().bits()).isEqualTo(0x8000_0B0E);
        assertThat(e.interruption()).isEqualTo(new InterruptionInfo(14, 3, true, true));
        assertThat(e.interruptionErrorCode()).isEqualTo(3);
        VmxProcessor out = s.processor();
        assertThat(out.vmcs().guest().cpu().cr2()).as("the guest's CR2 as saved: unchanged by the exiting #PF")
                .isEqualTo(CR2_BEFORE);
        assertThat(out.machine().cpu().cr2()).as("and the register itself").isEqualTo(CR2_BEFORE);
        assertThat(out.vmcs().exitInformation()).isEqualTo(e);
    }

    @Test
    @DisplayName("SDM 24.6.3 (seed filter): not-present faults follow the same split: user (error 4) delivered, supervisor (error 0) exits")
    void seedFilterSplitsNotPresentFaultsBySupervisorOrUser() {
        GuestStep user = read(guestAt(3, SEED, 0), LINEAR);
        assertThat(user.outcome()).isEqualTo(new GuestOutcome.Delivered(14, 4, true, LINEAR));
        GuestStep userWrite = write(guestAt(3, SEED, 0), LINEAR, 1);
        assertThat(userWrite.outcome()).isEqualTo(new GuestOutcome.Delivered(14, 6, true, LINEAR));
        GuestStep supervisor = read(guestAt(0, SEED, 0), LINEAR);
        ExitInformation e = exited(supervisor);
        assertThat(e.interruptionErrorCode()).isZero();
        assertThat(e.qualification()).isEqualTo(LINEAR);
        assertThat(supervisor.processor().machine().cpu().cr2()).isEqualTo(CR2_BEFORE);
    }

    @Test
    @DisplayName("SDM 24.6.3 (shadow paging: mask = match = 0, bit 14 = 1): every #PF exits, user or supervisor")
    void shadowConfigurationExitsEveryPageFault() {
        ExitInformation userWrite = exited(write(guestAt(3, SHADOW, READ_ONLY_USER_PTE), LINEAR, 1));
        assertThat(userWrite.interruptionErrorCode()).isEqualTo(7);
        ExitInformation supervisorWrite = exited(write(guestAt(0, SHADOW, READ_ONLY_USER_PTE), LINEAR, 1));
        assertThat(supervisorWrite.interruptionErrorCode()).isEqualTo(3);
        ExitInformation userNotPresent = exited(read(guestAt(3, SHADOW, 0), LINEAR));
        assertThat(userNotPresent.interruptionErrorCode()).isEqualTo(4);
        for (ExitInformation e : new ExitInformation[] {userWrite, supervisorWrite, userNotPresent}) {
            assertThat(e.reason()).isEqualTo(ExitReason.EXCEPTION_OR_NMI);
            assertThat(e.interruption().bits()).isEqualTo(0x8000_0B0E);
            assertThat(e.qualification()).isEqualTo(LINEAR);
        }
    }

    @Test
    @DisplayName("SDM 24.6.3: mask = match = 0 with bit 14 = 0: the equality always holds, so no #PF exits")
    void bit14ClearWithZeroMaskDeliversEveryPageFault() {
        ExecutionControls none = filter(0, 0, 0);
        assertThat(write(guestAt(0, none, READ_ONLY_USER_PTE), LINEAR, 1).outcome())
                .isEqualTo(new GuestOutcome.Delivered(14, 3, true, LINEAR));
        assertThat(write(guestAt(3, none, READ_ONLY_USER_PTE), LINEAR, 1).outcome())
                .isEqualTo(new GuestOutcome.Delivered(14, 7, true, LINEAR));
    }

    @Test
    @DisplayName("SDM 25.2: an access that does not fault neither exits nor writes CR2")
    void noFaultNoExit() {
        GuestStep s = read(guestAt(3, SHADOW, READ_ONLY_USER_PTE), LINEAR);
        assertThat(retired(s)).isEqualTo(PAGE_DATA);
        assertThat(s.processor().machine().cpu().cr2()).isEqualTo(CR2_BEFORE);
    }

    @Test
    @DisplayName("SDM 24.6.3 exhaustively through NonRoot.raise: 64 error codes × 16 masks × 16 matches × bit 14, exit or delivery with CR2")
    void raiseFollowsTheTwoSentencesOfSdm2463() {
        int[] masks = {0, 1, 2, 4, 8, 16, 32, 3, 5, 6, 7, 0x1F, 0x3F, 0x24, 0x12, 0xFFFF_FFFF};
        int[] matches = {0, 1, 2, 4, 8, 16, 32, 3, 5, 6, 7, 0x1F, 0x3F, 0x24, 0x40, 0x8000_0000};
        for (int bitmap : new int[] {0, BIT14, ~BIT14, -1}) {
            for (int mask : masks) {
                for (int match : matches) {
                    VmxProcessor in = guestAt(0, filter(bitmap, mask, match), READ_ONLY_USER_PTE);
                    boolean bit14 = (bitmap & BIT14) != 0;
                    for (int ec = 0; ec < 64; ec++) {
                        // Sentence 1: "If the equality holds, a page fault causes a VM exit if bit 14 ... is 1".
                        // Sentence 2: "If the equality does not hold, a page fault causes a VM exit if bit 14 ... is 0".
                        boolean holds = (ec & mask) == match;
                        boolean exits = holds == bit14;
                        GuestStep s = NonRoot.raise(in, 14, ec, LINEAR);
                        String what = String.format("bitmap %x mask %x match %x error %x", bitmap, mask, match, ec);
                        if (exits) {
                            ExitInformation e = exited(s);
                            assertThat(e.interruptionErrorCode()).as(what).isEqualTo(ec);
                            assertThat(s.processor().machine().cpu().cr2()).as(what).isEqualTo(CR2_BEFORE);
                        } else {
                            assertThat(s.outcome()).as(what).isEqualTo(new GuestOutcome.Delivered(14, ec, true, LINEAR));
                            assertThat(s.processor().machine().cpu().cr2()).as(what).isEqualTo(LINEAR);
                        }
                    }
                }
            }
        }
    }

    @Test
    @DisplayName("SDM 25.2: a #GP (non-canonical address) exits iff exception bitmap bit 13 is 1; PFEC fields do not apply")
    void otherExceptionsFollowTheirBitmapBit() {
        long nonCanonical = 0x0000_8000_0000_0000L;
        GuestStep delivered = read(guestAt(0, filter(BIT14, 0, 0), READ_ONLY_USER_PTE), nonCanonical);
        assertThat(delivered.outcome()).isEqualTo(new GuestOutcome.Delivered(13, 0, true, 0));
        assertThat(delivered.processor().machine().cpu().cr2()).as("#GP does not write CR2").isEqualTo(CR2_BEFORE);
        ExitInformation e = exited(read(guestAt(0, filter(1 << 13, 0, 0), READ_ONLY_USER_PTE), nonCanonical));
        assertThat(e.reason()).isEqualTo(ExitReason.EXCEPTION_OR_NMI);
        assertThat(e.interruption().bits()).as("vector 13, type 3, error code valid, valid").isEqualTo(0x8000_0B0D);
        assertThat(e.interruptionErrorCode()).isZero();
        assertThat(e.qualification()).as("not a #PF: qualification 0").isZero();
    }
}
