package org.hybridv.ept;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.ept.EptFixture.*;

import java.util.stream.Stream;
import org.hybridv.ept.EptMisconfiguration.Reason;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Level;
import org.hybridv.x86.PhysicalMemory;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * EPT misconfigurations (Intel SDM Vol. 3C §28.2.3.1), each reason at the levels where it applies, and each reported
 * for a data read, a data write and an instruction fetch alike. See {@link EptFixture} for the tables.
 */
class EptMisconfigurationTest {
    /** Memory with {@code value} at {@code level} of the fixture's walk (other levels as in the fixture). */
    private static PhysicalMemory with(Level level, long value) {
        return switch (level) {
            case PML4 -> memory(value, PDPTE, PDE, PTE);
            case PDPT -> memory(PML4E, value, PDE, PTE);
            case PD -> memory(PML4E, PDPTE, value, PTE);
            case PT -> memory(PML4E, PDPTE, PDE, value);
        };
    }

    /** (description, level, entry value, support, expected reason); every value worked out by hand. */
    static Stream<Arguments> cases() {
        return Stream.of(
                // bits 2:0 = 010b (write-only) and 110b (write/execute)
                Arguments.of("PML4E 010b", Level.PML4, 0x2002L, SUPPORT, Reason.WRITE_WITHOUT_READ),
                Arguments.of("PDPTE 110b", Level.PDPT, 0x3006L, SUPPORT, Reason.WRITE_WITHOUT_READ),
                Arguments.of("PDE 010b", Level.PD, 0x4002L, SUPPORT, Reason.WRITE_WITHOUT_READ),
                Arguments.of("PTE 010b", Level.PT, 0xABCDE032L, SUPPORT, Reason.WRITE_WITHOUT_READ),
                Arguments.of("PTE 110b, execute-only supported", Level.PT, 0xABCDE036L, SUPPORT_XO,
                        Reason.WRITE_WITHOUT_READ),
                // bits 2:0 = 100b without execute-only support
                Arguments.of("PML4E 100b", Level.PML4, 0x2004L, SUPPORT, Reason.EXECUTE_ONLY_NOT_SUPPORTED),
                Arguments.of("PDE 100b", Level.PD, 0x4004L, SUPPORT, Reason.EXECUTE_ONLY_NOT_SUPPORTED),
                Arguments.of("PTE 100b", Level.PT, 0xABCDE034L, SUPPORT, Reason.EXECUTE_ONLY_NOT_SUPPORTED),
                // reserved bits 51:N, N = 40: bit 40 = 0x100_0000_0000, bit 51 = 0x8_0000_0000_0000
                Arguments.of("PML4E bit 40", Level.PML4, 0x100_0000_2007L, SUPPORT, Reason.RESERVED_BIT),
                Arguments.of("PDPTE bit 51", Level.PDPT, 0x8_0000_0000_3007L, SUPPORT, Reason.RESERVED_BIT),
                Arguments.of("PDE bit 45", Level.PD, 0x2000_0000_4007L, SUPPORT, Reason.RESERVED_BIT),
                Arguments.of("PTE bit 40", Level.PT, 0x100_ABCD_E037L, SUPPORT, Reason.RESERVED_BIT),
                Arguments.of("1-GByte PDPTE bit 40", Level.PDPT, 0x107_C000_00B7L, SUPPORT, Reason.RESERVED_BIT),
                // reserved bits 7:3 of a PML4E
                Arguments.of("PML4E bit 3", Level.PML4, 0x200FL, SUPPORT, Reason.RESERVED_BIT),
                Arguments.of("PML4E bit 5", Level.PML4, 0x2027L, SUPPORT, Reason.RESERVED_BIT),
                Arguments.of("PML4E bit 6", Level.PML4, 0x2047L, SUPPORT, Reason.RESERVED_BIT),
                Arguments.of("PML4E bit 7", Level.PML4, 0x2087L, SUPPORT, Reason.RESERVED_BIT),
                // reserved bits 7:3 (bit 7 = 0) of a PDPTE / PDE referencing a table
                Arguments.of("non-leaf PDPTE bit 4", Level.PDPT, 0x3017L, SUPPORT, Reason.RESERVED_BIT),
                Arguments.of("non-leaf PDPTE bit 6", Level.PDPT, 0x3047L, SUPPORT, Reason.RESERVED_BIT),
                Arguments.of("non-leaf PDE bit 3", Level.PD, 0x400FL, SUPPORT, Reason.RESERVED_BIT),
                Arguments.of("non-leaf PDE bits 5:3 = 2 (memory type field is reserved here)", Level.PD, 0x4017L,
                        SUPPORT, Reason.RESERVED_BIT),
                // reserved bits 29:12 of a 1-GByte PDPTE (0x7_C000_00B7 = page 0x7_C000_0000, bit 7, WB, RWX)
                Arguments.of("1-GByte PDPTE bit 12", Level.PDPT, 0x7_C000_10B7L, SUPPORT, Reason.RESERVED_BIT),
                Arguments.of("1-GByte PDPTE bit 29", Level.PDPT, 0x7_E000_00B7L, SUPPORT, Reason.RESERVED_BIT),
                // reserved bits 20:12 of a 2-MByte PDE (0x1_2340_00B7 = page 0x1_2340_0000, bit 7, WB, RWX)
                Arguments.of("2-MByte PDE bit 12", Level.PD, 0x1_2340_10B7L, SUPPORT, Reason.RESERVED_BIT),
                Arguments.of("2-MByte PDE bit 20", Level.PD, 0x1_2350_00B7L, SUPPORT, Reason.RESERVED_BIT),
                // reserved memory types 2, 3, 7 in bits 5:3 of a leaf
                Arguments.of("PTE memory type 2", Level.PT, 0xABCDE017L, SUPPORT, Reason.RESERVED_MEMORY_TYPE),
                Arguments.of("PTE memory type 3", Level.PT, 0xABCDE01FL, SUPPORT, Reason.RESERVED_MEMORY_TYPE),
                Arguments.of("PTE memory type 7", Level.PT, 0xABCDE03FL, SUPPORT, Reason.RESERVED_MEMORY_TYPE),
                Arguments.of("2-MByte PDE memory type 3", Level.PD, 0x1_2340_009FL, SUPPORT,
                        Reason.RESERVED_MEMORY_TYPE),
                Arguments.of("1-GByte PDPTE memory type 7", Level.PDPT, 0x7_C000_00BFL, SUPPORT,
                        Reason.RESERVED_MEMORY_TYPE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    @DisplayName("SDM 28.2.3.1: each misconfiguration, reported for read, write and fetch alike")
    void misconfiguration(String description, Level level, long value, EptSupport support, Reason reason) {
        for (AccessKind access : AccessKind.values()) {
            EptTranslation t = translate(with(level, value), support, access);
            assertThat(t).as("%s, %s", description, access).isInstanceOf(EptMisconfiguration.class);
            EptMisconfiguration c = (EptMisconfiguration) t;
            assertThat(c.reasons()).as("%s, %s", description, access).containsExactly(reason);
            assertThat(c.entry().level()).isEqualTo(level);
            assertThat(c.entry().entry().raw()).isEqualTo(value);
            assertThat(c.guestPhysical()).isEqualTo(GPA);
        }
    }

    @Test
    @DisplayName("SDM 28.2.3.1: 100b is a valid execute-only entry when IA32_VMX_EPT_VPID_CAP bit 0 = 1")
    void executeOnlySupported() {
        PhysicalMemory m = memory(PML4E, PDPTE, PDE, 0xABCDE034L);
        EptTranslated t = (EptTranslated) translate(m, SUPPORT_XO, AccessKind.FETCH);
        assertThat(t.permissions()).isEqualTo(EptPermissions.EXECUTE_ONLY);
        // a data read is then an EPT violation: read (0x1) + executable (0x20) + 0x80 + 0x100 = 0x1A1
        EptViolation v = (EptViolation) translate(m, SUPPORT_XO, AccessKind.READ);
        assertThat(v.qualification().bits()).isEqualTo(0x1A1L);
    }

    @Test
    @DisplayName("SDM 28.2.3.1: an entry breaking several rules lists every reason, in the SDM's order")
    void severalReasons() {
        // PTE 0x100_ABCD_E03A: bits 2:0 = 010b, memory type 7, bit 40 set
        EptMisconfiguration c = (EptMisconfiguration) translate(memory(PML4E, PDPTE, PDE, 0x100_ABCD_E03AL),
                AccessKind.READ);
        assertThat(c.reasons()).containsExactly(Reason.WRITE_WITHOUT_READ, Reason.RESERVED_BIT,
                Reason.RESERVED_MEMORY_TYPE);
    }

    @Test
    @DisplayName("SDM 28.2.2: bit 7 of a PDPTE is not reserved (1-GByte pages supported); bits 63:52 are ignored")
    void notReserved() {
        assertThat(EptReservedBits.mask(Level.PDPT, new EptEntry(0x80), 40) & 0x80).isZero();
        assertThat(EptReservedBits.mask(Level.PT, new EptEntry(0), 40)).isEqualTo(0x000F_FF00_0000_0000L);
        assertThat(EptReservedBits.mask(Level.PT, new EptEntry(0), 52)).isZero();
        assertThat(EptReservedBits.mask(Level.PML4, new EptEntry(0), 52)).isEqualTo(0xF8L);
        assertThat(EptReservedBits.mask(Level.PD, new EptEntry(0x80), 52)).isEqualTo(0x1F_F000L);
        assertThat(EptReservedBits.mask(Level.PDPT, new EptEntry(0x80), 52)).isEqualTo(0x3FFF_F000L);
    }

    @Test
    @DisplayName("SDM 28.2.3.1: the rules apply only to present entries")
    void notPresentIsNeverMisconfigured() {
        // bits 2:0 = 000b with every other bit set: not present, so a violation, never a misconfiguration
        assertThat(translate(memory(PML4E, PDPTE, PDE, 0xFFFF_FFFF_FFFF_FFF8L), AccessKind.READ))
                .isInstanceOf(EptViolation.class);
        assertThat(EptMisconfigurations.reasons(Level.PT, new EptEntry(0xFFFF_FFFF_FFFF_FFF8L), SUPPORT)).isEmpty();
    }
}
