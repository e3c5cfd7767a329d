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

/** Access rights, Intel SDM Vol. 3A §4.6.1 "Determination of Access Rights" (error codes per §4.7). */
class AccessRightsTest {
    private static final long PHYS = 0x95A8L;
    private static final CpuState USER = cpu().withCpl(3);
    private static final CpuState NXE = cpu().withEfer(new Efer(true, true));

    private static Translation translate(Mapping m, CpuState cpu, Access a) {
        return PageWalk.translate(m.memory(), cpu, a);
    }

    // ---- R/W and U/S combine over every level ----

    @ParameterizedTest
    @EnumSource(Level.class)
    @DisplayName("SDM 4.6.1: a user write needs R/W = 1 in every entry; R/W = 0 at any one level denies it")
    void readOnlyAtAnyLevelDeniesUserWrite(Level level) {
        Mapping m = Mapping.fourKiB().at(level, e -> e.withWritable(false));
        assertThat(translate(m, USER, Access.write(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.WR | ErrorCode.US, LINEAR));
        assertThat(physical(translate(m, USER, Access.read(LINEAR)))).isEqualTo(PHYS);
        assertThat(physical(translate(Mapping.fourKiB(), USER, Access.write(LINEAR)))).isEqualTo(PHYS);
    }

    @ParameterizedTest
    @EnumSource(Level.class)
    @DisplayName("SDM 4.6: a user-mode address needs U/S = 1 in every entry; U/S = 0 at any level makes it"
            + " supervisor-mode, denied to user reads, writes and fetches")
    void supervisorAtAnyLevelDeniesUserAccess(Level level) {
        Mapping m = Mapping.fourKiB().at(level, e -> e.withUser(false));
        assertThat(translate(m, USER, Access.read(LINEAR))).isEqualTo(pageFault(ErrorCode.P | ErrorCode.US, LINEAR));
        assertThat(translate(m, USER, Access.write(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.WR | ErrorCode.US, LINEAR));
        // NXE = 0 and SMEP = 0: I/D stays 0 (SDM 4.7)
        assertThat(translate(m, USER, Access.fetch(LINEAR))).isEqualTo(pageFault(ErrorCode.P | ErrorCode.US, LINEAR));
        // the supervisor may still read it
        assertThat(physical(translate(m, cpu(), Access.read(LINEAR)))).isEqualTo(PHYS);
    }

    @Test
    @DisplayName("SDM 4.6.1: user reads and fetches of a read-only user page are allowed")
    void userReadAndFetchOfReadOnlyUserPageAllowed() {
        Mapping m = Mapping.fourKiB().pte(e -> e.withWritable(false));
        assertThat(physical(translate(m, USER, Access.read(LINEAR)))).isEqualTo(PHYS);
        assertThat(physical(translate(m, USER, Access.fetch(LINEAR)))).isEqualTo(PHYS);
    }

    // ---- CR0.WP ----

    @Test
    @DisplayName("SDM 4.6.1: supervisor write to a read-only supervisor page: allowed with CR0.WP = 0, #PF with WP = 1")
    void supervisorWriteToReadOnlyPageFaultsOnlyWithWp() {
        Mapping m = Mapping.fourKiB().pte(e -> e.withWritable(false).withUser(false));
        assertThat(physical(translate(m, cpu(), Access.write(LINEAR)))).isEqualTo(PHYS);
        CpuState wp = cpu().withCr0(cpu().cr0().withWp(true));
        assertThat(translate(m, wp, Access.write(LINEAR))).isEqualTo(pageFault(ErrorCode.P | ErrorCode.WR, LINEAR));
        // a read-only entry at a higher level counts too
        Mapping upper = Mapping.fourKiB().pdpte(e -> e.withWritable(false));
        assertThat(translate(upper, wp, Access.write(LINEAR))).isEqualTo(pageFault(ErrorCode.P | ErrorCode.WR, LINEAR));
    }

    @Test
    @DisplayName("SDM 4.6.1: supervisor write to a read-only user page (SMAP off): allowed with WP = 0, #PF with WP = 1")
    void supervisorWriteToReadOnlyUserPageFaultsOnlyWithWp() {
        Mapping m = Mapping.fourKiB().pte(e -> e.withWritable(false));
        assertThat(physical(translate(m, cpu(), Access.write(LINEAR)))).isEqualTo(PHYS);
        CpuState wp = cpu().withCr0(cpu().cr0().withWp(true));
        assertThat(translate(m, wp, Access.write(LINEAR))).isEqualTo(pageFault(ErrorCode.P | ErrorCode.WR, LINEAR));
    }

    @Test
    @DisplayName("SDM 4.1.3: user writes to read-only pages fault regardless of CR0.WP")
    void userWriteToReadOnlyPageFaultsRegardlessOfWp() {
        Mapping m = Mapping.fourKiB().pte(e -> e.withWritable(false));
        int expected = ErrorCode.P | ErrorCode.WR | ErrorCode.US;
        assertThat(translate(m, USER, Access.write(LINEAR))).isEqualTo(pageFault(expected, LINEAR));
        assertThat(translate(m, USER.withCr0(USER.cr0().withWp(true)), Access.write(LINEAR)))
                .isEqualTo(pageFault(expected, LINEAR));
    }

    // ---- SMEP ----

    @Test
    @DisplayName("SDM 4.6.1: supervisor fetch from a user page faults with CR4.SMEP = 1 (I/D set), succeeds with SMEP = 0")
    void supervisorFetchFromUserPageFaultsOnlyWithSmep() {
        Mapping m = Mapping.fourKiB();
        assertThat(physical(translate(m, cpu(), Access.fetch(LINEAR)))).isEqualTo(PHYS);
        CpuState smep = cpu().withCr4(cpu().cr4().withSmep(true));
        // SDM 4.7: I/D = 1 for a fetch when SMEP = 1, even with NXE = 0
        assertThat(translate(m, smep, Access.fetch(LINEAR))).isEqualTo(pageFault(ErrorCode.P | ErrorCode.ID, LINEAR));
        // SMEP does not affect data accesses or supervisor pages
        assertThat(physical(translate(m, smep, Access.read(LINEAR)))).isEqualTo(PHYS);
        Mapping supervisor = Mapping.fourKiB().pde(e -> e.withUser(false));
        assertThat(physical(translate(supervisor, smep, Access.fetch(LINEAR)))).isEqualTo(PHYS);
        // nor user-mode fetches
        assertThat(physical(translate(m, smep.withCpl(3), Access.fetch(LINEAR)))).isEqualTo(PHYS);
    }

    // ---- SMAP ----

    @Test
    @DisplayName("SDM 4.6.1: with CR4.SMAP = 1 and RFLAGS.AC = 0, supervisor reads and writes of user pages fault")
    void smapDeniesSupervisorDataAccessToUserPageWhenAcClear() {
        Mapping m = Mapping.fourKiB();
        CpuState smap = cpu().withCr4(cpu().cr4().withSmap(true));
        assertThat(translate(m, smap, Access.read(LINEAR))).isEqualTo(pageFault(ErrorCode.P, LINEAR));
        assertThat(translate(m, smap, Access.write(LINEAR))).isEqualTo(pageFault(ErrorCode.P | ErrorCode.WR, LINEAR));
        // without SMAP both succeed
        assertThat(physical(translate(m, cpu(), Access.read(LINEAR)))).isEqualTo(PHYS);
        assertThat(physical(translate(m, cpu(), Access.write(LINEAR)))).isEqualTo(PHYS);
        // SMAP does not concern supervisor pages nor fetches
        Mapping supervisor = Mapping.fourKiB().pml4e(e -> e.withUser(false));
        assertThat(physical(translate(supervisor, smap, Access.write(LINEAR)))).isEqualTo(PHYS);
        assertThat(physical(translate(m, smap, Access.fetch(LINEAR)))).isEqualTo(PHYS);
    }

    @Test
    @DisplayName("SDM 4.6.1: with SMAP = 1 and AC = 1, explicit supervisor reads and writes of user pages succeed")
    void smapAllowsExplicitSupervisorAccessWhenAcSet() {
        Mapping m = Mapping.fourKiB();
        CpuState smapAc = cpu().withCr4(cpu().cr4().withSmap(true)).withAc(true);
        assertThat(physical(translate(m, smapAc, Access.read(LINEAR)))).isEqualTo(PHYS);
        assertThat(physical(translate(m, smapAc, Access.write(LINEAR)))).isEqualTo(PHYS);
        // AC = 1 does not lift CR0.WP
        Mapping readOnly = Mapping.fourKiB().pte(e -> e.withWritable(false));
        CpuState wp = smapAc.withCr0(smapAc.cr0().withWp(true));
        assertThat(translate(readOnly, wp, Access.write(LINEAR))).isEqualTo(pageFault(ErrorCode.P | ErrorCode.WR, LINEAR));
    }

    @Test
    @DisplayName("SDM 4.6.1: with SMAP = 1, implicit supervisor accesses to user pages fault even with AC = 1")
    void smapDeniesImplicitSupervisorAccessEvenWithAc() {
        Mapping m = Mapping.fourKiB();
        CpuState smapAc = cpu().withCr4(cpu().cr4().withSmap(true)).withAc(true);
        assertThat(translate(m, smapAc, Access.read(LINEAR).implicit())).isEqualTo(pageFault(ErrorCode.P, LINEAR));
        assertThat(translate(m, smapAc, Access.write(LINEAR).implicit()))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.WR, LINEAR));
        // at CPL 3 too, and U/S is 0 in the error code: the implicit access is a supervisor-mode access
        assertThat(translate(m, smapAc.withCpl(3), Access.read(LINEAR).implicit()))
                .isEqualTo(pageFault(ErrorCode.P, LINEAR));
    }

    // ---- NX ----

    @Test
    @DisplayName("SDM 4.6.1: with IA32_EFER.NXE = 1, a fetch from a page with XD = 1 faults (I/D set)")
    void fetchFromExecuteDisablePageFaultsWithNxe() {
        Mapping m = Mapping.fourKiB().pte(e -> e.withNoExecute(true));
        assertThat(translate(m, NXE, Access.fetch(LINEAR))).isEqualTo(pageFault(ErrorCode.P | ErrorCode.ID, LINEAR));
        assertThat(translate(m, NXE.withCpl(3), Access.fetch(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.US | ErrorCode.ID, LINEAR));
        // reads and writes are not affected by XD
        assertThat(physical(translate(m, NXE, Access.read(LINEAR)))).isEqualTo(PHYS);
        assertThat(physical(translate(m, NXE.withCpl(3), Access.write(LINEAR)))).isEqualTo(PHYS);
    }

    @ParameterizedTest
    @EnumSource(Level.class)
    @DisplayName("SDM 4.6.1: XD = 1 in any one entry controlling the translation forbids fetches")
    void executeDisableAtAnyLevelForbidsFetch(Level level) {
        Mapping m = Mapping.fourKiB().at(level, e -> e.withNoExecute(true));
        assertThat(translate(m, NXE, Access.fetch(LINEAR))).isEqualTo(pageFault(ErrorCode.P | ErrorCode.ID, LINEAR));
        assertThat(physical(translate(Mapping.fourKiB(), NXE, Access.fetch(LINEAR)))).isEqualTo(PHYS);
    }

    @Test
    @DisplayName("SDM 4.5.4/4.7: with NXE = 0, XD is a reserved bit: RSVD, and no I/D (neither NXE nor SMEP is set)")
    void executeDisableWithoutNxeIsReservedBitFault() {
        Mapping m = Mapping.fourKiB().pte(e -> e.withNoExecute(true));
        assertThat(translate(m, cpu(), Access.fetch(LINEAR))).isEqualTo(pageFault(ErrorCode.P | ErrorCode.RSVD, LINEAR));
        assertThat(translate(m, USER, Access.read(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.US | ErrorCode.RSVD, LINEAR));
    }
}
