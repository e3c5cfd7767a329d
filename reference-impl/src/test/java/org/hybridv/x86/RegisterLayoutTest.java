package org.hybridv.x86;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Bit layouts of CR0, CR4 and IA32_EFER (Intel SDM Vol. 3A §2.5 figure 2-7, §2.2.1 figure 2-4). */
class RegisterLayoutTest {

    @Test
    @DisplayName("SDM 2.5: CR0.PE is bit 0, WP bit 16, PG bit 31 — 0x80010001 is PE|WP|PG")
    void cr0Layout() {
        assertThat(Cr0.ofBits(0x8001_0001L)).isEqualTo(new Cr0(true, true, true));
        assertThat(Cr0.ofBits(0x8000_0001L)).isEqualTo(new Cr0(true, false, true));
        assertThat(new Cr0(true, true, true).bits()).isEqualTo(0x8001_0001L);
    }

    @Test
    @DisplayName("SDM 2.5: CR4.PSE 4, PAE 5, PGE 7, PCIDE 17, SMEP 20, SMAP 21, PKE 22")
    void cr4Layout() {
        assertThat(Cr4.ofBits(0x20)).isEqualTo(Cr4.RESET.withPae(true));
        assertThat(Cr4.ofBits(0x0070_00B0L)).isEqualTo(new Cr4(true, true, true, false, true, true, true));
        assertThat(Cr4.ofBits(1L << 17).pcide()).isTrue();
        assertThat(new Cr4(true, true, true, true, true, true, true).bits()).isEqualTo(0x0072_00B0L);
    }

    @Test
    @DisplayName("SDM 2.2.1: EFER.LME bit 8, LMA bit 10 (read-only: PG and LME), NXE bit 11")
    void eferLayout() {
        assertThat(Efer.ofBits(0xD00)).isEqualTo(new Efer(true, true));
        assertThat(Efer.ofBits(0x400)).as("a written LMA is ignored").isEqualTo(Efer.RESET);
        CpuState longMode = CpuState.longMode(1, 39);
        assertThat(longMode.eferBits()).as("LME and LMA in IA-32e mode").isEqualTo(0x500);
        assertThat(longMode.withEfer(new Efer(true, true)).eferBits()).isEqualTo(0xD00);
        assertThat(CpuState.reset(39).withEfer(new Efer(true, false)).eferBits()).as("LME without paging: no LMA")
                .isEqualTo(0x100);
    }
}
