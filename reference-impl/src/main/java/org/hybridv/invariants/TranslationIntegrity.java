package org.hybridv.invariants;

import java.util.function.Predicate;
import org.hybridv.x86.Hex;
import org.hybridv.x86.TlbEntry;
import org.hybridv.xen.Domain;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.XenMachine;

/**
 * I2 over the whole hypervisor: the structural check of {@link PageTableIntegrity} on the direct-paging state, the
 * reference counts it recomputes from the tables, pins and base pointers ({@link PageTableIntegrity#referenceCounts}:
 * a leaked or missing type or general reference, TYP-4/OWN-3), the shadow tables of shadow-mode vCPUs against the
 * guests' tables ({@link ShadowIntegrity#check}, SH-1/SH-2: a shadow leaf grants no more than the guest walk), then
 * TYP-1 on what a guest can actually use — no translation through a direct-mode vCPU's tables, and no TLB entry tagged
 * with a guest VPID on any pCPU, grants write access to a frame in use as a page table. The TLB part is what the tables alone
 * cannot show: a writable entry cached before the frame became a page table and not flushed (TLB-1).
 */
public final class TranslationIntegrity {
    private TranslationIntegrity() {}

    public static InvariantResult check(XenMachine m) {
        return check(m, true, e -> true);
    }

    /**
     * The tables a pin is validating entry by entry (Xen rule TYP-8), from the hypercalls in flight: per frame, the
     * type it is being validated as and the index of the next entry to validate (the entries before it hold their
     * references). Read from the state's record of each vCPU's hypercall (its number, arguments and progress).
     */
    static java.util.Map<Long, PageTableIntegrity.InValidation> inValidation(XenMachine m) {
        java.util.Map<Long, PageTableIntegrity.InValidation> out = new java.util.HashMap<>();
        m.tlbFlush().inFlight().forEach((id, h) -> {
            if (h.nextEntry() < 0 || h.call().number() != org.hybridv.xen.Hypercalls.HYPERVISOR_MMUEXT_OP) {
                return;
            }
            long cmd = h.call().arg(0);
            org.hybridv.xen.PageType type = cmd == org.hybridv.xen.Hypercalls.MMUEXT_PIN_L2_TABLE
                    ? org.hybridv.xen.PageType.L2 : cmd == org.hybridv.xen.Hypercalls.MMUEXT_PIN_L3_TABLE
                            ? org.hybridv.xen.PageType.L3 : org.hybridv.xen.PageType.L4;
            out.put(h.call().arg(1), new PageTableIntegrity.InValidation(type, h.nextEntry()));
        });
        return out;
    }

    /**
     * I2 evaluated on part of {@code m}, in the order of {@link #check(XenMachine)}: the parts about the tables
     * (structure, reference counts, shadow tables, TYP-1 through the direct-mode tables) if {@code tables}, and the
     * parts about each TLB entry {@code entries} accepts (SH-4 through {@link ShadowIntegrity#tlb}, TYP-1 of the
     * entry). With both on everything this is {@link #check(XenMachine)}; a caller that knows the other parts hold
     * (unchanged from a state where I2 held) gets the same verdict from less work.
     */
    public static InvariantResult check(XenMachine m, boolean tables, Predicate<TlbEntry> entries) {
        if (tables) {
            InvariantResult structural = PageTableIntegrity.check(m.paging());
            if (!structural.holds()) {
                return structural;
            }
            java.util.Map<Long, int[]> held = new java.util.HashMap<>(); // GNT-3: references of EPT grant mappings
            for (org.hybridv.xen.DomainPv dp : m.pv().domains().values()) {
                for (org.hybridv.xen.GrantMapping g : dp.maptrack().values()) {
                    if (g.ept()) {
                        int[] x = held.computeIfAbsent(g.frame(), k -> new int[2]);
                        x[0]++;
                        x[1] += g.readonly() ? 0 : 1;
                    }
                }
            }
            InvariantResult counts = PageTableIntegrity.referenceCounts(m.paging(), inValidation(m), held);
            if (!counts.holds()) {
                return counts;
            }
        }
        InvariantResult shadow = ShadowIntegrity.check(m, tables, entries);
        if (!shadow.holds()) {
            return shadow;
        }
        for (Domain d : tables ? m.domains().values() : java.util.List.<Domain>of()) {
            if (d.mode() != MmuMode.DIRECT) {
                continue;
            }
            for (Vcpu v : d.vcpus()) {
                Long root = m.guestTables().get(v.id());
                if (root == null) {
                    continue;
                }
                for (GuestMappings.Mapping map : GuestMappings.paging(m.memory(), root)) {
                    if (map.writable() && m.frames().contains(map.frame())
                            && m.frames().get(map.frame()).inUseAsPageTable()) {
                        return new InvariantResult.Violated("TYP-1", "d" + d.id() + " " + v.id() + ": linear "
                                + map + " grants write access to page-table frame " + Hex.of(map.frame()) + " "
                                + m.frames().get(map.frame()));
                    }
                }
            }
        }
        for (int q = 0; q < m.pcpuCount(); q++) { // every pCPU's TLB (docs/smp.md)
            for (TlbEntry e : m.pcpu(q).tlb().entries()) {
                if (!entries.test(e) || e.tag().vpid() == 0 || !e.rights().writable() || (e.stage2() & 2) == 0) {
                    continue;
                }
                long first = e.physicalBase() >>> 12;
                long n = e.pageSize().bytes() >>> 12;
                for (long f = first; f < first + n && f < m.frames().size(); f++) {
                    FrameInfo fi = m.frames().get(f);
                    if (fi.inUseAsPageTable()) {
                        return new InvariantResult.Violated("TLB-1", "TLB entry of VPID " + e.tag().vpid() + " ("
                                + Isolation.vcpuOf(m, e.tag().vpid()) + "): linear " + Hex.of(e.linearBase())
                                + " → frame " + Hex.of(f) + " is writable, but the frame is a page table " + fi
                                + " (TYP-1: a stale writable translation survived the type change)"
                                + TlbCoherence.onPcpu(m, q));
                    }
                }
            }
        }
        return InvariantResult.HOLDS;
    }
}
