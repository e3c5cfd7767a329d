package org.hybridv.invariants;

import java.util.Map;
import org.hybridv.x86.Entry;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.DomainPv;
import org.hybridv.xen.EventChannel;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.GrantMapping;
import org.hybridv.xen.PageType;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.XenMachine;

/**
 * The invariants of the para-virtual interface (docs/invariants.md, docs/pv-interfaces.md), stated from the rulebook
 * over what is observable: the shared-info and grant-table frames in memory (at the bit positions of Xen's public
 * ABI, decoded here independently of the code that writes them), the page tables, the maptrack and port bindings.
 * <ul>
 * <li>I9 event integrity, after every step: no event lost — a pending, unmasked port has its selector bit and its
 * vCPU's upcall-pending set (EVT-6, EVT-8: the guest then cannot miss it); no pending bit on a free port (EVT-5,
 * EVT-7); no lost wake-up — a blocked vCPU has no upcall pending (TIME-3).</li>
 * <li>I10 event routing, over one send step ({@link #checkSend}): the only port that became pending is the peer the
 * sending port was bound to, in the peer's domain (EVT-5), and the peer's vCPU is notified exactly as EVT-6 says.</li>
 * <li>I11 grant hygiene: every maptrack entry's PTE (or, for a HAP mapper, EPT leaf) is present, maps the granted
 * frame (a PTE with the grant mark) and is writable exactly when the mapping is; every grant-marked PTE in a domain's page tables is one of its maptrack
 * entries — nothing of a grant survives its unmap (GNT-2, GNT-5; the TLB part is I1's); the granting entry shows
 * GTF_reading exactly while it is mapped and GTF_writing exactly while it is mapped writable (GNT-2, GNT-5); a granted
 * frame mapped writable is still of WRITABLE type (GNT-3: not retyped while mapped).</li>
 * </ul>
 */
public final class PvInvariants {
    private PvInvariants() {}

    // ---- the ABI, restated (xen/include/public/xen.h, grant_table.h) ----------------------------------------------
    private static final int PENDING = 256;
    private static final int MASK = 320;
    private static final long GTF_READING = 1 << 3;
    private static final long GTF_WRITING = 1 << 4;
    private static final long GNTTAB_BIT = 1L << 62;

    private static boolean bit(PhysicalMemory m, long frame, int word, int bit) {
        return (m.read(frame, word) >>> bit & 1) != 0;
    }

    static boolean pending(PhysicalMemory m, long si, int port) {
        return bit(m, si, PENDING + port / 64, port % 64);
    }

    /** I9 and I11 on {@code m}. */
    public static InvariantResult check(XenMachine m) {
        InvariantResult r = events(m);
        return r.holds() ? grants(m) : r;
    }

    /** I9 event integrity. */
    public static InvariantResult events(XenMachine m) {
        for (Map.Entry<Integer, DomainPv> de : m.pv().domains().entrySet()) {
            int d = de.getKey();
            long si = de.getValue().sharedInfo();
            if (si < 0) {
                continue;
            }
            PhysicalMemory mem = m.memory();
            for (int w = 0; w < 64; w++) {
                long word = mem.read(si, PENDING + w);
                for (int b = 0; word != 0 && b < 64; b++) {
                    if ((word >>> b & 1) == 0) {
                        continue;
                    }
                    int port = w * 64 + b;
                    EventChannel c = de.getValue().ports().get(port);
                    if (c == null) {
                        return new InvariantResult.Violated("I9", "d" + d + " port " + port
                                + " is pending but bound to nothing: an event reached a port it was not sent to"
                                + " (EVT-5, EVT-7)");
                    }
                    int v = c.notifyVcpu();
                    if (!bit(mem, si, MASK + w, b) && (!bit(mem, si, 8 * v + 1, w) || !bit(mem, si, 8 * v, 0))) {
                        return new InvariantResult.Violated("I9", "d" + d + " port " + port + " is pending and"
                                + " unmasked but d" + d + "v" + v + "'s selector bit " + w + " or upcall-pending is"
                                + " clear: the event is lost (EVT-6, EVT-8)");
                    }
                }
            }
            for (Vcpu v : m.domain(d).vcpus()) {
                if (v.blocked() && v.id().vcpu() < 32 && bit(mem, si, 8 * v.id().vcpu(), 0)) {
                    return new InvariantResult.Violated("I9", v.id() + " is blocked with an event upcall pending:"
                            + " a lost wake-up (TIME-3)");
                }
            }
        }
        return InvariantResult.HOLDS;
    }

    /**
     * I10 over an {@code EVTCHNOP_send} by vCPU {@code sender} on {@code port}: {@link #checkSend(XenMachine,
     * XenMachine, int, int)} when the send runs; a vCPU blocked in {@code SCHEDOP_block} runs nothing, so its send is
     * no send and owes no notification (TIME-3: it stays blocked until an event wakes it).
     */
    public static InvariantResult checkSend(XenMachine pre, XenMachine post, org.hybridv.xen.VcpuId sender,
            int port) {
        if (pre.vcpu(sender).blocked()) {
            return InvariantResult.HOLDS;
        }
        return checkSend(pre, post, sender.domain(), port);
    }

    /**
     * I10 over one {@code EVTCHNOP_send} of domain {@code d} on {@code port}, from {@code pre} to {@code post}: every
     * port that became pending is the peer of {@code port} in {@code pre} (an interdomain port's remote port in its
     * remote domain), and nothing else.
     */
    public static InvariantResult checkSend(XenMachine pre, XenMachine post, int d, int port) {
        EventChannel c = pre.pv().domain(d).ports().get(port);
        for (Map.Entry<Integer, DomainPv> de : post.pv().domains().entrySet()) {
            long si = de.getValue().sharedInfo();
            if (si < 0) {
                continue;
            }
            for (int w = 0; w < 64; w++) {
                long fresh = post.memory().read(si, PENDING + w) & ~pre.memory().read(si, PENDING + w);
                for (int b = 0; fresh != 0 && b < 64; b++) {
                    if ((fresh >>> b & 1) == 0) {
                        continue;
                    }
                    int p = w * 64 + b;
                    boolean peer = c instanceof EventChannel.Interdomain i && i.remoteDomain() == de.getKey()
                            && i.remotePort() == p;
                    if (!peer) {
                        return new InvariantResult.Violated("I10", "d" + d + " sent on port " + port + " (" + c
                                + ") and port " + p + " of d" + de.getKey() + " became pending: not the port it was"
                                + " bound to (EVT-5)");
                    }
                }
            }
        }
        return notified(pre, post, c);
    }

    /** {@code vcpu_info} is 64 bytes at the start of the shared-info page: upcall_pending in byte 0 of its word 0. */
    private static final int VCPU_INFO_WORDS = 8;
    /** {@code evtchn_pending_sel} is word 1 of {@code vcpu_info} (after the two bytes and the padding). */
    private static final int SELECTOR_WORD = 1;
    /** The shared-info page holds {@code vcpu_info} for the first 32 vCPUs (XEN_LEGACY_MAX_VCPUS). */
    private static final int LEGACY_VCPUS = 32;

    /**
     * EVT-6 over the send on {@code c}: if its peer port was already pending, or is masked, no vCPU of the peer's
     * domain is notified (no selector or upcall-pending changes); otherwise the vCPU the peer port notifies has the
     * selector bit of the port's word and its upcall-pending set.
     */
    private static InvariantResult notified(XenMachine pre, XenMachine post, EventChannel c) {
        if (!(c instanceof EventChannel.Interdomain i) || !post.pv().domains().containsKey(i.remoteDomain())) {
            return InvariantResult.HOLDS;
        }
        int rd = i.remoteDomain();
        int p = i.remotePort();
        long si = post.pv().domain(rd).sharedInfo();
        EventChannel peer = pre.pv().domain(rd).ports().get(p);
        if (si < 0 || peer == null || si != pre.pv().domain(rd).sharedInfo()) {
            return InvariantResult.HOLDS;
        }
        boolean quiet = pending(pre.memory(), si, p) || bit(post.memory(), si, MASK + p / 64, p % 64);
        int vcpus = Math.min(LEGACY_VCPUS, post.domain(rd).vcpus().size());
        for (int v = 0; v < vcpus; v++) {
            long selBefore = pre.memory().read(si, v * VCPU_INFO_WORDS + SELECTOR_WORD);
            long selAfter = post.memory().read(si, v * VCPU_INFO_WORDS + SELECTOR_WORD);
            long upBefore = pre.memory().read(si, v * VCPU_INFO_WORDS) & 0xFF;
            long upAfter = post.memory().read(si, v * VCPU_INFO_WORDS) & 0xFF;
            if (quiet && (selBefore != selAfter || upBefore != upAfter)) {
                return new InvariantResult.Violated("I10", "port " + p + " of d" + rd + " was " + (pending(pre.memory(),
                        si, p) ? "already pending" : "masked") + ", yet d" + rd + " vCPU " + v + " was notified"
                        + " (selector " + Hex.of(selBefore) + " → " + Hex.of(selAfter) + ", upcall pending " + upBefore
                        + " → " + upAfter + "): EVT-6");
            }
            if (!quiet && v == peer.notifyVcpu() && (((selAfter >>> (p / 64)) & 1) == 0 || upAfter == 0)) {
                return new InvariantResult.Violated("I10", "port " + p + " of d" + rd + " became pending unmasked,"
                        + " yet d" + rd + " vCPU " + v + " has selector " + Hex.of(selAfter) + " and upcall pending "
                        + upAfter + ": EVT-6 sets the word's selector bit and upcall pending");
            }
        }
        return InvariantResult.HOLDS;
    }

    /** I11 grant hygiene. */
    public static InvariantResult grants(XenMachine m) {
        for (Map.Entry<Integer, DomainPv> de : m.pv().domains().entrySet()) {
            int d = de.getKey();
            for (Map.Entry<Integer, GrantMapping> me : de.getValue().maptrack().entrySet()) {
                GrantMapping g = me.getValue();
                long raw = m.memory().read(g.l1mfn(), g.l1index());
                Entry pte = new Entry(raw);
                // an EPT leaf (SDM Vol. 3C §28.2.2, table 28-6): read bit 0, write bit 1, execute bit 2, frame 51:12
                boolean ok = g.ept() ? (raw & 7) != 0 && ((raw >>> 12) & ((1L << 40) - 1)) == g.frame()
                        && ((raw & 2) != 0) != g.readonly()
                        : pte.present() && pte.frame() == g.frame() && (raw & GNTTAB_BIT) != 0
                                && pte.writable() != g.readonly();
                if (!ok) {
                    return new InvariantResult.Violated("I11", "d" + d + " map handle " + me.getKey() + " (" + g
                            + ") has PTE " + pte + " at L1 " + Hex.of(g.l1mfn()) + "[" + g.l1index() + "] (GNT-2)");
                }
                long gt = m.pv().domain(g.grantingDomain()).grantTable();
                long entry = gt < 0 ? 0 : m.memory().read(gt, g.ref());
                if ((entry & GTF_READING) == 0 || (!g.readonly() && (entry & GTF_WRITING) == 0)) {
                    return new InvariantResult.Violated("I11", "d" + d + " map handle " + me.getKey() + " (" + g
                            + ") but the grant entry's flags are " + Hex.of(entry & 0xFFFF) + " (GNT-2)");
                }
                if (!g.readonly()) {
                    FrameInfo f = m.frames().get(g.frame());
                    if (f.type() != PageType.WRITABLE || f.typeCount() == 0) {
                        return new InvariantResult.Violated("I11", "frame " + Hex.of(g.frame()) + " is mapped"
                                + " writable by d" + d + " through a grant but is " + f + " (GNT-3)");
                    }
                }
            }
            long table = de.getValue().grantTable();
            if (table >= 0) {
                for (int ref = m.memory().nextNonZero(table, 0); ref < PhysicalMemory.WORDS_PER_FRAME;
                        ref = m.memory().nextNonZero(table, ref + 1)) { // a zero entry is unmapped and unmarked
                    long raw = m.memory().read(table, ref);
                    boolean reading = false;
                    boolean writing = false;
                    for (DomainPv other : m.pv().domains().values()) {
                        for (GrantMapping g : other.maptrack().values()) {
                            if (g.grantingDomain() == d && g.ref() == ref) {
                                reading = true;
                                writing |= !g.readonly();
                            }
                        }
                    }
                    if (((raw & GTF_READING) != 0) != reading || ((raw & GTF_WRITING) != 0) != writing) {
                        return new InvariantResult.Violated("I11", "grant " + ref + " of d" + d + " has flags "
                                + Hex.of(raw & 0xFFFF) + " but is " + (reading ? writing ? "mapped writable"
                                        : "mapped read-only" : "not mapped") + " (GNT-2, GNT-5)");
                    }
                }
            }
        }
        for (long mfn = 0; mfn < m.frames().size(); mfn++) {
            FrameInfo f = m.frames().get(mfn);
            if (f.type() != PageType.L1 || f.typeCount() == 0 || f.owner() == FrameInfo.XEN
                    || f.owner() == FrameInfo.FREE) {
                continue;
            }
            for (int i = m.memory().nextNonZero(mfn, 0); i < PhysicalMemory.WORDS_PER_FRAME;
                    i = m.memory().nextNonZero(mfn, i + 1)) {
                Entry e = new Entry(m.memory().read(mfn, i));
                if (!e.present() || (e.raw() & GNTTAB_BIT) == 0) {
                    continue;
                }
                boolean tracked = false;
                for (GrantMapping g : m.pv().domain(f.owner()).maptrack().values()) {
                    tracked |= g.l1mfn() == mfn && g.l1index() == i;
                }
                if (!tracked) {
                    return new InvariantResult.Violated("I11", "L1 " + Hex.of(mfn) + "[" + i + "] of d" + f.owner()
                            + " is a grant PTE " + e + " with no grant mapping behind it: it survived its unmap"
                            + " (GNT-5)");
                }
            }
        }
        return InvariantResult.HOLDS;
    }
}
