package org.hybridv.invariants.fullscan;

import org.hybridv.invariants.InvariantResult;

import org.hybridv.x86.Hex;
import org.hybridv.x86.TlbEntry;
import org.hybridv.xen.Domain;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.XenMachine;

/**
 * I2 over the whole hypervisor: the structural check of {@link FullScanPageTableIntegrity} on the direct-paging state, then
 * TYP-1 on what a guest can actually use — no translation through a direct-mode vCPU's tables, and no TLB entry tagged
 * with a guest VPID, grants write access to a frame in use as a page table. The TLB part is what the tables alone
 * cannot show: a writable entry cached before the frame became a page table and not flushed (TLB-1).
 */
public final class FullScanTranslationIntegrity {
    private FullScanTranslationIntegrity() {}

    public static InvariantResult check(XenMachine m) {
        InvariantResult structural = FullScanPageTableIntegrity.check(m.paging());
        if (!structural.holds()) {
            return structural;
        }
        InvariantResult counts = FullScanPageTableIntegrity.referenceCounts(m.paging());
        if (!counts.holds()) {
            return counts;
        }
        InvariantResult shadow = FullScanShadowIntegrity.check(m);
        if (!shadow.holds()) {
            return shadow;
        }
        for (Domain d : m.domains().values()) {
            if (d.mode() != MmuMode.DIRECT) {
                continue;
            }
            for (Vcpu v : d.vcpus()) {
                Long root = m.guestTables().get(v.id());
                if (root == null) {
                    continue;
                }
                for (FullScanGuestMappings.Mapping map : FullScanGuestMappings.paging(m.memory(), root)) {
                    if (map.writable() && m.frames().contains(map.frame())
                            && m.frames().get(map.frame()).inUseAsPageTable()) {
                        return new InvariantResult.Violated("TYP-1", "d" + d.id() + " " + v.id() + ": linear "
                                + map + " grants write access to page-table frame " + Hex.of(map.frame()) + " "
                                + m.frames().get(map.frame()));
                    }
                }
            }
        }
        for (TlbEntry e : m.processor().machine().tlb().entries()) {
            if (e.tag().vpid() == 0 || !e.rights().writable() || (e.stage2() & 2) == 0) {
                continue;
            }
            long first = e.physicalBase() >>> 12;
            long n = e.pageSize().bytes() >>> 12;
            for (long f = first; f < first + n && f < m.frames().size(); f++) {
                FrameInfo fi = m.frames().get(f);
                if (fi.inUseAsPageTable()) {
                    return new InvariantResult.Violated("TLB-1", "TLB entry of VPID " + e.tag().vpid() + " ("
                            + FullScanIsolation.vcpuOf(m, e.tag().vpid()) + "): linear " + Hex.of(e.linearBase())
                            + " → frame " + Hex.of(f) + " is writable, but the frame is a page table " + fi
                            + " (TYP-1: a stale writable translation survived the type change)");
                }
            }
        }
        return InvariantResult.HOLDS;
    }
}
