package org.hybridv.invariants;

import static org.assertj.core.api.Assertions.assertThat;

import org.hybridv.x86.Entry;
import org.hybridv.xen.EntryRules;
import org.hybridv.xen.XenMachine;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Mutants of the hypervisor's entry rules against the restated I2. The old I2 judged entries with
 * {@code EntryRules}' own masks, so a slip in a mask was accepted by the validation and by the invariant alike. Each
 * test names the mutant mask, shows that it accepts the entry (the slip), and that the restated I2 — which lists the
 * allowed flags itself — reports the entry in a state the mutant validation would have produced.
 */
class RestatedRulesMutantsTest {
    /** L1-1 allows no cache attributes: PCD (bit 4). */
    static final long PCD = 1L << 4;

    /** Mutant of EntryRules.L1_DISALLOW_MASK: PCD forgotten (as if cache-flush permission were granted). */
    static final long MUTANT_L1_DISALLOW = EntryRules.L1_DISALLOW_MASK & ~PCD;

    /** Mutant of EntryRules.LN_DISALLOW_MASK: PS forgotten in L2/L3 entries (XSA-167's superpage). */
    static final long MUTANT_LN_DISALLOW = EntryRules.LN_DISALLOW_MASK & ~(1L << Entry.PS);

    @Test
    @DisplayName("mutant L1 mask without PCD: a validated L1 entry with PCD → I2 L1-1")
    void l1MaskWithoutPcd() {
        XenMachine m = IsolationTest.machine();
        Entry e = new Entry(Entry.table(0x14, true, false).raw() | PCD);
        assertThat(e.raw() & MUTANT_L1_DISALLOW).as("the slip accepts it").isZero();
        assertThat(PageTableIntegrity.check(m.paging()).toString()).isEqualTo("holds");
        XenMachine mutant = m.withPaging(m.paging().write(0x13, 1, e));
        assertThat(PageTableIntegrity.check(mutant.paging()).toString()).startsWith("L1-1").contains("0x13");
    }

    @Test
    @DisplayName("mutant Ln mask without PS: a validated L2 entry with PS → I2 SP-1")
    void lnMaskWithoutPs() {
        XenMachine m = IsolationTest.machine();
        Entry e = Entry.table(0x13, true, false).withPageSize(true);
        assertThat(e.raw() & MUTANT_LN_DISALLOW).as("the slip accepts it").isZero();
        XenMachine mutant = m.withPaging(m.paging().write(0x12, 0, e));
        assertThat(PageTableIntegrity.check(mutant.paging()).toString()).startsWith("SP-1");
    }
}
