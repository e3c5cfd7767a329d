package org.hybridv.ept;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.ept.EptFixture.*;

import java.util.stream.Stream;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Level;
import org.hybridv.x86.PhysicalMemory;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * EPT violations (Intel SDM Vol. 3C §28.2.3.2) and their exit qualifications (§27.2.1, table 27-7). Every expected
 * qualification is a hex literal added up by hand: bit 0 = 0x1 read, bit 1 = 0x2 write, bit 2 = 0x4 fetch,
 * bit 3 = 0x8 readable, bit 4 = 0x10 writable, bit 5 = 0x20 executable, bit 7 = 0x80 linear valid,
 * bit 8 = 0x100 translated access. See {@link EptFixture} for the tables.
 */
class EptViolationTest {
    private static PhysicalMemory notPresentAt(Level level) {
        return switch (level) {
            case PML4 -> memory(0, PDPTE, PDE, PTE);
            case PDPT -> memory(PML4E, 0, PDE, PTE);
            case PD -> memory(PML4E, PDPTE, 0, PTE);
            case PT -> memory(PML4E, PDPTE, PDE, 0);
        };
    }

    @ParameterizedTest(name = "not present at {0}")
    @EnumSource(Level.class)
    @DisplayName("SDM 28.2.3.2: a not-present entry at any level is an EPT violation; bits 5:3 are 0")
    void notPresentAtEachLevel(Level level) {
        // read 0x1 + 0x180 = 0x181; write 0x2 + 0x180 = 0x182; fetch 0x4 + 0x180 = 0x184
        long[] expected = {0x181, 0x182, 0x184};
        for (AccessKind access : AccessKind.values()) {
            EptViolation v = (EptViolation) translate(notPresentAt(level), access);
            assertThat(v.cause()).isEqualTo(EptViolation.Cause.NOT_PRESENT);
            assertThat(v.lastEntry().level()).isEqualTo(level);
            assertThat(v.path()).hasSize(level.ordinal() + 1);
            assertThat(v.qualification().bits()).as("%s at %s", access, level)
                    .isEqualTo(expected[access.ordinal()]);
            assertThat(v.guestPhysical()).isEqualTo(GPA);
            assertThat(v.guestLinearAddress()).isEqualTo(0x7FFF_1234_5567L);
        }
    }

    /**
     * (level, entry value without the permission, access, expected qualification): the permission the access needs
     * is cleared in one entry; the others are RWX. Bits 5:3 are the AND over the four entries.
     */
    static Stream<Arguments> missingPermission() {
        return Stream.of(
                // read needs R. Clearing R alone is misconfiguring (W without R), so the entry becomes X only
                // (100b, execute-only supported): AND = 100b -> executable 0x20; read 0x1 -> 0x1A1
                Arguments.of(Level.PML4, 0x2004L, AccessKind.READ, 0x1A1L),
                Arguments.of(Level.PDPT, 0x3004L, AccessKind.READ, 0x1A1L),
                Arguments.of(Level.PD, 0x4004L, AccessKind.READ, 0x1A1L),
                Arguments.of(Level.PT, 0xABCDE034L, AccessKind.READ, 0x1A1L),
                // write needs W: entry R-X (101b): AND = 101b -> 0x8 + 0x20; write 0x2 -> 0x1AA
                Arguments.of(Level.PML4, 0x2005L, AccessKind.WRITE, 0x1AAL),
                Arguments.of(Level.PDPT, 0x3005L, AccessKind.WRITE, 0x1AAL),
                Arguments.of(Level.PD, 0x4005L, AccessKind.WRITE, 0x1AAL),
                Arguments.of(Level.PT, 0xABCDE035L, AccessKind.WRITE, 0x1AAL),
                // fetch needs X: entry RW- (011b): AND = 011b -> 0x8 + 0x10; fetch 0x4 -> 0x19C
                Arguments.of(Level.PML4, 0x2003L, AccessKind.FETCH, 0x19CL),
                Arguments.of(Level.PDPT, 0x3003L, AccessKind.FETCH, 0x19CL),
                Arguments.of(Level.PD, 0x4003L, AccessKind.FETCH, 0x19CL),
                Arguments.of(Level.PT, 0xABCDE033L, AccessKind.FETCH, 0x19CL));
    }

    @ParameterizedTest(name = "{2} without its permission at {0}")
    @MethodSource("missingPermission")
    @DisplayName("SDM 28.2.3.2: read needs R, write W, fetch X in every entry used; bits 5:3 = AND over the walk")
    void permissionMissingAtEachLevel(Level level, long value, AccessKind access, long expected) {
        PhysicalMemory m = switch (level) {
            case PML4 -> memory(value, PDPTE, PDE, PTE);
            case PDPT -> memory(PML4E, value, PDE, PTE);
            case PD -> memory(PML4E, PDPTE, value, PTE);
            case PT -> memory(PML4E, PDPTE, PDE, value);
        };
        EptViolation v = (EptViolation) translate(m, SUPPORT_XO, access);
        assertThat(v.cause()).isEqualTo(EptViolation.Cause.NOT_PERMITTED);
        assertThat(v.path()).hasSize(4);
        assertThat(v.qualification().bits()).isEqualTo(expected);
    }

    @Test
    @DisplayName("SDM table 27-7 bits 5:3: the AND over the walk, each bit cleared in a different entry")
    void andOverTheWalk() {
        // PML4E R-X (0x2005), PDPTE RW- (0x3003), PDE RWX, PTE RWX: AND = R-- (001b)
        PhysicalMemory m = memory(0x2005, 0x3003, PDE, PTE);
        assertThat(translate(m, AccessKind.READ)).isInstanceOf(EptTranslated.class);
        // write: 0x2 + readable 0x8 + 0x180 = 0x18A
        assertThat(((EptViolation) translate(m, AccessKind.WRITE)).qualification().bits()).isEqualTo(0x18AL);
        // fetch: 0x4 + 0x8 + 0x180 = 0x18C
        assertThat(((EptViolation) translate(m, AccessKind.FETCH)).qualification().bits()).isEqualTo(0x18CL);
    }

    @Test
    @DisplayName("SDM table 27-7 bits 7 and 8: translation of a linear address, paging-structure entry, no linear")
    void bits7And8() {
        PhysicalMemory m = memory(PML4E, PDPTE, PDE, 0xABCDE031L); // PTE read-only, WB
        Eptp eptp = new Eptp(EPTP);
        // write: 0x2 + readable 0x8 = 0xA, then bit 7 (0x80) and bit 8 (0x100)
        EptViolation translation = (EptViolation) EptPageWalk.translate(m, eptp, SUPPORT, GPA, AccessKind.WRITE,
                GuestLinear.translationOf(0x40_0567L));
        assertThat(translation.qualification().bits()).isEqualTo(0x18AL);
        assertThat(translation.guestLinearAddress()).isEqualTo(0x40_0567L);
        EptViolation pagingStructure = (EptViolation) EptPageWalk.translate(m, eptp, SUPPORT, GPA, AccessKind.WRITE,
                GuestLinear.pagingStructureEntryFor(0x40_0567L));
        assertThat(pagingStructure.qualification().bits()).isEqualTo(0x08AL);
        assertThat(pagingStructure.qualification().linearValid()).isTrue();
        assertThat(pagingStructure.qualification().translatedAccess()).isFalse();
        EptViolation none = (EptViolation) EptPageWalk.translate(m, eptp, SUPPORT, GPA, AccessKind.WRITE,
                GuestLinear.NOT_VALID);
        assertThat(none.qualification().bits()).isEqualTo(0x00AL);
    }

    @Test
    @DisplayName("SDM 28.2.3.2: reads of guest paging structures are data reads (A/D disabled): R suffices")
    void pagingStructureReadWithoutAccessedDirty() {
        PhysicalMemory m = memory(PML4E, PDPTE, PDE, 0xABCDE031L); // read-only
        EptTranslation t = EptPageWalk.translate(m, new Eptp(EPTP), SUPPORT, GPA, AccessKind.READ,
                GuestLinear.pagingStructureEntryFor(0x40_0567L));
        assertThat(t).isInstanceOf(EptTranslated.class);
    }

    @Test
    @DisplayName("SDM 28.2.3.2 and table 27-7 note 1: with EPT A/D, a guest paging-structure read is a write;"
            + " its violation sets bits 0 and 1")
    void pagingStructureReadWithAccessedDirty() {
        PhysicalMemory m = memory(PML4E, PDPTE, PDE, 0xABCDE031L); // read-only
        EptViolation v = (EptViolation) EptPageWalk.translate(m, new Eptp(EPTP_AD), SUPPORT, GPA, AccessKind.READ,
                GuestLinear.pagingStructureEntryFor(0x40_0567L));
        // read 0x1 + write 0x2 + readable 0x8 + linear valid 0x80 (bit 8 = 0) = 0x8B
        assertThat(v.qualification().bits()).isEqualTo(0x8BL);
        // the guest's A/D update of its entry, a write, reports the same bits
        EptViolation w = (EptViolation) EptPageWalk.translate(m, new Eptp(EPTP_AD), SUPPORT, GPA, AccessKind.WRITE,
                GuestLinear.pagingStructureEntryFor(0x40_0567L));
        assertThat(w.qualification().bits()).isEqualTo(0x8BL);
        // the translated access itself is not affected: a read of the final GPA needs only R
        assertThat(EptPageWalk.translate(m, new Eptp(EPTP_AD), SUPPORT, GPA, AccessKind.READ, LINEAR))
                .isInstanceOf(EptTranslated.class);
        // nor is a load with no linear address (the PAE PDPTE loads of MOV to CR3)
        assertThat(EptPageWalk.translate(m, new Eptp(EPTP_AD), SUPPORT, GPA, AccessKind.READ, GuestLinear.NOT_VALID))
                .isInstanceOf(EptTranslated.class);
    }

    @Test
    @DisplayName("table 27-7 note 1 holds for a not-present entry too: A/D enabled, paging-structure read")
    void pagingStructureReadNotPresentWithAccessedDirty() {
        EptViolation v = (EptViolation) EptPageWalk.translate(memory(PML4E, PDPTE, PDE, 0), new Eptp(EPTP_AD),
                SUPPORT, GPA, AccessKind.READ, GuestLinear.pagingStructureEntryFor(0x40_0567L));
        // read 0x1 + write 0x2 + bits 5:3 = 0 + linear valid 0x80 = 0x83
        assertThat(v.qualification().bits()).isEqualTo(0x83L);
    }

    @Test
    @DisplayName("SDM 28.2.3.2: a violation leaves host memory unchanged (no A/D side effect)")
    void violationHasNoSideEffect() {
        PhysicalMemory m = memory(PML4E, PDPTE, PDE, 0xABCDE031L);
        EptTranslation t = EptPageWalk.translate(m, new Eptp(EPTP_AD), SUPPORT, GPA, AccessKind.WRITE, LINEAR);
        assertThat(t).isInstanceOf(EptViolation.class);
        assertThat(m).isEqualTo(memory(PML4E, PDPTE, PDE, 0xABCDE031L));
    }
}
