package org.hybridv.ept;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.hybridv.x86.AccessKind;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The EPT entry formats (Intel SDM Vol. 3C §28.2.2, tables 28-1 to 28-6), permissions and memory types. */
class EptEntryTest {
    @Test
    @DisplayName("SDM table 28-6: the fields of EPT PTE 0x8000_00AB_CDE3_73F5")
    void fields() {
        // 0x3F5 = 11_1111_0101b: R=1 W=0 X=1, bits 5:3 = 110b = 6 (WB), bit 6 IPAT = 1, bit 7 = 1, A = 1, D = 1
        EptEntry e = new EptEntry(0x8000_00AB_CDE3_73F5L);
        assertThat(e.readable()).isTrue();
        assertThat(e.writable()).isFalse();
        assertThat(e.executable()).isTrue();
        assertThat(e.permissionBits()).isEqualTo(0b101);
        assertThat(e.memoryType()).isEqualTo(6);
        assertThat(e.ignorePat()).isTrue();
        assertThat(e.largePage()).isTrue();
        assertThat(e.accessed()).isTrue();
        assertThat(e.dirty()).isTrue();
        assertThat(e.address()).isEqualTo(0xAB_CDE3_7000L);
        assertThat(e.frame()).isEqualTo(0xAB_CDE3_7L);
        assertThat(e.permissions()).isEqualTo(new EptPermissions(true, false, true));
    }

    @ParameterizedTest(name = "bits 2:0 = {0} is present")
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7})
    @DisplayName("SDM 28.2.2: an entry is present iff any of bits 2:0 is 1")
    void presentIffAnyPermissionBit(int rwx) {
        assertThat(new EptEntry(rwx).present()).isTrue();
        assertThat(new EptEntry(0xABC000L | rwx | 0xF8).present()).isTrue();
    }

    @Test
    @DisplayName("SDM 28.2.2: bits 2:0 = 000b is not present, whatever bits 63:3 hold")
    void notPresent() {
        assertThat(new EptEntry(0).present()).isFalse();
        assertThat(new EptEntry(0xFFFF_FFFF_FFFF_FFF8L).present()).isFalse();
        assertThat(EptEntry.NOT_PRESENT.present()).isFalse();
    }

    @Test
    @DisplayName("builders: table 0x3007, 4-KByte PTE, 2-MByte PDE, 1-GByte PDPTE (bits written out by hand)")
    void builders() {
        assertThat(EptEntry.table(3).raw()).isEqualTo(0x3007L);
        // RW = 011b, WB = 6 << 3 = 0x30
        assertThat(EptEntry.pte(0xABCDE, EptPermissions.READ_WRITE).raw()).isEqualTo(0xABCDE033L);
        // + bit 7 = 0x80
        assertThat(EptEntry.pde2M(0x1_2340_0000L, EptPermissions.ALL).raw()).isEqualTo(0x1_2340_00B7L);
        assertThat(EptEntry.pdpte1G(0x7_C000_0000L, EptPermissions.READ_EXECUTE).raw()).isEqualTo(0x7_C000_00B5L);
        assertThat(EptEntry.page(0x5000, EptPermissions.EXECUTE_ONLY, EptMemoryType.UC).raw()).isEqualTo(0x5004L);
    }

    @Test
    @DisplayName("withers change exactly their bits")
    void withers() {
        EptEntry e = EptEntry.NOT_PRESENT;
        assertThat(e.withReadable(true).raw()).isEqualTo(0x1L);
        assertThat(e.withWritable(true).raw()).isEqualTo(0x2L);
        assertThat(e.withExecutable(true).raw()).isEqualTo(0x4L);
        assertThat(e.withMemoryType(7).raw()).isEqualTo(0x38L);
        assertThat(e.withMemoryType(EptMemoryType.WT).raw()).isEqualTo(0x20L);
        assertThat(e.withIgnorePat(true).raw()).isEqualTo(0x40L);
        assertThat(e.withLargePage(true).raw()).isEqualTo(0x80L);
        assertThat(e.withAccessed(true).raw()).isEqualTo(0x100L);
        assertThat(e.withDirty(true).raw()).isEqualTo(0x200L);
        assertThat(e.withFrame(0xFF_FFFF_FFFFL).raw()).isEqualTo(0x000F_FFFF_FFFF_F000L);
        assertThat(e.withPermissionBits(0b110).raw()).isEqualTo(0x6L);
        assertThat(new EptEntry(0xFFFL).withAddress(0x5000).raw()).isEqualTo(0x5FFFL);
        assertThat(new EptEntry(0x3FFL).withAccessed(false).withDirty(false).raw()).isEqualTo(0xFFL);
        assertThat(new EptEntry(0x7L).withPermissions(EptPermissions.READ).raw()).isEqualTo(0x1L);
    }

    @Test
    @DisplayName("SDM 28.2.3.2: permissions AND over the walk; read needs R, write W, fetch X")
    void permissions() {
        EptPermissions p = EptPermissions.ALL.and(new EptEntry(0x5)).and(new EptEntry(0x7));
        assertThat(p).isEqualTo(new EptPermissions(true, false, true));
        assertThat(p.permits(AccessKind.READ)).isTrue();
        assertThat(p.permits(AccessKind.WRITE)).isFalse();
        assertThat(p.permits(AccessKind.FETCH)).isTrue();
        assertThat(p.bits()).isEqualTo(0b101);
        assertThat(EptPermissions.ofBits(0b011)).isEqualTo(EptPermissions.READ_WRITE);
        assertThat(EptPermissions.ALL.and(EptEntry.NOT_PRESENT)).isEqualTo(EptPermissions.NONE);
    }

    @Test
    @DisplayName("SDM 28.2.6.1: memory types 0 UC, 1 WC, 4 WT, 5 WP, 6 WB; 2, 3, 7 reserved")
    void memoryTypes() {
        assertThat(EptMemoryType.of(0)).isEqualTo(EptMemoryType.UC);
        assertThat(EptMemoryType.of(1)).isEqualTo(EptMemoryType.WC);
        assertThat(EptMemoryType.of(4)).isEqualTo(EptMemoryType.WT);
        assertThat(EptMemoryType.of(5)).isEqualTo(EptMemoryType.WP);
        assertThat(EptMemoryType.of(6)).isEqualTo(EptMemoryType.WB);
        for (int t : new int[] {2, 3, 7}) {
            assertThat(EptMemoryType.isReserved(t)).isTrue();
            assertThatThrownBy(() -> EptMemoryType.of(t)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("= " + t);
        }
        for (int t : new int[] {0, 1, 4, 5, 6}) {
            assertThat(EptMemoryType.isReserved(t)).isFalse();
        }
    }

    @Test
    @DisplayName("API misuse: IllegalArgumentException naming the bad value")
    void misuse() {
        assertThatThrownBy(() -> EptEntry.NOT_PRESENT.withMemoryType(8)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("= 8");
        assertThatThrownBy(() -> EptEntry.NOT_PRESENT.withAddress(0x1008)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0x1008");
        assertThatThrownBy(() -> EptEntry.NOT_PRESENT.with(64, true)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("= 64");
        assertThatThrownBy(() -> EptEntry.pde2M(0x1000, EptPermissions.ALL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0x1000");
        assertThatThrownBy(() -> EptEntry.pdpte1G(0x20_0000, EptPermissions.ALL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0x200000");
        assertThatThrownBy(() -> EptEntry.NOT_PRESENT.withFrame(1L << 40))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(Long.toString(1L << 40));
        assertThatThrownBy(() -> EptPermissions.ofBits(8)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("= 8");
    }
}
