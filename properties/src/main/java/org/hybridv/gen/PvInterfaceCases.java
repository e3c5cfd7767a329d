package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.xen.EventChannels;
import org.hybridv.xen.Faults;
import org.hybridv.xen.GrantTables;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.PvHypercalls;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * Runs of the para-virtual interface (docs/pv-interfaces.md) on {@link HypervisorCases}' machine with the interface
 * brought up ({@link #machine}): d1 (direct, vCPU K) and d2 (HAP, vCPU H) with shared-info pages and grant tables,
 * upcall vector {@value #VECTOR}, d1 port 1 ↔ d2 port 1 connected, K's VIRQ_TIMER on d1 port 1, d2 granting
 * its frame 0x37 to d1 writable (ref 0) and read-only (ref 1), d1 granting its frame 0x2e to d2 (ref 0), and H's L1
 * mapping VA 0x9000 to gfn 9, where H maps that grant into its EPT. Beside them the block back-end d0
 * (docs/pv-interfaces.md, "The split block driver"; frames 0x58-0x5b) is connected to d1's front-end: d1's ring in its
 * frame {@link #BLK_RING} granted to d0 (ref {@link #BLK_RING_REF}), d1 port {@link #BLK_PORT} bound to d0's; the
 * block ops grant d1's frame {@link #BLK_DATA} to d0 (ref {@link #BLK_DATA_REF}), push requests, notify, let the
 * back-end serve and end the grant. An op is a small value ({@link Op}).
 */
public final class PvInterfaceCases {
    private PvInterfaceCases() {}

    public static final int VECTOR = 0xF3;
    public static final long HOST_ADDR = 0x9000;
    public static final long GRANTED = 0x37;
    /** d1's frame it grants to d2 (ref 0), which H maps into its EPT at guest-physical {@link #HOST_ADDR}. */
    public static final long GRANTED_BY_D1 = 0x2e;
    /** The linear address of H's L1 entry 9 through its L1's self-map at 0x8000. */
    public static final long H_L1_SLOT = 0x8000 + 9 * 8;

    /** The block back-end's domain, its first frame and its vCPU's VPID. */
    public static final int BLK_BACK = 0;
    public static final long BLK_BACK_FRAME = 0x58;
    public static final int BLK_BACK_VPID = 7;
    /** d1's ring frame, its grant reference to d0, d1's port for the back-end. */
    public static final long BLK_RING = 0x28;
    public static final int BLK_RING_REF = 2;
    public static final int BLK_PORT = 3;
    /** d1's data page, its grant reference to d0, and a reference d1 never grants. */
    public static final long BLK_DATA = 0x29;
    public static final int BLK_DATA_REF = 3;
    public static final int BLK_UNGRANTED_REF = 5;

    /** The op kinds. */
    public enum Kind { SEND_FROM_H, SEND_FROM_K, RUN_K, CLI_K, STI_K, HANDLE_K, BLOCK_K, SET_TIMER_K, ADVANCE_TIME,
        MAP, UNMAP, ACCESS_GRANT, COPY, MAP_H, UNMAP_H, ACCESS_GRANT_H, BLK_GRANT, BLK_REQUEST, BLK_NOTIFY, BLK_SERVE,
        BLK_END, EVTCHN_K, EVTCHN_H, MASK_K }

    /** One op: its kind and an argument (timer delta, ticks, grant ref, read-only, write). */
    public record Op(Kind kind, int arg, boolean flag) {
        @Override
        public String toString() {
            return kind + "(" + arg + (flag ? ", flag" : "") + ")";
        }
    }

    /**
     * A single op of any kind. The grant and send ops draw their argument from 0..15, which {@link #mapRef},
     * {@link #mapDomain}, {@link #unmapHandle}, {@link #unmapAddr}, {@link #sendPort} and the copy decoders turn into
     * adversarial arguments (a grant of another domain or of no domain, a reference that does not permit the caller, a
     * stale handle, the wrong address, a VIRQ or free port, a copy into a read-only grant or another domain's frame, a
     * bad length); the windows use arguments 0 and 1, the valid ones.
     */
    public static Op generateOp(Choices c) {
        Kind k = Kind.values()[c.below(Kind.values().length)];
        boolean wide = k == Kind.MAP || k == Kind.UNMAP || k == Kind.COPY || k == Kind.MAP_H || k == Kind.UNMAP_H
                || k == Kind.SEND_FROM_H || k == Kind.SEND_FROM_K;
        return new Op(k, c.below(k == Kind.MAP_H ? 64 : k == Kind.EVTCHN_K || k == Kind.EVTCHN_H || k == Kind.COPY
                ? 32 : wide ? 16 : 4),
                c.flag(false, 40));
    }

    /** An event-channel op's command, by {@code arg & 7} (see {@link #evtchnArgs}). */
    public static int evtchnCmd(Op op) {
        int[] cmds = {EventChannels.EVTCHNOP_ALLOC_UNBOUND, EventChannels.EVTCHNOP_ALLOC_UNBOUND,
            EventChannels.EVTCHNOP_BIND_INTERDOMAIN, EventChannels.EVTCHNOP_BIND_VIRQ, EventChannels.EVTCHNOP_BIND_VIRQ,
            EventChannels.EVTCHNOP_CLOSE, EventChannels.EVTCHNOP_UNMASK, EventChannels.EVTCHNOP_CLOSE};
        return cmds[op.arg() & 7];
    }

    /**
     * An event-channel op's arguments {a1, a2} as {@code event_channel_op} takes them, by {@code arg & 7} and
     * {@code p = (arg >> 3) & 3}: 0 allocate an unbound port for the other domain or (p odd) for a domain that does
     * not exist; 1 for {@code DOMID_SELF} or (p odd) for d0; 2 bind to the other domain's port 1 + p; 3 bind VIRQ 0 or
     * (p odd) 1 of vCPU 0; 4 bind VIRQ 0 of vCPU 1 + p; 5 close port 1 + p; 6 unmask port p; 7 close port 4 + p.
     * ({@code other}: d2 for d1's ops, d1 for d2's.)
     */
    public static long[] evtchnArgs(Op op, int other) {
        int p = (op.arg() >> 3) & 3;
        switch (op.arg() & 7) {
            case 0:
                return new long[] {EventChannels.DOMID_SELF, (p & 1) != 0 ? 9 : other};
            case 1:
                return new long[] {EventChannels.DOMID_SELF, (p & 1) != 0 ? 0 : EventChannels.DOMID_SELF};
            case 2:
                return new long[] {other, 1 + p};
            case 3:
                return new long[] {(p & 1) != 0 ? 1 : 0, 0};
            case 4:
                return new long[] {EventChannels.VIRQ_TIMER, 1 + p};
            case 5:
                return new long[] {1 + p, 0};
            case 6:
                return new long[] {p, 0};
            default:
                return new long[] {4 + p, 0};
        }
    }

    /** The port a guest mask op masks: 1..4. */
    public static int maskPort(Op op) {
        return 1 + (op.arg() & 3);
    }

    /** The grant reference a map op names: 0..3 (d2's refs 0 and 1 are grants to d1, 2 and 3 are empty). */
    public static int mapRef(Op op) {
        return op.arg() & 3;
    }

    /** The granting domain a map op names: d2 (or d1 for H), {@code DOMID_SELF}, a domain that does not exist, d0. */
    public static int mapDomain(Op op, int usual) {
        int[] doms = {usual, EventChannels.DOMID_SELF, 9, 0};
        return doms[(op.arg() >> 2) & 3];
    }

    /**
     * The address a map op names: d1's {@link #HOST_ADDR}; for d2 (HAP: a guest-physical address) by
     * {@code (arg >> 4) & 3} {@link #HOST_ADDR}, an unaligned address in its page, guest-physical 0 (RAM), or
     * {@link #HOST_ADDR}.
     */
    public static long mapAddr(Op op) {
        if (op.kind() != Kind.MAP_H) {
            return HOST_ADDR;
        }
        long[] addrs = {HOST_ADDR, HOST_ADDR + 8, 0, HOST_ADDR};
        return addrs[(op.arg() >> 4) & 3];
    }

    /** A copy op's source domain: d2, or (arg 16..31 with a gfn destination of another domain) d9, which does not exist. */
    public static int copySourceDomain(Op op) {
        return op.arg() >= 16 && ((op.arg() >> 2) & 3) == 3 ? 9 : 2;
    }

    /** The map handle an unmap op names: 0..3. */
    public static int unmapHandle(Op op) {
        return op.arg() & 3;
    }

    /** The address an unmap op names: {@link #HOST_ADDR}, or the page after it. */
    public static long unmapAddr(Op op) {
        return ((op.arg() >> 2) & 1) != 0 ? HOST_ADDR + 0x1000 : HOST_ADDR;
    }

    /** The port a send op names: 1 for arguments 0 and 1, the argument otherwise (d1: 2 is VIRQ_TIMER, 3 the block port). */
    public static int sendPort(Op op) {
        return op.arg() <= 1 ? 1 : op.arg();
    }

    /** A copy op's source: d2's grant reference 0..3. */
    public static int copySourceRef(Op op) {
        return op.arg() & 3;
    }

    /**
     * A copy op's destination and length by {@code (arg >> 2) & 3}: 0 d1's own gfn 0x2c, 8 bytes; 1 d2's grant
     * {@code arg & 1} (0 writable, 1 read-only), 16 bytes; 2 d1's gfn 0x2c, 12 bytes (not a multiple of 8); 3 gfn 5 of
     * d2, which is not the caller's, 8 bytes; with {@code arg >= 16} 4096 bytes for 0 and 1, none for 2. As {domain,
     * ref or -1, gfn or -1, len}.
     */
    public static long[] copyDest(Op op) {
        boolean alt = op.arg() >= 16; // the other length: a whole page, or none
        switch ((op.arg() >> 2) & 3) {
            case 1:
                return new long[] {2, op.arg() & 1, -1, alt ? 4096 : 16};
            case 2:
                return new long[] {1, -1, 0x2c, alt ? 0 : 12};
            case 3:
                return new long[] {2, -1, 5, 8};
            default:
                return new long[] {1, -1, 0x2c, alt ? 4096 : 8};
        }
    }

    /**
     * A run: random ops, and with some probability grant windows (map one of the two grants, read-only or not; use
     * it; unmap), delivery windows (K disables interrupts, an event arrives, K runs, enables them, runs), block
     * windows (grant the data page, push a request, notify, the back-end serves, end the grant) and timer windows
     * (arm K's timer, advance time to or past its deadline), copy windows (d1 copies through a grant that permits it)
     * and channel windows (d1 allocates a port for d2, d2 binds to it, d1 sends on it, one side closes it, d1 sends again).
     */
    public static List<Op> generate(Choices c) {
        List<Op> ops = new ArrayList<>();
        int n = 1 + c.below(10);
        for (int i = 0; i < n; i++) {
            int w = c.weighted(6, 2, 2, 1, 2, 1, 1, 1);
            if (w == 7) {
                // d1 allocates its lowest free port for d2, d2 binds to it (both sides then see the channel), d1
                // sends on it, one side closes it, d1 sends again (d1's ports 1..3 are bound at bring-up: the new one is 4)
                ops.add(new Op(Kind.EVTCHN_K, 0, false));
                ops.add(new Op(Kind.EVTCHN_H, 2 | 3 << 3, false));
                ops.add(new Op(Kind.SEND_FROM_K, 4, false));
                // either side closes (d2's new port is 2): d1's port 4 is then unbound again or free; d1 sends again
                ops.add(c.flag(false, 50) ? new Op(Kind.EVTCHN_H, 5 | 1 << 3, false) : new Op(Kind.EVTCHN_K, 7, false));
                ops.add(new Op(Kind.SEND_FROM_K, 4, false));
            } else if (w == 6) {
                // d1 copies from d2's grant 0 or 1 into its own frame or d2's writable grant, 8 bytes to a page
                ops.add(new Op(Kind.COPY, c.below(2) | (c.below(2) << 2) | (c.below(2) << 4), false));
            } else if (w == 5) {
                int d = c.below(4);
                ops.add(new Op(Kind.SET_TIMER_K, d, false));
                ops.add(new Op(Kind.ADVANCE_TIME, d + c.below(2), false));
            } else if (w == 4) {
                // several requests in flight (BLK-5), each of up to 11 segments (BLK-7; blkRequest decodes the arg)
                ops.add(new Op(Kind.BLK_GRANT, 0, c.flag(false, 30)));
                int k = 1 + c.below(3);
                for (int j = 0; j < k; j++) {
                    ops.add(new Op(Kind.BLK_REQUEST, c.below(BLK_SHAPES), c.flag(false, 40)));
                }
                ops.add(new Op(Kind.BLK_NOTIFY, 0, false));
                ops.add(new Op(Kind.BLK_SERVE, 0, false));
                ops.add(new Op(Kind.BLK_END, 0, false));
            } else if (w == 3) {
                ops.add(new Op(Kind.MAP_H, 0, c.flag(false, 40)));
                ops.add(new Op(Kind.ACCESS_GRANT_H, c.below(4), c.flag(false, 50)));
                ops.add(new Op(Kind.UNMAP_H, 0, false));
                ops.add(new Op(Kind.ACCESS_GRANT_H, 0, false));
            } else if (w == 1) {
                ops.add(new Op(Kind.MAP, c.below(2), c.flag(false, 40)));
                ops.add(new Op(Kind.ACCESS_GRANT, 0, c.flag(false, 50)));
                ops.add(new Op(Kind.UNMAP, 0, false));
                ops.add(new Op(Kind.ACCESS_GRANT, 0, false));
            } else if (w == 2) {
                ops.add(new Op(Kind.RUN_K, 0, false));
                ops.add(new Op(Kind.CLI_K, 0, false));
                ops.add(new Op(Kind.SEND_FROM_H, 0, false));
                ops.add(new Op(Kind.RUN_K, 0, false));
                ops.add(new Op(Kind.STI_K, 0, false));
                ops.add(new Op(Kind.RUN_K, 0, false));
            } else {
                ops.add(generateOp(c));
            }
        }
        return ops;
    }

    public static final VcpuId K = HypervisorCases.K;
    public static final VcpuId H = HypervisorCases.H;

    private record Key(Faults faults, long ringBase) {}

    private static final java.util.Map<Key, XenMachine> MACHINES = new java.util.concurrent.ConcurrentHashMap<>();

    /** The machine of the class comment, with {@code faults} (built once per fault set: states are values). */
    public static XenMachine machine(Faults faults) {
        return machine(faults, 0);
    }

    /**
     * The machine of the class comment with {@code faults}, its block ring at index {@code ringBase}: d1's ring as
     * an earlier connection left it with {@code ringBase} requests answered, to which d0 attaches (BLK-8). Built once
     * per fault set and base.
     */
    public static XenMachine machine(Faults faults, long ringBase) {
        return MACHINES.computeIfAbsent(new Key(faults, ringBase), k -> build(k.faults(), k.ringBase()));
    }

    /**
     * Where a run's block ring starts (BLK-8): 0 (a fresh ring) in half the runs; else 29, so that a few requests take
     * the ring's indices past its 32 slots, or 2^32 − 2, so that they also wrap the 32-bit counters.
     */
    public static long ringBase(Choices c) {
        int w = c.weighted(2, 1, 1);
        return w == 0 ? 0 : w == 1 ? 29 : 0xFFFF_FFFEL;
    }

    private static XenMachine build(Faults faults, long ringBase) {
        XenMachine m = HypervisorCases.initialMachine(faults, 1);
        long[][] pages = {{0x2a, 0x2b}, {5, 6}};
        List<VcpuId> vcpus = List.of(K, H);
        for (int i = 0; i < 2; i++) { // in the order of the pvSetup step: shared info, grant table, callback
            VcpuId v = vcpus.get(i);
            m = ok(m, v, Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP, PvHypercalls.XENMEM_ADD_TO_PHYSMAP,
                    PvHypercalls.XENMAPSPACE_SHARED_INFO, pages[i][0]));
            m = ok(m, v, Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP, PvHypercalls.XENMEM_ADD_TO_PHYSMAP,
                    PvHypercalls.XENMAPSPACE_GRANT_TABLE, pages[i][1]));
            m = ok(m, v, Hypercall.of(PvHypercalls.HYPERVISOR_HVM_OP, PvHypercalls.HVMOP_SET_PARAM,
                    PvHypercalls.HVM_PARAM_CALLBACK_IRQ, (PvHypercalls.HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | VECTOR));
        }
        m = ok(m, H, evtchn(EventChannels.EVTCHNOP_ALLOC_UNBOUND, EventChannels.DOMID_SELF, 1));
        m = ok(m, K, evtchn(EventChannels.EVTCHNOP_BIND_INTERDOMAIN, 2, 1));
        m = ok(m, K, evtchn(EventChannels.EVTCHNOP_BIND_VIRQ, EventChannels.VIRQ_TIMER, 0));
        m = EventChannels.guestHandleUpcall(m, K);
        m = GrantTables.guestGrant(m, 2, 0, 1, GRANTED, false, false);
        m = GrantTables.guestGrant(m, 2, 1, 1, GRANTED, true, false);
        m = GrantTables.guestGrant(m, 1, 0, 2, GRANTED_BY_D1, false, false);
        // H's own store through its L1's self-map at 0x8000: L1[9] maps VA 0x9000 to gfn 9, where H maps grants
        m = Hypervisor.run(m, H, new org.hybridv.vmx.GuestInstruction.MemoryAccess(org.hybridv.x86.Access.write(
                H_L1_SLOT, org.hybridv.x86.Entry.table(9, true, true).raw()))).machine();
        // the block back-end and d1's front-end (the order of the blk steps of PvInterfaceProperty's scenarios)
        org.hybridv.xen.HvResult be = org.hybridv.xen.BlkBack.create(m, BLK_BACK, new long[] {BLK_BACK_FRAME,
            BLK_BACK_FRAME + 1, BLK_BACK_FRAME + 2, BLK_BACK_FRAME + 3}, BLK_BACK_VPID);
        if (!(be instanceof org.hybridv.xen.HvResult.Done done)) {
            throw new IllegalStateException("block back-end: " + be);
        }
        m = ringInit(done.machine(), ringBase);
        m = GrantTables.guestGrant(m, 1, BLK_RING_REF, BLK_BACK, BLK_RING, false, false);
        m = ok(m, K, evtchn(EventChannels.EVTCHNOP_ALLOC_UNBOUND, EventChannels.DOMID_SELF, BLK_BACK));
        org.hybridv.xen.BlkBack.Result c = org.hybridv.xen.BlkBack.connect(m, BLK_BACK, 1, BLK_RING_REF, BLK_PORT);
        if (!(c instanceof org.hybridv.xen.BlkBack.Served connected)) {
            throw new IllegalStateException("block back-end connection: " + c);
        }
        return connected.machine();
    }

    /** d1's {@code SHARED_RING_INIT} stores on {@link #BLK_RING} (BLK-1), its indices at {@code base} (BLK-8). */
    static XenMachine ringInit(XenMachine m, long base) {
        long[] w = org.hybridv.xen.Blkif.words(org.hybridv.xen.Blkif.attachedAt(base));
        return m.withPaging(m.paging().withMemory(m.memory().write(BLK_RING, 0, w[0]).write(BLK_RING, 1, w[1])));
    }

    /** The number of request shapes a {@code BLK_REQUEST} op's argument selects ({@link #blkSegments}). */
    public static final int BLK_SHAPES = 512;

    /**
     * The request of op {@code arg, write} at ring index {@code idx} as d1's front-end writes it (BLK-1, BLK-7): its id
     * {@code idx · 2^16 + arg} (an id the back-end must echo, not the slot), READ or WRITE, {@code nr_segments} by
     * {@code arg & 7}: 1, 1, 2, 3, 4, 11, 0 or 12 (the last two are wrong: none, more than a slot holds); its sector by
     * {@code (arg >> 7) & 3}: 0, 5, the last the disk allows for its sectors, one past that; the segments are
     * {@link #blkSegments}'s.
     */
    public static org.hybridv.xen.Blkif.Request blkRequest(long idx, int arg, boolean write) {
        int[] counts = {1, 1, 2, 3, 4, 11, 0, 12};
        List<org.hybridv.xen.Blkif.Segment> segs = blkSegments(arg);
        long total = 0;
        for (org.hybridv.xen.Blkif.Segment g : segs) {
            total += Math.max(0, g.lastSect() - g.firstSect() + 1);
        }
        long edge = Math.max(0, org.hybridv.xen.Blkif.DISK_SECTORS - total);
        long[] sectors = {0, 5, edge, edge + 1};
        org.hybridv.xen.Blkif.Segment first = segs.isEmpty() ? new org.hybridv.xen.Blkif.Segment(0, 0, 0)
                : segs.get(0);
        return new org.hybridv.xen.Blkif.Request(write ? org.hybridv.xen.Blkif.BLKIF_OP_WRITE
                : org.hybridv.xen.Blkif.BLKIF_OP_READ, counts[arg & 7], 0, (idx << 16) | arg, sectors[(arg >> 7) & 3],
                first.gref(), first.firstSect(), first.lastSect());
    }

    /**
     * The segments op argument {@code arg} writes (as many as its {@code nr_segments}, at most the 11 a slot holds),
     * by {@code (arg >> 3) & 3}: one sector each at varied places of the page; two sectors each, alternately the
     * page's first and last two; the whole page then single sectors; or as the first, but the last segment wrong
     * (its first sector after its last, or its last sector past the page). All name d1's data grant
     * {@link #BLK_DATA_REF} (one page: the segments are transferred in order), except when {@code (arg >> 5) & 3} is
     * 3: the middle one names {@link #BLK_UNGRANTED_REF}, which d1 never grants.
     */
    public static List<org.hybridv.xen.Blkif.Segment> blkSegments(int arg) {
        int[] counts = {1, 1, 2, 3, 4, 11, 0, 12};
        int n = Math.min(org.hybridv.xen.Blkif.MAX_SEGMENTS, counts[arg & 7]);
        int shape = (arg >> 3) & 3;
        List<org.hybridv.xen.Blkif.Segment> out = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            long ref = ((arg >> 5) & 3) == 3 && s == n / 2 ? BLK_UNGRANTED_REF : BLK_DATA_REF;
            int first;
            int last;
            if (shape == 1) {
                first = s % 2 == 0 ? 0 : 6;
                last = first + 1;
            } else if (shape == 2 && s == 0) {
                first = 0;
                last = 7;
            } else if (shape == 2) {
                first = 3;
                last = 3;
            } else if (shape == 3 && s == n - 1) {
                first = n % 2 == 0 ? 5 : 7;
                last = n % 2 == 0 ? 4 : 8;
            } else {
                first = s * 5 % 8;
                last = first;
            }
            out.add(new org.hybridv.xen.Blkif.Segment(ref, first, last));
        }
        return out;
    }

    /**
     * d1's stores of a request into the slot at its ring's req_prod — words 0..2, then its segments from word 3 —
     * then req_prod + 1 (BLK-1, BLK-2, BLK-7).
     */
    public static XenMachine pushRequest(XenMachine m, int arg, boolean write) {
        org.hybridv.xen.Blkif.Indices i = org.hybridv.xen.Blkif.indices(m.memory(), BLK_RING);
        long[] w = org.hybridv.xen.Blkif.words(blkRequest(i.reqProd(), arg, write));
        org.hybridv.x86.PhysicalMemory mem = m.memory();
        int slot = org.hybridv.xen.Blkif.slot(i.reqProd());
        for (int k = 0; k < 3; k++) {
            mem = mem.write(BLK_RING, slot + k, w[k]);
        }
        List<org.hybridv.xen.Blkif.Segment> segs = blkSegments(arg);
        for (int k = 0; k < segs.size(); k++) {
            mem = mem.write(BLK_RING, slot + 3 + k, org.hybridv.xen.Blkif.word(segs.get(k)));
        }
        long[] ix = org.hybridv.xen.Blkif.words(new org.hybridv.xen.Blkif.Indices((i.reqProd() + 1) & 0xFFFF_FFFFL,
                i.reqEvent(), i.rspProd(), i.rspEvent()));
        return m.withPaging(m.paging().withMemory(mem.write(BLK_RING, 0, ix[0])));
    }

    public static Hypercall evtchn(int cmd, long a1, long a2) {
        return Hypercall.of(PvHypercalls.HYPERVISOR_EVENT_CHANNEL_OP, cmd, a1, a2);
    }

    public static Hypercall gnttab(int cmd, long a1, long a2, long a3, long a4) {
        return Hypercall.of(PvHypercalls.HYPERVISOR_GRANT_TABLE_OP, cmd, a1, a2, a3, a4);
    }

    private static XenMachine ok(XenMachine m, VcpuId v, Hypercall c) {
        HvStep s = Hypervisor.hypercall(m, v, c);
        if (!(s.outcome() instanceof org.hybridv.xen.VcpuOutcome.HypercallDone)) {
            throw new IllegalStateException("PV bring-up " + c + ": " + s.outcome());
        }
        return s.machine();
    }
}
