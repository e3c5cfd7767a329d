package org.hybridv.guest;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.Hex;
import org.hybridv.xen.AtaDisk;
import org.hybridv.xen.BlkBack;
import org.hybridv.xen.Blkif;
import org.hybridv.xen.EventChannels;
import org.hybridv.xen.GrantTables;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.PvHypercalls;
import org.hybridv.xen.SharedInfo;

/**
 * The kernel's block driver ({@link GuestOp.BlockRead}, {@link GuestOp.BlockWrite}; docs/pv-interfaces.md, "The
 * split block driver"; docs/hybrid.md, the pv-ops table): one sector between the disk and a kernel buffer, by one of
 * two paths chosen when the driver is first used —
 * <ul>
 * <li><b>the split driver's front-end</b> (Linux {@code xen-blkfront}) under the Xen-like hypervisor once the hypercall
 * page is installed (BOOT-3) and the xenstore names a back-end: the ring page and the buffer granted to the back-end
 * (GNT-1), the request written into the ring and pushed (BLK-1, BLK-2), an event sent (EVT-5); the back-end's step
 * serves it (BLK-4, BLK-5); the front-end takes the event, reads the response and ends the buffer's grant (BLK-6);</li>
 * <li><b>the ATA PIO disk</b> (Linux's legacy IDE/libata PIO path) otherwise: natively the device itself, under a
 * hypervisor (the KVM personality, or Xen before the hypercall page) the same device emulated behind the I/O
 * bitmaps (EMU-2, EMU-7) — every port access an exit.</li>
 * </ul>
 * Either way the kernel moves the sector through the same buffer and reads it back from there, so what it observes
 * (I3) is the sector's contents. The driver's state ({@code struct blkfront_info}) is kernel data: words
 * {@link #INFO}.. of the kernel's data frame; its frames — the buffer, the ring and the grant table — are allocated
 * on first use on every platform, so the page allocator stays in step with the native twin; its events use the
 * shared-info page the kernel placed at boot.
 */
final class BlockFront {
    private BlockFront() {}

    /** The first word of {@code blkfront_info} in {@link Layout#KERNEL_DATA}. */
    static final int INFO = 64;
    static final int STATE = 0;
    static final int BUFFER = 1;
    static final int RING = 2;
    static final int SHARED_INFO = 3;
    static final int GRANT_TABLE = 4;
    static final int PORT = 5;
    static final int REQ_PROD_PVT = 6;
    static final int RSP_CONS = 7;
    static final int BUFFER_FRAME = 8;
    static final int RING_FRAME = 9;
    static final int BACK_END = 10;
    /** {@link #STATE}: the ATA disk is used. */
    static final long ATA = 1;
    /** {@link #STATE}: the split driver is connected ({@code BLKIF_STATE_CONNECTED}). */
    static final long CONNECTED = 4;
    /** The grant references the front-end uses: the ring's and the buffer's. */
    static final int RING_REF = 0;
    static final int DATA_REF = 1;
    /** The device register value the driver writes: LBA mode, the master device, the obsolete bits 7 and 5 set. */
    static final long ATA_DEVICE = 0xE0;

    private static long info(int word) {
        return Layout.directMap(Layout.KERNEL_DATA) + 8L * (INFO + word);
    }

    /** A sector read ({@code write} false) or written with words {@code value + i}. */
    static KernelResult transfer(Kernel.Run r, long sector, boolean write, long value) {
        if (sector < 0 || sector >= Blkif.DISK_SECTORS) {
            return new KernelResult.NotApplicable("sector " + sector + " is not on the disk (0.."
                    + (Blkif.DISK_SECTORS - 1) + ")");
        }
        if (r.platform instanceof PvPlatform) {
            return new KernelResult.NotApplicable("the block driver is not modelled on the software-only PV platform");
        }
        Observed st = r.exec(load(info(STATE)));
        if (!(st instanceof Observed.Value sv)) {
            return new KernelResult.Oops("blkfront_info: " + st);
        }
        long state = sv.value();
        if (state == 0) {
            KernelResult bad = setUp(r);
            if (bad != null) {
                return bad;
            }
            state = read(r, STATE);
        }
        long buffer = read(r, BUFFER);
        if (write) {
            for (int w = 0; w < Blkif.WORDS_PER_SECTOR; w++) {
                KernelResult bad = r.store(Layout.directMap(buffer) + 8L * w, value + w);
                if (bad != null) {
                    return bad;
                }
            }
        }
        KernelResult done = state == CONNECTED ? splitRequest(r, sector, write) : ataRequest(r, sector, write);
        if (done != null) {
            return done;
        }
        if (write) {
            return new KernelResult.Done();
        }
        List<Long> words = new ArrayList<>();
        for (int w = 0; w < Blkif.WORDS_PER_SECTOR; w++) {
            Observed o = r.exec(load(Layout.directMap(buffer) + 8L * w));
            if (!(o instanceof Observed.Value v)) {
                return new KernelResult.Oops("reading the block buffer: " + o);
            }
            words.add(v.value());
        }
        return new KernelResult.Sector(sector, words);
    }

    private static GuestInstruction load(long linear) {
        return new GuestInstruction.MemoryAccess(Access.read(linear));
    }

    /** A word of {@code blkfront_info} (the kernel's own data: always mapped, never faults once set up). */
    private static long read(Kernel.Run r, int word) {
        Observed o = r.exec(load(info(word)));
        return o instanceof Observed.Value v ? v.value() : -1;
    }

    /**
     * First use: three frames (buffer, ring, grant table) on every platform; then, under the hypervisor with the
     * hypercall page installed and a back-end named by the xenstore, the front-end's set-up
     * ({@code talk_to_blkback}): the grant table placed (XENMEM_add_to_physmap, GNT-1), the ring initialised
     * ({@code SHARED_RING_INIT}, BLK-1) and granted to the back-end, an unbound port allocated for it (EVT-2), and the
     * handshake (BLK-3). Its events arrive in the shared-info page the kernel placed at boot (BOOT-8,
     * {@link Layout#sharedInfo}: a second placement is refused, EVT-1). Otherwise the ATA disk.
     */
    private static KernelResult setUp(Kernel.Run r) {
        long[] f = r.allocate(3);
        if (f == null) {
            return new KernelResult.Oops("out of memory: no frames for the block driver");
        }
        KernelResult bad = r.store(info(BUFFER), f[0]);
        bad = bad != null ? bad : r.store(info(RING), f[1]);
        bad = bad != null ? bad : r.store(info(SHARED_INFO), Layout.sharedInfo(r.kernel.frames()));
        bad = bad != null ? bad : r.store(info(GRANT_TABLE), f[2]);
        if (bad != null) {
            return bad;
        }
        java.util.OptionalInt back = r.platform instanceof XenPlatform x && r.kernel.stage().hypercallsAllowed()
                ? x.xenstoreBlockBackEnd() : java.util.OptionalInt.empty();
        if (back.isEmpty()) {
            return r.store(info(STATE), ATA);
        }
        int be = back.getAsInt();
        long[] frames = new long[f.length];
        for (int i = 0; i < f.length; i++) {
            frames[i] = r.kernel.frameOf(f[i]);
            if (r.kernel.stage() != BootStage.DIRECT) {
                Observed o = r.hypercall(Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP,
                        Hypercalls.XENMEM_TRANSLATE_GPFN_LIST, r.kernel.frameOf(f[i])));
                if (!(o instanceof Observed.Value v) || v.value() < 0) {
                    return new KernelResult.Oops("p2m lookup of the block driver's pfn " + Hex.of(f[i]) + ": " + o);
                }
                frames[i] = v.value();
            }
        }
        Hypercall[] calls = {
            Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP, PvHypercalls.XENMEM_ADD_TO_PHYSMAP,
                    PvHypercalls.XENMAPSPACE_GRANT_TABLE, r.kernel.frameOf(f[2]))};
        for (Hypercall c : calls) {
            Observed o = r.hypercall(c);
            if (!(o instanceof Observed.Value v) || v.value() != 0) {
                return new KernelResult.Oops("block front-end set-up: " + c + ": " + o);
            }
        }
        long[] idx = Blkif.words(Blkif.INITIAL);
        bad = r.store(Layout.directMap(f[1]), idx[0]);
        bad = bad != null ? bad : r.store(Layout.directMap(f[1]) + 8, idx[1]);
        bad = bad != null ? bad : r.store(Layout.directMap(f[2]) + 8L * RING_REF, grant(be, frames[1], false));
        if (bad != null) {
            return bad;
        }
        Observed port = r.hypercall(Hypercall.of(PvHypercalls.HYPERVISOR_EVENT_CHANNEL_OP,
                EventChannels.EVTCHNOP_ALLOC_UNBOUND, EventChannels.DOMID_SELF, be));
        if (!(port instanceof Observed.Value p) || p.value() <= 0) {
            return new KernelResult.Oops("EVTCHNOP_alloc_unbound for the block back-end: " + port);
        }
        BlkBack.Result c = ((XenPlatform) r.platform).xenstoreConnect(RING_REF, p.value());
        if (!(c instanceof BlkBack.Served s)) {
            return new KernelResult.Oops("the block back-end did not connect: " + c);
        }
        r.platform = new XenPlatform(s.machine(), ((XenPlatform) r.platform).vcpu());
        long[][] w = {{PORT, p.value()}, {BUFFER_FRAME, frames[0]}, {RING_FRAME, frames[1]}, {BACK_END, be},
            {REQ_PROD_PVT, 0}, {RSP_CONS, 0}, {STATE, CONNECTED}};
        for (long[] x : w) {
            bad = r.store(info((int) x[0]), x[1]);
            if (bad != null) {
                return bad;
            }
        }
        return null;
    }

    /** A v1 grant entry: permit access to {@code domid}, read-only or not, of machine frame {@code frame} (GNT-1). */
    private static long grant(int domid, long frame, boolean readonly) {
        return new GrantTables.GrantEntry(GrantTables.GTF_PERMIT_ACCESS | (readonly ? GrantTables.GTF_READONLY : 0),
                domid, frame).raw();
    }

    /**
     * One request through the split driver ({@code blkif_queue_request}, {@code flush_requests},
     * {@code blkif_interrupt}): grant the buffer (read-only for a WRITE: the back-end only reads it), write the request
     * into the slot at {@code req_prod_pvt}, push {@code req_prod} and send the event if BLK-2 asks for it; the
     * back-end's step; then take the event (EVT-10), read the response at {@code rsp_cons}, set {@code rsp_event}
     * ({@code RING_FINAL_CHECK_FOR_RESPONSES}) and end the buffer's grant — only now, after its response (BLK-6). Null
     * when the response is {@code BLKIF_RSP_OKAY}.
     */
    private static KernelResult splitRequest(Kernel.Run r, long sector, boolean write) {
        long ring = read(r, RING);
        long gt = read(r, GRANT_TABLE);
        long pvt = read(r, REQ_PROD_PVT);
        long cons = read(r, RSP_CONS);
        int be = (int) read(r, BACK_END);
        long dataRef = Layout.directMap(gt) + 8L * DATA_REF;
        KernelResult bad = r.store(dataRef, grant(be, read(r, BUFFER_FRAME), write));
        if (bad != null) {
            return bad;
        }
        Blkif.Request req = new Blkif.Request(write ? Blkif.BLKIF_OP_WRITE : Blkif.BLKIF_OP_READ, 1, 0, pvt, sector,
                DATA_REF, 0, 0);
        long[] rw = Blkif.words(req);
        long slot = Layout.directMap(ring) + 8L * Blkif.slot(pvt);
        for (int i = 0; i < rw.length; i++) {
            bad = r.store(slot + 8L * i, rw[i]);
            if (bad != null) {
                return bad;
            }
        }
        Observed w0 = r.exec(load(Layout.directMap(ring)));
        if (!(w0 instanceof Observed.Value idx)) {
            return new KernelResult.Oops("the ring's req_prod: " + w0);
        }
        long old = idx.value() & 0xFFFF_FFFFL;
        long next = (pvt + 1) & 0xFFFF_FFFFL;
        bad = r.store(Layout.directMap(ring), (idx.value() & ~0xFFFF_FFFFL) | next);
        bad = bad != null ? bad : r.store(info(REQ_PROD_PVT), next);
        if (bad != null) {
            return bad;
        }
        if (Blkif.notifyNeeded(old, next, idx.value() >>> 32)) {
            Observed o = r.hypercall(Hypercall.of(PvHypercalls.HYPERVISOR_EVENT_CHANNEL_OP,
                    EventChannels.EVTCHNOP_SEND, read(r, PORT)));
            if (!(o instanceof Observed.Value v) || v.value() != 0) {
                return new KernelResult.Oops("EVTCHNOP_send to the block back-end: " + o);
            }
        }
        BlkBack.Result served = ((XenPlatform) r.platform).backEndServes();
        if (served instanceof BlkBack.Served s) {
            r.platform = new XenPlatform(s.machine(), ((XenPlatform) r.platform).vcpu());
        }
        bad = takeEvent(r);
        if (bad != null) {
            return bad;
        }
        Observed w1 = r.exec(load(Layout.directMap(ring) + 8));
        if (!(w1 instanceof Observed.Value rsp) || (rsp.value() & 0xFFFF_FFFFL) == cons) {
            return new KernelResult.Oops("no response from the block back-end (rsp_prod " + w1 + ")");
        }
        Observed id = r.exec(load(Layout.directMap(ring) + 8L * Blkif.slot(cons)));
        Observed op = r.exec(load(Layout.directMap(ring) + 8L * (Blkif.slot(cons) + 1)));
        long nextCons = (cons + 1) & 0xFFFF_FFFFL;
        bad = r.store(Layout.directMap(ring) + 8, (rsp.value() & 0xFFFF_FFFFL) | (nextCons + 1) << 32);
        bad = bad != null ? bad : r.store(info(RSP_CONS), nextCons);
        if (bad != null) {
            return bad;
        }
        // gnttab_end_foreign_access: only with neither GTF_reading nor GTF_writing set (GNT-7)
        Observed entry = r.exec(load(dataRef));
        if (!(entry instanceof Observed.Value e)
                || (e.value() & (GrantTables.GTF_READING | GrantTables.GTF_WRITING)) != 0) {
            return new KernelResult.Oops("the buffer's grant is still in use by the back-end after its response ("
                    + entry + ")");
        }
        bad = r.store(dataRef, 0);
        if (bad != null) {
            return bad;
        }
        if (!(id instanceof Observed.Value iv) || iv.value() != pvt || !(op instanceof Observed.Value ov)) {
            return new KernelResult.Oops("the response does not answer request " + pvt + ": " + id);
        }
        int status = (short) ((ov.value() >>> 16) & 0xFFFF);
        return status == Blkif.BLKIF_RSP_OKAY ? null
                : new KernelResult.Oops("block " + (write ? "write" : "read") + " of sector " + sector + ": status "
                        + status);
    }

    /**
     * The event handler's part the model runs (Linux {@code evtchn_do_upcall} for the front-end's port): the
     * {@code evtchn_upcall_pending} byte, the selector and the port's pending bit cleared with plain stores through
     * the direct map (EVT-10: only the guest clears them).
     */
    private static KernelResult takeEvent(Kernel.Run r) {
        int before = r.platform.interruptsDelivered();
        long si = read(r, SHARED_INFO);
        long port = read(r, PORT);
        long vi = Layout.directMap(si) + 8L * SharedInfo.VCPU_INFO_WORDS * r.cpu;
        Observed up = r.exec(load(vi));
        if (!(up instanceof Observed.Value u)) {
            return new KernelResult.Oops("vcpu_info: " + up);
        }
        long pendingWord = Layout.directMap(si) + 8L * (SharedInfo.PENDING_WORD + port / 64);
        Observed pw = r.exec(load(pendingWord));
        if (!(pw instanceof Observed.Value p)) {
            return new KernelResult.Oops("evtchn_pending: " + pw);
        }
        KernelResult bad = r.store(vi, u.value() & ~SharedInfo.UPCALL_PENDING);
        bad = bad != null ? bad : r.store(vi + 8, 0);
        bad = bad != null ? bad : r.store(pendingWord, p.value() & ~(1L << (port % 64)));
        if (bad == null && r.platform.interruptsDelivered() > before) {
            // the kernel's callback vector (BOOT-8) brought this event as an upcall at the VM entry before the
            // handler's first load (EVT-9, which cleared RFLAGS.IF as an interrupt gate does): the handler ends with
            // IRET, so that the next upcall (the timer's) can be delivered
            r.platform = r.platform.interruptReturn();
        }
        return bad;
    }

    /**
     * One sector by ATA PIO (EMU-7): the task file (count 1, LBA, device), the command, the status (DRQ expected),
     * then the 512 bytes as 128 doubleword INs or OUTs of the data port, then the status again (no ERR expected).
     * Null when the device reported no error.
     */
    private static KernelResult ataRequest(Kernel.Run r, long sector, boolean write) {
        long buffer = read(r, BUFFER);
        long[][] taskFile = {{AtaDisk.SECTOR_COUNT, 1}, {AtaDisk.LBA_LOW, sector & 0xFF},
            {AtaDisk.LBA_MID, (sector >>> 8) & 0xFF}, {AtaDisk.LBA_HIGH, (sector >>> 16) & 0xFF},
            {AtaDisk.DEVICE, ATA_DEVICE | ((sector >>> 24) & 0x0F)},
            {AtaDisk.COMMAND, write ? AtaDisk.WRITE_SECTORS : AtaDisk.READ_SECTORS}};
        for (long[] t : taskFile) {
            r.exec(out((int) t[0], 1, t[1]));
        }
        Observed st = r.exec(in(AtaDisk.STATUS, 1));
        if (!(st instanceof Observed.Value s) || (s.value() & AtaDisk.DRQ) == 0) {
            return new KernelResult.Oops("ATA " + (write ? "WRITE" : "READ") + " SECTORS " + sector + ": status "
                    + st);
        }
        for (int w = 0; w < Blkif.WORDS_PER_SECTOR; w++) {
            long addr = Layout.directMap(buffer) + 8L * w;
            if (write) {
                Observed o = r.exec(load(addr));
                long v = o instanceof Observed.Value x ? x.value() : 0;
                r.exec(out(AtaDisk.DATA, 4, v & 0xFFFF_FFFFL));
                r.exec(out(AtaDisk.DATA, 4, v >>> 32));
            } else {
                Observed lo = r.exec(in(AtaDisk.DATA, 4));
                Observed hi = r.exec(in(AtaDisk.DATA, 4));
                long v = (lo instanceof Observed.Value a ? a.value() & 0xFFFF_FFFFL : 0)
                        | (hi instanceof Observed.Value b ? b.value() << 32 : 0);
                KernelResult bad = r.store(addr, v);
                if (bad != null) {
                    return bad;
                }
            }
        }
        Observed end = r.exec(in(AtaDisk.STATUS, 1));
        return end instanceof Observed.Value e && (e.value() & (AtaDisk.ERR | AtaDisk.DRQ)) == 0 ? null
                : new KernelResult.Oops("ATA sector " + sector + ": status after the transfer " + end);
    }

    private static GuestInstruction out(int port, int size, long value) {
        return new GuestInstruction.Io(port, size, false, false, false, false, value);
    }

    private static GuestInstruction in(int port, int size) {
        return new GuestInstruction.Io(port, size, true, false, false, false, 0);
    }
}
