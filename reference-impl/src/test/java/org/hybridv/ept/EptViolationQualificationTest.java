package org.hybridv.ept;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.hybridv.x86.AccessKind;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The EPT-violation exit qualification (Intel SDM Vol. 3C §27.2.1, table 27-7). */
class EptViolationQualificationTest {
    @Test
    @DisplayName("SDM table 27-7: each named bit at its position")
    void bitPositions() {
        assertThat(new EptViolationQualification(true, false, false, false, false, false, false, false).bits())
                .isEqualTo(0x1L);
        assertThat(new EptViolationQualification(false, true, false, false, false, false, false, false).bits())
                .isEqualTo(0x2L);
        assertThat(new EptViolationQualification(false, false, true, false, false, false, false, false).bits())
                .isEqualTo(0x4L);
        assertThat(new EptViolationQualification(false, false, false, true, false, false, false, false).bits())
                .isEqualTo(0x8L);
        assertThat(new EptViolationQualification(false, false, false, false, true, false, false, false).bits())
                .isEqualTo(0x10L);
        assertThat(new EptViolationQualification(false, false, false, false, false, true, false, false).bits())
                .isEqualTo(0x20L);
        assertThat(new EptViolationQualification(false, false, false, false, false, false, true, false).bits())
                .isEqualTo(0x80L);
        assertThat(new EptViolationQualification(false, false, false, false, false, false, true, true).bits())
                .isEqualTo(0x180L);
    }

    @Test
    @DisplayName("SDM table 27-7: fromBits inverts bits()")
    void roundTrip() {
        for (long b : new long[] {0x0, 0x181, 0x1AA, 0x19C, 0x8B, 0x3F & ~0x4, 0x3C | 0x180}) {
            assertThat(EptViolationQualification.fromBits(b).bits()).isEqualTo(b);
        }
    }

    @Test
    @DisplayName("SDM table 27-7: of() takes bits 2:0 from the access, 5:3 from the AND, 8:7 from the linear context")
    void of() {
        assertThat(EptViolationQualification.of(AccessKind.FETCH, false, EptPermissions.READ_WRITE,
                GuestLinear.translationOf(0x1234)).bits()).isEqualTo(0x19CL);
        // note 1: A/D enabled and a guest paging-structure access -> bits 0 and 1 both
        assertThat(EptViolationQualification.of(AccessKind.READ, true, EptPermissions.READ,
                GuestLinear.pagingStructureEntryFor(0x1234)).bits()).isEqualTo(0x8BL);
        assertThat(EptViolationQualification.of(AccessKind.WRITE, false, EptPermissions.NONE,
                GuestLinear.NOT_VALID).bits()).isEqualTo(0x2L);
    }

    @Test
    @DisplayName("API misuse: unmodelled bits, bit 8 without bit 7, fetch with read or write")
    void misuse() {
        assertThatThrownBy(() -> EptViolationQualification.fromBits(0x40)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0x40");
        assertThatThrownBy(() -> EptViolationQualification.fromBits(0x1000))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0x1000");
        assertThatThrownBy(() -> EptViolationQualification.fromBits(0x101)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("translatedAccess");
        assertThatThrownBy(() -> EptViolationQualification.fromBits(0x5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("fetch");
        assertThatThrownBy(() -> new GuestLinear(false, true, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("translatedAccess = true");
        assertThatThrownBy(() -> new GuestLinear(false, false, 0x1000)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0x1000");
    }
}
