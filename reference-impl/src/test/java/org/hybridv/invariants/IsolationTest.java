package org.hybridv.invariants;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;
import org.hybridv.ept.EptEntry;
import org.hybridv.ept.EptPermissions;
import org.hybridv.ept.Eptp;
import org.hybridv.x86.Entry;
import org.hybridv.x86.PageSize;
import org.hybridv.x86.Rights;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbTag;
import org.hybridv.xen.Domains;
import org.hybridv.xen.HvResult;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.XenMachine;
import org.hybridv.x86.CpuState;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** I1 and the translation half of I2 over a hypervisor state, on states the hypervisor builds and on planted ones. */
class IsolationTest {
    /** Xen 0x1–0x3; d1 direct on 0x10–0x17 (L4 0x10 → 0x11 → 0x12 → L1 0x13 → data 0x14), VPID 1; d2 HAP. */
    static XenMachine machine() {
        XenMachine m = XenMachine.boot(48, 0x1, 0x2, 0x3);
        long[] f1 = Domains.range(0x10, 0x17);
        m = done(Domains.create(m, 1, MmuMode.DIRECT, f1, Domains.identity(f1)));
        m = m.withPaging(m.paging().write(0x10, 0, Entry.table(0x11, true, false))
                .write(0x11, 0, Entry.table(0x12, true, false)).write(0x12, 0, Entry.table(0x13, true, false))
                .write(0x13, 1, Entry.table(0x14, true, false)));
        m = done(Domains.addVcpu(m, 1, 1, CpuState.longMode(0x10, XenMachine.MAX_PHYS_ADDR)));
        Map<Long, Long> p2m = new TreeMap<>();
        for (long g = 0; g < 8; g++) {
            p2m.put(g, 0x20 + g);
        }
        p2m.put(0x1234L, 0x27L);
        m = done(Domains.create(m, 2, MmuMode.HAP, Domains.range(0x20, 0x27), p2m));
        return done(Domains.addVcpu(m, 2, 2, CpuState.longMode(0, XenMachine.MAX_PHYS_ADDR)));
    }

    static XenMachine done(HvResult r) {
        assertThat(r).isInstanceOf(HvResult.Done.class);
        return ((HvResult.Done) r).machine();
    }

    @Test
    @DisplayName("HAP-1 → I1: the EPT built from the p2m maps exactly p2m(g) for every g, RWX, in hypervisor frames")
    void hapEptFromP2mIsIsolated() {
        XenMachine m = machine();
        assertThat(Isolation.check(m).toString()).isEqualTo("holds");
        var maps = GuestMappings.ept(m.memory(), new Eptp(m.domain(2).eptp()));
        assertThat(maps).hasSize(9);
        for (var map : maps) {
            assertThat(map.frame()).isEqualTo(m.domain(2).machineFrame(map.address() >>> 12));
            assertThat(map.writable()).isTrue();
        }
        long pml4 = new Eptp(m.domain(2).eptp()).pml4Address() >>> 12;
        assertThat(m.frames().get(pml4).owner()).isEqualTo(org.hybridv.xen.FrameInfo.XEN);
    }

    @Test
    @DisplayName("I1 planted: a direct-mode PTE to another domain's frame is named with domain, vCPU, linear address, frame, path")
    void plantedForeignPte() {
        XenMachine m = machine();
        XenMachine bad = m.withPaging(m.paging().write(0x13, 2, Entry.table(0x21, false, false)));
        InvariantResult r = Isolation.check(bad);
        assertThat(r.holds()).isFalse();
        assertThat(r.toString()).contains("I1", "d1", "d1v0", "0x2000", "frame 0x21", "a frame of d2",
                "L1 0x13[2]");
    }

    @Test
    @DisplayName("I1 planted: an EPT leaf to a hypervisor frame, and a TLB entry of d1's VPID to d2's frame")
    void plantedEptLeafAndTlbEntry() {
        XenMachine m = machine();
        Eptp eptp = new Eptp(m.domain(2).eptp());
        // Find the EPT PT (level 1) for gfn 0..7 by walking three levels at index 0.
        long t = eptp.pml4Address() >>> 12;
        for (int i = 0; i < 3; i++) {
            t = new EptEntry(m.memory().read(t, 0)).frame();
        }
        var leaf = EptEntry.pte(0x2, EptPermissions.ALL);
        XenMachine bad = m.withPaging(m.paging().withMemory(m.memory().write(t, 9, leaf.raw())));
        assertThat(Isolation.check(bad).toString()).contains("d2 EPT", "0x9000", "frame 0x2", "hypervisor frame");
        TlbEntry stale = TlbEntry.linear(new TlbTag(1, TlbTag.NO_EPT), 0, false, 0x7000, PageSize.SIZE_4K,
                0x22L << 12, new Rights(true, false, false, 0), false);
        XenMachine tlb = m.withProcessor(m.processor().withMachine(m.processor().machine()
                .withTlb(m.processor().machine().tlb().fill(stale))));
        assertThat(Isolation.check(tlb).toString()).contains("TLB entry of VPID 1", "d1v0", "0x7000", "frame 0x22");
    }

    @Test
    @DisplayName("I2 planted: a writable TLB entry to a frame now in use as an L1 (a flush TLB-1 skipped) is reported")
    void plantedWritableTlbEntryToPageTable() {
        XenMachine m = machine();
        assertThat(TranslationIntegrity.check(m).toString()).isEqualTo("holds");
        TlbEntry stale = TlbEntry.linear(new TlbTag(1, TlbTag.NO_EPT), 0, false, 0x9000, PageSize.SIZE_4K,
                0x13L << 12, new Rights(true, false, false, 0), false);
        XenMachine bad = m.withProcessor(m.processor().withMachine(m.processor().machine()
                .withTlb(m.processor().machine().tlb().fill(stale))));
        InvariantResult r = TranslationIntegrity.check(bad);
        assertThat(r.toString()).contains("TLB-1", "VPID 1", "d1v0", "0x9000", "frame 0x13", "L1");
    }

    @Test
    @DisplayName("I2 planted: a writable PTE to the vCPU's own L2 written behind the hypervisor's back")
    void plantedWritablePteToTable() {
        XenMachine m = machine();
        XenMachine bad = m.withPaging(m.paging().write(0x13, 3, Entry.table(0x12, true, false)));
        InvariantResult r = TranslationIntegrity.check(bad);
        assertThat(r.holds()).isFalse();
        assertThat(r.toString()).contains("0x12");
    }
}
