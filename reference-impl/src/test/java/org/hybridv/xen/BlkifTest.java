package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.KernelResult;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.XenPlatform;
import org.hybridv.invariants.BlockInvariants;
import org.hybridv.invariants.InvariantResult;
import org.junit.jupiter.api.Test;

/**
 * The blkif protocol and the back-end (BLK-1..BLK-5 of docs/rules/xen.md), driven at the hypervisor level: the kernel
 * (d1) has connected its front-end once (one block read), then the test plays the front-end's own stores — requests
 * written into its ring, grants into its grant table — and runs the back-end's steps. Expected values come from
 * {@code io/blkif.h}, {@code io/ring.h} and the rulebook.
 */
class BlkifTest {
    static final int BACK = 0;
    static final int FRONT = 1;
    /** A frame of the kernel's free memory (pfn 40), used as a second data page. */
    static final long PFN = 40;

    /** The machine after the kernel's first block read: ring connected, one request answered. */
    static XenMachine connected(Faults f) {
        Lockstep l = Lockstep.startWithBlockBackEnd(MmuMode.SHADOW, 64, 64, f, CpuidIdentity.XEN)
                .step(new GuestOp.Boot(BootStage.HYPERCALL_PAGE_INSTALLED)).post();
        Lockstep.LockstepStep s = l.step(new GuestOp.BlockRead(0));
        if (f.equals(Faults.NONE)) {
            assertThat(s.guest().result()).isInstanceOf(KernelResult.Sector.class);
        }
        return ((XenPlatform) s.post().guest().platform()).machine();
    }

    static long ring(XenMachine m) {
        return GrantTables.entry(m, FRONT, 0).frame();
    }

    static long data(XenMachine m) {
        return m.domain(FRONT).machineFrame(PFN);
    }

    /** The front-end's stores: the request into slot req_prod, then req_prod + 1 (no event sent). */
    static XenMachine push(XenMachine m, Blkif.Request r) {
        long ring = ring(m);
        Blkif.Indices i = Blkif.indices(m.memory(), ring);
        long[] w = Blkif.words(r);
        org.hybridv.x86.PhysicalMemory mem = m.memory();
        for (int k = 0; k < w.length; k++) {
            mem = mem.write(ring, Blkif.slot(i.reqProd()) + k, w[k]);
        }
        long[] ix = Blkif.words(new Blkif.Indices(i.reqProd() + 1, i.reqEvent(), i.rspProd(), i.rspEvent()));
        return EventChannels.withMemory(m, mem.write(ring, 0, ix[0]));
    }

    static XenMachine grant(XenMachine m, int ref, int to, long frame, boolean readonly) {
        return GrantTables.guestGrant(m, FRONT, ref, to, frame, readonly, false);
    }

    static BlkBack.Served serve(XenMachine m) {
        BlkBack.Result r = BlkBack.serve(m, BACK);
        assertThat(r).isInstanceOf(BlkBack.Served.class);
        BlkBack.Served s = (BlkBack.Served) r;
        assertThat(BlockInvariants.checkServe(m, s.machine(), BACK)).isEqualTo(InvariantResult.HOLDS);
        assertThat(BlockInvariants.check(s.machine(), BACK)).isEqualTo(InvariantResult.HOLDS);
        return s;
    }

    static Blkif.Request read(long id, long sector, long gref, int first, int last) {
        return new Blkif.Request(Blkif.BLKIF_OP_READ, 1, 0, id, sector, gref, first, last);
    }

    static Blkif.Request write(long id, long sector, long gref, int first, int last) {
        return new Blkif.Request(Blkif.BLKIF_OP_WRITE, 1, 0, id, sector, gref, first, last);
    }

    @Test
    void theRingIsLaidOutAsBlkifHAndRingHDefineIt() {
        // (4096 - 64) / 112 = 36 slots fit; __RING_SIZE rounds down to a power of two
        assertThat(Blkif.RING_SIZE).isEqualTo(32);
        assertThat(Blkif.HEADER_WORDS * 8).isEqualTo(64);
        assertThat(Blkif.SLOT_WORDS * 8).isEqualTo(112);
        assertThat(Blkif.slot(0)).isEqualTo(8);
        assertThat(Blkif.slot(31) + Blkif.SLOT_WORDS).isLessThanOrEqualTo(512);
        assertThat(Blkif.slot(32)).as("indices wrap modulo the ring size").isEqualTo(Blkif.slot(0));
        // operation byte 0, nr_segments byte 1, handle bytes 2-3, id at byte 8, sector at 16, seg[0] at 24
        long[] w = Blkif.words(new Blkif.Request(1, 1, 0x0300, 7, 9, 5, 2, 3));
        assertThat(w).containsExactly(0x0300_01_01L, 7, 9, 5L | 2L << 32 | 3L << 40);
        // response: id at byte 0, operation byte 8, status int16 at byte 10
        assertThat(Blkif.words(new Blkif.Response(7, 1, Blkif.BLKIF_RSP_ERROR))).containsExactly(7, 0xFFFF_0001L);
        assertThat(Blkif.INITIAL).isEqualTo(new Blkif.Indices(0, 1, 0, 1));
    }

    @Test
    void aProducerNotifiesOnlyWhenTheConsumersEventIndexWasCrossed() {
        assertThat(Blkif.notifyNeeded(0, 1, 1)).isTrue();
        assertThat(Blkif.notifyNeeded(0, 1, 2)).as("the consumer asked to be woken later").isFalse();
        assertThat(Blkif.notifyNeeded(1, 3, 2)).isTrue();
        assertThat(Blkif.notifyNeeded(3, 3, 3)).as("nothing produced").isFalse();
        assertThat(Blkif.notifyNeeded(0xFFFF_FFFFL, 0, 0)).as("32-bit wrap-around").isTrue();
    }

    @Test
    void aReadCopiesTheSectorsIntoTheGrantedPageAndAnswersWithItsId() {
        XenMachine m = connected(Faults.NONE);
        m = grant(m, 2, BACK, data(m), false);
        m = push(m, read(0x77, 9, 2, 2, 3));
        BlkBack.Served s = serve(m);
        assertThat(s.responses()).containsExactly(new Blkif.Response(0x77, Blkif.BLKIF_OP_READ, Blkif.BLKIF_RSP_OKAY));
        assertThat(s.notified()).isTrue();
        XenMachine a = s.machine();
        for (int w = 0; w < Blkif.WORDS_PER_SECTOR; w++) {
            assertThat(a.memory().read(data(a), 2 * 64 + w)).isEqualTo(Blkif.initialWord(9, w));
            assertThat(a.memory().read(data(a), 3 * 64 + w)).isEqualTo(Blkif.initialWord(10, w));
            assertThat(a.memory().read(data(a), w)).as("first_sect 2: sector 0 of the page untouched").isZero();
        }
        assertThat(Blkif.indices(a.memory(), ring(a)).rspProd()).isEqualTo(2);
        assertThat(Blkif.indices(a.memory(), ring(a)).reqEvent()).as("RING_FINAL_CHECK_FOR_REQUESTS").isEqualTo(3);
        long port = BlkBack.info(a, BACK).port();
        EventChannel peer = a.pv().domain(BACK).ports().get((int) port);
        assertThat(SharedInfo.pending(a.memory(), a.pv().domain(FRONT).sharedInfo(),
                ((EventChannel.Interdomain) peer).remotePort())).as("the front-end's port").isTrue();
        assertThat(a.pv().domain(BACK).maptrack()).as("only the ring stays mapped").hasSize(1);
        assertThat(GrantTables.entry(a, FRONT, 2).flags() & (GrantTables.GTF_READING | GrantTables.GTF_WRITING))
                .isZero();
    }

    @Test
    void aWriteCopiesThePageIntoTheDiskThroughAReadOnlyGrant() {
        XenMachine m = connected(Faults.NONE);
        m = grant(m, 3, BACK, data(m), true);
        m = EventChannels.withMemory(m, m.memory().write(data(m), 64 * 5 + 1, 0xABCD));
        m = push(m, write(1, 14, 3, 5, 5));
        BlkBack.Served s = serve(m);
        assertThat(s.responses()).containsExactly(new Blkif.Response(1, Blkif.BLKIF_OP_WRITE, Blkif.BLKIF_RSP_OKAY));
        assertThat(BlkBack.diskWord(s.machine(), BACK, 14, 1)).isEqualTo(0xABCD);
        assertThat(BlkBack.diskWord(s.machine(), BACK, 14, 2)).isZero();
        assertThat(BlkBack.diskWord(s.machine(), BACK, 13, 1)).isEqualTo(Blkif.initialWord(13, 1));
    }

    @Test
    void aReadIntoAReadOnlyGrantIsAnsweredWithAnErrorAndTheFrameIsUntouched() {
        XenMachine m = connected(Faults.NONE);
        m = grant(m, 2, BACK, data(m), true);
        m = push(m, read(5, 1, 2, 0, 0));
        BlkBack.Served s = serve(m);
        assertThat(s.responses()).containsExactly(new Blkif.Response(5, Blkif.BLKIF_OP_READ, Blkif.BLKIF_RSP_ERROR));
        assertThat(s.machine().memory().read(data(s.machine()), 0)).isZero();
        assertThat(s.machine().pv().domain(BACK).maptrack()).hasSize(1);
    }

    @Test
    void theBackEndCannotReachAFrameThatWasNotGrantedToIt() {
        XenMachine m = connected(Faults.NONE);
        m = grant(m, 4, 2, data(m), false); // granted to d2, not to the back-end
        m = push(m, read(8, 1, 4, 0, 0));
        m = push(m, read(9, 1, 6, 0, 0)); // grant 6 was never written
        BlkBack.Served s = serve(m);
        assertThat(s.responses()).extracting(Blkif.Response::status).containsExactly(Blkif.BLKIF_RSP_ERROR,
                Blkif.BLKIF_RSP_ERROR);
        assertThat(s.machine().memory().read(data(s.machine()), 0)).isZero();
    }

    @Test
    void aResponseComesOnlyAfterItsRequestIsPushed() {
        XenMachine m = connected(Faults.NONE);
        m = grant(m, 2, BACK, data(m), false);
        BlkBack.Served idle = serve(m);
        assertThat(idle.requests()).isEmpty();
        assertThat(idle.responses()).isEmpty();
        assertThat(idle.notified()).isFalse();
        // written into the slot but req_prod not pushed: not seen
        long ring = ring(m);
        long[] w = Blkif.words(read(3, 1, 2, 0, 0));
        XenMachine unpushed = EventChannels.withMemory(m, m.memory().write(ring, Blkif.slot(1), w[0])
                .write(ring, Blkif.slot(1) + 1, w[1]).write(ring, Blkif.slot(1) + 2, w[2])
                .write(ring, Blkif.slot(1) + 3, w[3]));
        assertThat(serve(unpushed).responses()).isEmpty();
        assertThat(serve(push(m, read(3, 1, 2, 0, 0))).responses()).hasSize(1);
    }

    @Test
    void malformedRequestsAreAnsweredWithTheirStatus() {
        XenMachine m = connected(Faults.NONE);
        m = grant(m, 2, BACK, data(m), false);
        m = push(m, new Blkif.Request(7, 1, 0, 1, 0, 2, 0, 0)); // BLKIF_OP_INDIRECT etc.: not supported
        m = push(m, read(2, Blkif.DISK_SECTORS - 1, 2, 0, 1)); // past the disk
        m = push(m, read(3, 0, 2, 4, 3)); // first > last
        m = push(m, new Blkif.Request(Blkif.BLKIF_OP_READ, 12, 0, 4, 0, 2, 0, 0)); // more segments than a slot holds
        m = push(m, new Blkif.Request(Blkif.BLKIF_OP_READ, 0, 0, 5, 0, 2, 0, 0)); // no segment
        m = push(m, read(6, 0, 2, 7, 8)); // last_sect past the page
        BlkBack.Served s = serve(m);
        assertThat(s.responses()).extracting(Blkif.Response::status).containsExactly(Blkif.BLKIF_RSP_EOPNOTSUPP,
                Blkif.BLKIF_RSP_ERROR, Blkif.BLKIF_RSP_ERROR, Blkif.BLKIF_RSP_ERROR, Blkif.BLKIF_RSP_ERROR,
                Blkif.BLKIF_RSP_ERROR);
        assertThat(s.responses()).extracting(Blkif.Response::id).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        assertThat(s.machine().pv().domain(BACK).maptrack()).as("no request left a mapping").hasSize(1);
    }

    /** The front-end's stores of a request with segments {@code segs} (words 0..2, then seg[k] at word 3 + k). */
    static XenMachine pushSegments(XenMachine m, int op, long id, long sector, List<Blkif.Segment> segs) {
        long ring = ring(m);
        XenMachine pushed = push(m, new Blkif.Request(op, segs.size(), 0, id, sector, segs.get(0).gref(),
                segs.get(0).firstSect(), segs.get(0).lastSect()));
        long idx = Blkif.indices(m.memory(), ring).reqProd();
        org.hybridv.x86.PhysicalMemory mem = pushed.memory();
        for (int k = 0; k < segs.size(); k++) {
            mem = mem.write(ring, Blkif.slot(idx) + 3 + k, Blkif.word(segs.get(k)));
        }
        return EventChannels.withMemory(pushed, mem);
    }

    /** BLK-7: segments cover consecutive disk sectors, each its own page's first..last sectors, in order. */
    @Test
    void aMultiSegmentReadFillsEachSegmentsSectorsFromConsecutiveDiskSectors() {
        XenMachine m = connected(Faults.NONE);
        long second = m.domain(FRONT).machineFrame(PFN + 1);
        m = grant(m, 2, BACK, data(m), false);
        m = grant(m, 3, BACK, second, false);
        m = pushSegments(m, Blkif.BLKIF_OP_READ, 0x99, 4, List.of(new Blkif.Segment(2, 6, 7),
                new Blkif.Segment(3, 0, 2), new Blkif.Segment(2, 0, 0)));
        BlkBack.Served s = serve(m);
        assertThat(s.responses()).containsExactly(new Blkif.Response(0x99, Blkif.BLKIF_OP_READ, Blkif.BLKIF_RSP_OKAY));
        XenMachine a = s.machine();
        for (int w = 0; w < Blkif.WORDS_PER_SECTOR; w++) {
            assertThat(a.memory().read(data(a), 6 * 64 + w)).isEqualTo(Blkif.initialWord(4, w));
            assertThat(a.memory().read(data(a), 7 * 64 + w)).isEqualTo(Blkif.initialWord(5, w));
            assertThat(a.memory().read(second, w)).isEqualTo(Blkif.initialWord(6, w));
            assertThat(a.memory().read(second, 64 + w)).isEqualTo(Blkif.initialWord(7, w));
            assertThat(a.memory().read(second, 2 * 64 + w)).isEqualTo(Blkif.initialWord(8, w));
            assertThat(a.memory().read(data(a), w)).isEqualTo(Blkif.initialWord(9, w));
            assertThat(a.memory().read(second, 3 * 64 + w)).as("sector 3 of the second page: no segment").isZero();
        }
        assertThat(a.pv().domain(BACK).maptrack()).as("BLK-7: every segment's mapping undone").hasSize(1);
    }

    /** BLK-7: one bad segment (here an ungranted reference) fails the whole request, with nothing moved or mapped. */
    @Test
    void aRequestWithOneBadSegmentIsAnErrorThatMovesNothingAndMapsNothing() {
        XenMachine m = connected(Faults.NONE);
        m = grant(m, 2, BACK, data(m), false);
        XenMachine before = m;
        m = pushSegments(m, Blkif.BLKIF_OP_READ, 0x5A, 0, List.of(new Blkif.Segment(2, 0, 1),
                new Blkif.Segment(9, 0, 0), new Blkif.Segment(2, 4, 4)));
        BlkBack.Served s = serve(m);
        assertThat(s.responses()).containsExactly(new Blkif.Response(0x5A, Blkif.BLKIF_OP_READ,
                Blkif.BLKIF_RSP_ERROR));
        XenMachine a = s.machine();
        for (int w = 0; w < 512; w++) {
            assertThat(a.memory().read(data(a), w)).isEqualTo(before.memory().read(data(before), w));
        }
        assertThat(a.pv().domain(BACK).maptrack()).as("the first segment's mapping was undone").hasSize(1);
        assertThat(GrantTables.entry(a, FRONT, 2).flags() & (GrantTables.GTF_READING | GrantTables.GTF_WRITING))
                .as("GNT-5: the reading/writing marks cleared").isZero();
    }

    @Test
    void aReqProdMoreThanARingAheadIsNotConsumed() {
        XenMachine m = connected(Faults.NONE);
        long ring = ring(m);
        Blkif.Indices i = Blkif.indices(m.memory(), ring);
        long[] w = Blkif.words(new Blkif.Indices(i.reqProd() + Blkif.RING_SIZE + 1, i.reqEvent(), i.rspProd(),
                i.rspEvent()));
        BlkBack.Served s = serve(EventChannels.withMemory(m, m.memory().write(ring, 0, w[0])));
        assertThat(s.requests()).isEmpty();
        assertThat(BlkBack.info(s.machine(), BACK).reqCons()).isEqualTo(1);
    }

    @Test
    void connectionRules() {
        XenMachine m = connected(Faults.NONE);
        assertThat(BlkBack.connect(m, BACK, FRONT, 0, 1)).isInstanceOfSatisfying(BlkBack.Refused.class,
                r -> assertThat(r.rule()).isEqualTo("BLK-3"));
        assertThat(BlkBack.serve(m, FRONT)).as("d1 is no back-end").isInstanceOf(BlkBack.Refused.class);
        XenMachine fresh = ((XenPlatform) Lockstep.startWithBlockBackEnd(MmuMode.SHADOW, 64, 64, Faults.NONE,
                CpuidIdentity.XEN).guest().platform()).machine();
        assertThat(BlkBack.serve(fresh, BACK)).isInstanceOfSatisfying(BlkBack.Refused.class,
                r -> assertThat(r.rule()).isEqualTo("BLK-4"));
        assertThat(BlkBack.connect(fresh, BACK, FRONT, 0, 1)).as("d1 has no grant table yet")
                .isInstanceOfSatisfying(BlkBack.Refused.class, r -> assertThat(r.rule()).isEqualTo("GNT-2"));
        for (int w = 0; w < Blkif.WORDS_PER_SECTOR; w += 21) {
            assertThat(BlkBack.diskWord(fresh, BACK, 11, w)).isEqualTo(Blkif.initialWord(11, w));
        }
    }

    /** Only a domain the toolstack built as a back-end is one: its xen_blkif says InitWait or Connected. */
    @Test
    void aDomainIsABackEndOnlyIfTheToolstackBuiltItSo() {
        XenMachine fresh = ((XenPlatform) Lockstep.startWithBlockBackEnd(MmuMode.SHADOW, 64, 64, Faults.NONE,
                CpuidIdentity.XEN).guest().platform()).machine();
        assertThat(BlkBack.info(fresh, BACK).state()).isEqualTo(BlkBack.INIT_WAIT);
        assertThat(BlkBack.info(fresh, FRONT)).as("the kernel's domain").isNull();
        long f = fresh.domain(BACK).machineFrame(BlkBack.INFO_GFN);
        XenMachine cleared = EventChannels.withMemory(fresh, fresh.memory().write(f, BlkBack.STATE, 0));
        assertThat(BlkBack.info(cleared, BACK)).isNull();
        assertThat(BlkBack.connect(cleared, BACK, FRONT, 0, 1)).isInstanceOf(BlkBack.Refused.class);
    }

    /** Negative controls: I11-blk over a step fails when the step does what the rules forbid. */
    @Test
    void theServeInvariantCatchesAStrayWriteAndAMismatchedResponse() {
        XenMachine m = connected(Faults.NONE);
        m = grant(m, 2, BACK, data(m), false);
        XenMachine pre = push(m, read(0x55, 1, 2, 0, 0));
        XenMachine post = serve(pre).machine();
        long other = pre.domain(FRONT).machineFrame(PFN + 1);
        XenMachine stray = EventChannels.withMemory(post, post.memory().write(other, 0, 1));
        assertThat(BlockInvariants.checkServe(pre, stray, BACK)).isInstanceOfSatisfying(InvariantResult.Violated.class,
                v -> assertThat(v.rule()).isEqualTo("BLK-4"));
        long ring = ring(post);
        XenMachine wrongId = EventChannels.withMemory(post, post.memory().write(ring, Blkif.slot(1), 0x56));
        assertThat(BlockInvariants.checkServe(pre, wrongId, BACK)).isInstanceOfSatisfying(
                InvariantResult.Violated.class, v -> assertThat(v.rule()).isEqualTo("BLK-5"));
        // the same stray write into a page the request granted for a READ is what the rules allow
        XenMachine granted = EventChannels.withMemory(post, post.memory().write(data(post), 500, 1));
        assertThat(BlockInvariants.checkServe(pre, granted, BACK)).isEqualTo(InvariantResult.HOLDS);
        assertThat(List.of(pre, post)).allSatisfy(x -> assertThat(BlockInvariants.check(x, BACK).holds()).isTrue());
    }

    @Test
    void withTheLeakFaultTheDataMappingOutlivesTheResponseAndTheNextRequestFails() {
        XenMachine m = connected(Faults.of(Fault.BLKBACK_DATA_MAPPING_LEAKED));
        assertThat(BlockInvariants.check(m, BACK)).isInstanceOf(InvariantResult.Violated.class);
        m = grant(m, 2, BACK, data(m), false);
        BlkBack.Result r = BlkBack.serve(push(m, read(1, 1, 2, 0, 0)), BACK);
        assertThat(((BlkBack.Served) r).responses()).extracting(Blkif.Response::status)
                .containsExactly(Blkif.BLKIF_RSP_ERROR);
    }
}
