package org.hybridv.x86;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.x86.Mapping.LINEAR;
import static org.hybridv.x86.Mapping.cpu;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Accessed and dirty flags, Intel SDM Vol. 3A §4.8: A is set in every paging-structure entry used for a translation,
 * D in the entry that maps the page, for a write. The reference sets them only for an access that completes.
 */
class AccessedDirtyTest {

    private static Entry entryAt(X86Machine m, Level level) {
        return m.entry(Mapping.frameOf(level), Mapping.indexOf(level));
    }

    @Test
    @DisplayName("SDM 4.8: a successful read sets A in all four entries and D in none")
    void readSetsAccessedInAllEntriesAndNoDirty() {
        X86Machine m = Mapping.fourKiB().machine(cpu(), TlbPolicy.NONE);
        AccessStep step = Processor.access(m, Access.read(LINEAR));
        assertThat(step.outcome()).isEqualTo(new AccessOutcome.Completed(0x95A8L, Mapping.PAGE_DATA));
        for (Level level : Level.values()) {
            assertThat(entryAt(m, level).accessed()).as("before, %s", level).isFalse();
            assertThat(entryAt(step.machine(), level).accessed()).as("A in %s", level).isTrue();
            assertThat(entryAt(step.machine(), level).dirty()).as("D in %s", level).isFalse();
        }
    }

    @Test
    @DisplayName("SDM 4.8: a successful fetch sets A in all entries and no D")
    void fetchSetsAccessedAndNoDirty() {
        AccessStep step = Processor.access(Mapping.fourKiB().machine(cpu(), TlbPolicy.NONE), Access.fetch(LINEAR));
        for (Level level : Level.values()) {
            assertThat(entryAt(step.machine(), level).accessed()).isTrue();
            assertThat(entryAt(step.machine(), level).dirty()).isFalse();
        }
    }

    @Test
    @DisplayName("SDM 4.8: a successful write sets A in all entries and D only in the PTE")
    void writeSetsDirtyOnlyInPte() {
        X86Machine m = Mapping.fourKiB().machine(cpu(), TlbPolicy.NONE);
        AccessStep step = Processor.access(m, Access.write(LINEAR, 0x42));
        assertThat(step.outcome()).isEqualTo(new AccessOutcome.Completed(0x95A8L, 0x42));
        assertThat(step.machine().memory().read(Mapping.PAGE, Mapping.WORD)).isEqualTo(0x42L);
        for (Level level : Level.values()) {
            assertThat(entryAt(step.machine(), level).accessed()).isTrue();
            assertThat(entryAt(step.machine(), level).dirty()).as("D in %s", level).isEqualTo(level == Level.PT);
        }
        // exactly bits 5 and 6 were added to the PTE, nothing else changed
        assertThat(entryAt(step.machine(), Level.PT).raw()).isEqualTo(entryAt(m, Level.PT).raw() | 0x20 | 0x40);
    }

    @Test
    @DisplayName("SDM 4.8: for a 2-MByte page D is set in the PDE that maps it, not in the PDPTE or PML4E")
    void writeToTwoMiBPageSetsDirtyInPde() {
        X86Machine m = Mapping.fourKiB().pde(e -> e.withFrame(0x400).withPageSize(true))
                .machine(cpu(), TlbPolicy.NONE);
        AccessStep step = Processor.access(m, Access.write(LINEAR, 1));
        assertThat(step.outcome()).isInstanceOf(AccessOutcome.Completed.class);
        assertThat(entryAt(step.machine(), Level.PD).dirty()).isTrue();
        assertThat(entryAt(step.machine(), Level.PD).accessed()).isTrue();
        assertThat(entryAt(step.machine(), Level.PDPT).dirty()).isFalse();
        assertThat(entryAt(step.machine(), Level.PML4).dirty()).isFalse();
        assertThat(entryAt(step.machine(), Level.PDPT).accessed()).isTrue();
        assertThat(entryAt(step.machine(), Level.PML4).accessed()).isTrue();
        // the PTE slot was not part of the walk
        assertThat(entryAt(step.machine(), Level.PT)).isEqualTo(entryAt(m, Level.PT));
    }

    @Test
    @DisplayName("SDM 4.8: for a 1-GByte page D is set in the PDPTE")
    void writeToOneGiBPageSetsDirtyInPdpte() {
        X86Machine m = Mapping.fourKiB().pdpte(e -> e.withFrame(0x40000).withPageSize(true))
                .machine(cpu(), TlbPolicy.NONE);
        AccessStep step = Processor.access(m, Access.write(LINEAR, 1));
        assertThat(entryAt(step.machine(), Level.PDPT).dirty()).isTrue();
        assertThat(entryAt(step.machine(), Level.PML4).dirty()).isFalse();
        assertThat(entryAt(step.machine(), Level.PML4).accessed()).isTrue();
    }

    @Test
    @DisplayName("SDM 4.8 (reference choice): a faulting access sets neither A nor D anywhere")
    void faultingAccessSetsNeitherAccessedNorDirty() {
        // protection fault: user write to a read-only page
        X86Machine readOnly = Mapping.fourKiB().pte(e -> e.withWritable(false)).machine(cpu().withCpl(3),
                TlbPolicy.NONE);
        AccessStep denied = Processor.access(readOnly, Access.write(LINEAR, 1));
        assertThat(denied.outcome()).isInstanceOf(PageFault.class);
        assertThat(denied.machine().memory()).isEqualTo(readOnly.memory());
        // not-present PTE: the upper entries were read but do not get A
        X86Machine notPresent = Mapping.fourKiB().pte(e -> e.withPresent(false)).machine(cpu(), TlbPolicy.NONE);
        AccessStep missing = Processor.access(notPresent, Access.read(LINEAR));
        assertThat(missing.outcome()).isInstanceOf(PageFault.class);
        assertThat(missing.machine().memory()).isEqualTo(notPresent.memory());
    }

    @Test
    @DisplayName("SDM 4.8: flags already set stay set, and a read leaves an existing D alone")
    void existingFlagsAreKept() {
        X86Machine m = Mapping.fourKiB().pte(e -> e.withAccessed(true).withDirty(true)).machine(cpu(),
                TlbPolicy.NONE);
        AccessStep step = Processor.access(m, Access.read(LINEAR));
        assertThat(entryAt(step.machine(), Level.PT).dirty()).isTrue();
        assertThat(entryAt(step.machine(), Level.PT).accessed()).isTrue();
    }
}
