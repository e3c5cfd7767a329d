package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.guest.BootStage;
import org.hybridv.guest.Executed;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.GuestSystem;
import org.hybridv.guest.Kernel;
import org.hybridv.guest.KernelResult;
import org.hybridv.guest.KernelStep;
import org.hybridv.guest.Layout;
import org.hybridv.guest.Loader;
import org.hybridv.guest.Platform;
import org.hybridv.guest.XenPlatform;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.CpuidIdentity;
import org.hybridv.xen.Faults;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.XenMachine;

/**
 * The guest kernel's own block driver — the split driver's front-end (rules BLK-1, BLK-2, BLK-6, GNT-1, GNT-7,
 * EVT-10 of docs/rules/xen.md) and the ATA PIO path (EMU-7) — judged over what its instructions did and the state
 * they left, never by calling the driver. The native twin (I3) runs the same driver and cannot see a slip in it; the
 * rules are restated here from the sources, and the disk is this property's own model: 16 sectors shipped with word
 * i of sector s = {@code 0x5ec7000000000000 | s << 16 | i} (docs/pv-interfaces.md), then what the run wrote.
 * <ul>
 * <li>every read returns the model's sector, every write is done and changes the model; a sector outside 0..15 is
 * refused (not applicable) without a single instruction;</li>
 * <li>the split driver, in the state the back-end sees when it serves (the one step in the operation where
 * {@code rsp_prod} moves): exactly one new request ({@code req_prod} = {@code rsp_prod} + 1, {@code io/ring.h}),
 * whose slot holds the operation asked, one segment ({@code BLKIF_MAX_SEGMENTS_PER_REQUEST} 11), the sector asked,
 * and a segment of exactly one sector within its page (first_sect = last_sect ≤ 7: 8 sectors of 512 bytes per 4 KiB
 * page); the segment's grant permits the back-end (domain 0) the frame, read-only exactly for a WRITE
 * ({@code blkif_queue_request}); for a WRITE that sector of the granted frame holds the words written; the event was
 * sent iff BLK-2's check of the pushed indices asks for it. After the operation: the grant ended (its entry 0, BLK-6,
 * GNT-7), {@code rsp_event} = {@code rsp_prod} + 1 ({@code RING_FINAL_CHECK_FOR_RESPONSES}), for a READ the sector
 * landed in that sector of the granted frame, and the event taken: the front-end's port not pending, upcall-pending
 * and the selector cleared, every other word of the shared-info page as the back-end's step left it (the kernel
 * itself first masks and marks pending random other ports of word 0);</li>
 * <li>the ATA path: the task file at the command — sector count 1, LBA low/mid/high and the device register's low
 * nibble the sector's LBA28 bytes, LBA mode (bit 6) — the command READ SECTORS (20H) or WRITE SECTORS (30H), then
 * 128 doubleword transfers of the data port in the command's direction (for a WRITE, each word low half first),
 * then the status (ATA/ATAPI-6 §7.1, §8.27, §8.62).</li>
 * </ul>
 */
class BlockFrontProperties {
    private static final int FRAMES = 64;
    private static final int DISK_SECTORS = 16;
    private static final int WORDS = 64;
    // io/ring.h, io/blkif.h (x86-64): the ring header's two words, 32 slots of 14 words from word 8
    private static final int SLOTS = 32;
    private static final int HEADER = 8;
    private static final int SLOT_WORDS = 14;
    private static final long MASK32 = 0xFFFF_FFFFL;
    private static final int OP_READ = 0;
    private static final int OP_WRITE = 1;
    // grant_table.h: GTF_permit_access, GTF_readonly
    private static final long GTF_PERMIT_ACCESS = 1;
    private static final long GTF_READONLY = 1 << 2;
    private static final int BACK_END = 0;
    /** The back-end's xen_blkif (docs/pv-interfaces.md): gfn 1; word 2 its ring's grant ref, word 4 its port. */
    private static final long BACK_INFO_GFN = 1;
    // the event channel hypercall and EVTCHNOP_send (public/event_channel.h)
    private static final long EVENT_CHANNEL_OP = 32;
    private static final long EVTCHNOP_SEND = 4;
    // the 2-level shared-info layout (public/xen.h)
    private static final int SELECTOR = 1;
    private static final int PENDING = 256;
    private static final int MASK = 320;
    // the ATA command block (ATA/ATAPI-6 §7.1)
    private static final int ATA_DATA = 0x1F0;
    private static final int ATA_COUNT = 0x1F2;
    private static final int ATA_LBA_LOW = 0x1F3;
    private static final int ATA_LBA_MID = 0x1F4;
    private static final int ATA_LBA_HIGH = 0x1F5;
    private static final int ATA_DEVICE = 0x1F6;
    private static final int ATA_COMMAND = 0x1F7;
    private static final long READ_SECTORS = 0x20;
    private static final long WRITE_SECTORS = 0x30;
    private static final long LBA_MODE = 0x40;

    enum Setup { SPLIT_SHADOW, SPLIT_DIRECT, SPLIT_HAP, ATA_NATIVE, ATA_KVM, ATA_XEN }

    record Request(long sector, boolean write, long value, long otherPending, long otherMask) {}

    record Run(Setup setup, List<Request> requests) {}

    @Provide
    Arbitrary<Run> runs() {
        Arbitrary<Long> sector = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(8, Arbitraries.longs().between(0, 15)),
                net.jqwik.api.Tuple.of(2, Arbitraries.of(0L, 7L, 8L, 15L)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of(-1L, 16L, 17L, Long.MIN_VALUE, -16L)));
        Arbitrary<Request> req = Combinators.combine(sector, Arbitraries.of(false, true),
                Arbitraries.longs(), Arbitraries.longs(), Arbitraries.longs()).as(Request::new);
        // the split driver, whose steps most rules judge, three times as often as each ATA platform (136 port accesses
        // a request, the dearer path) twice
        Arbitrary<Setup> setup = Arbitraries.frequency(net.jqwik.api.Tuple.of(3, Setup.SPLIT_SHADOW),
                net.jqwik.api.Tuple.of(3, Setup.SPLIT_DIRECT), net.jqwik.api.Tuple.of(3, Setup.SPLIT_HAP),
                net.jqwik.api.Tuple.of(2, Setup.ATA_NATIVE), net.jqwik.api.Tuple.of(2, Setup.ATA_KVM),
                net.jqwik.api.Tuple.of(2, Setup.ATA_XEN));
        return Combinators.combine(setup, req.list().ofMinSize(1).ofMaxSize(4)).as(Run::new);
    }

    private static final Map<Setup, GuestSystem> BOOTED = new EnumMap<>(Setup.class);

    private static synchronized GuestSystem booted(Setup s) {
        return BOOTED.computeIfAbsent(s, k -> {
            GuestSystem g = switch (k) {
                case SPLIT_SHADOW, SPLIT_DIRECT -> Loader.underXenWithBlockBackEnd(MmuMode.SHADOW, FRAMES, 64,
                        Faults.NONE, CpuidIdentity.XEN);
                case SPLIT_HAP -> Loader.underXenWithBlockBackEnd(MmuMode.HAP, FRAMES, 64, Faults.NONE,
                        CpuidIdentity.XEN);
                case ATA_KVM -> Loader.underXen(MmuMode.HAP, FRAMES, 64, Faults.NONE, CpuidIdentity.KVM);
                case ATA_XEN -> Loader.underXen(MmuMode.SHADOW, FRAMES, 64);
                case ATA_NATIVE -> Loader.onBareMetal(FRAMES);
            };
            BootStage to = k == Setup.SPLIT_SHADOW || k == Setup.ATA_XEN ? BootStage.HYPERCALL_PAGE_INSTALLED
                    : BootStage.DIRECT;
            return Kernel.apply(g, new GuestOp.Boot(to)).post();
        });
    }

    private static boolean split(Setup s) {
        return s == Setup.SPLIT_SHADOW || s == Setup.SPLIT_DIRECT || s == Setup.SPLIT_HAP;
    }

    static List<Long> shipped(long s) {
        List<Long> l = new ArrayList<>();
        for (int i = 0; i < WORDS; i++) {
            l.add(0x5EC7_0000_0000_0000L | s << 16 | i);
        }
        return l;
    }

    private static List<Long> written(long value) {
        List<Long> l = new ArrayList<>();
        for (int i = 0; i < WORDS; i++) {
            l.add(value + i);
        }
        return l;
    }

    @Property(seed = Budget.SEED, tries = 100)
    void theBlockDriverMovesExactlyTheSectorAskedAsBlk6AndEmu7Say(@ForAll("runs") Run run) {
        GuestSystem g = booted(run.setup());
        Map<Long, List<Long>> disk = new HashMap<>();
        for (Request q : run.requests()) {
            boolean onDisk = q.sector() >= 0 && q.sector() < DISK_SECTORS;
            if (onDisk && split(run.setup()) && g.platform() instanceof XenPlatform x
                    && x.machine().pv().domain(1).sharedInfo() >= 0) {
                g = otherPorts(g, x.machine(), q);
            }
            GuestOp op = q.write() ? new GuestOp.BlockWrite(q.sector(), q.value()) : new GuestOp.BlockRead(q.sector());
            KernelStep st = Kernel.apply(g, op);
            String what = q + " on " + run.setup();
            if (!onDisk) {
                assertThat(st.result()).as("%s: a sector off the disk", what)
                        .isInstanceOf(KernelResult.NotApplicable.class);
                assertThat(st.trace()).as("%s: refused before any instruction", what).isEmpty();
                Statistics.label("request").collect("off the disk");
                continue;
            }
            List<Long> words = q.write() ? written(q.value())
                    : disk.getOrDefault(q.sector(), shipped(q.sector()));
            if (q.write()) {
                assertThat(st.result()).as(what).isEqualTo(new KernelResult.Done());
                disk.put(q.sector(), words);
            } else {
                assertThat(st.result()).as("%s: the sector read", what)
                        .isEqualTo(new KernelResult.Sector(q.sector(), words));
            }
            if (split(run.setup())) {
                judgeSplit(what, q, words, st);
            } else {
                judgeAta(what, q, words, st.trace());
            }
            Statistics.label("request").collect(run.setup() + (q.write() ? " write" : " read"));
            g = st.post();
        }
        Statistics.label("request").coverage(k -> {
            k.check("off the disk").count(n -> n >= 10);
            for (Setup s : Setup.values()) {
                k.check(s + " read").count(n -> n >= 5);
                k.check(s + " write").count(n -> n >= 3);
            }
        });
    }

    /**
     * Before the request the kernel masks and marks pending other ports of word 0 (never the timer's or the block
     * driver's own port, nor a pending unmasked one: those would be events the upcall must handle).
     */
    private static GuestSystem otherPorts(GuestSystem g, XenMachine m, Request q) {
        long keep = ~0b1111L; // ports 0..3: reserved, the timer's, the block driver's (first use), its spare
        long mask = (q.otherMask() | q.otherPending()) & keep;
        long si = Layout.directMap(Layout.sharedInfo(FRAMES));
        long pendingNow = m.memory().read(m.pv().domain(1).sharedInfo(), PENDING);
        long maskNow = m.memory().read(m.pv().domain(1).sharedInfo(), MASK);
        g = store(g, si + 8L * MASK, (maskNow & 0b1111L) | mask);
        return store(g, si + 8L * PENDING, (pendingNow & 0b1111L) | (q.otherPending() & keep));
    }

    private static GuestSystem store(GuestSystem g, long linear, long value) {
        KernelStep s = Kernel.apply(g, new GuestOp.KernelAccess(linear, AccessKind.WRITE, value));
        assertThat(s.result()).isInstanceOf(KernelResult.Read.class);
        return s.post();
    }

    private static XenMachine machine(Platform p) {
        return ((XenPlatform) p).machine();
    }

    /** The front-end's ring frame: the frame granted by the grant ref the back-end recorded at its connection. */
    private static long ringFrame(XenMachine m) {
        long info = m.domain(BACK_END).machineFrame(BACK_INFO_GFN);
        long ref = m.memory().read(info, 2);
        return m.memory().read(m.pv().domain(1).grantTable(), (int) ref) >>> 32;
    }

    private static int slot(long idx) {
        return HEADER + SLOT_WORDS * (int) (idx & (SLOTS - 1));
    }

    private static void judgeSplit(String what, Request q, List<Long> words, KernelStep st) {
        List<Executed> t = st.trace();
        XenMachine post = machine(st.post().platform());
        long ring = ringFrame(post);
        // the back-end's step: the one place in the operation where rsp_prod moves
        List<Integer> serves = new ArrayList<>();
        for (int j = 1; j < t.size(); j++) {
            XenMachine a = machine(t.get(j - 1).platform());
            XenMachine b = machine(t.get(j).pre());
            if (a != b && (a.memory().read(ring, 1) & MASK32) != (b.memory().read(ring, 1) & MASK32)) {
                serves.add(j);
            }
        }
        assertThat(serves).as("%s: the back-end answers once", what).hasSize(1);
        int j = serves.get(0);
        XenMachine seen = machine(t.get(j - 1).platform());
        XenMachine served = machine(t.get(j).pre());
        PhysicalMemory m = seen.memory();
        long reqProd = m.read(ring, 0) & MASK32;
        long reqEvent = m.read(ring, 0) >>> 32;
        long rspProd = m.read(ring, 1) & MASK32;
        assertThat((reqProd - rspProd) & MASK32).as("%s: exactly one request pushed (req_prod %d, rsp_prod %d)", what,
                reqProd, rspProd).isEqualTo(1);
        // BLK-1, BLK-2: the front-end's rsp_event is one past the responses it has seen — 1 from SHARED_RING_INIT
        // before any response, then rsp_cons + 1 from its RING_FINAL_CHECK_FOR_RESPONSES — so this response notifies
        assertThat(m.read(ring, 1) >>> 32).as("%s: rsp_event = rsp_prod + 1 when the back-end serves", what)
                .isEqualTo((rspProd + 1) & MASK32);
        long idx = (reqProd - 1) & MASK32;
        int s = slot(idx);
        long w0 = m.read(ring, s);
        int op = (int) (w0 & 0xFF);
        int nseg = (int) ((w0 >>> 8) & 0xFF);
        long id = m.read(ring, s + 1);
        long sector = m.read(ring, s + 2);
        long seg = m.read(ring, s + 3);
        long gref = seg & MASK32;
        long first = (seg >>> 32) & 0xFF;
        long last = (seg >>> 40) & 0xFF;
        assertThat(op).as("%s: the operation", what).isEqualTo(q.write() ? OP_WRITE : OP_READ);
        assertThat(nseg).as("%s: one segment for one sector", what).isEqualTo(1);
        assertThat(sector).as("%s: sector_number", what).isEqualTo(q.sector());
        assertThat(last).as("%s: one sector within the page (first_sect %d, last_sect %d)", what, first, last)
                .isEqualTo(first).isLessThanOrEqualTo(7);
        long gt = seen.pv().domain(1).grantTable();
        assertThat(gref).as("%s: a grant ref in the table", what).isBetween(0L, 511L);
        long grant = m.read(gt, (int) gref);
        long frame = grant >>> 32;
        assertThat(grant & 3).as("%s: GTF_permit_access", what).isEqualTo(GTF_PERMIT_ACCESS);
        assertThat((grant >>> 16) & 0xFFFF).as("%s: granted to the back-end", what).isEqualTo((long) BACK_END);
        assertThat((grant & GTF_READONLY) != 0).as("%s: read-only exactly for a WRITE", what).isEqualTo(q.write());
        if (q.write()) {
            assertThat(sectorOf(m, frame, first)).as("%s: the granted page holds the words written", what)
                    .isEqualTo(words);
        }
        // BLK-2: the push from req_prod - 1 to req_prod notifies iff req_event lies in (old, new]
        boolean owed = ((reqProd - reqEvent) & MASK32) < 1;
        int sends = 0;
        for (int i = 0; i < j; i++) {
            if (t.get(i).isHypercall(EVENT_CHANNEL_OP) && t.get(i).regs().arg(0) == EVTCHNOP_SEND) {
                sends++;
            }
        }
        assertThat(sends).as("%s: EVTCHNOP_send iff BLK-2 asks (req_event %d, req_prod %d)", what, reqEvent, reqProd)
                .isEqualTo(owed ? 1 : 0);
        // after the operation
        PhysicalMemory p = post.memory();
        assertThat(p.read(gt, (int) gref)).as("%s: the buffer's grant ended after the response", what).isZero();
        assertThat(p.read(ring, 1) >>> 32).as("%s: rsp_event = rsp_prod + 1", what)
                .isEqualTo(((p.read(ring, 1) & MASK32) + 1) & MASK32);
        assertThat(p.read(ring, 0)).as("%s: req_prod and req_event as the back-end left them", what)
                .isEqualTo(served.memory().read(ring, 0));
        if (!q.write()) {
            assertThat(sectorOf(p, frame, first)).as("%s: the sector landed in the granted page", what)
                    .isEqualTo(words);
        }
        judgeEvent(what, served, post);
    }

    private static List<Long> sectorOf(PhysicalMemory m, long frame, long sectorInPage) {
        List<Long> l = new ArrayList<>();
        for (int i = 0; i < WORDS; i++) {
            l.add(m.read(frame, (int) sectorInPage * WORDS + i));
        }
        return l;
    }

    /**
     * EVT-10, the front-end's event taken: from the shared-info page as the back-end's step left it, the front-end's
     * port (the one the back-end's channel is bound to) cleared, upcall-pending and the selector cleared, nothing else.
     */
    private static void judgeEvent(String what, XenMachine served, XenMachine post) {
        long info = served.domain(BACK_END).machineFrame(BACK_INFO_GFN);
        int backPort = (int) served.memory().read(info, 4);
        org.hybridv.xen.EventChannel c = served.pv().domain(BACK_END).ports().get(backPort);
        assertThat(c).as("%s: the back-end's channel", what).isInstanceOf(org.hybridv.xen.EventChannel.Interdomain.class);
        int port = ((org.hybridv.xen.EventChannel.Interdomain) c).remotePort();
        long si = served.pv().domain(1).sharedInfo();
        long[] before = served.memory().frame(si);
        long[] after = post.memory().frame(si);
        long[] want = before.clone();
        want[0] = before[0] & ~0xFFL;
        want[SELECTOR] = 0;
        want[PENDING + port / 64] = before[PENDING + port / 64] & ~(1L << (port % 64));
        for (int i = 0; i < PhysicalMemory.WORDS_PER_FRAME; i++) {
            assertThat(Long.toHexString(after[i])).as("%s: shared-info word %d after the event (port %d)", what, i,
                    port).isEqualTo(Long.toHexString(want[i]));
        }
    }

    /** EMU-7 from the kernel's side: the task file at the command, the command, the data port's transfers. */
    private static void judgeAta(String what, Request q, List<Long> words, List<Executed> t) {
        Map<Integer, Long> taskFile = new HashMap<>();
        int cmd = -1;
        List<GuestInstruction.Io> data = new ArrayList<>();
        for (int i = 0; i < t.size(); i++) {
            if (!(t.get(i).instruction() instanceof GuestInstruction.Io io)) {
                continue;
            }
            if (cmd < 0 && !io.in() && io.port() == ATA_COMMAND) {
                cmd = i;
                assertThat(io.value()).as("%s: the command", what).isEqualTo(q.write() ? WRITE_SECTORS : READ_SECTORS);
            } else if (cmd < 0 && !io.in()) {
                taskFile.put(io.port(), io.value());
            } else if (cmd >= 0 && io.port() == ATA_DATA) {
                data.add(io);
            }
        }
        assertThat(cmd).as("%s: a command was issued", what).isGreaterThanOrEqualTo(0);
        long s = q.sector();
        assertThat(taskFile.get(ATA_COUNT)).as("%s: sector count", what).isEqualTo(1L);
        assertThat(taskFile.get(ATA_LBA_LOW)).as("%s: LBA low", what).isEqualTo(s & 0xFF);
        assertThat(taskFile.get(ATA_LBA_MID)).as("%s: LBA mid", what).isEqualTo((s >>> 8) & 0xFF);
        assertThat(taskFile.get(ATA_LBA_HIGH)).as("%s: LBA high", what).isEqualTo((s >>> 16) & 0xFF);
        Long device = taskFile.get(ATA_DEVICE);
        assertThat(device).as("%s: the device register", what).isNotNull();
        assertThat(device & 0x0F).as("%s: LBA bits 27:24", what).isEqualTo((s >>> 24) & 0x0F);
        assertThat(device & LBA_MODE).as("%s: LBA mode", what).isEqualTo(LBA_MODE);
        assertThat(device & 0x10).as("%s: the master device", what).isZero();
        assertThat(data).as("%s: 128 doubleword transfers", what).hasSize(2 * WORDS);
        for (int i = 0; i < data.size(); i++) {
            GuestInstruction.Io io = data.get(i);
            assertThat(io.size()).isEqualTo(4);
            assertThat(io.in()).as("%s: transfer %d's direction", what, i).isEqualTo(!q.write());
            if (q.write()) {
                long w = words.get(i / 2);
                assertThat(io.value() & MASK32).as("%s: transfer %d (EAX of a doubleword OUT)", what, i)
                        .isEqualTo(i % 2 == 0 ? w & MASK32 : w >>> 32);
            }
        }
        boolean statusAfter = false;
        for (int i = t.size() - 1; i > cmd && !(t.get(i).instruction() instanceof GuestInstruction.Io d
                && d.port() == ATA_DATA); i--) {
            statusAfter |= t.get(i).instruction() instanceof GuestInstruction.Io io && io.in()
                    && io.port() == ATA_COMMAND;
        }
        assertThat(statusAfter).as("%s: the status read after the data", what).isTrue();
    }
}
