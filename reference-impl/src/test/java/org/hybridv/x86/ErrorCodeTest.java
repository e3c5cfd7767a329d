package org.hybridv.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.x86.Mapping.LINEAR;
import static org.hybridv.x86.Mapping.cpu;
import static org.hybridv.x86.Mapping.pageFault;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The page-fault error code, Intel SDM Vol. 3A §4.7 (figure 4-12), one test per bit. */
class ErrorCodeTest {
    private static final CpuState USER = cpu().withCpl(3);
    private static final CpuState NXE = cpu().withEfer(new Efer(true, true));
    private static final CpuState SMEP = cpu().withCr4(cpu().cr4().withSmep(true));

    private static Translation translate(Mapping m, CpuState cpu, Access a) {
        return PageWalk.translate(m.memory(), cpu, a);
    }

    @ParameterizedTest
    @EnumSource(Level.class)
    @DisplayName("SDM 4.7: P = 0 when the walk meets a not-present entry, at each of the four levels")
    void presentBitIsZeroForNotPresentEntryAtEachLevel(Level level) {
        Mapping m = Mapping.fourKiB().at(level, e -> e.withPresent(false));
        assertThat(translate(m, cpu(), Access.read(LINEAR))).isEqualTo(pageFault(0, LINEAR));
        assertThat(translate(m, USER, Access.write(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.WR | ErrorCode.US, LINEAR));
        // the walk stops at that entry
        Walk walk = PageWalk.walk(m.memory(), cpu(), LINEAR);
        assertThat(walk.end()).isEqualTo(Walk.End.NOT_PRESENT);
        assertThat(walk.path()).hasSize(level.ordinal() + 1);
    }

    @Test
    @DisplayName("SDM 4.7: P = 1 when the fault is a page-level protection violation")
    void presentBitIsOneForProtectionViolation() {
        Mapping m = Mapping.fourKiB().pte(e -> e.withUser(false));
        PageFault pf = (PageFault) translate(m, USER, Access.read(LINEAR));
        assertThat(pf.errorCode().bits()).isEqualTo(ErrorCode.P | ErrorCode.US);
        assertThat(pf.errorCode().p()).isTrue();
    }

    @Test
    @DisplayName("SDM 4.7: W/R describes the access (1 for a write, 0 for a read or fetch), not the page's rights")
    void writeReadBitDescribesTheAccess() {
        Mapping notPresent = Mapping.fourKiB().pte(e -> e.withPresent(false));
        assertThat(translate(notPresent, cpu(), Access.write(LINEAR))).isEqualTo(pageFault(ErrorCode.WR, LINEAR));
        assertThat(translate(notPresent, cpu(), Access.read(LINEAR))).isEqualTo(pageFault(0, LINEAR));
        assertThat(translate(notPresent, cpu(), Access.fetch(LINEAR))).isEqualTo(pageFault(0, LINEAR));
        // a read that fails on a read-only page still has W/R = 0
        Mapping supervisorReadOnly = Mapping.fourKiB().pte(e -> e.withUser(false).withWritable(false));
        assertThat(translate(supervisorReadOnly, USER, Access.read(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.US, LINEAR));
    }

    @Test
    @DisplayName("SDM 4.7/4.6: U/S = 1 for a user-mode access (CPL 3), 0 for supervisor mode (CPL 0..2)")
    void userSupervisorBitFollowsCpl() {
        Mapping notPresent = Mapping.fourKiB().pdpte(e -> e.withPresent(false));
        assertThat(translate(notPresent, USER, Access.read(LINEAR))).isEqualTo(pageFault(ErrorCode.US, LINEAR));
        for (int cpl = 0; cpl <= 2; cpl++) {
            assertThat(translate(notPresent, cpu().withCpl(cpl), Access.read(LINEAR))).isEqualTo(pageFault(0, LINEAR));
        }
    }

    @Test
    @DisplayName("SDM 4.6/4.7: an implicit supervisor-mode access at CPL 3 is a supervisor access: U/S = 0")
    void implicitSupervisorAccessAtCpl3HasUserSupervisorBitClear() {
        Mapping notPresent = Mapping.fourKiB().pte(e -> e.withPresent(false));
        assertThat(translate(notPresent, USER, Access.read(LINEAR).implicit())).isEqualTo(pageFault(0, LINEAR));
        assertThat(translate(notPresent, USER, Access.write(LINEAR).implicit()))
                .isEqualTo(pageFault(ErrorCode.WR, LINEAR));
        // and it is allowed to a supervisor page (the rights are those of supervisor mode)
        Mapping supervisor = Mapping.fourKiB().pte(e -> e.withUser(false));
        assertThat(translate(supervisor, USER, Access.read(LINEAR).implicit())).isInstanceOf(Translated.class);
    }

    @Test
    @DisplayName("SDM 4.7: RSVD = 1 (with P = 1) when a reserved bit is set; W/R and U/S still describe the access")
    void reservedBitSetsRsvdAndPresent() {
        Mapping m = Mapping.fourKiB().pde(e -> e.with(40, true));
        assertThat(translate(m, USER, Access.write(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.WR | ErrorCode.US | ErrorCode.RSVD, LINEAR));
    }

    @Test
    @DisplayName("SDM 4.7: I/D = 1 only for a fetch, and only when CR4.SMEP = 1 or (CR4.PAE = 1 and EFER.NXE = 1)")
    void instructionFetchBitOnlyForFetchesWithNxeOrSmep() {
        Mapping notPresent = Mapping.fourKiB().pte(e -> e.withPresent(false));
        // NXE = 0, SMEP = 0: no I/D
        assertThat(translate(notPresent, cpu(), Access.fetch(LINEAR))).isEqualTo(pageFault(0, LINEAR));
        assertThat(translate(notPresent, USER, Access.fetch(LINEAR))).isEqualTo(pageFault(ErrorCode.US, LINEAR));
        // NXE = 1 (PAE = 1 in IA-32e paging)
        assertThat(translate(notPresent, NXE, Access.fetch(LINEAR))).isEqualTo(pageFault(ErrorCode.ID, LINEAR));
        assertThat(translate(notPresent, NXE.withCpl(3), Access.fetch(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.US | ErrorCode.ID, LINEAR));
        // SMEP = 1 with NXE = 0
        assertThat(translate(notPresent, SMEP, Access.fetch(LINEAR))).isEqualTo(pageFault(ErrorCode.ID, LINEAR));
        // never for data accesses
        assertThat(translate(notPresent, NXE, Access.read(LINEAR))).isEqualTo(pageFault(0, LINEAR));
        assertThat(translate(notPresent, SMEP, Access.write(LINEAR))).isEqualTo(pageFault(ErrorCode.WR, LINEAR));
    }

    @Test
    @DisplayName("SDM 4.7: PK = 1 for a protection-key violation by a data access to a user page")
    void protectionKeyBit() {
        Mapping keyed = Mapping.fourKiB().pte(e -> e.withProtectionKey(7));
        CpuState cpu = USER.withCr4(USER.cr4().withPke(true)).withPkru(1 << 14); // AD_7
        PageFault pf = (PageFault) translate(keyed, cpu, Access.read(LINEAR));
        assertThat(pf.errorCode()).isEqualTo(new ErrorCode(ErrorCode.P | ErrorCode.US | ErrorCode.PK));
        assertThat(pf.errorCode().pk()).isTrue();
    }

    @Test
    @DisplayName("SDM 4.7 figure 4-12: the error-code bit positions")
    void errorCodeBitPositions() {
        assertThat(new int[] {ErrorCode.P, ErrorCode.WR, ErrorCode.US, ErrorCode.RSVD, ErrorCode.ID, ErrorCode.PK})
                .containsExactly(1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5);
        assertThat(new ErrorCode(0b110011).names()).isEqualTo("P|W|I/D|PK");
    }
}
