package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.Hv.outcome;
import static org.hybridv.xen.ShadowPagingTest.K;
import static org.hybridv.xen.ShadowPagingTest.gte;
import static org.hybridv.xen.ShadowPagingTest.mfn;
import static org.hybridv.xen.ShadowPagingTest.read;
import static org.hybridv.xen.ShadowPagingTest.write;

import java.util.Set;
import java.util.TreeSet;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.ShadowIntegrity;
import org.hybridv.x86.Entry;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Walk;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * SH-4 ("every write to a guest page table is trapped and emulated, the shadows re-synced") promises something about
 * EVERY guest entry the shadow handler's walk may read: the frame holding it must never be mapped writable by a
 * shadow. A frame may be a guest table at several levels at once (the guest may point an L4 entry at its own L2, the
 * recursive-mapping idiom); the entries of such a frame are then read at each of those levels, and the frames they
 * reference are tables one level further down. {@code ShadowPaging.guestPageTables} used to stop at the first visit
 * of a frame, whatever the level it was reached at, so the tables below the second, higher-level use were never
 * write-trapped.
 *
 * <p>The machine is {@link ShadowPagingTest#machine()} (L4 gfn 0 → L3 gfn 1 → L2 gfn 2 → L1 gfn 3, whose entry 4 maps
 * VA 0x4000 → gfn 4 RW US) with one more guest entry: L4 gfn 0 [1] → gfn 2, so gfn 2 is also an L3, gfn 3 also an L2
 * and gfn 4 (the target of gfn 3's entry 4) also an L1 — the table of VA {@code V} = 0x80_0080_0000 (L4 index 1, L3
 * index 0, L2 index 4, L1 index 0), whose entry 0 maps gfn 6.
 */
class ShadowPageTableSetTest {
    /** L4 index 1, L3 index 0, L2 index 4, L1 index 0. */
    static final long V = (1L << 39) | (4L << 21);

    static XenMachine machine() {
        XenMachine m = ShadowPagingTest.machine();
        DirectPagingState s = m.paging().write(mfn(0), 1, gte(2, true, true)).write(mfn(4), 0, gte(6, true, true));
        return m.withPaging(s);
    }

    @Test
    @DisplayName("SH-4: a frame that is a guest L1 only through a frame reached at two levels is write-trapped")
    void tableBelowTheHigherLevelUseIsAPageTable() {
        XenMachine m = machine();
        Domain d = m.domain(ShadowPagingTest.D);
        assertThat(ShadowPaging.guestPageTables(m, d)).as("under L4 index 1, gfn 3 is an L2: gfn 4, 5, 3 and 6 are L1s")
                .contains(mfn(0), mfn(1), mfn(2), mfn(3), mfn(4), mfn(5), mfn(6));
    }

    @Test
    @DisplayName("SH-4: a write through a RW guest mapping of that L1 is emulated and re-syncs V's shadow")
    void writeToThatTableIsEmulated() {
        XenMachine m = machine();
        HvStep r = ShadowPagingTest.run(m, K, read(V));
        assertThat(outcome(r, VcpuOutcome.Retired.class).value()).as("V → gfn 6").isEqualTo(0x66L);
        long pte = gte(5, true, true).raw();
        HvStep w = ShadowPagingTest.run(r.machine(), K, write(0x4000, pte));
        VcpuOutcome.Emulated e = outcome(w, VcpuOutcome.Emulated.class);
        assertThat(e.rule()).isEqualTo("SH-4");
        assertThat(w.machine().memory().read(mfn(4), 0)).isEqualTo(pte);
        assertThat(w.machine().vcpu(K).shadow().tables()).as("shadows dropped").isEmpty();
        HvStep again = ShadowPagingTest.run(w.machine(), K, read(V));
        assertThat(outcome(again, VcpuOutcome.Retired.class).value()).as("V → gfn 5 now").isEqualTo(0x55L);
    }

    @Test
    @DisplayName("SH-2/SH-4: a fill of that L1's own RW, dirty mapping leaves the shadow read-only")
    void fillOfThatTableIsReadOnly() {
        XenMachine m = machine();
        // the guest leaf for 0x4000 is RW and already dirty: only SH-4 keeps the shadow leaf read-only
        m = m.withPaging(m.paging().write(mfn(3), 4, gte(4, true, true).withAccessed(true).withDirty(true)));
        HvStep r = ShadowPagingTest.run(m, K, read(0x4000));
        outcome(r, VcpuOutcome.Retired.class);
        assertThat(ShadowPagingTest.shadowLeaf(r.machine(), K, 0x4000).present()).isTrue();
        assertThat(ShadowPagingTest.shadowLeaf(r.machine(), K, 0x4000).writable()).as("gfn 4 is a guest L1")
                .isFalse();
    }

    /**
     * Mutant (the slip as it was): {@code guestPageTables} with a visited set of frames, not of (frame, level) pairs.
     * Its page-table set misses gfn 4, so the handler fills a writable shadow of it. The old {@code ShadowIntegrity}
     * asked that same function which frames are page tables and passed the state; the restated one enumerates the
     * guest tables itself ({@code invariants.GuestTables}) and reports it.
     */
    @Test
    @DisplayName("mutant guestPageTables (visited by frame): its writable shadow of a guest L1 is reported by SH-2/SH-4")
    void slippedPageTableSetIsCaughtByShadowIntegrity() {
        XenMachine m = machine();
        m = m.withPaging(m.paging().write(mfn(3), 4, gte(4, true, true).withAccessed(true).withDirty(true)));
        assertThat(slippedGuestPageTables(m, m.domain(ShadowPagingTest.D))).as("the slip").doesNotContain(mfn(4));
        HvStep r = ShadowPagingTest.run(m, K, read(0x4000));
        outcome(r, VcpuOutcome.Retired.class);
        // what the slipped handler installs: propagate with pageTable = false for the dirty RW guest leaf
        XenMachine mutant = r.machine();
        Walk w = ShadowPaging.guestWalk(mutant, mutant.vcpu(K), 0x4000);
        Entry slipped = ShadowPaging.propagate(w.rights(), true, mfn(4), false);
        assertThat(slipped.writable()).isTrue();
        long table = shadowL1(mutant, K, 0x4000);
        mutant = mutant.withPaging(mutant.paging().write(table, 4, slipped));
        InvariantResult verdict = ShadowIntegrity.check(mutant);
        assertThat(verdict.holds()).isFalse();
        assertThat(verdict.toString()).contains("SH-2").contains("writable mapping of a guest page table");
    }

    /** The shadow L1 table of {@code id} for {@code va} (the fill allocated it). */
    static long shadowL1(XenMachine m, VcpuId id, long va) {
        long t = m.vcpu(id).shadow().root();
        for (int shift = 39; shift >= 21; shift -= 9) {
            Entry e = new Entry(m.memory().read(t, (int) ((va >>> shift) & 511)));
            assertThat(e.present()).isTrue();
            t = e.frame();
        }
        return t;
    }

    /** The slipped enumeration, verbatim in behaviour: a frame is explored at the first level it is reached at. */
    static Set<Long> slippedGuestPageTables(XenMachine m, Domain d) {
        Set<Long> out = new TreeSet<>();
        for (Vcpu v : d.vcpus()) {
            if (v.shadow().active()) {
                slippedCollect(m.memory(), d, d.machineFrame(v.shadow().guestCr3() >>> 12), 4, out);
            }
        }
        return out;
    }

    private static void slippedCollect(PhysicalMemory mem, Domain d, long mfn, int level, Set<Long> out) {
        if (mfn < 0 || mfn >= mem.frameCount() || !out.add(mfn) || level == 1) {
            return;
        }
        for (int i = 0; i < PhysicalMemory.WORDS_PER_FRAME; i++) {
            Entry e = new Entry(mem.read(mfn, i));
            if (e.present() && !(level <= 3 && e.pageSize())) {
                slippedCollect(mem, d, d.machineFrame(e.frame()), level - 1, out);
            }
        }
    }
}
