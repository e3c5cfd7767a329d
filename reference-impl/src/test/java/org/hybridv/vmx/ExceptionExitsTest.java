package org.hybridv.vmx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.hybridv.x86.ErrorCode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Exception exits and #PF error-code filtering, Intel SDM Vol. 3C §24.6.3 and §25.2. */
class ExceptionExitsTest {
    private static final int BIT14 = 1 << 14;
    private static final int P = ErrorCode.P;
    private static final int W = ErrorCode.WR;
    private static final int U = ErrorCode.US;

    @Test
    @DisplayName("SDM 25.2: a non-#PF exception exits iff its bit in the exception bitmap is 1")
    void exceptionBitmapSelectsExitsByVector() {
        ExecutionControls c = ExecutionControls.none().withExceptionControls(1 << 13 | 1 << 6, 0, 0);
        assertThat(ExceptionExits.exits(c, 13, 0)).as("#GP, bit 13 set").isTrue();
        assertThat(ExceptionExits.exits(c, 6, 0)).as("#UD, bit 6 set").isTrue();
        assertThat(ExceptionExits.exits(c, 3, 0)).as("#BP, bit 3 clear").isFalse();
    }

    @Test
    @DisplayName("SDM 24.6.3: PFEC_MASK = PFEC_MATCH = 0 with bit 14 = 1 makes every #PF exit (Xen shadow mode)")
    void shadowModeConfigurationExitsEveryPageFault() {
        for (int ec = 0; ec < 64; ec++) {
            assertThat(ExceptionExits.pageFaultExits(BIT14, 0, 0, ec)).as("error code %d", ec).isTrue();
            assertThat(ExceptionExits.pageFaultExits(0, 0, 0, ec)).as("bit 14 clear, error code %d", ec).isFalse();
        }
    }

    @Test
    @DisplayName("The seed's filter (mask = U/S, match = 0, bit 14 = 1): user #PF stay in the guest, supervisor #PF exit")
    void hybridFilterKeepsUserFaultsInTheGuest() {
        int mask = U;
        int match = 0;
        assertThat(ExceptionExits.pageFaultExits(BIT14, mask, match, U | W)).as("error 6: user write, not present")
                .isFalse();
        assertThat(ExceptionExits.pageFaultExits(BIT14, mask, match, P | W | U)).as("error 7: user write protection")
                .isFalse();
        assertThat(ExceptionExits.pageFaultExits(BIT14, mask, match, W)).as("error 2: supervisor write, not present")
                .isTrue();
        assertThat(ExceptionExits.pageFaultExits(BIT14, mask, match, P | W)).as("error 3: supervisor write protection")
                .isTrue();
    }

    @Test
    @DisplayName("SDM 24.6.3: with bit 14 = 0 a PFEC mismatch causes the exit (the pitfall KVM fixed in b502e6ecdc3b)")
    void mismatchExitsWhenBit14IsClear() {
        // mask = P, match = P: "exit the faults that do not match" when bit 14 = 0, i.e. exit not-present faults.
        assertThat(ExceptionExits.pageFaultExits(0, P, P, W)).as("not-present fault mismatches → exit").isTrue();
        assertThat(ExceptionExits.pageFaultExits(0, P, P, P | W)).as("protection fault matches → no exit").isFalse();
    }

    @Test
    @DisplayName("SDM 24.6.3, exhaustively: all 64 error codes × mask/match pairs × bit 14")
    void pageFaultDecisionFollowsTheEqualityRuleForEveryErrorCode() {
        int[] masks = {0, P, W, U, P | W, P | U, W | U, P | W | U, 0x1F, 0x3F};
        for (int mask : masks) {
            for (int match = 0; match < 64; match++) {
                for (int bitmap : new int[] {0, BIT14, ~0, ~BIT14}) {
                    for (int ec = 0; ec < 64; ec++) {
                        boolean bit14 = (bitmap & BIT14) != 0;
                        boolean equality = (ec & mask) == match;
                        // The two sentences of SDM 24.6.3, one branch each.
                        boolean expected = equality ? bit14 : !bit14;
                        ExecutionControls c = ExecutionControls.none().withExceptionControls(bitmap, mask, match);
                        assertThat(ExceptionExits.exits(c, 14, ec))
                                .as("mask %x match %x bitmap %x error %x", mask, match, bitmap, ec)
                                .isEqualTo(expected);
                    }
                }
            }
        }
    }

    @Test
    @DisplayName("A match value with bits outside the mask never equals: every #PF takes the mismatch branch")
    void matchOutsideMaskNeverEquals() {
        for (int ec = 0; ec < 64; ec++) {
            assertThat(ExceptionExits.pageFaultExits(BIT14, U, U | P, ec)).isFalse();
            assertThat(ExceptionExits.pageFaultExits(0, U, U | P, ec)).isTrue();
        }
    }

    @Test
    void vectorOutsideExceptionRangeIsApiMisuse() {
        assertThatThrownBy(() -> ExceptionExits.exits(ExecutionControls.none(), 32, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32");
    }
}
