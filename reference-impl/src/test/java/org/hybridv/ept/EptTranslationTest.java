package org.hybridv.ept;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.hybridv.ept.EptFixture.*;

import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Level;
import org.hybridv.x86.PageSize;
import org.hybridv.x86.PhysicalMemory;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Successful EPT translations (Intel SDM Vol. 3C §28.2.2) and the order of checks (§28.2.3.3). See {@link EptFixture}. */
class EptTranslationTest {
    @ParameterizedTest(name = "{0}")
    @EnumSource(AccessKind.class)
    @DisplayName("SDM 28.2.2: a 4-KByte EPT PTE maps GPA 0x80_8060_4567 to PTE[51:12] | GPA[11:0] = 0xABCDE567")
    void fourKilobytePage(AccessKind access) {
        EptTranslated t = (EptTranslated) translate(memory(), access);
        assertThat(t.hostPhysical()).isEqualTo(0xABCDE567L);
        assertThat(t.guestPhysical()).isEqualTo(GPA);
        assertThat(t.pageSize()).isEqualTo(PageSize.SIZE_4K);
        assertThat(t.permissions()).isEqualTo(new EptPermissions(true, true, true));
        assertThat(t.memoryType()).isEqualTo(EptMemoryType.WB);
        assertThat(t.ignorePat()).isFalse();
        assertThat(t.path()).containsExactly(
                new EptVisitedEntry(Level.PML4, 0x1008, new EptEntry(0x2007)),
                new EptVisitedEntry(Level.PDPT, 0x2010, new EptEntry(0x3007)),
                new EptVisitedEntry(Level.PD, 0x3018, new EptEntry(0x4007)),
                new EptVisitedEntry(Level.PT, 0x4020, new EptEntry(0xABCDE037L)));
        // EPTP bit 6 = 0: no accessed/dirty update
        assertThat(t.memory()).isEqualTo(memory());
    }

    @Test
    @DisplayName("SDM 28.2.2: an EPT PDE with bit 7 = 1 maps a 2-MByte page: PDE[51:21] | GPA[20:0]")
    void twoMegabytePage() {
        // PDE 0x1_2340_00B7: page 0x1_2340_0000, bit 7, WB (0x30), RWX; GPA[20:0] = 0x4567
        PhysicalMemory m = memory(PML4E, PDPTE, 0x1_2340_00B7L, 0);
        EptTranslated t = (EptTranslated) translate(m, AccessKind.WRITE);
        assertThat(t.hostPhysical()).isEqualTo(0x1_2340_4567L);
        assertThat(t.pageSize()).isEqualTo(PageSize.SIZE_2M);
        assertThat(t.path()).hasSize(3);
        assertThat(t.leaf().address()).isEqualTo(0x3018L);
    }

    @Test
    @DisplayName("SDM 28.2.2: an EPT PDPTE with bit 7 = 1 maps a 1-GByte page: PDPTE[51:30] | GPA[29:0]")
    void oneGigabytePage() {
        // PDPTE 0x7_C000_00B5: page 0x7_C000_0000, bit 7, WB, R-X; GPA[29:0] = 0x60_4567
        PhysicalMemory m = memory(PML4E, 0x7_C000_00B5L, 0, 0);
        EptTranslated t = (EptTranslated) translate(m, AccessKind.FETCH);
        assertThat(t.hostPhysical()).isEqualTo(0x7_C060_4567L);
        assertThat(t.pageSize()).isEqualTo(PageSize.SIZE_1G);
        assertThat(t.permissions()).isEqualTo(EptPermissions.READ_EXECUTE);
        assertThat(t.path()).extracting(EptVisitedEntry::address).containsExactly(0x1008L, 0x2010L);
    }

    @ParameterizedTest(name = "memory type {0}")
    @ValueSource(ints = {0, 1, 4, 5, 6})
    @DisplayName("SDM 28.2.6.1: the leaf's memory type (bits 5:3) and ignore-PAT (bit 6) are reported")
    void memoryTypeReported(int mt) {
        long pte = 0xABCDE007L | ((long) mt << 3) | 0x40;
        EptTranslated t = (EptTranslated) translate(memory(PML4E, PDPTE, PDE, pte), AccessKind.READ);
        assertThat(t.memoryType().encoding()).isEqualTo(mt);
        assertThat(t.ignorePat()).isTrue();
    }

    @Test
    @DisplayName("SDM 28.2.2: ignored bits (PTE bit 7, bits 11:10, 63:52, A/D with EPTP bit 6 = 0) change nothing")
    void ignoredBits() {
        long pte = 0xFFF0_0000_ABCD_EFB7L; // bits 63:52, 11:7 set; R W X, WB
        long pde = 0xFFF0_0000_0000_4F07L; // bits 63:52, 11:8 set
        EptTranslated t = (EptTranslated) translate(memory(PML4E, PDPTE, pde, pte), AccessKind.WRITE);
        assertThat(t.hostPhysical()).isEqualTo(0xABCDE567L);
        assertThat(t.pageSize()).isEqualTo(PageSize.SIZE_4K);
    }

    @Test
    @DisplayName("SDM 28.2.2: with N = 52 bits 51:40 are address bits, not reserved")
    void wideAddress() {
        long pte = 0x000F_F000_ABCD_E037L;
        EptTranslated t = (EptTranslated) translate(memory(PML4E, PDPTE, PDE, pte), new EptSupport(52, false, true),
                AccessKind.READ);
        assertThat(t.hostPhysical()).isEqualTo(0x000F_F000_ABCD_E567L);
    }

    @Test
    @DisplayName("SDM 28.2.3.3: a missing permission upstream does not stop the walk: a misconfigured leaf wins")
    void misconfigurationBeatsUpstreamPermission() {
        // PML4E read-only (0x2001) denies the write, but the PTE has memory type 2 (0xABCDE017): step 1b first
        PhysicalMemory m = memory(0x2001, PDPTE, PDE, 0xABCDE017L);
        EptTranslation t = translate(m, AccessKind.WRITE);
        assertThat(t).isInstanceOf(EptMisconfiguration.class);
        assertThat(((EptMisconfiguration) t).entry().level()).isEqualTo(Level.PT);
    }

    @Test
    @DisplayName("SDM 28.2.3.3: a missing permission upstream does not stop the walk: a not-present PTE wins")
    void notPresentBeatsUpstreamPermission() {
        EptViolation v = (EptViolation) translate(memory(0x2001, PDPTE, PDE, 0), AccessKind.WRITE);
        assertThat(v.cause()).isEqualTo(EptViolation.Cause.NOT_PRESENT);
        assertThat(v.path()).hasSize(4);
        // write (0x2), bits 5:3 all 0 (the not-present PTE is among the entries used), linear valid + translation
        assertThat(v.qualification().bits()).isEqualTo(0x182L);
    }

    @Test
    @DisplayName("SDM 28.2.3.3: the walk stops at the first not-present entry; later misconfigurations are never read")
    void notPresentStopsTheWalk() {
        EptViolation v = (EptViolation) translate(memory(PML4E, 0, PDE, 0xABCDE017L), AccessKind.READ);
        assertThat(v.path()).extracting(EptVisitedEntry::address).containsExactly(0x1008L, 0x2010L);
    }

    @Test
    @DisplayName("SDM 28.2.3.3: the walk stops at the first misconfigured entry")
    void misconfigurationStopsTheWalk() {
        // PML4E with bit 3 set (0x200F): reserved bits 7:3; the PDPTE is not present but never read
        EptMisconfiguration c = (EptMisconfiguration) translate(memory(0x200F, 0, 0, 0), AccessKind.READ);
        assertThat(c.path()).hasSize(1);
        assertThat(c.entry().entry().raw()).isEqualTo(0x200FL);
    }

    @Test
    @DisplayName("unbacked host memory reads as all ones: an EPT PML4E of ~0 is misconfigured (reserved bits)")
    void unbackedTable() {
        // EPTP with the PML4 at 0x10_0000 (frame 256), outside the 16 frames of memory
        EptTranslation t = EptPageWalk.translate(memory(), new Eptp(0x10_001EL), SUPPORT, GPA, AccessKind.READ,
                LINEAR);
        assertThat(t).isInstanceOf(EptMisconfiguration.class);
        assertThat(((EptMisconfiguration) t).reasons()).containsExactly(EptMisconfiguration.Reason.RESERVED_BIT);
    }

    @Test
    @DisplayName("walk() is access-independent and reports the AND of bits 2:0 over the entries read")
    void walkOnly() {
        EptWalk w = EptPageWalk.walk(memory(0x2005, 0x3003, PDE, PTE), new Eptp(EPTP), SUPPORT, GPA);
        assertThat(w.end()).isEqualTo(EptWalk.End.MAPPED);
        assertThat(w.permissions()).isEqualTo(EptPermissions.READ); // 101b AND 011b AND 111b AND 111b = 001b
        assertThat(w.hostPhysical()).isEqualTo(0xABCDE567L);
    }

    @Test
    @DisplayName("API misuse: invalid EPTP, GPA above 48 bits, fetch of a paging-structure entry")
    void misuse() {
        assertThatThrownBy(() -> EptPageWalk.translate(memory(), new Eptp(0x1016), SUPPORT, GPA, AccessKind.READ,
                LINEAR)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0x1016");
        assertThatThrownBy(() -> EptPageWalk.translate(memory(), new Eptp(EPTP), SUPPORT, 0x1_0000_0000_0000L,
                AccessKind.READ, LINEAR)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0x1000000000000");
        assertThatThrownBy(() -> EptPageWalk.translate(memory(), new Eptp(EPTP), SUPPORT, GPA, AccessKind.FETCH,
                GuestLinear.pagingStructureEntryFor(0x1000))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("FETCH");
        assertThatThrownBy(() -> EptPageWalk.translate(memory(), new Eptp(EPTP), SUPPORT, GPA, AccessKind.FETCH,
                GuestLinear.NOT_VALID)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("FETCH");
        assertThatThrownBy(() -> EptPageWalk.translate(memory(), new Eptp(EPTP), SUPPORT, GPA, null, LINEAR))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("access");
    }
}
