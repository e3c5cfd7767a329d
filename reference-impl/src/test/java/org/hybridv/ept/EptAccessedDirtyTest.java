package org.hybridv.ept;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.hybridv.ept.EptFixture.*;

import org.hybridv.x86.AccessKind;
import org.hybridv.x86.PhysicalMemory;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Accessed and dirty flags for EPT (Intel SDM Vol. 3C §28.2.4): bit 8 (A) in every entry used, bit 9 (D) in the leaf
 * on a write, only when EPTP bit 6 = 1. See {@link EptFixture}; A = 0x100, D = 0x200.
 */
class EptAccessedDirtyTest {
    private static EptTranslated translateAd(PhysicalMemory m, AccessKind access, GuestLinear linear) {
        return (EptTranslated) EptPageWalk.translate(m, new Eptp(EPTP_AD), SUPPORT, GPA, access, linear);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = AccessKind.class, names = {"READ", "FETCH"})
    @DisplayName("SDM 28.2.4: with EPTP bit 6 = 1 a read or fetch sets A in every EPT entry used, D nowhere")
    void accessedOnRead(AccessKind access) {
        EptTranslated t = translateAd(memory(), access, LINEAR);
        assertThat(t.memory()).isEqualTo(memory(0x2107, 0x3107, 0x4107, 0xABCDE137L));
        // the path holds the entries as read, before the update
        assertThat(t.leaf().entry().raw()).isEqualTo(0xABCDE037L);
    }

    @Test
    @DisplayName("SDM 28.2.4: a write also sets D in the EPT PTE that maps the page")
    void dirtyOnWrite() {
        EptTranslated t = translateAd(memory(), AccessKind.WRITE, LINEAR);
        assertThat(t.memory()).isEqualTo(memory(0x2107, 0x3107, 0x4107, 0xABCDE337L));
    }

    @Test
    @DisplayName("SDM 28.2.4: D goes in the leaf: a 2-MByte EPT PDE")
    void dirtyInLargeLeaf() {
        // PDE 0x1_2340_00B7 maps a 2-MByte page; the PTE slot is unused
        EptTranslated t = translateAd(memory(PML4E, PDPTE, 0x1_2340_00B7L, 0), AccessKind.WRITE, LINEAR);
        assertThat(t.memory()).isEqualTo(memory(0x2107, 0x3107, 0x1_2340_03B7L, 0));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(AccessKind.class)
    @DisplayName("SDM 28.2.4: with EPTP bit 6 = 0 no flag is written")
    void disabled(AccessKind access) {
        assertThat(((EptTranslated) translate(memory(), access)).memory()).isEqualTo(memory());
    }

    @Test
    @DisplayName("SDM 28.2.4: flags already set are left as they are (sticky) and memory is unchanged")
    void alreadySet() {
        PhysicalMemory m = memory(0x2107, 0x3107, 0x4107, 0xABCDE337L);
        assertThat(translateAd(m, AccessKind.WRITE, LINEAR).memory()).isSameAs(m);
    }

    @Test
    @DisplayName("SDM 28.2.4: with A/D enabled a guest paging-structure read is a write: D is set in the EPT leaf")
    void pagingStructureReadSetsDirty() {
        EptTranslated t = translateAd(memory(), AccessKind.READ, GuestLinear.pagingStructureEntryFor(0x40_0000L));
        assertThat(t.memory()).isEqualTo(memory(0x2107, 0x3107, 0x4107, 0xABCDE337L));
    }

    @Test
    @DisplayName("SDM 28.2.4, 28.2.3.2: treatedAsWrite iff EPTP bit 6 = 1 and the access is to a guest paging-structure entry")
    void treatedAsWrite() {
        Eptp on = new Eptp(EPTP_AD);
        Eptp off = new Eptp(EPTP);
        GuestLinear entry = GuestLinear.pagingStructureEntryFor(0x1000);
        assertThat(EptAccessedDirty.treatedAsWrite(on, entry)).isTrue();
        assertThat(EptAccessedDirty.treatedAsWrite(off, entry)).isFalse();
        assertThat(EptAccessedDirty.treatedAsWrite(on, GuestLinear.translationOf(0x1000))).isFalse();
        assertThat(EptAccessedDirty.treatedAsWrite(on, GuestLinear.NOT_VALID)).isFalse();
        assertThat(EptAccessedDirty.effectiveAccess(AccessKind.READ, on, entry)).isEqualTo(AccessKind.WRITE);
        assertThat(EptAccessedDirty.effectiveAccess(AccessKind.READ, off, entry)).isEqualTo(AccessKind.READ);
    }

    @Test
    @DisplayName("API misuse: A/D update of a walk that did not map a page")
    void misuse() {
        EptWalk notPresent = EptPageWalk.walk(memory(0, 0, 0, 0), new Eptp(EPTP_AD), SUPPORT, GPA);
        assertThatThrownBy(() -> EptAccessedDirty.update(memory(), new Eptp(EPTP_AD), notPresent, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NOT_PRESENT");
    }
}
