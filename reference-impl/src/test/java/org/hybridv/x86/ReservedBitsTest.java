package org.hybridv.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.x86.Mapping.LINEAR;
import static org.hybridv.x86.Mapping.cpu;
import static org.hybridv.x86.Mapping.pageFault;
import static org.hybridv.x86.Mapping.physical;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reserved bits of paging-structure entries (Intel SDM Vol. 3A §4.5.4, tables 4-14 to 4-20) and the RSVD bit of the
 * error code (§4.7: "RSVD = 1: there is no translation because a reserved bit was set"; reserved bits are checked
 * only in present entries, so RSVD = 1 implies P = 1).
 */
class ReservedBitsTest {
    private static final int RSVD_READ = ErrorCode.P | ErrorCode.RSVD;

    @ParameterizedTest
    @EnumSource(Level.class)
    @DisplayName("SDM 4.5.4: bits 51:M are reserved in every entry; MAXPHYADDR 36 makes bit 36 and bit 51 reserved")
    void bitsAboveMaxPhysAddrAreReservedAtEveryLevel(Level level) {
        for (int bit : new int[] {36, 44, 51}) {
            PhysicalMemory memory = Mapping.fourKiB().at(level, e -> e.with(bit, true)).memory();
            assertThat(PageWalk.translate(memory, cpu(), Access.read(LINEAR)))
                    .as("bit %d at %s", bit, level).isEqualTo(pageFault(RSVD_READ, LINEAR));
            assertThat(PageWalk.walk(memory, cpu(), LINEAR).path()).hasSize(level.ordinal() + 1);
        }
    }

    @Test
    @DisplayName("SDM 4.5.4: with MAXPHYADDR 39, bits 38:36 are address bits and bit 39 is reserved")
    void bitsAboveMaxPhysAddrDependOnMaxPhysAddr() {
        CpuState m39 = CpuState.longMode(Mapping.PML4, 39);
        PhysicalMemory bit36 = Mapping.fourKiB().pte(e -> e.with(36, true)).memory();
        PhysicalMemory bit38 = Mapping.fourKiB().pte(e -> e.with(38, true)).memory();
        PhysicalMemory bit39 = Mapping.fourKiB().pte(e -> e.with(39, true)).memory();

        assertThat(physical(PageWalk.translate(bit36, m39, Access.read(LINEAR)))).isEqualTo((1L << 36) | 0x95A8L);
        assertThat(physical(PageWalk.translate(bit38, m39, Access.read(LINEAR)))).isEqualTo((1L << 38) | 0x95A8L);
        assertThat(PageWalk.translate(bit39, m39, Access.read(LINEAR))).isEqualTo(pageFault(RSVD_READ, LINEAR));
        // ... while with MAXPHYADDR 36 bit 36 is reserved
        assertThat(PageWalk.translate(bit36, cpu(), Access.read(LINEAR))).isEqualTo(pageFault(RSVD_READ, LINEAR));
    }

    @Test
    @DisplayName("SDM 4.5.4: with MAXPHYADDR 52 no address bit is reserved")
    void noAddressBitIsReservedWithMaxPhysAddr52() {
        CpuState m52 = CpuState.longMode(Mapping.PML4, 52);
        PhysicalMemory memory = Mapping.fourKiB().pte(e -> e.with(51, true)).memory();
        assertThat(physical(PageWalk.translate(memory, m52, Access.read(LINEAR)))).isEqualTo((1L << 51) | 0x95A8L);
    }

    @ParameterizedTest
    @EnumSource(Level.class)
    @DisplayName("SDM 4.5.4: XD (bit 63) is reserved when IA32_EFER.NXE = 0, at every level")
    void executeDisableIsReservedWithoutNxe(Level level) {
        PhysicalMemory memory = Mapping.fourKiB().at(level, e -> e.withNoExecute(true)).memory();
        assertThat(PageWalk.translate(memory, cpu(), Access.read(LINEAR))).isEqualTo(pageFault(RSVD_READ, LINEAR));
        // with NXE = 1 it is not reserved: a read succeeds
        CpuState nxe = cpu().withEfer(new Efer(true, true));
        assertThat(physical(PageWalk.translate(memory, nxe, Access.read(LINEAR)))).isEqualTo(0x95A8L);
    }

    @ParameterizedTest
    @ValueSource(ints = {13, 20, 21, 29})
    @DisplayName("SDM table 4-16: bits 29:13 of a PDPTE that maps a 1-GByte page are reserved")
    void oneGiBPdpteBits29To13AreReserved(int bit) {
        long linear = (1L << 39) | (2L << 30);
        PhysicalMemory memory = Mapping.fourKiB().pdpte(e -> e.withFrame(0x40000).withPageSize(true).with(bit, true))
                .memory();
        assertThat(PageWalk.translate(memory, cpu(), Access.read(linear))).isEqualTo(pageFault(RSVD_READ, linear));
    }

    @Test
    @DisplayName("SDM table 4-16: bit 12 of a 1-GByte PDPTE is PAT, not reserved; bits 29:13 of a PDPTE with PS = 0"
            + " are address bits")
    void oneGiBPdptePatBitIsNotReserved() {
        long linear = (1L << 39) | (2L << 30) | 0x10;
        PhysicalMemory pat = Mapping.fourKiB().pdpte(e -> e.withFrame(0x40000).withPageSize(true).with(12, true))
                .memory();
        assertThat(physical(PageWalk.translate(pat, cpu(), Access.read(linear)))).isEqualTo(0x4000_0010L);
        // PS = 0: the PDPTE references a page directory and bit 13 is an address bit: the PD is read at
        // 0x3000 | 0x2000 = 0x5000 instead of the walk stopping with RSVD.
        PhysicalMemory table = Mapping.fourKiB().pdpte(e -> e.with(13, true)).memory();
        Walk walk = PageWalk.walk(table, cpu(), LINEAR);
        assertThat(walk.path().get(2).address()).isEqualTo(((3L << 12) | (1L << 13)) + 8 * 3);
    }

    @ParameterizedTest
    @ValueSource(ints = {13, 16, 20})
    @DisplayName("SDM table 4-18: bits 20:13 of a PDE that maps a 2-MByte page are reserved")
    void twoMiBPdeBits20To13AreReserved(int bit) {
        PhysicalMemory memory = Mapping.fourKiB().pde(e -> e.withFrame(0x400).withPageSize(true).with(bit, true))
                .memory();
        assertThat(PageWalk.translate(memory, cpu(), Access.write(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.WR | ErrorCode.RSVD, LINEAR));
    }

    @Test
    @DisplayName("SDM table 4-18: bit 12 of a 2-MByte PDE is PAT and NOT reserved (nor an address bit)")
    void twoMiBPdeBit12IsPatNotReserved() {
        PhysicalMemory memory = Mapping.fourKiB().pde(e -> e.withFrame(0x400).withPageSize(true).with(12, true))
                .memory();
        // physical = PDE[35:21] | linear[20:0] = 0x40_0000 | 0x45A8
        assertThat(physical(PageWalk.translate(memory, cpu(), Access.read(LINEAR)))).isEqualTo(0x40_45A8L);
    }

    @Test
    @DisplayName("SDM table 4-20: bit 7 of a PTE is PAT, not PS and not reserved")
    void pteBit7IsPatNotReserved() {
        PhysicalMemory memory = Mapping.fourKiB().pte(e -> e.withPageSize(true)).memory();
        Translation t = PageWalk.translate(memory, cpu(), Access.read(LINEAR));
        assertThat(physical(t)).isEqualTo(0x95A8L);
        assertThat(((Translated) t).pageSize()).isEqualTo(PageSize.SIZE_4K);
    }

    @Test
    @DisplayName("SDM 4.5.4/4.7: reserved bits are not checked in a not-present entry (P = 0, RSVD = 0)")
    void reservedBitsInNotPresentEntryAreIgnored() {
        PhysicalMemory memory = Mapping.fourKiB().pde(e -> e.withPresent(false).with(51, true).withNoExecute(true))
                .memory();
        assertThat(PageWalk.translate(memory, cpu(), Access.read(LINEAR))).isEqualTo(pageFault(0, LINEAR));
    }

    @Test
    @DisplayName("SDM 4.5.4: a reserved bit in a PTE behind a 2-MByte PDE is never read")
    void entriesBelowALeafAreNotChecked() {
        PhysicalMemory memory = Mapping.fourKiB().pde(e -> e.withFrame(0x400).withPageSize(true))
                .pte(e -> e.with(51, true)).memory();
        assertThat(physical(PageWalk.translate(memory, cpu(), Access.read(LINEAR)))).isEqualTo(0x40_45A8L);
    }
}
