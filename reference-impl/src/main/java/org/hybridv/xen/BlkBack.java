package org.hybridv.xen;

import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.hybridv.ept.EptEntry;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PhysicalMemory;

/**
 * The block back-end of the split driver (Linux {@code drivers/block/xen-blkback}: {@code xen_blkif_map},
 * {@code do_block_io_op}, {@code make_response}; rules BLK-3..BLK-5 of docs/rules/xen.md): a driver domain that owns
 * a virtual disk and serves the requests a front-end puts on a shared ring (docs/pv-interfaces.md, "The split block
 * driver").
 *
 * <p>The back-end domain is a HAP domain (a PVH-style driver domain) whose kernel the model does not run instruction by
 * instruction: each of its steps ({@link #connect}, {@link #serve}) is the sequence of hypercalls it issues — applied
 * with the very functions {@code Hypervisor.vmcall} dispatches to, as its vCPU 0 — and of loads and stores it makes
 * through its own p2m, including through the grant mappings the hypercalls install there. It never touches a frame any
 * other way. Its guest-physical layout:
 *
 * <table>
 * <caption>back-end guest frames</caption>
 * <tr><th>gfn</th><th>what</th></tr>
 * <tr><td>0</td><td>its shared-info page (EVT-1)</td></tr>
 * <tr><td>1</td><td>its {@code struct xen_blkif}: words {@link #STATE} .. {@link #RSP_PROD_PVT}</td></tr>
 * <tr><td>2, 3</td><td>the virtual disk: sector s in word 64·(s mod 8) of gfn 2 + s / 8 ({@link Blkif#DISK_SECTORS})</td></tr>
 * <tr><td>4</td><td>not RAM: where the front-end's ring grant is mapped (GNT-2, an EPT leaf)</td></tr>
 * <tr><td>5 .. 15</td><td>not RAM: where segment s of a request has its data grant mapped (gfn 5 + s) while the
 * request is served (BLK-7)</td></tr>
 * </table>
 */
public final class BlkBack {
    private BlkBack() {}

    /** The back-end's RAM frames. */
    public static final int FRAMES = 4;
    public static final long SHARED_INFO_GFN = 0;
    public static final long INFO_GFN = 1;
    public static final long DISK_GFN = 2;
    public static final long RING_GFN = 4;
    public static final long DATA_GFN = 5;
    /** Words of {@code struct xen_blkif} in the back-end's frame {@link #INFO_GFN}. */
    public static final int STATE = 0;
    public static final int FRONT_DOMAIN = 1;
    public static final int RING_REF = 2;
    public static final int RING_HANDLE = 3;
    public static final int PORT = 4;
    public static final int REQ_CONS = 5;
    public static final int RSP_PROD_PVT = 6;
    /** {@link #STATE}: {@code XenbusStateInitWait} (2): built, waiting for its front-end's ring and port. */
    public static final long INIT_WAIT = 2;
    /** {@link #STATE}: {@code XenbusStateConnected}'s value (4). */
    public static final long CONNECTED = 4;

    /** What one step of the back-end did. */
    public sealed interface Result {}

    /**
     * The step ran: the post-state, the requests it consumed (as read from the ring), the responses it published
     * (in order) and whether it notified the front-end (BLK-2).
     */
    public record Served(XenMachine machine, List<Blkif.Request> requests, List<Blkif.Response> responses,
            boolean notified) implements Result {}

    /** Nothing was done: {@code rule} says why. */
    public record Refused(String rule, String reason) implements Result {}

    /** The back-end's {@code struct xen_blkif}. */
    public record Info(long state, int frontDomain, long ringRef, int ringHandle, int port, long reqCons,
            long rspProdPvt) {
        public boolean connected() {
            return state == CONNECTED;
        }
    }

    /**
     * The back-end {@code back}'s {@code struct xen_blkif} as its frame holds it, or null if {@code back} is no block
     * back-end (no such domain or frame, or a state other than {@link #INIT_WAIT} and {@link #CONNECTED}: a domain the
     * toolstack did not build with {@link #create}).
     */
    public static Info info(XenMachine m, int back) {
        if (!m.domains().containsKey(back)) {
            return null;
        }
        long f = Hypervisor.translateGpfn(m, m.domain(back), INFO_GFN);
        if (f < 0) {
            return null;
        }
        PhysicalMemory mem = m.memory();
        if (mem.read(f, STATE) != INIT_WAIT && mem.read(f, STATE) != CONNECTED) {
            return null;
        }
        return new Info(mem.read(f, STATE), (int) mem.read(f, FRONT_DOMAIN), mem.read(f, RING_REF),
                (int) mem.read(f, RING_HANDLE), (int) mem.read(f, PORT), mem.read(f, REQ_CONS),
                mem.read(f, RSP_PROD_PVT));
    }

    private static XenMachine withInfo(XenMachine m, int back, Info i) {
        long f = Hypervisor.translateGpfn(m, m.domain(back), INFO_GFN);
        long[] w = {i.state(), i.frontDomain(), i.ringRef(), i.ringHandle(), i.port(), i.reqCons(), i.rspProdPvt()};
        PhysicalMemory mem = m.memory();
        for (int k = 0; k < w.length; k++) {
            mem = mem.write(f, k, w[k]);
        }
        return EventChannels.withMemory(m, mem);
    }

    /** The machine frame of sector {@code sector}'s page of the back-end's disk, or -1. */
    public static long diskFrame(XenMachine m, int back, long sector) {
        return Hypervisor.translateGpfn(m, m.domain(back), DISK_GFN + sector / Blkif.SECTORS_PER_PAGE);
    }

    /** Word {@code word} of sector {@code sector} of the back-end's disk. */
    public static long diskWord(XenMachine m, int back, long sector, int word) {
        return m.memory().read(diskFrame(m, back, sector), diskOffset(sector) + word);
    }

    private static int diskOffset(long sector) {
        return (int) (sector % Blkif.SECTORS_PER_PAGE) * Blkif.WORDS_PER_SECTOR;
    }

    /**
     * The domain builder's part (the toolstack creating the driver domain): domain {@code back} in HAP mode owning
     * {@code frames} ({@link #FRAMES} of them, gfn i → frames[i]), one vCPU with VPID {@code vpid}, its shared-info
     * page placed (EVT-1), its {@code xen_blkif} in state {@link #INIT_WAIT}, and the disk loaded with its shipped
     * contents ({@link Blkif#initialWord}).
     */
    public static HvResult create(XenMachine m, int back, long[] frames, int vpid) {
        if (frames.length != FRAMES) {
            throw new IllegalArgumentException("the back-end has " + FRAMES + " frames, not " + frames.length);
        }
        SortedMap<Long, Long> p2m = new TreeMap<>();
        for (int g = 0; g < FRAMES; g++) {
            p2m.put((long) g, frames[g]);
        }
        HvResult r = Domains.create(m, back, MmuMode.HAP, frames, p2m);
        if (!(r instanceof HvResult.Done d)) {
            return r;
        }
        r = Domains.addVcpu(d.machine(), back, vpid, CpuState.reset(XenMachine.MAX_PHYS_ADDR));
        if (!(r instanceof HvResult.Done v)) {
            return r;
        }
        PvResult si = PvHypercalls.addToPhysmap(v.machine(), back, PvHypercalls.XENMAPSPACE_SHARED_INFO,
                SHARED_INFO_GFN);
        if (!(si instanceof PvResult.Done s)) {
            PvResult.Refused x = (PvResult.Refused) si;
            return new HvResult.Refused(x.errno(), x.rule(), x.reason());
        }
        XenMachine out = s.machine();
        PhysicalMemory mem = out.memory().write(frames[(int) INFO_GFN], STATE, INIT_WAIT);
        for (long sector = 0; sector < Blkif.DISK_SECTORS; sector++) {
            for (int w = 0; w < Blkif.WORDS_PER_SECTOR; w++) {
                mem = mem.write(frames[(int) (DISK_GFN + sector / Blkif.SECTORS_PER_PAGE)], diskOffset(sector) + w,
                        Blkif.initialWord(sector, w));
            }
        }
        return new HvResult.Done(EventChannels.withMemory(out, mem));
    }

    /**
     * BLK-3, the connection ({@code xen_blkif_map}, after the xenstore handshake in which the front-end published
     * {@code ring-ref} and {@code event-channel}): the back-end maps the front-end's ring grant {@code ringRef}
     * writable at guest-physical {@link #RING_GFN} (GNTTABOP_map_grant_ref, GNT-2) and binds an interdomain event
     * channel to the front-end's unbound port {@code frontPort} (EVT-3); its {@code struct xen_blkif} records both,
     * and it attaches to the ring where the front-end's last answered request left it (BLK-8,
     * {@code BACK_RING_ATTACH}): {@code req_cons} = {@code rsp_prod_pvt} = the ring's {@code rsp_prod} (0 on a fresh
     * ring). Refused if it is connected already (BLK-3), if the ring holds more unanswered requests than slots
     * (BLK-8, "{@code req_prod - rsp_prod > size}"), or as GNT-2 / EVT-3 refuse — then nothing is changed. The outcome is {@link Served} with no request (or {@link Refused}).
     */
    public static Result connect(XenMachine m, int back, int front, long ringRef, long frontPort) {
        Info i = info(m, back);
        if (i == null) {
            return new Refused("BLK-3", "d" + back + " is not a block back-end (no xen_blkif frame)");
        }
        if (i.connected()) {
            return new Refused("BLK-3", "d" + back + " is connected to d" + i.frontDomain() + " already");
        }
        VcpuId self = new VcpuId(back, 0);
        PvResult map = GrantTables.mapGrantRef(m, self, RING_GFN << 12, GrantTables.GNTMAP_HOST_MAP, ringRef, front);
        if (map instanceof PvResult.Refused r) {
            return new Refused(r.rule(), "mapping the ring: " + r.reason());
        }
        PvResult.Done mapped = (PvResult.Done) map;
        GrantMapping ringMap = mapped.machine().pv().domain(back).maptrack().get((int) mapped.rax());
        Blkif.Indices at = Blkif.indices(mapped.machine().memory(), throughMapping(mapped.machine(), ringMap, true));
        if (((at.reqProd() - at.rspProd()) & 0xFFFF_FFFFL) > Blkif.RING_SIZE) {
            return new Refused("BLK-8", "the ring holds " + ((at.reqProd() - at.rspProd()) & 0xFFFF_FFFFL)
                    + " unanswered requests, more than its " + Blkif.RING_SIZE + " slots");
        }
        PvResult bind = EventChannels.bindInterdomain(mapped.machine(), back, front, frontPort);
        if (bind instanceof PvResult.Refused r) {
            return new Refused(r.rule(), "binding the event channel: " + r.reason());
        }
        PvResult.Done bound = (PvResult.Done) bind;
        XenMachine after = EventChannels.guestHandleUpcall(bound.machine(), self);
        after = withInfo(after, back, new Info(CONNECTED, front, ringRef, (int) mapped.rax(), (int) bound.rax(),
                at.rspProd(), at.rspProd()));
        return new Served(after, List.of(), List.of(), false);
    }

    /** The frame the back-end reaches through its EPT leaf for grant mapping {@code g}, or -1 (none, not writable). */
    static long throughMapping(XenMachine m, GrantMapping g, boolean write) {
        EptEntry e = new EptEntry(m.memory().read(g.l1mfn(), g.l1index()));
        return e.present() && e.readable() && (!write || e.writable()) ? e.frame() : -1;
    }

    /**
     * BLK-4 and BLK-5, one pass of the back-end's request loop ({@code __do_block_io_op}, then
     * {@code make_response} and the final check): it consumes every request from its {@code req_cons} to the ring's
     * {@code req_prod}, read through its ring mapping; serves each ({@link #serveOne}) and writes its response into
     * the slot at {@code rsp_prod_pvt}; publishes {@code rsp_prod} and notifies the front-end's port iff BLK-2 asks
     * for it; sets {@code req_event} = {@code req_cons} + 1 ({@code RING_FINAL_CHECK_FOR_REQUESTS}) and clears its
     * own port's pending bit (its handler). A {@code req_prod} more than a ring ahead of {@code req_cons} is the
     * front-end's bug: nothing is consumed (blkback: "Frontend provided bogus ring requests"). Refused when not
     * connected or when the ring mapping is gone.
     */
    public static Result serve(XenMachine m, int back) {
        Info i = info(m, back);
        if (i == null || !i.connected()) {
            return new Refused("BLK-4", "d" + back + " has no connected front-end");
        }
        GrantMapping ringMap = m.pv().domain(back).maptrack().get(i.ringHandle());
        long ring = ringMap == null ? -1 : throughMapping(m, ringMap, true);
        if (ring < 0) {
            return new Refused("BLK-4", "d" + back + " no longer reaches the ring through handle " + i.ringHandle());
        }
        Blkif.Indices ix = Blkif.indices(m.memory(), ring);
        long rp = ix.reqProd();
        long pending = (rp - i.reqCons()) & 0xFFFF_FFFFL;
        List<Blkif.Request> requests = new ArrayList<>();
        List<Blkif.Response> responses = new ArrayList<>();
        XenMachine after = m;
        long rc = i.reqCons();
        long prodPvt = i.rspProdPvt();
        if (pending <= Blkif.RING_SIZE) {
            for (; rc != rp; rc = (rc + 1) & 0xFFFF_FFFFL) {
                Blkif.Request req = Blkif.request(after.memory(), ring, rc);
                requests.add(req);
                One one = serveOne(after, back, i.frontDomain(), req, Blkif.segments(after.memory(), ring, rc));
                after = one.machine();
                Blkif.Response rsp = new Blkif.Response(req.id(), req.operation(), one.status());
                long[] w = Blkif.words(rsp);
                int s = Blkif.slot(prodPvt);
                after = EventChannels.withMemory(after, after.memory().write(ring, s, w[0]).write(ring, s + 1, w[1]));
                responses.add(rsp);
                prodPvt = (prodPvt + 1) & 0xFFFF_FFFFL;
            }
        }
        Blkif.Indices now = Blkif.indices(after.memory(), ring);
        boolean notify = Blkif.notifyNeeded(now.rspProd(), prodPvt, now.rspEvent());
        Blkif.Indices published = new Blkif.Indices(now.reqProd(), (rc + 1) & 0xFFFF_FFFFL, prodPvt, now.rspEvent());
        long[] w = Blkif.words(published);
        after = EventChannels.withMemory(after, after.memory().write(ring, 0, w[0]).write(ring, 1, w[1]));
        after = withInfo(after, back, new Info(i.state(), i.frontDomain(), i.ringRef(), i.ringHandle(), i.port(), rc,
                prodPvt));
        after = EventChannels.guestHandleUpcall(after, new VcpuId(back, 0));
        if (notify) {
            PvResult sent = EventChannels.send(after, back, i.port());
            if (sent instanceof PvResult.Done d) {
                after = d.machine();
            } else {
                notify = false;
            }
        }
        return new Served(after, requests, responses, notify);
    }

    private record One(XenMachine machine, int status) {}

    /**
     * BLK-4 and BLK-7, one request ({@code dispatch_rw_block_io}): the operation must be READ or WRITE
     * ({@code BLKIF_RSP_EOPNOTSUPP} otherwise); it must carry 1 .. {@link Blkif#MAX_SEGMENTS} segments, each with
     * {@code first_sect} ≤ {@code last_sect} &lt; 8, and the sectors they add up to must lie within the disk
     * ({@code BLKIF_RSP_ERROR} otherwise, with nothing mapped). Every segment's grant is mapped, segment s at
     * {@link #DATA_GFN} + s ({@code xen_blkbk_map}) — writable for a READ, which the back-end writes into, read-only
     * for a WRITE ({@code GNTMAP_readonly}); if any map is refused (a read-only grant cannot receive a READ, GNT-2)
     * the ones made are unmapped and the answer is {@code BLKIF_RSP_ERROR}, no data moved. Otherwise the segments
     * cover consecutive disk sectors from {@code sector_number}, in order, each its page's sectors
     * {@code first_sect} .. {@code last_sect}; they are copied word by word through the mappings, and every mapping is
     * undone (GNT-5) before the response is written: nothing of the request's grants survives its response. Seeded
     * fault {@link Fault#BLKBACK_DATA_MAPPING_LEAKED}: the unmap after a transfer is skipped.
     */
    private static One serveOne(XenMachine m, int back, int front, Blkif.Request req, List<Blkif.Segment> segs) {
        boolean read = req.operation() == Blkif.BLKIF_OP_READ;
        if (!read && req.operation() != Blkif.BLKIF_OP_WRITE) {
            return new One(m, Blkif.BLKIF_RSP_EOPNOTSUPP);
        }
        if (req.nrSegments() < 1 || req.nrSegments() > Blkif.MAX_SEGMENTS) {
            return new One(m, Blkif.BLKIF_RSP_ERROR);
        }
        long count = 0;
        for (Blkif.Segment g : segs) {
            if (g.firstSect() > g.lastSect() || g.lastSect() >= Blkif.SECTORS_PER_PAGE) {
                return new One(m, Blkif.BLKIF_RSP_ERROR);
            }
            count += g.lastSect() - g.firstSect() + 1L;
        }
        if (req.sector() < 0 || req.sector() + count > Blkif.DISK_SECTORS) {
            return new One(m, Blkif.BLKIF_RSP_ERROR);
        }
        VcpuId self = new VcpuId(back, 0);
        XenMachine after = m;
        List<Long> handles = new ArrayList<>();
        boolean refused = false;
        for (int s = 0; s < segs.size() && !refused; s++) {
            PvResult map = GrantTables.mapGrantRef(after, self, (DATA_GFN + s) << 12, GrantTables.GNTMAP_HOST_MAP
                    | (read ? 0 : GrantTables.GNTMAP_READONLY), segs.get(s).gref(), front);
            if (map instanceof PvResult.Done mapped) {
                after = mapped.machine();
                handles.add(mapped.rax());
            } else {
                refused = true;
            }
        }
        if (!refused) {
            PhysicalMemory mem = after.memory();
            long sector = req.sector();
            for (int s = 0; s < segs.size(); s++) {
                Blkif.Segment g = segs.get(s);
                long page = throughMapping(after, after.pv().domain(back).maptrack().get(handles.get(s).intValue()),
                        read);
                for (int k = g.firstSect(); k <= g.lastSect(); k++, sector++) {
                    long disk = diskFrame(after, back, sector);
                    int pageOff = k * Blkif.WORDS_PER_SECTOR;
                    for (int w = 0; w < Blkif.WORDS_PER_SECTOR; w++) {
                        mem = read ? mem.write(page, pageOff + w, mem.read(disk, diskOffset(sector) + w))
                                : mem.write(disk, diskOffset(sector) + w, mem.read(page, pageOff + w));
                    }
                }
            }
            after = EventChannels.withMemory(after, mem);
        }
        if (refused || !after.faults().breaks(Fault.BLKBACK_DATA_MAPPING_LEAKED)) {
            for (int s = 0; s < handles.size(); s++) {
                PvResult unmap = GrantTables.unmapGrantRef(after, self, (DATA_GFN + s) << 12, handles.get(s));
                if (!(unmap instanceof PvResult.Done u)) {
                    throw new IllegalStateException("the back-end's own data mapping would not unmap: " + unmap);
                }
                after = u.machine();
            }
        }
        return new One(after, refused ? Blkif.BLKIF_RSP_ERROR : Blkif.BLKIF_RSP_OKAY);
    }
}
