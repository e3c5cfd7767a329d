package org.hybridv.gen;

import static org.assertj.core.api.Assertions.assertThat;

import org.hybridv.x86.Entry;
import org.hybridv.x86.Level;
import org.junit.jupiter.api.Test;

/**
 * The page-walk generator's reserved bits are the SDM's (Vol. 3A §4.5.4, tables 4-15 to 4-20), written out here bit by
 * bit: the generator must be able to set every one of them whatever the reference's own mask says.
 */
class PagingCasesTest {
    private static final Entry TABLE = Entry.table(3, true, true);
    private static final Entry LARGE = TABLE.withPageSize(true);

    @Test
    void everyLevelReservesBitsFromMaxPhysAddrTo51() {
        // MAXPHYADDR 39: bits 51:39 are reserved in every paging-structure entry
        long above = 0;
        for (int b = 39; b <= 51; b++) {
            above |= 1L << b;
        }
        assertThat(PagingCases.sdmReserved(Level.PT, TABLE, 39)).isEqualTo(above);
        assertThat(PagingCases.sdmReserved(Level.PD, TABLE, 39)).isEqualTo(above);
        assertThat(PagingCases.sdmReserved(Level.PDPT, TABLE, 39)).isEqualTo(above);
        // MAXPHYADDR 52: none above it
        assertThat(PagingCases.sdmReserved(Level.PT, TABLE, 52)).isZero();
    }

    @Test
    void pml4PsOneGigabyteAndTwoMegabyteLowBitsAreReserved() {
        assertThat(PagingCases.sdmReserved(Level.PML4, TABLE, 52)).isEqualTo(1L << 7);
        long bits29to13 = 0;
        for (int b = 13; b <= 29; b++) {
            bits29to13 |= 1L << b;
        }
        long bits20to13 = 0;
        for (int b = 13; b <= 20; b++) {
            bits20to13 |= 1L << b;
        }
        assertThat(PagingCases.sdmReserved(Level.PDPT, LARGE, 52)).isEqualTo(bits29to13);
        assertThat(PagingCases.sdmReserved(Level.PD, LARGE, 52)).isEqualTo(bits20to13);
        // a PDPTE or PDE that references a table reserves nothing below MAXPHYADDR
        assertThat(PagingCases.sdmReserved(Level.PDPT, TABLE, 52)).isZero();
        assertThat(PagingCases.sdmReserved(Level.PD, TABLE, 52)).isZero();
    }
}
