package org.hybridv.invariants;

import java.util.function.Predicate;
import org.hybridv.ept.Eptp;
import org.hybridv.x86.Hex;
import org.hybridv.x86.TlbEntry;
import org.hybridv.xen.Domain;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.FrameTable;
import org.hybridv.xen.GrantMapping;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.XenMachine;

/**
 * I1 Isolation: no translation usable by a domain reaches a frame it does not own, or a hypervisor frame — except a
 * frame of another domain it holds an active grant mapping for, with no more than the granted access (GNT-2: the
 * domain's maptrack names the grant, and the granting domain's grant entry, as its grant-table frame holds it, still
 * permits this domain that frame, and is not read-only for a writable translation). Usable
 * translations: in direct mode, every leaf of the tables from each vCPU's base pointer ({@code guest_table}, which
 * its CR3 holds); in HAP mode, every leaf of its EPT (built from the p2m, HAP-1/HAP-2: the guest's own tables only
 * choose among guest frames the EPT maps); in shadow mode, every shadow tree (SH-1: the hardware CR3 is the shadow
 * root; every table frame reached is a hypervisor-owned shadow table of that vCPU, every leaf frame the domain's own);
 * in every mode, every TLB entry tagged with one of its VPIDs, on every pCPU.
 */
public final class Isolation {
    private Isolation() {}

    public static InvariantResult check(XenMachine m) {
        return check(m, true, e -> true);
    }

    /**
     * I1 evaluated on part of {@code m}: the translations of the domains' tables if {@code tables}, and the TLB entries
     * {@code entries} accepts (in the TLB's order). With both on everything this is {@link #check(XenMachine)}; a
     * caller that knows the other parts hold (they are unchanged from a state where I1 held: each part's verdict is a
     * function of the frame table, memory, base pointers and domains, and of the entry) gets the same verdict from
     * less work.
     */
    public static InvariantResult check(XenMachine m, boolean tables, Predicate<TlbEntry> entries) {
        FrameTable frames = m.frames();
        for (Domain d : tables ? m.domains().values() : java.util.List.<Domain>of()) {
            if (d.mode() == MmuMode.DIRECT) {
                for (Vcpu v : d.vcpus()) {
                    Long root = m.guestTables().get(v.id());
                    if (root == null) {
                        continue;
                    }
                    for (GuestMappings.Mapping map : GuestMappings.paging(m.memory(), root)) {
                        String bad = notOwnedNorGranted(m, map.frame(), d.id(), map.writable());
                        if (bad != null) {
                            return new InvariantResult.Violated("I1", "d" + d.id() + " " + v.id() + " (CR3 "
                                    + Hex.of(root) + "): linear " + map + " reaches " + bad + " (L1-2, LN-3)");
                        }
                    }
                }
            }
            if (d.mode() == MmuMode.SHADOW) {
                for (Vcpu v : d.vcpus()) {
                    String bad = shadow(m, d, v);
                    if (bad != null) {
                        return new InvariantResult.Violated("I1", "d" + d.id() + " " + v.id() + " shadow: " + bad
                                + " (SH-1)");
                    }
                }
            }
            if (d.mode() == MmuMode.HAP) {
                for (GuestMappings.Mapping map : GuestMappings.ept(m.memory(), new Eptp(d.eptp()))) {
                    String bad = notOwnedNorGranted(m, map.frame(), d.id(), map.writable());
                    if (bad != null) {
                        return new InvariantResult.Violated("I1", "d" + d.id() + " EPT: guest-physical " + map
                                + " reaches " + bad + " (HAP-1, HAP-2)");
                    }
                }
            }
        }
        for (int q = 0; q < m.pcpuCount(); q++) { // every pCPU's TLB, whoever runs there now (docs/smp.md)
            for (TlbEntry e : m.pcpu(q).tlb().entries()) {
                if (!entries.test(e)) {
                    continue;
                }
                int d = m.domainOfVpid(e.tag().vpid());
                if (d < 0) {
                    continue;
                }
                long first = e.physicalBase() >>> 12;
                long n = e.pageSize().bytes() >>> 12;
                for (long f = first; f < first + n && f < frames.size(); f++) {
                    String bad = notOwnedNorGranted(m, f, d, e.rights().writable() && (e.stage2() & 2) != 0);
                    // (writable through both stages: the guest's rights and, with EPT, the EPT write permission)
                    if (bad != null) {
                        return new InvariantResult.Violated("I1", "d" + d + " TLB entry of VPID " + e.tag().vpid()
                                + " (" + vcpuOf(m, e.tag().vpid()) + "): linear " + Hex.of(e.linearBase())
                                + " → frame " + Hex.of(f) + " reaches " + bad + " (stale translation: TLB-1/TLB-3)"
                                + TlbCoherence.onPcpu(m, q));
                    }
                }
            }
        }
        return InvariantResult.HOLDS;
    }

    /** Null if the shadow tree of shadow-mode vCPU {@code v} is isolated, otherwise what is wrong. */
    static String shadow(XenMachine m, Domain d, Vcpu v) {
        if (!v.shadow().active()) {
            return "no shadow root";
        }
        long hw = v.vmcs().guest().cpu().cr3().pml4Frame();
        if (hw != v.shadow().root()) {
            return "the hardware CR3 " + Hex.of(hw) + " is not the shadow root " + Hex.of(v.shadow().root());
        }
        java.util.List<Long> tables = new java.util.ArrayList<>();
        java.util.List<ShadowIntegrity.Leaf> leaves = ShadowIntegrity.leaves(m.memory(), v.shadow().root(), tables);
        for (long t : tables) {
            boolean mine = t == v.shadow().root() || v.shadow().tables().contains(t);
            if (!mine || !m.frames().contains(t) || m.frames().get(t).owner() != FrameInfo.XEN) {
                return "table frame " + Hex.of(t) + " is not one of its hypervisor-owned shadow tables"
                        + (m.frames().contains(t) ? ": " + m.frames().get(t) : "");
            }
        }
        for (ShadowIntegrity.Leaf l : leaves) {
            String bad = notOwned(m.frames(), l.frame(), d.id());
            if (bad != null) {
                return "linear " + Hex.of(l.linear()) + " via " + l.path() + " reaches frame " + Hex.of(l.frame())
                        + ", " + bad;
            }
        }
        return null;
    }

    static String vcpuOf(XenMachine m, int vpid) {
        for (Domain d : m.domains().values()) {
            for (Vcpu v : d.vcpus()) {
                if (v.vpid() == vpid) {
                    return v.id().toString();
                }
            }
        }
        return "no vCPU";
    }

    /**
     * Null if {@code mfn} is a frame owned by {@code d}, or a frame {@code d} holds an active grant mapping for with
     * at least the access {@code writable} asks (GNT-2); otherwise what it is.
     */
    static String notOwnedNorGranted(XenMachine m, long mfn, int d, boolean writable) {
        String bad = notOwned(m.frames(), mfn, d);
        if (bad == null || m.pv().domains().isEmpty()) {
            return bad;
        }
        boolean mapped = false;
        for (GrantMapping g : m.pv().domain(d).maptrack().values()) {
            long table = m.pv().domain(g.grantingDomain()).grantTable();
            if (g.frame() != mfn || table < 0 || g.ref() < 0 || g.ref() >= 512
                    || m.frames().get(mfn).owner() != g.grantingDomain()) {
                continue;
            }
            // grant_entry_v1 (grant_table.h): flags 15:0 (permit access = type 1 in bits 1:0, read-only bit 2),
            // domid 31:16, frame 63:32
            long e = m.memory().read(table, g.ref());
            boolean permits = (e & 3) == 1 && ((e >>> 16) & 0xFFFF) == d && (e >>> 32) == mfn;
            if (!permits) {
                continue;
            }
            mapped = true;
            if (!writable || (!g.readonly() && (e & 4) == 0)) {
                return null;
            }
        }
        return mapped ? bad + ", granted to it read-only but reached writable (GNT-2)"
                : bad + ", with no active grant mapping of it (GNT-2, GNT-5)";
    }

    /** Null if {@code mfn} is a frame owned by {@code d}, otherwise what it is. */
    static String notOwned(FrameTable frames, long mfn, int d) {
        if (!frames.contains(mfn)) {
            return "a frame beyond RAM";
        }
        FrameInfo f = frames.get(mfn);
        if (f.owner() == d) {
            return null;
        }
        return f.owner() == FrameInfo.XEN ? "a hypervisor frame " + f : "a frame of " + FrameInfo.ownerName(f.owner())
                + " " + f;
    }
}
