package org.hybridv.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.x86.Mapping.LINEAR;
import static org.hybridv.x86.Mapping.cpu;
import static org.hybridv.x86.Mapping.pageFault;
import static org.hybridv.x86.Mapping.physical;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Protection keys for user-mode pages, Intel SDM Vol. 3A §4.6.2, and the PK bit of the error code, §4.7. PKRU holds
 * AD_i in bit 2i and WD_i in bit 2i+1; the key of a page is bits 62:59 of the entry that maps it.
 */
class ProtectionKeysTest {
    private static final long PHYS = 0x95A8L;
    private static final int KEY = 3;
    private static final int AD3 = 1 << (2 * KEY);
    private static final int WD3 = 1 << (2 * KEY + 1);

    private static final CpuState PKE = cpu().withCr4(cpu().cr4().withPke(true));
    private static final CpuState PKE_USER = PKE.withCpl(3);

    private static final Mapping KEYED_USER_PAGE = Mapping.fourKiB().pte(e -> e.withProtectionKey(KEY));

    private static Translation translate(Mapping m, CpuState cpu, Access a) {
        return PageWalk.translate(m.memory(), cpu, a);
    }

    @Test
    @DisplayName("SDM 4.6.2: AD_i = 1 denies user-mode reads and writes of user pages with key i (PK set)")
    void accessDisableDeniesUserReadsAndWrites() {
        CpuState cpu = PKE_USER.withPkru(AD3);
        assertThat(translate(KEYED_USER_PAGE, cpu, Access.read(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.US | ErrorCode.PK, LINEAR));
        assertThat(translate(KEYED_USER_PAGE, cpu, Access.write(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.WR | ErrorCode.US | ErrorCode.PK, LINEAR));
    }

    @Test
    @DisplayName("SDM 4.6.2: AD_i = 1 also denies supervisor-mode reads and writes of user pages with key i")
    void accessDisableDeniesSupervisorAccessToUserPages() {
        CpuState cpu = PKE.withPkru(AD3);
        assertThat(translate(KEYED_USER_PAGE, cpu, Access.read(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.PK, LINEAR));
        assertThat(translate(KEYED_USER_PAGE, cpu, Access.write(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.WR | ErrorCode.PK, LINEAR));
    }

    @Test
    @DisplayName("SDM 4.6.2: only the page's own key counts; AD/WD of other keys are irrelevant")
    void otherKeysDoNotApply() {
        int allButKey3 = 0xFFFF_FFFF & ~(AD3 | WD3);
        assertThat(physical(translate(KEYED_USER_PAGE, PKE_USER.withPkru(allButKey3), Access.write(LINEAR))))
                .isEqualTo(PHYS);
    }

    @Test
    @DisplayName("SDM 4.6.2: WD_i = 1 denies user-mode writes but not reads")
    void writeDisableDeniesUserWrites() {
        CpuState cpu = PKE_USER.withPkru(WD3);
        assertThat(translate(KEYED_USER_PAGE, cpu, Access.write(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.WR | ErrorCode.US | ErrorCode.PK, LINEAR));
        assertThat(physical(translate(KEYED_USER_PAGE, cpu, Access.read(LINEAR)))).isEqualTo(PHYS);
        // CR0.WP does not matter for user-mode writes
        CpuState wp = cpu.withCr0(cpu.cr0().withWp(true));
        assertThat(translate(KEYED_USER_PAGE, wp, Access.write(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.WR | ErrorCode.US | ErrorCode.PK, LINEAR));
    }

    @Test
    @DisplayName("SDM 4.6.2: WD_i = 1 denies supervisor-mode writes to user pages only when CR0.WP = 1")
    void writeDisableDeniesSupervisorWritesOnlyWithWp() {
        CpuState cpu = PKE.withPkru(WD3);
        assertThat(physical(translate(KEYED_USER_PAGE, cpu, Access.write(LINEAR)))).isEqualTo(PHYS);
        CpuState wp = cpu.withCr0(cpu.cr0().withWp(true));
        assertThat(translate(KEYED_USER_PAGE, wp, Access.write(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.WR | ErrorCode.PK, LINEAR));
        assertThat(physical(translate(KEYED_USER_PAGE, wp, Access.read(LINEAR)))).isEqualTo(PHYS);
    }

    @Test
    @DisplayName("SDM 4.6.2: protection keys never apply to supervisor-mode pages")
    void keysNeverApplyToSupervisorPages() {
        Mapping supervisorPage = Mapping.fourKiB().pte(e -> e.withProtectionKey(KEY).withUser(false));
        CpuState cpu = PKE.withPkru(AD3 | WD3).withCr0(PKE.cr0().withWp(true));
        assertThat(physical(translate(supervisorPage, cpu, Access.read(LINEAR)))).isEqualTo(PHYS);
        assertThat(physical(translate(supervisorPage, cpu, Access.write(LINEAR)))).isEqualTo(PHYS);
        // U/S = 0 at a higher level also makes it a supervisor-mode address
        Mapping upper = Mapping.fourKiB().pte(e -> e.withProtectionKey(KEY)).pdpte(e -> e.withUser(false));
        assertThat(physical(translate(upper, cpu, Access.write(LINEAR)))).isEqualTo(PHYS);
    }

    @Test
    @DisplayName("SDM 4.6.2: protection keys do not apply to instruction fetches")
    void keysNeverApplyToFetches() {
        CpuState cpu = PKE_USER.withPkru(AD3 | WD3);
        assertThat(physical(translate(KEYED_USER_PAGE, cpu, Access.fetch(LINEAR)))).isEqualTo(PHYS);
        assertThat(physical(translate(KEYED_USER_PAGE, PKE.withPkru(AD3), Access.fetch(LINEAR)))).isEqualTo(PHYS);
    }

    @Test
    @DisplayName("SDM 4.6.2: with CR4.PKE = 0 the key bits 62:59 are ignored (no denial, no reserved bit)")
    void keysIgnoredWithoutPke() {
        CpuState cpu = cpu().withCpl(3).withPkru(AD3 | WD3);
        assertThat(physical(translate(KEYED_USER_PAGE, cpu, Access.write(LINEAR)))).isEqualTo(PHYS);
        assertThat(physical(translate(KEYED_USER_PAGE, cpu, Access.read(LINEAR)))).isEqualTo(PHYS);
    }

    @Test
    @DisplayName("SDM 4.6.2: the key comes from the entry that maps the page; bits 62:59 of a PML4E are ignored")
    void keyIsTakenFromTheLeaf() {
        Mapping keyInPml4e = Mapping.fourKiB().pml4e(e -> e.withProtectionKey(KEY));
        assertThat(physical(translate(keyInPml4e, PKE_USER.withPkru(AD3), Access.read(LINEAR)))).isEqualTo(PHYS);
        Mapping twoMiB = Mapping.fourKiB().pde(e -> e.withFrame(0x400).withPageSize(true).withProtectionKey(KEY));
        assertThat(translate(twoMiB, PKE_USER.withPkru(AD3), Access.read(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.US | ErrorCode.PK, LINEAR));
    }

    @Test
    @DisplayName("SDM 4.7: PK is set together with a page-level violation when both deny the access")
    void pkBitSetAlongsidePageLevelViolation() {
        Mapping readOnly = Mapping.fourKiB().pte(e -> e.withProtectionKey(KEY).withWritable(false));
        assertThat(translate(readOnly, PKE_USER.withPkru(WD3), Access.write(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.WR | ErrorCode.US | ErrorCode.PK, LINEAR));
        // a page-level violation alone has PK = 0
        assertThat(translate(readOnly, PKE_USER, Access.write(LINEAR)))
                .isEqualTo(pageFault(ErrorCode.P | ErrorCode.WR | ErrorCode.US, LINEAR));
    }
}
