package org.hybridv.invariants;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.Domain;
import org.hybridv.xen.DomainPv;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.GrantMapping;
import org.hybridv.xen.XenMachine;

/**
 * I11-blk, the split block driver's part of grant hygiene (docs/invariants.md, docs/pv-interfaces.md; rules BLK-4,
 * BLK-5), stated over what is observable — the shared ring at the byte positions of {@code io/blkif.h} and
 * {@code io/ring.h}, the front-end's grant-table frame, the back-end's maptrack and its {@code struct xen_blkif} in its
 * own frame (gfn 1: state, front-end, ring-ref, ring handle, port, req_cons, rsp_prod_pvt) — decoded here
 * independently of the code that writes them:
 * <ul>
 * <li>after every step ({@link #check}): the back-end maps nothing of the front-end but its ring and the data pages
 * of requests it has consumed and not yet answered (BLK-4: a data grant is unmapped before its response); it has
 * never answered more requests than it consumed (BLK-5);</li>
 * <li>over one back-end step ({@link #checkServe}): each response it published answers the request consumed in the
 * same order — same id and operation — one response per request (BLK-5); and the only frames whose contents changed
 * are the back-end's own, the hypervisor's, the ring, the front-end's shared-info page and grant table (set by the
 * hypervisor), and the data pages of the READ requests it consumed whose grant permitted it to write — the
 * back-end reaches no frame that was not granted to it for the request (BLK-4, GNT-2).</li>
 * </ul>
 */
public final class BlockInvariants {
    private BlockInvariants() {}

    // ---- the protocol, restated (io/blkif.h, io/ring.h for x86-64; grant_table.h) ----------------------------------
    private static final int RING = 32;
    private static final int HEADER = 8;
    private static final int SLOT = 14;
    private static final int MAX_SEGMENTS = 11;
    private static final int READ = 0;
    private static final long CONNECTED = 4;
    private static final int GTF_PERMIT = 1;
    private static final int GTF_READONLY = 1 << 2;
    /** Where the back-end keeps its {@code struct xen_blkif} (docs/pv-interfaces.md). */
    private static final long INFO_GFN = 1;

    private record Blkif(int back, int front, long ringRef, int ringHandle, long reqCons, long rspProdPvt) {}

    private static Blkif blkif(XenMachine m, int back) {
        if (!m.domains().containsKey(back)) {
            return null;
        }
        long f = m.domain(back).machineFrame(INFO_GFN);
        if (f < 0 || !m.frames().contains(f) || m.frames().get(f).owner() != back) {
            return null;
        }
        PhysicalMemory mem = m.memory();
        if (mem.read(f, 0) != CONNECTED) {
            return null;
        }
        return new Blkif(back, (int) mem.read(f, 1), mem.read(f, 2), (int) mem.read(f, 3), mem.read(f, 5),
                mem.read(f, 6));
    }

    /** The frame grant {@code ref} of domain {@code d} names, or -1. */
    private static long grantFrame(XenMachine m, int d, long ref) {
        long table = m.pv().domain(d).grantTable();
        return table < 0 || ref < 0 || ref >= 512 ? -1 : m.memory().read(table, (int) ref) >>> 32;
    }

    private static long grantWord(XenMachine m, int d, long ref) {
        long table = m.pv().domain(d).grantTable();
        return table < 0 || ref < 0 || ref >= 512 ? 0 : m.memory().read(table, (int) ref);
    }

    private static int slot(long idx) {
        return HEADER + SLOT * (int) (idx & (RING - 1));
    }

    /** The segments a request in slot {@code idx} names: its nr_segments (byte 1), at most the 11 a slot holds. */
    private static int segments(PhysicalMemory mem, long ring, long idx) {
        return (int) Math.min(MAX_SEGMENTS, (mem.read(ring, slot(idx)) >>> 8) & 0xFF);
    }

    private static long dist(long from, long to) {
        return (to - from) & 0xFFFF_FFFFL;
    }

    /** I11-blk over {@code m} for the back-end domain 0, if the machine has one that is connected. */
    public static InvariantResult check(XenMachine m) {
        return check(m, 0);
    }

    /** I11-blk over {@code m} for back-end domain {@code back} (holds if it is not a connected back-end). */
    public static InvariantResult check(XenMachine m, int back) {
        Blkif b = blkif(m, back);
        if (b == null) {
            return InvariantResult.HOLDS;
        }
        if (dist(b.rspProdPvt(), b.reqCons()) > RING) {
            return new InvariantResult.Violated("BLK-5", "d" + back + " answered " + b.rspProdPvt()
                    + " requests but consumed only " + b.reqCons());
        }
        GrantMapping ring = m.pv().domain(back).maptrack().get(b.ringHandle());
        long ringFrame = ring == null ? -1 : ring.frame();
        Set<Long> outstanding = new TreeSet<>();
        for (long i = b.rspProdPvt(); i != b.reqCons() && ringFrame >= 0; i = (i + 1) & 0xFFFF_FFFFL) {
            for (int s = 0; s < segments(m.memory(), ringFrame, i); s++) {
                outstanding.add(m.memory().read(ringFrame, slot(i) + 3 + s) & 0xFFFF_FFFFL);
            }
        }
        for (var e : m.pv().domain(back).maptrack().entrySet()) {
            GrantMapping g = e.getValue();
            boolean isRing = e.getKey() == b.ringHandle() && g.grantingDomain() == b.front() && g.ref() == b.ringRef();
            boolean isData = g.grantingDomain() == b.front() && outstanding.contains((long) g.ref());
            if (!isRing && !isData) {
                return new InvariantResult.Violated("BLK-4", "d" + back + " still maps " + g + " (handle "
                        + e.getKey() + ") though no request it consumed and has not answered names it");
            }
        }
        return InvariantResult.HOLDS;
    }

    /**
     * I11-blk over one step of back-end {@code back} from {@code pre} to {@code post}: responses answer the consumed
     * requests one for one, in order; only the frames the rulebook lets it touch changed.
     */
    public static InvariantResult checkServe(XenMachine pre, XenMachine post, int back) {
        Blkif a = blkif(pre, back);
        Blkif b = blkif(post, back);
        if (a == null || b == null) {
            return InvariantResult.HOLDS;
        }
        GrantMapping ring = pre.pv().domain(back).maptrack().get(a.ringHandle());
        if (ring == null) {
            return InvariantResult.HOLDS;
        }
        long rf = ring.frame();
        long consumed = dist(a.reqCons(), b.reqCons());
        long answered = dist(a.rspProdPvt(), b.rspProdPvt());
        if (consumed > RING || answered != consumed) {
            return new InvariantResult.Violated("BLK-5", "d" + back + " consumed " + consumed + " requests and wrote "
                    + answered + " responses");
        }
        Set<Long> writable = new TreeSet<>();
        for (long k = 0; k < consumed; k++) {
            int rq = slot(a.reqCons() + k);
            int rs = slot(a.rspProdPvt() + k);
            long w0 = pre.memory().read(rf, rq);
            long id = pre.memory().read(rf, rq + 1);
            long rid = post.memory().read(rf, rs);
            long rop = post.memory().read(rf, rs + 1) & 0xFF;
            if (rid != id || rop != (w0 & 0xFF)) {
                return new InvariantResult.Violated("BLK-5", "response " + (a.rspProdPvt() + k) + " of d" + back
                        + " is id " + rid + " op " + rop + ", but the request it answers is id " + id + " op "
                        + (w0 & 0xFF));
            }
            for (int s = 0; s < segments(pre.memory(), rf, a.reqCons() + k); s++) {
                long gref = pre.memory().read(rf, rq + 3 + s) & 0xFFFF_FFFFL;
                long entry = grantWord(pre, a.front(), gref);
                boolean permits = (entry & 3) == GTF_PERMIT && ((entry >>> 16) & 0xFFFF) == back
                        && (entry & GTF_READONLY) == 0;
                if ((w0 & 0xFF) == READ && permits) {
                    writable.add(grantFrame(pre, a.front(), gref));
                }
            }
        }
        DomainPv fp = pre.pv().domain(a.front());
        for (long f = 0; f < post.frames().size(); f++) {
            FrameInfo info = post.frames().get(f);
            boolean allowed = info.owner() == back || info.owner() == FrameInfo.XEN || f == rf
                    || f == fp.sharedInfo() || f == fp.grantTable() || writable.contains(f);
            if (allowed || !changed(pre.memory(), post.memory(), f)) {
                continue;
            }
            Domain owner = post.domains().get(info.owner());
            return new InvariantResult.Violated("BLK-4", "d" + back + "'s step changed frame " + Hex.of(f) + " of "
                    + (owner == null ? "no domain" : "d" + owner.id()) + ", which no request it served granted it");
        }
        return InvariantResult.HOLDS;
    }

    private static boolean changed(PhysicalMemory a, PhysicalMemory b, long f) {
        for (int i = 0; i < 512; i++) {
            if (a.read(f, i) != b.read(f, i)) {
                return true;
            }
        }
        return false;
    }

    /** Every violation of {@link #check} as a list (empty when it holds), for reports. */
    public static List<InvariantResult.Violated> violations(XenMachine m) {
        List<InvariantResult.Violated> l = new ArrayList<>();
        if (check(m) instanceof InvariantResult.Violated v) {
            l.add(v);
        }
        return l;
    }
}
