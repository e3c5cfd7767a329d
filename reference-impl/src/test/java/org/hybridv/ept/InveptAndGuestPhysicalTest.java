package org.hybridv.ept;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** INVEPT types (Intel SDM Vol. 3C ch. 30, INVEPT; EP4TA of §28.3) and the 48-bit guest-physical address (§28.2.2). */
class InveptAndGuestPhysicalTest {
    @Test
    @DisplayName("SDM ch. 30 INVEPT: type 1 single-context, type 2 global; other types fail")
    void types() {
        assertThat(InveptType.SINGLE_CONTEXT.number()).isEqualTo(1);
        assertThat(InveptType.ALL_CONTEXT.number()).isEqualTo(2);
        assertThat(InveptType.ofNumber(1)).contains(InveptType.SINGLE_CONTEXT);
        assertThat(InveptType.ofNumber(2)).contains(InveptType.ALL_CONTEXT);
        assertThat(InveptType.ofNumber(0)).isEqualTo(Optional.empty());
        assertThat(InveptType.ofNumber(3)).isEmpty();
        assertThat(InveptType.ofNumber(1L << 32 | 1)).isEmpty();
    }

    @Test
    @DisplayName("SDM ch. 30 INVEPT: single-context invalidates mappings of EPTP bits 51:12; global all of them")
    void scope() {
        Eptp descriptor = new Eptp(0x12_305EL); // EP4TA 0x12_3000
        assertThat(InveptType.SINGLE_CONTEXT.mustInvalidate(descriptor, 0x12_3000L)).isTrue();
        // an EPTP differing only in bits 11:0 names the same EP4TA
        assertThat(InveptType.SINGLE_CONTEXT.mustInvalidate(new Eptp(0x12_3018L), 0x12_3000L)).isTrue();
        assertThat(InveptType.SINGLE_CONTEXT.mustInvalidate(descriptor, 0x12_4000L)).isFalse();
        assertThat(InveptType.ALL_CONTEXT.mustInvalidate(descriptor, 0x12_4000L)).isTrue();
        assertThatThrownBy(() -> InveptType.SINGLE_CONTEXT.mustInvalidate(descriptor, 0x12_305EL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0x12305e");
    }

    @Test
    @DisplayName("SDM 28.2.2: EPT uses GPA bits 47:0; a GPA with bits 63:48 set is API misuse")
    void guestPhysicalWidth() {
        assertThat(GuestPhysical.isTranslatable(0xFFFF_FFFF_FFFFL)).isTrue();
        assertThat(GuestPhysical.isTranslatable(0x1_0000_0000_0000L)).isFalse();
        assertThat(GuestPhysical.isTranslatable(-1L)).isFalse();
        assertThat(GuestPhysical.check(0x80_8060_4567L)).isEqualTo(0x80_8060_4567L);
        assertThatThrownBy(() -> GuestPhysical.check(0x8_0000_0000_0000L))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0x8000000000000");
    }
}
