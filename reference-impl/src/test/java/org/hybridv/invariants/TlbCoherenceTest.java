package org.hybridv.invariants;

import static org.assertj.core.api.Assertions.assertThat;

import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.Entry;
import org.hybridv.x86.Level;
import org.hybridv.x86.PageSize;
import org.hybridv.x86.PscEntry;
import org.hybridv.x86.Rights;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbTag;
import org.hybridv.x86.X86Machine;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** I6 TLB coherence on runs of the hypervisor and on planted stale entries (IsolationTest's machine). */
class TlbCoherenceTest {
    static final VcpuId K = new VcpuId(1, 0);

    static XenMachine fill(XenMachine m, int vpid, long linear, long frame, boolean writable) {
        X86Machine x = m.processor().machine();
        TlbEntry e = TlbEntry.linear(new TlbTag(vpid, TlbTag.NO_EPT), 0, false, linear, PageSize.SIZE_4K, frame << 12,
                new Rights(writable, false, false, 0), false);
        return m.withProcessor(m.processor().withMachine(x.withTlb(x.tlb().fill(e))));
    }

    /** {@code m} with a PDE-cache entry of VPID {@code vpid} for linear 0 referencing {@code table}, RW, supervisor. */
    static XenMachine fillPde(XenMachine m, int vpid, long table) {
        X86Machine x = m.processor().machine();
        PscEntry e = new PscEntry(new TlbTag(vpid, TlbTag.NO_EPT), 0, Level.PD, 0, table << 12, true, false, false);
        return m.withProcessor(m.processor().withMachine(x.withTlb(x.tlb().fillPsc(e))));
    }

    @Test
    @DisplayName("I6 over the paging-structure caches: a PDE-cache entry matching the current tables holds; once the L2"
            + " entry is zapped or repointed without the MU-5 flush it is named as stale")
    void stalePdeCacheEntry() {
        // L4 0x10[0] → L3 0x11[0] → L2 0x12[0] → L1 0x13: the PDE cache for linear 0 holds table 0x13
        XenMachine m = fillPde(IsolationTest.machine(), 1, 0x13);
        assertThat(TlbCoherence.check(m).toString()).isEqualTo("holds");
        InvariantResult zapped = TlbCoherence.check(m.withPaging(m.paging().write(0x12, 0, Entry.NOT_PRESENT)));
        assertThat(zapped.toString()).startsWith("MU-5").contains("d1v0", "PDE-cache entry", "table 0x13",
                "L2 0x12[0]");
        InvariantResult moved = TlbCoherence.check(m.withPaging(m.paging().write(0x12, 0,
                Entry.table(0x15, true, false))));
        assertThat(moved.toString()).startsWith("MU-5").contains("reference table 0x15");
        // a cached right the current entries no longer grant
        InvariantResult readOnly = TlbCoherence.check(m.withPaging(m.paging().write(0x11, 0,
                Entry.table(0x12, false, false))));
        assertThat(readOnly.toString()).startsWith("MU-5").contains("exceed the current L3 0x11[0]");
        // a PDE-cache entry naming another table than the current one from the start
        assertThat(TlbCoherence.check(fillPde(IsolationTest.machine(), 1, 0x14)).toString()).startsWith("MU-5");
    }

    @Test
    @DisplayName("I6 holds on a run: a write fills the TLB, mmu_update zaps the L2 entry, MU-5 flushes the domain")
    void holdsOnACorrectRun() {
        XenMachine m = IsolationTest.machine();
        assertThat(TlbCoherence.check(m).toString()).isEqualTo("holds");
        HvStep w = Hypervisor.run(m, K, new GuestInstruction.MemoryAccess(Access.write(0x1000, 7)));
        assertThat(w.outcome()).isInstanceOf(VcpuOutcome.Retired.class);
        assertThat(w.machine().processor().machine().tlb().entries()).isNotEmpty();
        assertThat(TlbCoherence.check(w.machine()).toString()).isEqualTo("holds");
        HvStep z = Hypervisor.hypercall(w.machine(), K, Hypercall.mmuUpdate(0x12L << 12, 0));
        assertThat(z.outcome()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        assertThat(TlbCoherence.check(z.machine()).toString()).isEqualTo("holds");
    }

    @Test
    @DisplayName("TLB-1 planted: a stale writable TLB entry to the L1 frame 0x13 is named with domain, vCPU, VPID, linear, frame")
    void staleWritableEntryToL1() {
        XenMachine bad = fill(IsolationTest.machine(), 1, 0x5000, 0x13, true);
        InvariantResult r = TlbCoherence.check(bad);
        assertThat(r.toString()).startsWith("TLB-1").contains("d1", "d1v0", "VPID 1", "0x5000", "frame 0x13",
                "page table");
    }

    @Test
    @DisplayName("MU-5 planted: the L2 entry is zapped without the domain flush; the surviving entry is named with the L2 entry")
    void unflushedUpperLevelChange() {
        XenMachine m = fill(IsolationTest.machine(), 1, 0x1000, 0x14, true);
        assertThat(TlbCoherence.check(m).toString()).isEqualTo("holds");
        XenMachine bad = m.withPaging(m.paging().write(0x12, 0, Entry.NOT_PRESENT));
        InvariantResult r = TlbCoherence.check(bad);
        assertThat(r.toString()).startsWith("MU-5").contains("d1v0", "0x1000", "L2 0x12[0]", "not present");
    }

    @Test
    @DisplayName("TLB-3 planted: a stale entry to another domain's frame")
    void staleEntryToForeignFrame() {
        InvariantResult r = TlbCoherence.check(fill(IsolationTest.machine(), 1, 0x1000, 0x21, false));
        assertThat(r.toString()).startsWith("TLB-3").contains("d1", "frame 0x21", "no longer owns");
    }

    @Test
    @DisplayName("TLB-7: a stale read-only L1-level entry to the domain's own data frame is the guest's business")
    void staleL1EntryIsTheGuests() {
        XenMachine m = fill(IsolationTest.machine(), 1, 0x1000, 0x15, false);
        assertThat(TlbCoherence.check(m).toString()).isEqualTo("holds");
    }

    @Test
    @DisplayName("HAP-1 planted: a HAP TLB entry to a frame outside the domain's EPT")
    void hapEntryOutsideEpt() {
        XenMachine m = IsolationTest.machine();
        X86Machine x = m.processor().machine();
        TlbEntry e = new TlbEntry(new TlbTag(2, 0x1000), 0, false, 0x4000, PageSize.SIZE_4K, 0x20L << 12,
                Rights.UNRESTRICTED, false, 7);
        assertThat(TlbCoherence.check(m.withProcessor(m.processor().withMachine(x.withTlb(x.tlb().fill(e)))))
                .toString()).isEqualTo("holds");
        XenMachine n = IsolationTest.done(org.hybridv.xen.Domains.create(m, 3, org.hybridv.xen.MmuMode.HAP,
                org.hybridv.xen.Domains.range(0x28, 0x29), java.util.Map.of(0L, 0x28L)));
        n = IsolationTest.done(org.hybridv.xen.Domains.addVcpu(n, 3, 3,
                org.hybridv.x86.CpuState.longMode(0, XenMachine.MAX_PHYS_ADDR)));
        x = n.processor().machine();
        TlbEntry f = new TlbEntry(new TlbTag(3, 0x1000), 0, false, 0x4000, PageSize.SIZE_4K, 0x29L << 12,
                Rights.UNRESTRICTED, false, 7);
        InvariantResult r = TlbCoherence.check(n.withProcessor(n.processor().withMachine(x.withTlb(x.tlb().fill(f)))));
        assertThat(r.toString()).startsWith("HAP-1").contains("d3", "frame 0x29", "not mapped");
    }
}
