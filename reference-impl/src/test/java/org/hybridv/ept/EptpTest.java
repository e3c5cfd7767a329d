package org.hybridv.ept;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The EPTP format (Intel SDM Vol. 3C §24.6.11, table 24-8) and its VM-entry checks (§26.2.1.1). */
class EptpTest {
    @Test
    @DisplayName("SDM table 24-8: fields of EPTP 0xABC5_4321_0987_605E")
    void fields() {
        // bits 2:0 = 110b = 6 (WB); bits 5:3 = 011b = 3 (walk length 4); bit 6 = 1 (0x5E = 0101_1110b)
        Eptp e = new Eptp(0xABC5_4321_0987_605EL);
        assertThat(e.memoryType()).isEqualTo(6);
        assertThat(e.pageWalkLengthMinus1()).isEqualTo(3);
        assertThat(e.pageWalkLength()).isEqualTo(4);
        assertThat(e.accessedDirtyEnabled()).isTrue();
        // bits 51:12 = 0x5_4321_0987_6 << 12
        assertThat(e.pml4Address()).isEqualTo(0x0005_4321_0987_6000L);
    }

    @Test
    @DisplayName("SDM 28.3, INVEPT: the EP4TA is EPTP bits 51:12, blind to bits 11:0 and 63:52")
    void ep4ta() {
        assertThat(new Eptp(0xABC5_4321_0987_605EL).ep4ta()).isEqualTo(0x0005_4321_0987_6000L);
        assertThat(new Eptp(0x0000_0000_0012_3018L).ep4ta()).isEqualTo(new Eptp(0xFFF0_0000_0012_305EL).ep4ta())
                .isEqualTo(0x12_3000L);
    }

    @Test
    @DisplayName("Eptp.of builds WB, walk length 4: raw 0x101E / 0x105E")
    void builder() {
        assertThat(Eptp.of(0x1000, false).raw()).isEqualTo(0x101EL);
        assertThat(Eptp.of(0x1000, true).raw()).isEqualTo(0x105EL);
        assertThat(Eptp.ofFrame(1, true)).isEqualTo(new Eptp(0x105EL));
        assertThat(new Eptp(0x105EL).withAccessedDirty(false).withMemoryType(0).raw()).isEqualTo(0x1018L);
    }

    @ParameterizedTest(name = "memory type {0} (UC = 0, WB = 6) passes")
    @ValueSource(ints = {0, 6})
    @DisplayName("SDM 26.2.1.1: the EPT memory type must be supported: UC or WB")
    void supportedMemoryTypes(int mt) {
        assertThat(new Eptp(0x1018L | mt).vmEntryCheck(40)).isNull();
        assertThat(new Eptp(0x1018L | mt).validFor(40)).isTrue();
    }

    @ParameterizedTest(name = "memory type {0} fails")
    @ValueSource(ints = {1, 2, 3, 4, 5, 7})
    @DisplayName("SDM 26.2.1.1: any other EPTP memory type fails VM entry")
    void unsupportedMemoryTypes(int mt) {
        Eptp e = new Eptp(0x1018L | mt);
        assertThat(e.validFor(40)).isFalse();
        assertThat(e.vmEntryCheck(40)).contains("memory type").contains("= " + mt);
    }

    @ParameterizedTest(name = "bits 5:3 = {0} fails")
    @ValueSource(ints = {0, 1, 2, 4, 5, 6, 7})
    @DisplayName("SDM 26.2.1.1: bits 5:3 must be 3 (page-walk length 4)")
    void pageWalkLength(int v) {
        Eptp e = new Eptp(0x1006L | ((long) v << 3));
        assertThat(e.validFor(40)).isFalse();
        assertThat(e.vmEntryCheck(40)).contains("bits 5:3 = " + v);
    }

    @Test
    @DisplayName("SDM 26.2.1.1: bit 6 must be 0 if IA32_VMX_EPT_VPID_CAP bit 21 is 0")
    void accessedDirtyNeedsSupport() {
        Eptp e = new Eptp(0x105EL);
        assertThat(e.vmEntryCheck(new EptSupport(40, false, true))).isNull();
        assertThat(e.vmEntryCheck(new EptSupport(40, false, false))).contains("bit 6");
        assertThat(new Eptp(0x101EL).vmEntryCheck(new EptSupport(40, false, false))).isNull();
        // the capability MSR: bit 21 = 0x20_0000, bit 0 = 1
        assertThat(EptSupport.fromCapabilityMsr(40, 0x20_0001L)).isEqualTo(new EptSupport(40, true, true));
        assertThat(EptSupport.fromCapabilityMsr(40, 0x1L)).isEqualTo(new EptSupport(40, true, false));
        assertThat(EptSupport.fromCapabilityMsr(40, 0x20_0000L)).isEqualTo(new EptSupport(40, false, true));
    }

    @ParameterizedTest(name = "bit {0} set fails")
    @ValueSource(ints = {7, 8, 9, 10, 11})
    @DisplayName("SDM 26.2.1.1: reserved bits 11:7 must be 0")
    void reserved11To7(int bit) {
        Eptp e = new Eptp(0x101EL | (1L << bit));
        assertThat(e.validFor(40)).isFalse();
        assertThat(e.vmEntryCheck(40)).contains("11:7");
    }

    @Test
    @DisplayName("SDM 26.2.1.1: reserved bits 63:N must be 0 (N = MAXPHYADDR)")
    void reservedAboveMaxPhysAddr() {
        // bit 40 = 0x100_0000_0000: reserved for N = 40, an address bit for N = 41
        Eptp bit40 = new Eptp(0x100_0000_101EL);
        assertThat(bit40.vmEntryCheck(40)).contains("63:40");
        assertThat(bit40.validFor(41)).isTrue();
        // bit 51: address bit only for N = 52
        Eptp bit51 = new Eptp(0x8_0000_0000_101EL);
        assertThat(bit51.validFor(51)).isFalse();
        assertThat(bit51.validFor(52)).isTrue();
        // bits 63:52 are reserved for every N
        assertThat(new Eptp(0x0010_0000_0000_101EL).vmEntryCheck(52)).contains("63:52");
        assertThat(new Eptp(0x8000_0000_0000_101EL).validFor(52)).isFalse();
    }

    @Test
    @DisplayName("SDM 26.2.1.1: the checks are reported in the SDM's order (memory type first)")
    void firstFailingCheck() {
        // memory type 1, walk length 1 (bits 5:3 = 0), bit 7 set: the memory type is reported
        assertThat(new Eptp(0x1081L).vmEntryCheck(40)).contains("memory type");
        // valid memory type, walk length 1, bit 7: the walk length
        assertThat(new Eptp(0x1086L).vmEntryCheck(40)).contains("bits 5:3");
    }

    @Test
    @DisplayName("API misuse: IllegalArgumentException naming the bad value")
    void misuse() {
        assertThatThrownBy(() -> Eptp.of(0x1234, false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0x1234");
        assertThatThrownBy(() -> Eptp.of(1L << 52, false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(Long.toString(1L << 52));
        assertThatThrownBy(() -> new Eptp(0).withMemoryType(8)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("= 8");
        assertThatThrownBy(() -> new Eptp(0x101E).vmEntryCheck(35)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxPhysAddr = 35");
        assertThatThrownBy(() -> new EptSupport(53, true, true)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxPhysAddr = 53");
    }
}
