package org.hybridv.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.x86.Mapping.LINEAR;
import static org.hybridv.x86.Mapping.cpu;
import static org.hybridv.x86.Mapping.physical;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The IA-32e 4-level walk: Intel SDM Vol. 3A §4.5 (figures 4-8 to 4-10, tables 4-14 to 4-20), §4.1.1, Vol. 1 §3.3.7.1. */
class PageWalkTest {

    @Test
    @DisplayName("SDM 4.5.4: a 4-KByte page's address is PTE[M-1:12] | linear[11:0], entries read at base | index*8")
    void fourKiBPageMapsPteFrameAndLinearBits11To0() {
        // PTE flags in bits 8:0, ignored bits 11:9 and 58:52 must not leak into the address.
        Mapping m = Mapping.fourKiB().pte(e -> new Entry(e.raw() | (0b111L << 9) | (0x7FL << 52)).withGlobal(true)
                .withAccessed(true).withDirty(true));
        Walk walk = PageWalk.walk(m.memory(), cpu(), LINEAR);

        assertThat(walk.end()).isEqualTo(Walk.End.MAPPED);
        assertThat(walk.pageSize()).isEqualTo(PageSize.SIZE_4K);
        assertThat(walk.physical()).isEqualTo((9L << 12) | 0x5A8).isEqualTo(0x95A8L);
        // PML4E at CR3 + 8*linear[47:39], PDPTE at PML4E[M-1:12] + 8*linear[38:30], ...
        assertThat(walk.path()).extracting(VisitedEntry::address)
                .containsExactly(0x1000L + 8 * 1, 0x2000L + 8 * 2, 0x3000L + 8 * 3, 0x4000L + 8 * 4);
        assertThat(walk.path()).extracting(VisitedEntry::level)
                .containsExactly(Level.PML4, Level.PDPT, Level.PD, Level.PT);
        assertThat(physical(PageWalk.translate(m.memory(), cpu(), Access.read(LINEAR)))).isEqualTo(0x95A8L);
    }

    @Test
    @DisplayName("SDM 4.5.4, table 4-18: PS = 1 in a PDE maps a 2-MByte page at PDE[M-1:21] | linear[20:0]")
    void twoMiBPageMapsPdeBits35To21AndLinearBits20To0() {
        long linear = (1L << 39) | (2L << 30) | (3L << 21) | 0x1ABCD8;
        // 2-MByte frame at physical 0x40_0000 (frame 0x400); PAT (bit 12) set: it is not an address bit.
        Mapping m = Mapping.fourKiB().pde(e -> e.withFrame(0x400).withPageSize(true).with(12, true));
        Walk walk = PageWalk.walk(m.memory(), cpu(), linear);

        assertThat(walk.end()).isEqualTo(Walk.End.MAPPED);
        assertThat(walk.pageSize()).isEqualTo(PageSize.SIZE_2M);
        assertThat(walk.path()).hasSize(3);
        assertThat(walk.physical()).isEqualTo(0x40_0000L | 0x1ABCD8L).isEqualTo(0x5ABCD8L);
    }

    @Test
    @DisplayName("SDM 4.5.4, table 4-16: PS = 1 in a PDPTE maps a 1-GByte page at PDPTE[M-1:30] | linear[29:0]")
    void oneGiBPageMapsPdpteBits35To30AndLinearBits29To0() {
        long linear = (1L << 39) | (2L << 30) | 0x2345_6788L;
        // 1-GByte frame at physical 0x4000_0000 (frame 0x40000); PAT (bit 12) set, not an address bit.
        Mapping m = Mapping.fourKiB().pdpte(e -> e.withFrame(0x40000).withPageSize(true).with(12, true));
        Walk walk = PageWalk.walk(m.memory(), cpu(), linear);

        assertThat(walk.end()).isEqualTo(Walk.End.MAPPED);
        assertThat(walk.pageSize()).isEqualTo(PageSize.SIZE_1G);
        assertThat(walk.path()).hasSize(2);
        assertThat(walk.physical()).isEqualTo(0x4000_0000L | 0x2345_6788L).isEqualTo(0x6345_6788L);
    }

    @Test
    @DisplayName("SDM 4.5.4, table 4-15: PS (bit 7) of a PML4E is reserved; setting it is a reserved-bit #PF")
    void pageSizeInPml4eIsReservedBitFault() {
        Mapping m = Mapping.fourKiB().pml4e(e -> e.withPageSize(true));
        Walk walk = PageWalk.walk(m.memory(), cpu(), LINEAR);
        assertThat(walk.end()).isEqualTo(Walk.End.RESERVED_BIT);
        assertThat(walk.path()).hasSize(1);
        // SDM 4.7: P = 1 (the entry was present), RSVD = 1; a supervisor read.
        assertThat(PageWalk.translate(m.memory(), cpu(), Access.read(LINEAR)))
                .isEqualTo(Mapping.pageFault(ErrorCode.P | ErrorCode.RSVD, LINEAR));
    }

    @Test
    @DisplayName("SDM 4.5: the upper half (bits 63:47 all ones) is canonical and walks PML4 entry 256 upwards")
    void upperHalfCanonicalAddressWalksPml4IndexFromBits47To39() {
        long linear = 0xFFFF_8000_0000_0000L | (2L << 30) | (3L << 21) | (4L << 12) | 0x5A8;
        PhysicalMemory memory = Mapping.fourKiB().memory().write(Mapping.PML4, 256, Entry.table(2, true, true).raw());
        Walk walk = PageWalk.walk(memory, cpu(), linear);
        assertThat(walk.path().get(0).address()).isEqualTo(0x1000L + 8 * 256);
        assertThat(walk.physical()).isEqualTo(0x95A8L);
    }

    @Test
    @DisplayName("Vol. 1 §3.3.7.1: a non-canonical address raises #GP(0), not #PF")
    void nonCanonicalAddressIsGeneralProtectionNotPageFault() {
        PhysicalMemory memory = Mapping.fourKiB().memory();
        for (long linear : new long[] {0x0000_8000_0000_0000L, 0xFFFF_7FFF_FFFF_F000L, 0x8000_0000_0000_0000L,
                LINEAR | (1L << 48)}) {
            assertThat(PageWalk.translate(memory, cpu(), Access.read(linear)))
                    .as("%x", linear).isInstanceOf(GeneralProtection.class);
            assertThat(PageWalk.translate(memory, cpu().withCpl(3), Access.fetch(linear)))
                    .isInstanceOf(GeneralProtection.class);
        }
    }

    @Test
    @DisplayName("Vol. 1 §3.3.7.1: a non-canonical access changes nothing in the machine (no CR2, A/D, TLB)")
    void nonCanonicalAccessLeavesMachineUnchanged() {
        X86Machine m = Mapping.fourKiB().machine(cpu(), TlbPolicy.ADVERSARIAL);
        m = Processor.access(m, Access.read(LINEAR)).machine(); // something in the TLB
        AccessStep step = Processor.access(m, Access.write(0x0000_8000_0000_0000L, 5));
        assertThat(step.outcome()).isInstanceOf(GeneralProtection.class);
        assertThat(step.machine()).isEqualTo(m);
        assertThat(step.machine().cpu().cr2()).isZero();
    }

    @Test
    @DisplayName("SDM 4.1.1: with CR0.PG = 0 the linear address is the physical address")
    void pagingDisabledLinearIsPhysical() {
        X86Machine m = X86Machine.create(Mapping.FRAMES, 36, TlbPolicy.ADVERSARIAL);
        m = m.withMemory(m.memory().write(9, 1, 0xABCDL));
        assertThat(m.cpu().pagingEnabled()).isFalse();

        assertThat(physical(PageWalk.translate(m.memory(), m.cpu(), Access.read(0x9008)))).isEqualTo(0x9008L);
        AccessStep read = Processor.access(m, Access.read(0x9008));
        assertThat(read.outcome()).isEqualTo(new AccessOutcome.Completed(0x9008, 0xABCDL));
        AccessStep write = Processor.access(m, Access.write(0x9010, 0x77));
        assertThat(write.machine().memory().read(9, 2)).isEqualTo(0x77L);
        assertThat(write.machine().tlb().entries()).isEmpty();
    }
}
