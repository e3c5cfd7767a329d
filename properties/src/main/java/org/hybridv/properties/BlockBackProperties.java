package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.PvInterfaceCases;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.BlkBack;
import org.hybridv.xen.Faults;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.XenMachine;

/**
 * The block back-end's request loop (rules BLK-4, BLK-5, BLK-7, BLK-8 with GNT-2 and GNT-5 of docs/rules/xen.md),
 * judged over the ring, the disk and the granted pages as raw memory, never by calling the back-end's code: the front-end
 * d1 of {@link PvInterfaceCases}' machine (its ring at index 0, 29 or 2^32 − 2, BLK-8) grants pages to the back-end
 * d0 — writable or read-only, a page table, nothing, a grant to another domain — fills them, writes 1..4 requests
 * into its ring at the layout of {@code io/blkif.h} restated here (word 0 operation 7:0, nr_segments 15:8; word 1 id;
 * word 2 sector_number; words 3.. segments: gref 31:0, first_sect 39:32, last_sect 47:40) with every corner of BLK-7
 * (READ, WRITE, other operations; 0, 1, 2, 3, 11, 12 segments; sectors within, past or before the disk; first_sect
 * after last_sect, last_sect 8) and pushes req_prod — sometimes more than a ring ahead. Then the back-end serves once,
 * and:
 * <ul>
 * <li>it answered each request once, in order, in the slot at its rsp_prod_pvt: the request's id and operation and the
 * status BLK-4/BLK-7 give — EOPNOTSUPP for another operation; ERROR for a bad segment count, a segment outside its
 * page, sectors outside the disk, or a grant the back-end may not map (not permitting d0, read-only for a READ, not
 * d1's frame, a page table for a READ); OKAY otherwise — and nothing for a req_prod more than a ring ahead;</li>
 * <li>an OKAY WRITE put the segments' sectors on the disk from sector_number on, an OKAY READ put the disk's
 * sectors into the pages; nothing else of the disk or of a page changed;</li>
 * <li>rsp_prod moved by the responses, req_event = req_cons + 1, req_prod and rsp_event unchanged; the back-end's
 * req_cons and rsp_prod_pvt moved with them; it notified d1 (its port pending) iff BLK-2's test of the published
 * responses asks for it;</li>
 * <li>nothing of a request's grants survives its response: the back-end's maptrack, the grant entries, every frame's
 * references and the back-end's EPT are as before.</li>
 * </ul>
 */
class BlockBackProperties {
    // io/blkif.h, io/ring.h (x86-64), restated
    private static final int OP_READ = 0;
    private static final int OP_WRITE = 1;
    private static final int RSP_OKAY = 0;
    private static final int RSP_ERROR = -1;
    private static final int RSP_EOPNOTSUPP = -2;
    private static final int MAX_SEGMENTS = 11;
    private static final int RING_SIZE = 32;
    private static final int HEADER = 8;
    private static final int SLOT_WORDS = 14;
    private static final int WORDS_PER_SECTOR = 64;
    private static final int SECTORS_PER_PAGE = 8;
    private static final int DISK_SECTORS = 16;
    private static final long MASK32 = 0xFFFF_FFFFL;
    // grant_table.h
    private static final long GTF_PERMIT_ACCESS = 1;
    private static final long GTF_READONLY = 1 << 2;
    private static final int BACK = 0;
    private static final int FRONT = 1;
    /** The back-end's frames (docs/pv-interfaces.md): gfn 1 its xen_blkif, gfn 2 and 3 its disk. */
    private static final long INFO = 0x59;
    private static final long DISK = 0x5a;
    private static final long RING = PvInterfaceCases.BLK_RING;
    /** d1's port bound to the back-end's. */
    private static final int FRONT_PORT = PvInterfaceCases.BLK_PORT;
    private static final int PENDING = 256;

    /**
     * The grants d1 makes for this run: ref 3 its frame 0x29 and ref 4 its frame 0x2c (each read-only or not), ref 6
     * its frame 0x2d read-only, ref 7 its L1 page table 0x13, ref 5 nothing, ref 0 its grant to d2.
     */
    private static final int[] REFS = {3, 4, 6, 7, 5, 0, 3, 4, 600};

    record Segment(int refIndex, int first, int last) {}

    record Request(int operation, int nrSegments, int sectorChoice, List<Segment> segments) {}

    record Run(long ringBase, boolean ro3, boolean ro4, long fill, boolean overflow, int rspEventAhead,
            List<Request> requests) {}

    @Provide
    Arbitrary<Run> runs() {
        Arbitrary<Segment> seg = Combinators.combine(Arbitraries.frequency(net.jqwik.api.Tuple.of(6, 0),
                net.jqwik.api.Tuple.of(6, 1), net.jqwik.api.Tuple.of(2, 2), net.jqwik.api.Tuple.of(1, 3),
                net.jqwik.api.Tuple.of(1, 4), net.jqwik.api.Tuple.of(1, 5), net.jqwik.api.Tuple.of(1, 8)),
                Arbitraries.integers().between(0, 7), Arbitraries.integers().between(0, 9)).as((r, f, l) ->
                new Segment(r, f, l < 8 ? Math.max(f, l) : l == 8 ? 8 : f - 1));
        Arbitrary<Integer> op = Arbitraries.frequency(net.jqwik.api.Tuple.of(5, OP_READ),
                net.jqwik.api.Tuple.of(5, OP_WRITE), net.jqwik.api.Tuple.of(1, 2), net.jqwik.api.Tuple.of(1, 255));
        Arbitrary<Integer> nr = Arbitraries.frequency(net.jqwik.api.Tuple.of(6, 1), net.jqwik.api.Tuple.of(3, 2),
                net.jqwik.api.Tuple.of(2, 3), net.jqwik.api.Tuple.of(1, 11), net.jqwik.api.Tuple.of(1, 0),
                net.jqwik.api.Tuple.of(1, 12));
        Arbitrary<Request> req = Combinators.combine(op, nr, Arbitraries.integers().between(0, 5),
                seg.list().ofSize(MAX_SEGMENTS)).as(Request::new);
        return Combinators.combine(Arbitraries.of(0L, 0L, 29L, 0xFFFF_FFFEL), Arbitraries.of(false, true),
                Arbitraries.of(false, true), Arbitraries.longs(), Arbitraries.frequency(net.jqwik.api.Tuple.of(15,
                false), net.jqwik.api.Tuple.of(1, true)), Arbitraries.of(1, 1, 1, 2, 3, 5),
                req.list().ofMinSize(1).ofMaxSize(4)).as(Run::new);
    }

    private static int slot(long idx) {
        return HEADER + SLOT_WORDS * (int) (idx & (RING_SIZE - 1));
    }

    private static long diskFrame(long sector) {
        return DISK + sector / SECTORS_PER_PAGE;
    }

    private static int diskWord(long sector) {
        return (int) (sector % SECTORS_PER_PAGE) * WORDS_PER_SECTOR;
    }

    private static int segmentsOf(Request r) {
        return Math.min(MAX_SEGMENTS, r.nrSegments());
    }

    private static long sectorOf(Request r) {
        long total = 0;
        for (int s = 0; s < segmentsOf(r); s++) {
            total += Math.max(0, r.segments().get(s).last() - r.segments().get(s).first() + 1);
        }
        long edge = Math.max(0, DISK_SECTORS - total);
        return new long[] {0, 5, edge, edge + 1, -1, 3}[r.sectorChoice()];
    }

    @Property(seed = Budget.SEED, tries = 100, edgeCases = EdgeCasesMode.NONE)
    void everyRequestIsAnsweredAsBlk4AndBlk7Say(@ForAll("runs") Run run) {
        XenMachine m = PvInterfaceCases.machine(Faults.NONE, run.ringBase());
        long grantTable = m.pv().domain(FRONT).grantTable();
        // d1's own stores: its grants, its pages' contents, its requests, req_prod
        PhysicalMemory mem = m.memory()
                .write(grantTable, 3, grant(0x29, run.ro3())).write(grantTable, 4, grant(0x2c, run.ro4()))
                .write(grantTable, 6, grant(0x2d, true)).write(grantTable, 7, grant(0x13, false))
                .write(grantTable, 5, 0);
        // a distinct value in the first two and last two words of every sector of the pages (a transfer of the wrong
        // sector, page or words shows)
        for (long f : new long[] {0x29, 0x2c, 0x2d}) {
            for (int i = 0; i < PhysicalMemory.WORDS_PER_FRAME; i++) {
                if (i % WORDS_PER_SECTOR < 2 || i % WORDS_PER_SECTOR >= WORDS_PER_SECTOR - 2) {
                    mem = mem.write(f, i, run.fill() ^ (f << 40) ^ i * 0x9E37_79B9_7F4A_7C15L);
                }
            }
        }
        long reqProd = mem.read(RING, 0) & MASK32;
        long rspProd0 = mem.read(RING, 1) & MASK32;
        // the front-end asks to be woken at the first response, or only at a later one (BLK-2)
        long rspEvent = (rspProd0 + run.rspEventAhead()) & MASK32;
        mem = mem.write(RING, 1, rspProd0 | rspEvent << 32);
        List<Long> ids = new ArrayList<>();
        for (Request r : run.requests()) {
            int s = slot(reqProd);
            long id = run.fill() + reqProd * 31;
            ids.add(id);
            mem = mem.write(RING, s, (r.operation() & 0xFF) | (long) (r.nrSegments() & 0xFF) << 8)
                    .write(RING, s + 1, id).write(RING, s + 2, sectorOf(r));
            for (int k = 0; k < segmentsOf(r); k++) {
                Segment g = r.segments().get(k);
                mem = mem.write(RING, s + 3 + k, REFS[g.refIndex()] | (long) (g.first() & 0xFF) << 32
                        | (long) (g.last() & 0xFF) << 40);
            }
            reqProd = (reqProd + 1) & MASK32;
        }
        if (run.overflow()) {
            reqProd = (rspProd0 + RING_SIZE + 1) & MASK32;
        }
        mem = mem.write(RING, 0, reqProd | (mem.read(RING, 0) & ~MASK32));
        XenMachine pre = m.withPaging(m.paging().withMemory(mem));

        // the rules' answer, request by request, on copies of the disk's and the pages' words
        java.util.Map<Long, long[]> want = new java.util.HashMap<>();
        for (long f : JUDGED) {
            want.put(f, pre.memory().frame(f));
        }
        List<Integer> statuses = new ArrayList<>();
        if (!run.overflow()) {
            for (Request r : run.requests()) {
                int st = status(pre, r);
                statuses.add(st);
                Statistics.label("status").collect((r.operation() == OP_READ ? "READ " : r.operation() == OP_WRITE
                        ? "WRITE " : "other ") + st);
                if (st == RSP_OKAY) {
                    transfer(pre, want, r);
                }
            }
        } else {
            Statistics.label("status").collect("ring overflow");
        }

        BlkBack.Result res = BlkBack.serve(pre, BACK);
        assertThat(res).as("BLK-5: a connected back-end serves").isInstanceOf(BlkBack.Served.class);
        BlkBack.Served served = (BlkBack.Served) res;
        XenMachine post = served.machine();
        PhysicalMemory got = post.memory();
        int n = statuses.size();
        for (int i = 0; i < n; i++) {
            int s = slot(rspProd0 + i);
            Request r = run.requests().get(i);
            assertThat(got.read(RING, s)).as("BLK-5: response %d's id", i).isEqualTo(ids.get(i));
            long w1 = got.read(RING, s + 1);
            assertThat(w1 & 0xFF).as("BLK-5: response %d's operation", i).isEqualTo((long) (r.operation() & 0xFF));
            assertThat((int) (short) ((w1 >>> 16) & 0xFFFF)).as("BLK-4/BLK-7: response %d's status for %s", i, r)
                    .isEqualTo(statuses.get(i));
        }
        long reqCons = (rspProd0 + n) & MASK32;
        assertThat(got.read(RING, 1) & MASK32).as("BLK-5: rsp_prod").isEqualTo(reqCons);
        assertThat(got.read(RING, 1) >>> 32).as("BLK-5: rsp_event unchanged").isEqualTo(rspEvent);
        assertThat(got.read(RING, 0) & MASK32).as("BLK-5: req_prod unchanged").isEqualTo(reqProd);
        assertThat(got.read(RING, 0) >>> 32).as("BLK-2: req_event = req_cons + 1").isEqualTo((reqCons + 1) & MASK32);
        assertThat(got.read(INFO, BlkBack.REQ_CONS)).as("BLK-5: the back-end's req_cons").isEqualTo(reqCons);
        assertThat(got.read(INFO, BlkBack.RSP_PROD_PVT)).as("BLK-5: the back-end's rsp_prod_pvt").isEqualTo(reqCons);
        // BLK-2: notify iff rsp_event lies in (old rsp_prod, new rsp_prod]
        boolean notify = ((reqCons - rspEvent) & MASK32) < ((reqCons - rspProd0) & MASK32);
        Statistics.label("notify").collect(notify);
        assertThat(served.notified()).as("BLK-2: the back-end notifies iff rsp_event is passed").isEqualTo(notify);
        long si = post.pv().domain(FRONT).sharedInfo();
        boolean wasPending = (pre.memory().read(si, PENDING) >>> FRONT_PORT & 1) != 0;
        assertThat((got.read(si, PENDING) >>> FRONT_PORT & 1) != 0).as("BLK-2: d1's port pending after the notify")
                .isEqualTo(notify || wasPending);

        // the disk and the pages as the transfers leave them, nothing else of them
        for (long f : JUDGED) {
            long[] w = want.get(f);
            for (int i = 0; i < PhysicalMemory.WORDS_PER_FRAME; i++) {
                if (got.read(f, i) != w[i]) {
                    throw new AssertionError(String.format("BLK-4/BLK-7: word %d of frame %#x is %#x, not %#x",
                            i, f, got.read(f, i), w[i]));
                }
            }
        }
        // nothing of the requests' grants survives: maptrack, grant entries, references, the back-end's EPT
        assertThat(post.pv().domain(BACK).maptrack()).as("GNT-5/BLK-4: d0's maptrack").isEqualTo(pre.pv()
                .domain(BACK).maptrack());
        for (int ref = 0; ref < 8; ref++) {
            assertThat(got.read(grantTable, ref)).as("GNT-5: d1's grant %d after the unmaps", ref)
                    .isEqualTo(pre.memory().read(grantTable, ref));
        }
        for (long f = 0; f < pre.frames().size(); f++) {
            FrameInfo a = pre.frames().get(f);
            FrameInfo b = post.frames().get(f);
            if (a.count() != b.count() || a.typeCount() != b.typeCount()) {
                throw new AssertionError(String.format("GNT-3: frame %#x was %s, is %s", f, a, b));
            }
        }
        for (int f = 0; f < pre.memory().frameCount(); f++) {
            boolean judged = f == RING || f == INFO || f == si || f == DISK || f == DISK + 1 || f == 0x29
                    || f == 0x2c || f == 0x2d || f == 0x13 || f == pre.pv().domain(BACK).sharedInfo();
            if (!judged && pre.memory().contentToken(f) != got.contentToken(f)
                    && !java.util.Arrays.equals(pre.memory().frame(f), got.frame(f))) {
                throw new AssertionError(String.format("frame %#x changed (an EPT leaf or a page left behind?)", f));
            }
        }
        Statistics.label("status").coverage(k -> {
            for (String s : new String[] {"READ 0", "WRITE 0", "READ -1", "WRITE -1", "other -2", "ring overflow"}) {
                k.check(s).count(c -> c > 0);
            }
        });
        Statistics.label("error").coverage(k -> {
            for (String s : new String[] {"sectors", "read-only grant for a READ", "grant", "page table for a READ",
                "segment", "count"}) {
                k.check(s).count(c -> c > 0);
            }
        });
        Statistics.label("notify").coverage(k -> {
            k.check(true).count(c -> c > 0);
            k.check(false).count(c -> c > 0);
        });
    }

    private static long grant(long frame, boolean readonly) {
        return GTF_PERMIT_ACCESS | (readonly ? GTF_READONLY : 0) | (long) BACK << 16 | frame << 32;
    }

    /** BLK-4, BLK-7 and GNT-2 (the back-end d0 mapping each segment's grant): the status of {@code r}. */
    private static int status(XenMachine m, Request r) {
        boolean read = r.operation() == OP_READ;
        if (!read && r.operation() != OP_WRITE) {
            return RSP_EOPNOTSUPP;
        }
        if (r.nrSegments() < 1 || r.nrSegments() > MAX_SEGMENTS) {
            Statistics.label("error").collect("count");
            return RSP_ERROR;
        }
        long count = 0;
        for (int s = 0; s < segmentsOf(r); s++) {
            Segment g = r.segments().get(s);
            if (g.first() > g.last() || g.last() >= SECTORS_PER_PAGE) {
                Statistics.label("error").collect("segment");
                return RSP_ERROR;
            }
            count += g.last() - g.first() + 1;
        }
        long sector = sectorOf(r);
        if (sector < 0 || sector + count > DISK_SECTORS) {
            Statistics.label("error").collect("sectors");
            return RSP_ERROR;
        }
        long table = m.pv().domain(FRONT).grantTable();
        for (int s = 0; s < segmentsOf(r); s++) {
            int ref = REFS[r.segments().get(s).refIndex()];
            long w = ref < 512 ? m.memory().read(table, ref) : 0;
            long frame = w >>> 32;
            boolean permits = ref < 512 && (w & 3) == GTF_PERMIT_ACCESS && ((w >>> 16) & 0xFFFF) == BACK;
            boolean owned = m.frames().contains(frame) && m.frames().get(frame).owner() == FRONT;
            FrameInfo f = owned ? m.frames().get(frame) : null;
            boolean writable = f != null && (f.typeCount() == 0 || f.type() == org.hybridv.xen.PageType.WRITABLE);
            if (!permits || !owned || read && ((w & GTF_READONLY) != 0 || !writable)) {
                Statistics.label("error").collect(!permits ? "grant" : read && (w & GTF_READONLY) != 0
                        ? "read-only grant for a READ" : read && !writable ? "page table for a READ" : "not d1's");
                return RSP_ERROR;
            }
        }
        return RSP_OKAY;
    }

    /** The disk's frames and the pages d1 grants: the frames a transfer may write. */
    private static final long[] JUDGED = {DISK, DISK + 1, 0x29, 0x2c, 0x2d, 0x13};

    /** BLK-7: the sectors of {@code r}'s segments, consecutive from its sector_number, moved in order. */
    private static void transfer(XenMachine m, java.util.Map<Long, long[]> mem, Request r) {
        boolean read = r.operation() == OP_READ;
        long table = m.pv().domain(FRONT).grantTable();
        long sector = sectorOf(r);
        for (int s = 0; s < segmentsOf(r); s++) {
            Segment g = r.segments().get(s);
            long page = m.memory().read(table, REFS[g.refIndex()]) >>> 32;
            for (int k = g.first(); k <= g.last(); k++, sector++) {
                for (int w = 0; w < WORDS_PER_SECTOR; w++) {
                    long d = diskFrame(sector);
                    int dw = diskWord(sector) + w;
                    int pw = k * WORDS_PER_SECTOR + w;
                    if (read) {
                        mem.get(page)[pw] = mem.get(d)[dw];
                    } else {
                        mem.get(d)[dw] = mem.get(page)[pw];
                    }
                }
            }
        }
    }
}
