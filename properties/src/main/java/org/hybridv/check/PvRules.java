package org.hybridv.check;

import java.util.Map;
import org.hybridv.gen.PvInterfaceCases;
import org.hybridv.gen.PvInterfaceCases.Op;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.DomainPv;
import org.hybridv.xen.EventChannel;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.GrantMapping;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.PageType;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * The step rules of {@link PvInterfaceProperty}'s hypercalls, stated from the rulebook (docs/rules/xen.md GNT-1, GNT-2,
 * GNT-5, GNT-6, EVT-5) over what is observable before and after the call — the grant-table words in memory decoded
 * here at the bit positions of {@code struct grant_entry_v1} (flags 15:0, domid 31:16, frame 63:32), the frame table,
 * the maptrack and the port bindings — never by calling the grant or event code: whether the call is accepted or
 * refused, that a refusal changes nothing, and what an accepted map, unmap or copy leaves behind. Reported as I7 (the
 * step's outcome is the one the rules define).
 */
final class PvRules {
    private PvRules() {}

    /** A step that broke its rule: the rule, what the rules expected ("ok" or "refused"), what happened. */
    record Broken(String rule, boolean expectedOk, String why) {}

    // struct grant_entry_v1 and the GNTTABOP arguments, restated (xen/include/public/grant_table.h)
    private static final long GTF_PERMIT_ACCESS = 1;
    private static final long GTF_TYPE_MASK = 3;
    private static final long GTF_READONLY = 1 << 2;
    private static final int DOMID_SELF = 0x7FF0;
    private static final int GRANT_ENTRIES = 512;

    /** The raw grant entry {@code ref} of domain {@code d}, or null: no such domain, no grant table, ref out of range. */
    private static Long grantWord(XenMachine m, int d, long ref) {
        if (!m.domains().containsKey(d) || ref < 0 || ref >= GRANT_ENTRIES) {
            return null;
        }
        long gt = m.pv().domain(d).grantTable();
        return gt < 0 ? null : m.memory().read(gt, (int) ref);
    }

    /** GNT-1: the entry permits domain {@code d} (type permit-access, domid {@code d}). */
    private static boolean permits(Long raw, int d) {
        return raw != null && (raw & GTF_TYPE_MASK) == GTF_PERMIT_ACCESS && ((raw >>> 16) & 0xFFFF) == d;
    }

    private static boolean ownedBy(XenMachine m, long frame, int d) {
        return frame >= 0 && frame < m.frames().size() && m.frames().get(frame).owner() == d;
    }

    /** A frame that can take a WRITABLE type reference: not a page table in use (GNT-3, GNT-6). */
    private static boolean canBeWritable(XenMachine m, long frame) {
        FrameInfo f = m.frames().get(frame);
        return f.typeCount() == 0 || f.type() == PageType.WRITABLE;
    }

    /** The verdict of the rules on {@code op}'s hypercall from {@code pre} ({@code s}: its step); null if it obeys them. */
    static Broken check(XenMachine pre, Op op, HvStep s) {
        if (!(s.outcome() instanceof VcpuOutcome.HypercallDone) && !(s.outcome() instanceof VcpuOutcome
                .HypercallRefused)) {
            return null; // the call did not run: the vCPU is blocked (TIME-3), its rules are not at stake
        }
        boolean ok = s.outcome() instanceof VcpuOutcome.HypercallDone;
        Expected e = expected(pre, op);
        if (ok != e.ok()) {
            return new Broken(e.rule(), e.ok(), "the call was " + (ok ? "accepted" : "refused: " + s.outcome())
                    + " but " + e.rule() + " " + (e.ok() ? "accepts it" : "refuses it") + ": " + e.why());
        }
        XenMachine post = s.machine();
        if (!ok) {
            // a refused call changes nothing (GNT-2 "each refusing with nothing changed", EVT-5)
            // (the vCPU's re-entry may inject an upcall already pending: that is EVT-9's, not the call's)
            if (!post.memory().equals(pre.memory()) || !post.frames().equals(pre.frames())) {
                return new Broken(e.rule(), false, "the refused call changed memory or the frame table");
            }
            for (Map.Entry<Integer, DomainPv> de : pre.pv().domains().entrySet()) {
                DomainPv a = de.getValue();
                DomainPv b = post.pv().domain(de.getKey());
                if (!a.ports().equals(b.ports()) || !a.maptrack().equals(b.maptrack())) {
                    return new Broken(e.rule(), false, "the refused call changed d" + de.getKey()
                            + "'s ports or maptrack");
                }
            }
            return null;
        }
        int ld = PvInterfaceProperty.caller(op).domain();
        Map<Integer, GrantMapping> before = pre.pv().domain(ld).maptrack();
        Map<Integer, GrantMapping> after = post.pv().domain(ld).maptrack();
        switch (op.kind()) {
            case MAP:
            case MAP_H: {
                // GNT-2: one new map handle, of the named grant, with the access asked for, at host_addr
                int rd = granting(op, ld);
                long raw = grantWord(pre, rd, PvInterfaceCases.mapRef(op));
                if (after.size() != before.size() + 1) {
                    return new Broken("GNT-2", true, "the maptrack of d" + ld + " went from " + before.size()
                            + " to " + after.size() + " entries");
                }
                for (Map.Entry<Integer, GrantMapping> me : after.entrySet()) {
                    if (before.containsKey(me.getKey())) {
                        continue;
                    }
                    GrantMapping g = me.getValue();
                    if (g.grantingDomain() != rd || g.ref() != PvInterfaceCases.mapRef(op) || g.frame() != raw >>> 32
                            || g.readonly() != op.flag() || g.hostAddr() != PvInterfaceCases.mapAddr(op)
                            || s.outcome() instanceof VcpuOutcome.HypercallDone d && d.rax() != me.getKey()) {
                        return new Broken("GNT-2", true, "new map handle " + me.getKey() + " is " + g + ", not grant "
                                + PvInterfaceCases.mapRef(op) + " of d" + rd + " (frame 0x"
                                + Long.toHexString(raw >>> 32) + (op.flag() ? ", read-only" : ", writable") + ")");
                    }
                }
                return null;
            }
            case UNMAP:
            case UNMAP_H: {
                // GNT-5: the handle is released and nothing else of the maptrack changes
                int h = PvInterfaceCases.unmapHandle(op);
                Map<Integer, GrantMapping> expect = new java.util.TreeMap<>(before);
                expect.remove(h);
                if (!after.equals(expect)) {
                    return new Broken("GNT-5", true, "after unmapping handle " + h + " d" + ld + "'s maptrack is "
                            + after + ", not " + expect);
                }
                return null;
            }
            case COPY: {
                // GNT-6: the destination's first len bytes are the source's, the rest of it is unchanged
                long sf = grantWord(pre, PvInterfaceCases.copySourceDomain(op), PvInterfaceCases.copySourceRef(op))
                        >>> 32;
                long df = destFrame(pre, op);
                int words = (int) (PvInterfaceCases.copyDest(op)[3] / 8);
                PhysicalMemory a = pre.memory();
                PhysicalMemory b = post.memory();
                for (int i = 0; i < PhysicalMemory.WORDS_PER_FRAME; i++) {
                    long want = i < words ? a.read(sf, i) : a.read(df, i);
                    if (b.read(df, i) != want) {
                        return new Broken("GNT-6", true, "word " + i + " of destination frame 0x"
                                + Long.toHexString(df) + " is 0x" + Long.toHexString(b.read(df, i)) + ", not 0x"
                                + Long.toHexString(want) + " (copy of " + words + " words from frame 0x"
                                + Long.toHexString(sf) + ")");
                    }
                }
                return null;
            }
            case EVTCHN_K:
            case EVTCHN_H:
                return checkEvtchn(pre, op, post, s);
            default:
                return null; // a send's routing is I10's
        }
    }

    // the 2-level ABI's bitmaps in the shared-info frame, restated (xen.h: evtchn_pending at byte 2048, mask at 2560)
    private static final int PENDING_WORD = 256;
    private static final int MASK_WORD = 320;
    private static final int NR_EVENT_CHANNELS = 4096;
    private static final int NR_VIRQS = 24;

    private static boolean bit(XenMachine m, int d, int base, int port) {
        long si = m.pv().domain(d).sharedInfo();
        return (m.memory().read(si, base + port / 64) >>> (port % 64) & 1) != 0;
    }

    /** The lowest port above 0 that {@code d} has not bound (get_free_port), or -1. */
    private static int lowestFree(XenMachine m, int d) {
        for (int p = 1; p < NR_EVENT_CHANNELS; p++) {
            if (!m.pv().domain(d).ports().containsKey(p)) {
                return p;
            }
        }
        return -1;
    }

    private static boolean exists(XenMachine m, long d) {
        return d >= 0 && d <= FrameInfo.MAX_DOMAIN && m.domains().containsKey((int) d);
    }

    private static long self(long dom, int d) {
        return dom == DOMID_SELF ? d : dom;
    }

    private static Expected expectedEvtchn(XenMachine m, Op op, int d) {
        long[] a = PvInterfaceCases.evtchnArgs(op, 3 - d);
        Map<Integer, EventChannel> ports = m.pv().domain(d).ports();
        int cmd = PvInterfaceCases.evtchnCmd(op);
        boolean free = lowestFree(m, d) > 0;
        if (cmd == org.hybridv.xen.EventChannels.EVTCHNOP_ALLOC_UNBOUND) {
            long r = self(a[1], d);
            return new Expected(exists(m, r) && free, "EVT-2", "alloc_unbound for d" + r);
        }
        if (cmd == org.hybridv.xen.EventChannels.EVTCHNOP_BIND_INTERDOMAIN) {
            long r = self(a[0], d);
            EventChannel c = exists(m, r) ? m.pv().domain((int) r).ports().get((int) a[1]) : null;
            boolean ok = c instanceof EventChannel.Unbound u && u.remoteDomain() == d && free;
            return new Expected(ok, "EVT-3", "bind_interdomain to port " + a[1] + " of d" + r + " (" + c + ")");
        }
        if (cmd == org.hybridv.xen.EventChannels.EVTCHNOP_BIND_VIRQ) {
            boolean taken = false;
            for (EventChannel c : ports.values()) {
                taken |= c instanceof EventChannel.Virq v && v.virq() == a[0] && v.notifyVcpu() == a[1];
            }
            boolean ok = a[0] >= 0 && a[0] < NR_VIRQS && a[1] >= 0 && a[1] < m.domain(d).vcpus().size() && a[1] < 32
                    && !taken && free;
            return new Expected(ok, "EVT-4", "bind_virq " + a[0] + " of vCPU " + a[1] + (taken ? " (bound)" : ""));
        }
        if (cmd == org.hybridv.xen.EventChannels.EVTCHNOP_CLOSE) {
            return new Expected(a[0] > 0 && a[0] < NR_EVENT_CHANNELS && ports.containsKey((int) a[0]), "EVT-7",
                    "close port " + a[0] + " (" + ports.get((int) a[0]) + ")");
        }
        return new Expected(a[0] > 0 && a[0] < NR_EVENT_CHANNELS, "EVT-8", "unmask port " + a[0]);
    }

    /** EVT-2, EVT-3, EVT-4, EVT-7, EVT-8: the ports of both domains (and the bits) an accepted command leaves. */
    private static Broken checkEvtchn(XenMachine pre, Op op, XenMachine post, HvStep s) {
        int d = PvInterfaceProperty.caller(op).domain();
        int o = 3 - d;
        long[] a = PvInterfaceCases.evtchnArgs(op, o);
        int cmd = PvInterfaceCases.evtchnCmd(op);
        Map<Integer, EventChannel> mine = new java.util.TreeMap<>(pre.pv().domain(d).ports());
        Map<Integer, EventChannel> theirs = null; // the other domain's expected ports, when the command touches them
        int r = -1;
        String rule;
        int p = lowestFree(pre, d);
        long rax = ((VcpuOutcome.HypercallDone) s.outcome()).rax();
        if (cmd == org.hybridv.xen.EventChannels.EVTCHNOP_ALLOC_UNBOUND) {
            rule = "EVT-2";
            mine.put(p, new EventChannel.Unbound((int) self(a[1], d), 0));
        } else if (cmd == org.hybridv.xen.EventChannels.EVTCHNOP_BIND_INTERDOMAIN) {
            rule = "EVT-3";
            r = (int) self(a[0], d);
            EventChannel u = pre.pv().domain(r).ports().get((int) a[1]);
            mine.put(p, new EventChannel.Interdomain(r, (int) a[1], 0));
            theirs = new java.util.TreeMap<>(r == d ? mine : pre.pv().domain(r).ports());
            theirs.put((int) a[1], new EventChannel.Interdomain(d, p, u.notifyVcpu()));
            if (!bit(post, d, PENDING_WORD, p)) {
                return new Broken(rule, true, "the new local port " + p + " is not pending");
            }
        } else if (cmd == org.hybridv.xen.EventChannels.EVTCHNOP_BIND_VIRQ) {
            rule = "EVT-4";
            mine.put(p, new EventChannel.Virq((int) a[0], (int) a[1]));
        } else if (cmd == org.hybridv.xen.EventChannels.EVTCHNOP_CLOSE) {
            rule = "EVT-7";
            p = (int) a[0];
            EventChannel c = mine.remove(p);
            if (c instanceof EventChannel.Interdomain i && !(i.remoteDomain() == d && i.remotePort() == p)) {
                r = i.remoteDomain();
                theirs = new java.util.TreeMap<>(r == d ? mine : pre.pv().domain(r).ports());
                theirs.put(i.remotePort(), new EventChannel.Unbound(d, theirs.get(i.remotePort()).notifyVcpu()));
                if (r == d) {
                    mine = theirs;
                }
            }
            if (bit(post, d, PENDING_WORD, p)) {
                return new Broken(rule, true, "closed port " + p + " is still pending");
            }
            rax = p; // close returns 0: nothing to compare
        } else {
            rule = "EVT-8";
            p = (int) a[0];
            if (bit(post, d, MASK_WORD, p)) {
                return new Broken(rule, true, "port " + p + " is still masked");
            }
            rax = p;
        }
        if (rax != p) {
            return new Broken(rule, true, "RAX is " + rax + ", not the lowest free port " + p);
        }
        if (!post.pv().domain(d).ports().equals(mine)) {
            return new Broken(rule, true, "d" + d + "'s ports are " + post.pv().domain(d).ports() + ", not " + mine);
        }
        if (theirs != null && r != d && !post.pv().domain(r).ports().equals(theirs)) {
            return new Broken(rule, true, "d" + r + "'s ports are " + post.pv().domain(r).ports() + ", not "
                    + theirs);
        }
        for (int x : pre.pv().domains().keySet()) {
            if (x != d && x != r && !post.pv().domain(x).ports().equals(pre.pv().domain(x).ports())) {
                return new Broken(rule, true, "d" + x + "'s ports changed");
            }
        }
        return null;
    }

    private static int granting(Op op, int ld) {
        int dom = PvInterfaceCases.mapDomain(op, ld == 1 ? 2 : 1);
        return dom == DOMID_SELF ? ld : dom;
    }

    /** The copy's destination frame: the grant's frame, or d1's own gfn (a direct-mode domain's gfn is its mfn). */
    private static long destFrame(XenMachine m, Op op) {
        long[] d = PvInterfaceCases.copyDest(op);
        if (d[1] >= 0) {
            Long raw = grantWord(m, (int) d[0], d[1]);
            return raw == null ? -1 : raw >>> 32;
        }
        return d[0] == 1 && ownedBy(m, d[2], 1) ? d[2] : -1;
    }

    /** What the rules say of {@code op}'s call from {@code m}. */
    record Expected(boolean ok, String rule, String why) {}

    static Expected expected(XenMachine m, Op op) {
        int ld = PvInterfaceProperty.caller(op).domain();
        switch (op.kind()) {
            case SEND_FROM_H:
            case SEND_FROM_K: {
                EventChannel c = m.pv().domain(ld).ports().get(PvInterfaceCases.sendPort(op));
                boolean ok = c instanceof EventChannel.Interdomain || c instanceof EventChannel.Unbound;
                return new Expected(ok, "EVT-5", "port " + PvInterfaceCases.sendPort(op) + " of d" + ld + " is "
                        + (c == null ? "free" : c));
            }
            case MAP:
            case MAP_H: {
                int rd = granting(op, ld);
                int ref = PvInterfaceCases.mapRef(op);
                Long raw = grantWord(m, rd, ref);
                String g = "grant " + ref + " of d" + rd + " (" + (raw == null ? "none" : "0x" + Long.toHexString(raw))
                        + ")";
                if (!permits(raw, ld)) {
                    return new Expected(false, "GNT-2", g + " does not permit d" + ld);
                }
                if (!op.flag() && (raw & GTF_READONLY) != 0) {
                    return new Expected(false, "GNT-2", g + " is read-only and the mapping writable");
                }
                long frame = raw >>> 32;
                if (!ownedBy(m, frame, rd) || !op.flag() && !canBeWritable(m, frame)) {
                    return new Expected(false, "GNT-2", g + ": frame 0x" + Long.toHexString(frame)
                            + " is not d" + rd + "'s or cannot be mapped writable");
                }
                long addr = PvInterfaceCases.mapAddr(op);
                if (m.domain(ld).mode() == org.hybridv.xen.MmuMode.HAP && ((addr & 0xFFF) != 0
                        || m.domain(ld).machineFrame(addr >>> 12) >= 0)) {
                    return new Expected(false, "GNT-2", "guest-physical 0x" + Long.toHexString(addr) + " of HAP d"
                            + ld + " is not a page-aligned address outside its RAM");
                }
                for (GrantMapping o : m.pv().domain(ld).maptrack().values()) {
                    if (o.hostAddr() == addr) {
                        // in this world only a grant ever fills the entry at host_addr
                        return new Expected(false, "GNT-2", "d" + ld + " already maps " + o + " at host_addr");
                    }
                }
                return new Expected(true, "GNT-2", g + " permits d" + ld + " and host_addr is free");
            }
            case UNMAP:
            case UNMAP_H: {
                int h = PvInterfaceCases.unmapHandle(op);
                GrantMapping g = m.pv().domain(ld).maptrack().get(h);
                boolean ok = g != null && g.hostAddr() == PvInterfaceCases.unmapAddr(op);
                return new Expected(ok, "GNT-5", "handle " + h + " of d" + ld + " is " + (g == null ? "free" : g)
                        + ", the call names 0x" + Long.toHexString(PvInterfaceCases.unmapAddr(op)));
            }
            case COPY: {
                long[] d = PvInterfaceCases.copyDest(op);
                if (d[3] <= 0 || d[3] > 4096 || d[3] % 8 != 0) {
                    return new Expected(false, "GNT-6", "length " + d[3]);
                }
                int sd = PvInterfaceCases.copySourceDomain(op);
                Long src = grantWord(m, sd, PvInterfaceCases.copySourceRef(op));
                if (!permits(src, 1) || !ownedBy(m, src >>> 32, sd)) {
                    return new Expected(false, "GNT-6", "source grant " + PvInterfaceCases.copySourceRef(op)
                            + " of d" + sd + " does not permit d1");
                }
                if (d[1] >= 0) {
                    Long dst = grantWord(m, (int) d[0], d[1]);
                    if (!permits(dst, 1) || (dst & GTF_READONLY) != 0 || !ownedBy(m, dst >>> 32, (int) d[0])) {
                        return new Expected(false, "GNT-6", "destination grant " + d[1] + " of d" + d[0]
                                + " does not permit d1 to write");
                    }
                } else if (destFrame(m, op) < 0) {
                    return new Expected(false, "GNT-6", "destination gfn 0x" + Long.toHexString(d[2]) + " of d" + d[0]
                            + " is not the caller's own frame");
                }
                if (!canBeWritable(m, destFrame(m, op))) {
                    return new Expected(false, "GNT-6", "the destination frame is a page table");
                }
                return new Expected(true, "GNT-6", "both sides permit d1 and the length is valid");
            }
            case EVTCHN_K:
            case EVTCHN_H:
                return expectedEvtchn(m, op, ld);
            default:
                throw new IllegalArgumentException("not a hypercall op: " + op);
        }
    }
}
