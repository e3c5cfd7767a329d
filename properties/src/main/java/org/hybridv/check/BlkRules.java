package org.hybridv.check;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.XenMachine;

/**
 * The block back-end's serving step judged against the rulebook (docs/rules/xen.md BLK-4, BLK-5, BLK-7, BLK-8) over
 * what is observable before and after it — the ring's words decoded here at the byte positions of {@code io/blkif.h}
 * and {@code io/ring.h}, the front-end's grant-table words ({@code struct grant_entry_v1}), the back-end's
 * {@code struct xen_blkif} in its own frame, the frames of its disk, the granted pages and the back-end's maptrack —
 * never by calling the back-end's code. For every request between the back-end's {@code req_cons} and the ring's
 * {@code req_prod} (none if that is more than the ring's 32 slots, BLK-5) the rules fix the status of its response
 * (BLK-4, BLK-7: EOPNOTSUPP for an operation other than READ and WRITE; ERROR for 0 or more than 11 segments, a
 * segment whose sectors are not first ≤ last ≤ 7, sectors past the disk, or a segment whose grant does not permit the
 * back-end the access; OKAY otherwise), its slot (at {@code rsp_prod_pvt}, consecutive, indices mod 2^32 and slots
 * mod 32, BLK-8), its id and operation (the request's, BLK-5), and the data: the requests applied in ring order, each
 * OKAY READ copying its disk sectors — consecutive from {@code sector_number}, segment after segment — into each
 * segment's page sectors, each OKAY WRITE the other way, an ERROR moving nothing. After the step every disk and
 * granted frame holds exactly that, the back-end maps nothing but its ring (BLK-4, BLK-7), and the indices are
 * published ({@code rsp_prod} = {@code rsp_prod_pvt}, {@code req_event} = {@code req_cons} + 1, BLK-2).
 */
final class BlkRules {
    private BlkRules() {}

    // io/ring.h, io/blkif.h for x86-64, grant_table.h: restated
    private static final int SLOTS = 32;
    private static final int HEADER = 8;
    private static final int SLOT_WORDS = 14;
    private static final int MAX_SEGMENTS = 11;
    private static final int SECTOR_WORDS = 64;
    private static final int SECTORS_PER_PAGE = 8;
    private static final int OP_READ = 0;
    private static final int OP_WRITE = 1;
    private static final int RSP_OKAY = 0;
    private static final int RSP_ERROR = -1;
    private static final int RSP_EOPNOTSUPP = -2;
    private static final long GTF_PERMIT_ACCESS = 1;
    private static final long GTF_READONLY = 1 << 2;
    private static final int GRANT_ENTRIES = 512;
    private static final long MASK = 0xFFFF_FFFFL;
    /** The back-end's layout (docs/pv-interfaces.md): its xen_blkif at gfn 1, its disk of 16 sectors at gfns 2, 3. */
    private static final long INFO_GFN = 1;
    private static final long DISK_GFN = 2;
    private static final int DISK_SECTORS = 16;

    /** One request as the front-end wrote it. */
    private record Req(long idx, int op, int nseg, long id, long sector, long[][] segs) {}

    private static int slot(long idx) {
        return HEADER + SLOT_WORDS * (int) (idx & (SLOTS - 1));
    }

    private static Req request(PhysicalMemory m, long ring, long idx) {
        int s = slot(idx);
        long w0 = m.read(ring, s);
        int nseg = (int) ((w0 >>> 8) & 0xFF);
        long[][] segs = new long[Math.min(nseg, MAX_SEGMENTS)][];
        for (int k = 0; k < segs.length; k++) {
            long w = m.read(ring, s + 3 + k);
            segs[k] = new long[] {w & MASK, (w >>> 32) & 0xFF, (w >>> 40) & 0xFF};
        }
        return new Req(idx, (int) (w0 & 0xFF), nseg, m.read(ring, s + 1), m.read(ring, s + 2), segs);
    }

    /** The grant word {@code ref} of domain {@code d}, or null (no table, out of range). */
    private static Long grant(XenMachine m, int d, long ref) {
        long gt = m.pv().domain(d).grantTable();
        return gt < 0 || ref < 0 || ref >= GRANT_ENTRIES ? null : m.memory().read(gt, (int) ref);
    }

    /** GNT-1, GNT-2: the grant permits {@code back} to map it, writably if {@code write}. */
    private static boolean permits(Long g, int back, boolean write) {
        return g != null && (g & 3) == GTF_PERMIT_ACCESS && ((g >>> 16) & 0xFFFF) == back
                && (!write || (g & GTF_READONLY) == 0);
    }

    /** BLK-4, BLK-7: the status the rules give request {@code r} of front-end {@code front} to back-end {@code back}. */
    static int status(XenMachine pre, int back, int front, int op, int nseg, long sector, long[][] segs) {
        if (op != OP_READ && op != OP_WRITE) {
            return RSP_EOPNOTSUPP;
        }
        if (nseg < 1 || nseg > MAX_SEGMENTS) {
            return RSP_ERROR;
        }
        long total = 0;
        for (long[] g : segs) {
            if (g[1] > g[2] || g[2] >= SECTORS_PER_PAGE) {
                return RSP_ERROR;
            }
            total += g[2] - g[1] + 1;
        }
        if (sector < 0 || sector + total > DISK_SECTORS) {
            return RSP_ERROR;
        }
        for (long[] g : segs) {
            if (!permits(grant(pre, front, g[0]), back, op == OP_READ)) {
                return RSP_ERROR;
            }
        }
        return RSP_OKAY;
    }

    /** What is wrong with back-end {@code back}'s serving step from {@code pre} to {@code post}, or null. */
    static PvRules.Broken check(XenMachine pre, XenMachine post, int back) {
        if (!pre.domains().containsKey(back)) {
            return null;
        }
        long info = pre.domain(back).machineFrame(INFO_GFN);
        PhysicalMemory a = pre.memory();
        PhysicalMemory b = post.memory();
        if (info < 0 || a.read(info, 0) != 4) {
            return null; // not a connected back-end: the step is refused (BLK-4)
        }
        int front = (int) a.read(info, 1);
        Long ringGrant = grant(pre, front, a.read(info, 2));
        if (ringGrant == null) {
            return null;
        }
        long ring = ringGrant >>> 32;
        long reqCons = a.read(info, 5);
        long rspPvt = a.read(info, 6);
        long reqProd = a.read(ring, 0) & MASK;
        long pending = (reqProd - reqCons) & MASK;
        long newCons = b.read(info, 5);
        long newPvt = b.read(info, 6);
        if (pending > SLOTS) {
            if (newCons != reqCons || newPvt != rspPvt) {
                return broken("BLK-5", "req_prod " + reqProd + " is " + pending + " ahead of req_cons " + reqCons
                        + " (more than the ring's " + SLOTS + " slots) yet req_cons became " + newCons);
            }
            return null;
        }
        if (newCons != reqProd || newPvt != ((rspPvt + pending) & MASK)) {
            return broken("BLK-5", "after consuming " + reqCons + ".." + reqProd + " req_cons is " + newCons
                    + " and rsp_prod_pvt " + newPvt + ", not " + reqProd + " and " + ((rspPvt + pending) & MASK));
        }
        List<Req> reqs = new ArrayList<>();
        for (long k = 0; k < pending; k++) {
            reqs.add(request(a, ring, (reqCons + k) & MASK));
        }
        // the requests applied in ring order to the words they may touch; every other word of those frames stays
        Map<Long, Long> expect = new HashMap<>();
        Set<Long> frames = new TreeSet<>();
        long disk0 = pre.domain(back).machineFrame(DISK_GFN);
        long disk1 = pre.domain(back).machineFrame(DISK_GFN + 1);
        frames.add(disk0);
        frames.add(disk1);
        for (int k = 0; k < reqs.size(); k++) {
            Req r = reqs.get(k);
            int want = status(pre, back, front, r.op(), r.nseg(), r.sector(), r.segs());
            long at = (rspPvt + k) & MASK;
            long rid = b.read(ring, slot(at));
            long w1 = b.read(ring, slot(at) + 1);
            int rop = (int) (w1 & 0xFF);
            int rstatus = (short) ((w1 >>> 16) & 0xFFFF);
            if (rid != r.id() || rop != r.op()) {
                return broken("BLK-5", "the response in slot " + (at & (SLOTS - 1)) + " (index " + at + ") is id "
                        + rid + " op " + rop + ", but it answers request " + r.idx() + ", id " + r.id() + " op "
                        + r.op());
            }
            if (rstatus != want) {
                return broken(r.nseg() > 1 || want != RSP_OKAY ? "BLK-7" : "BLK-4", "request " + r.idx() + " (op "
                        + r.op() + ", " + r.nseg() + " segments, sector " + r.sector() + ") was answered " + rstatus
                        + " but the rules answer it " + want);
            }
            if (want != RSP_OKAY) {
                continue;
            }
            long sector = r.sector();
            for (long[] g : r.segs()) {
                long page = grant(pre, front, g[0]) >>> 32;
                frames.add(page);
                for (long p = g[1]; p <= g[2]; p++, sector++) {
                    long disk = sector < SECTORS_PER_PAGE ? disk0 : disk1;
                    int dOff = (int) (sector % SECTORS_PER_PAGE) * SECTOR_WORDS;
                    int pOff = (int) p * SECTOR_WORDS;
                    for (int w = 0; w < SECTOR_WORDS; w++) {
                        long dk = disk << 9 | (dOff + w);
                        long pk = page << 9 | (pOff + w);
                        if (r.op() == OP_READ) {
                            expect.put(pk, expect.getOrDefault(dk, a.read(disk, dOff + w)));
                        } else {
                            expect.put(dk, expect.getOrDefault(pk, a.read(page, pOff + w)));
                        }
                    }
                }
            }
        }
        frames.remove(ring);
        for (long f : frames) {
            for (int w = 0; w < 512; w++) {
                long want = expect.getOrDefault(f << 9 | w, a.read(f, w));
                if (b.read(f, w) != want) {
                    return broken("BLK-7", "frame " + Long.toHexString(f) + " word " + w + " holds "
                            + Long.toHexString(b.read(f, w)) + " after the step, but the requests served, applied in"
                            + " order, leave " + Long.toHexString(want) + " there");
                }
            }
        }
        if (post.pv().domain(back).maptrack().size() != 1) {
            return broken("BLK-7", "d" + back + " keeps " + post.pv().domain(back).maptrack().size()
                    + " grant mappings after answering every request it consumed; only its ring's may remain");
        }
        long w0 = b.read(ring, 0);
        long w1 = b.read(ring, 1);
        if ((w1 & MASK) != newPvt || (w0 >>> 32) != ((newCons + 1) & MASK)) {
            return broken("BLK-2", "after the step rsp_prod is " + (w1 & MASK) + " and req_event " + (w0 >>> 32)
                    + ", not rsp_prod_pvt " + newPvt + " and req_cons + 1 = " + ((newCons + 1) & MASK));
        }
        return notification(pre, post, back, front, a.read(ring, 1), newPvt);
    }

    /**
     * BLK-2, the producer's check of {@code RING_PUSH_RESPONSES_AND_CHECK_NOTIFY}: having moved {@code rsp_prod} from
     * its old value to {@code newProd}, the back-end notifies iff the front-end's {@code rsp_event} lies in
     * (old, new] — in 32-bit arithmetic, new − event &lt; new − old. Observed as the front-end's port bound to the
     * back-end's (its {@code xen_blkif} port, EVT-3) pending in the front-end's shared-info page (EVT-5, EVT-6): pending
     * after the step when a notification is owed; not made pending by the step when none is.
     */
    private static PvRules.Broken notification(XenMachine pre, XenMachine post, int back, int front, long ringWord1,
            long newProd) {
        long old = ringWord1 & MASK;
        long event = ringWord1 >>> 32;
        boolean owed = ((newProd - event) & MASK) < ((newProd - old) & MASK);
        int backPort = (int) pre.memory().read(pre.domain(back).machineFrame(INFO_GFN), 4);
        if (!(pre.pv().domain(back).ports().get(backPort) instanceof org.hybridv.xen.EventChannel.Interdomain c)
                || c.remoteDomain() != front) {
            return null; // the channel is gone (closed by a guest): no notification can arrive
        }
        long si = pre.pv().domain(front).sharedInfo();
        if (si < 0) {
            return null;
        }
        boolean before = pendingBit(pre.memory(), si, c.remotePort());
        boolean after = pendingBit(post.memory(), si, c.remotePort());
        if (owed && !after) {
            return broken("BLK-2", "rsp_prod moved from " + old + " to " + newProd + " past rsp_event " + event
                    + ", but d" + front + "'s port " + c.remotePort() + " is not pending: the front-end was not notified");
        }
        if (!owed && !before && after) {
            return broken("BLK-2", "rsp_prod moved from " + old + " to " + newProd + " without crossing rsp_event "
                    + event + ", yet d" + front + "'s port " + c.remotePort() + " became pending");
        }
        return null;
    }

    /** The 2-level ABI's pending bit of {@code port} in shared-info frame {@code si} (xen.h: evtchn_pending, byte 2048). */
    private static boolean pendingBit(PhysicalMemory m, long si, int port) {
        return (m.read(si, 256 + port / 64) >>> (port % 64) & 1) != 0;
    }

    private static PvRules.Broken broken(String rule, String why) {
        return new PvRules.Broken(rule, true, why);
    }

    /** The status name the scenario format uses. */
    static String statusName(int s) {
        return s == RSP_OKAY ? "okay" : s == RSP_ERROR ? "error" : s == RSP_EOPNOTSUPP ? "eopnotsupp"
                : Integer.toString(s);
    }

    /**
     * What the rules say back-end {@code back}'s next serving step from {@code pre} answers: {count, last id,
     * last status} (count 0: nothing consumed), for a counterexample's expectation.
     */
    static long[] expectedServe(XenMachine pre, int back) {
        long info = pre.domain(back).machineFrame(INFO_GFN);
        PhysicalMemory a = pre.memory();
        int front = (int) a.read(info, 1);
        long ring = grant(pre, front, a.read(info, 2)) >>> 32;
        long reqCons = a.read(info, 5);
        long pending = ((a.read(ring, 0) & MASK) - reqCons) & MASK;
        if (pending == 0 || pending > SLOTS) {
            return new long[] {0, 0, 0};
        }
        Req r = request(a, ring, (reqCons + pending - 1) & MASK);
        return new long[] {pending, r.id(), status(pre, back, front, r.op(), r.nseg(), r.sector(), r.segs())};
    }
}
