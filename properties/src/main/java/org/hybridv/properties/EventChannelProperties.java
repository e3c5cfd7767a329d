package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.gen.PvInterfaceCases;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.EventChannel;
import org.hybridv.xen.Faults;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * {@code event_channel_op} on the 2-level ABI (rules EVT-1..EVT-8 of docs/rules/xen.md), every call of a run judged
 * by the rules restated here over raw observable state, never by calling the event-channel code: each domain's port
 * table (free, unbound for a domain, interdomain to a port, VIRQ of a vCPU; the vCPU each notifies) and its
 * shared-info frame's words — {@code evtchn_pending} from word 256, {@code evtchn_mask} from word 320, and each vCPU's
 * {@code evtchn_upcall_pending} (bit 0 of word 8v) and {@code evtchn_pending_sel} (word 8v + 1).
 *
 * <p>The machine is {@link PvInterfaceCases}' (d1 and d2 with shared-info pages, d1 port 1 ↔ d2 port 1, d1 port 2
 * VIRQ_TIMER, d1 port 3 ↔ the block back-end d0; d3 without a shared-info page). A run interleaves calls by d1, d2 and
 * d3 — alloc_unbound (for itself, DOMID_SELF, the other domain, d0, d3, no domain, ids past the last; a foreign
 * {@code dom}), bind_interdomain (to a port of the other domain or its own drawn from its table — unbound for the
 * caller or not, bound otherwise — or port 0, the last port, one past, −1, a free one), bind_virq (VIRQs 0, 1, 23, 24,
 * −1 of vCPUs 0, 1, 2, 31, 32, −1), send, close and unmask (a bound port drawn from the caller's table, or 0, a free
 * port, 4095, 4096, −1), commands Xen has but the model does not — with the guests' own stores: masking or unmasking
 * a port, clearing one port's pending bit, and taking their upcall (clearing upcall-pending, the selector and the
 * pending bits of the unmasked ports they are notified for). For each call:
 * <ul>
 * <li>accepted or refused, with its errno, as the rule's checks in their order say (no shared-info page: −EINVAL
 * before any; an unknown command −ENOSYS);</li>
 * <li>a refusal changes no memory word and no domain's ports;</li>
 * <li>an accepted call returns the lowest free port (alloc, bind) or 0, leaves every domain's port table exactly as
 * the rule says and every memory word as EVT-6's marking says: a send marks its peer's port — and only that — pending
 * and, if it was neither pending nor masked, the notified vCPU's selector bit and then its upcall-pending; a new
 * interdomain port is marked so at once; close clears the closed port's pending bit; unmask clears the mask bit and,
 * for a pending bound port, marks the selector and upcall-pending as a new event would.</li>
 * </ul>
 */
class EventChannelProperties {
    // public/event_channel.h, public/xen.h, restated
    private static final int EVENT_CHANNEL_OP = 32;
    private static final int BIND_INTERDOMAIN = 0;
    private static final int BIND_VIRQ = 1;
    private static final int CLOSE = 3;
    private static final int SEND = 4;
    private static final int ALLOC_UNBOUND = 6;
    private static final int UNMASK = 9;
    private static final int DOMID_SELF = 0x7FF0;
    private static final int MAX_DOMAIN = 0x7FEF;
    private static final int NR_VIRQS = 24;
    private static final int NR_PORTS = 4096;
    private static final int LEGACY_MAX_VCPUS = 32;
    private static final int PENDING = 256;
    private static final int MASK = 320;
    // Xen's errno values (public/errno.h)
    private static final int EPERM = 1;
    private static final int ENOENT = 2;
    private static final int ESRCH = 3;
    private static final int EEXIST = 17;
    private static final int EINVAL = 22;
    private static final int ENOSYS = 38;

    private static final VcpuId K = HypervisorCases.K;
    private static final VcpuId H = HypervisorCases.H;
    private static final VcpuId S = HypervisorCases.S;

    /** One op of a run: its kind and raw operands that {@link #step} decodes against the state it reaches. */
    record Op(int kind, int a, int b, int c) {
        @Override
        public String toString() {
            return new String[] {"ALLOC", "BIND_INTERDOMAIN", "BIND_VIRQ", "SEND", "CLOSE", "UNMASK", "OTHER_CMD",
                "GUEST_MASK", "GUEST_UPCALL", "GUEST_CLEAR", "WINDOW", "FILL"}[kind] + "(" + a + "," + b + "," + c
                    + ")";
        }
    }

    @Provide
    Arbitrary<List<Op>> runs() {
        Arbitrary<Integer> kind = Arbitraries.frequency(net.jqwik.api.Tuple.of(4, 0), net.jqwik.api.Tuple.of(4, 1),
                net.jqwik.api.Tuple.of(4, 2), net.jqwik.api.Tuple.of(5, 3), net.jqwik.api.Tuple.of(3, 4),
                net.jqwik.api.Tuple.of(3, 5), net.jqwik.api.Tuple.of(1, 6), net.jqwik.api.Tuple.of(3, 7),
                net.jqwik.api.Tuple.of(2, 8), net.jqwik.api.Tuple.of(2, 9), net.jqwik.api.Tuple.of(1, 10),
                net.jqwik.api.Tuple.of(3, 11));
        Arbitrary<Integer> x = Arbitraries.integers().between(0, 1 << 20)
                .withDistribution(net.jqwik.api.RandomDistribution.uniform()); // every operand choice alike
        return Combinators.combine(kind, x, x, x).as(Op::new).list().ofMinSize(1).ofMaxSize(16);
    }

    @Property(seed = Budget.SEED, tries = 100, edgeCases = EdgeCasesMode.NONE)
    void everyEventChannelOpDoesWhatItsRuleSays(@ForAll("runs") List<Op> run) {
        XenMachine m = PvInterfaceCases.machine(Faults.NONE);
        for (Op op : run) {
            m = step(m, op);
        }
        Statistics.label("evtchn op").coverage(k -> {
            for (String s : new String[] {"alloc ok", "bind interdomain ok", "bind interdomain ok masked",
                "bind virq ok", "send interdomain", "send interdomain marks vcpu", "send already pending",
                "send masked", "send unbound", "close interdomain", "close unbound", "close virq",
                "unmask pending redelivers", "unmask pending selector set", "unmask quiet"}) {
                k.check(s).count(n -> n > 0);
            }
        });
        // the ports past the first word of evtchn_pending / evtchn_mask (reached after a FILL); one entry per try so
        // that the label is never empty (jqwik cannot report an empty label when a try fails before any entry)
        Statistics.label("port above 63").collect("(tries)");
        Statistics.label("port above 63").coverage(k -> {
            for (String s : new String[] {"send", "close", "unmask", "bind interdomain"}) {
                k.check(s).count(n -> n > 0);
            }
        });
        Statistics.label("refusal").coverage(k -> {
            for (String s : new String[] {"no shared info", "not modelled", "alloc foreign dom", "alloc domain",
                "bind domain", "bind port", "virq number", "virq vcpu", "virq bound", "send not bound", "send virq",
                "close not bound", "unmask port"}) {
                k.check(s).count(n -> n > 0);
            }
        });
    }

    // ---- the ops ----------------------------------------------------------------------------------------------------

    private static <T> T pick(T[] xs, int i) {
        return xs[Math.floorMod(i, xs.length)];
    }

    private static int lowestFree(XenMachine m, int d) {
        for (int p = 1; p < NR_PORTS; p++) {
            if (!m.pv().domain(d).ports().containsKey(p)) {
                return p;
            }
        }
        return -1;
    }

    /** A port of {@code d}: a bound one drawn from its table, or a corner (0, a free one, 4095, 4096, −1). */
    private static long port(XenMachine m, int d, int x, int y) {
        List<Integer> bound = new ArrayList<>(m.pv().domain(d).ports().keySet());
        if (!bound.isEmpty() && x % 5 != 0) {
            return bound.get(y % bound.size());
        }
        return pick(new Long[] {0L, (long) lowestFree(m, d), 4095L, 4096L, -1L}, y);
    }

    private static XenMachine step(XenMachine m, Op op) {
        if (op.kind() == 7) {
            return guestMask(m, op);
        }
        if (op.kind() == 8) {
            return guestUpcall(m, op);
        }
        if (op.kind() == 9) {
            return guestClear(m, op);
        }
        if (op.kind() == 10) {
            return window(m, op);
        }
        if (op.kind() == 11) {
            return fill(m, op);
        }
        VcpuId caller = op.a() % 20 == 0 ? S : op.a() % 2 == 0 ? K : H;
        int d = caller.domain();
        int other = d == 1 ? 2 : 1;
        long cmd;
        long a1;
        long a2 = 0;
        switch (op.kind()) {
            case 0:
                cmd = ALLOC_UNBOUND;
                a1 = op.b() % 6 != 0 ? DOMID_SELF : pick(new Long[] {(long) d, (long) other, 0L}, op.b() / 6);
                a2 = pick(new Long[] {(long) other, (long) other, (long) other, (long) DOMID_SELF, (long) d, 0L, 3L, 9L,
                    (long) MAX_DOMAIN + 1, -1L}, op.c());
                break;
            case 1: {
                cmd = BIND_INTERDOMAIN;
                long rd = pick(new Long[] {(long) other, (long) other, (long) other, (long) DOMID_SELF, (long) d, 9L,
                    0L}, op.b());
                int r = (int) (rd == DOMID_SELF ? d : rd);
                a1 = rd;
                List<Integer> unbound = new ArrayList<>();
                if (m.domains().containsKey(r) && r <= MAX_DOMAIN) {
                    for (Map.Entry<Integer, EventChannel> e : m.pv().domain(r).ports().entrySet()) {
                        if (e.getValue() instanceof EventChannel.Unbound) {
                            unbound.add(e.getKey());
                        }
                    }
                }
                a2 = !unbound.isEmpty() && op.c() % 3 != 0 ? unbound.get((op.c() / 3) % unbound.size())
                        : m.domains().containsKey(r) ? port(m, r, op.c() / 3, op.c() / 15) : op.c() % 4;
                break;
            }
            case 2:
                cmd = BIND_VIRQ;
                // VIRQ_TIMER of vCPU 0 (already bound in d1: EVT-4's refusal) two times in three of the valid values
                a1 = op.b() % 3 != 0 ? (op.b() / 3 % 3 == 2 ? 1 : 0) : pick(new Long[] {23L, 24L, -1L, 0L}, op.b() / 3);
                a2 = op.c() % 3 != 0 ? (op.c() / 3 % 3 == 2 ? 1 : 0) : pick(new Long[] {2L, 31L, 32L, -1L}, op.c() / 3);
                break;
            case 3:
                cmd = SEND;
                a1 = port(m, d, op.b(), op.c());
                break;
            case 4:
                cmd = CLOSE;
                a1 = port(m, d, op.b(), op.c());
                break;
            case 5:
                cmd = UNMASK;
                a1 = port(m, d, op.b(), op.c());
                break;
            default:
                cmd = pick(new Long[] {2L, 5L, 7L, 8L, 10L, 11L, 12L, 13L, 100L, -1L}, op.b());
                a1 = op.c() % 8;
                break;
        }
        return call(m, caller, cmd, a1, a2);
    }

    /** {@code caller}'s {@code event_channel_op(cmd, a1, a2)}, judged; the machine after it. */
    private static XenMachine call(XenMachine m, VcpuId caller, long cmd, long a1, long a2) {
        int d = caller.domain();
        Hypercall call = Hypercall.of(EVENT_CHANNEL_OP, cmd, a1, a2);
        HvStep s = Hypervisor.hypercall(m, caller, call);
        Expect e = expect(m, d, cmd, a1, a2);
        String what = call + " by " + caller;
        assertThat(s.outcome() instanceof VcpuOutcome.HypercallDone || s.outcome() instanceof VcpuOutcome
                .HypercallRefused).as("%s ran: %s", what, s.outcome()).isTrue();
        boolean ok = s.outcome() instanceof VcpuOutcome.HypercallDone;
        assertThat(ok).as("%s: %s (the rules: %s)", what, s.outcome(), e.ok() ? "accepted, " + e.label()
                : "refused, " + e.label()).isEqualTo(e.ok());
        XenMachine post = s.machine();
        if (!ok) {
            Statistics.label("refusal").collect(e.label());
            VcpuOutcome.HypercallRefused r = (VcpuOutcome.HypercallRefused) s.outcome();
            assertThat(r.errno().value()).as("%s: the errno of %s", what, e.label()).isEqualTo(e.errno());
            assertThat(post.memory().equals(m.memory())).as("%s: a refusal changes no memory", what).isTrue();
            for (int x : m.pv().domains().keySet()) {
                assertThat(post.pv().domain(x).ports()).as("%s: a refusal changes no ports (d%d)", what, x)
                        .isEqualTo(m.pv().domain(x).ports());
            }
            return post;
        }
        Statistics.label("evtchn op").collect(e.label());
        if ((cmd == SEND || cmd == CLOSE || cmd == UNMASK) && a1 >= 64 || cmd == BIND_INTERDOMAIN && a2 >= 64) {
            Statistics.label("port above 63").collect(cmd == SEND ? "send" : cmd == CLOSE ? "close" : cmd == UNMASK
                    ? "unmask" : "bind interdomain");
        }
        assertThat(((VcpuOutcome.HypercallDone) s.outcome()).rax()).as("%s: RAX", what).isEqualTo(e.rax());
        for (int x : m.pv().domains().keySet()) {
            Map<Integer, EventChannel> want = e.ports().getOrDefault(x, m.pv().domain(x).ports());
            assertThat(post.pv().domain(x).ports()).as("%s (%s): d%d's ports", what, e.label(), x).isEqualTo(want);
        }
        Cases.assertSameWords(e.memory(), post.memory(), what + " (" + e.label() + ")");
        return post;
    }

    /**
     * Takes ports of d1 or d2 with judged alloc_unbound calls (for the other domain) until its lowest free port is at
     * a word boundary of the 2-level ABI — 63, 64, 65, 127 or 128 — so that the calls that follow use ports whose
     * pending and mask bits lie in the second or third word of {@code evtchn_pending} / {@code evtchn_mask} and whose
     * selector bit is 1 or 2 (EVT-6: word {@code port / 64}, bit {@code port % 64}, selector bit {@code port / 64}).
     * Then, two times in three, the other domain binds to the last port taken and sends on its new port (marking
     * that high port pending; half the time the filled domain's guest has masked it first, and then half the time
     * unmasks it by hypercall), half the time sends again after the guest's handler cleared its flag and selector but
     * not the port, half the time the filled domain sends on the high port, and a third of the time it closes it;
     * each call judged.
     */
    private static XenMachine fill(XenMachine m, Op op) {
        VcpuId caller = op.a() % 2 == 0 ? K : H;
        int d = caller.domain();
        int o = d == 1 ? 2 : 1;
        VcpuId peer = o == 1 ? K : H;
        // half the time 63 or 64: the last port taken is then 62 or 63, in word 0 but past bit 31
        int target = pick(new Integer[] {63, 64, 63, 64, 65, 127, 128, 65}, op.b());
        while (lowestFree(m, d) < target) {
            m = call(m, caller, ALLOC_UNBOUND, DOMID_SELF, o);
        }
        int high = lowestFree(m, d) - 1;
        if (op.c() % 3 == 0 || !(m.pv().domain(d).ports().get(high) instanceof EventChannel.Unbound)) {
            return m;
        }
        int local = lowestFree(m, o);
        m = call(m, peer, BIND_INTERDOMAIN, d, high);
        if (op.c() / 7 % 2 == 0) {
            // an event on port 1 (word 0) and the guest's handler interrupted after clearing its flag: the selector bit
            // of word 0 is set with no upcall pending, where the next event of that word must not mark the vCPU again
            m = call(m, peer, SEND, 1, 0);
            m = guestUpcall(m, new Op(d == 1 ? 0 : 1, 1, 0, 0));
        }
        if (op.a() / 2 % 2 == 0) { // masked, below
            // the filled domain's guest masks the high port first: the peer's send then only marks it pending
            long si = m.pv().domain(d).sharedInfo();
            m = m.withPaging(m.paging().withMemory(bit(m.memory(), si, MASK + high / 64, high % 64, true)));
            Statistics.label("guest").collect("mask a port above 63");
        }
        boolean masked = op.a() / 2 % 2 == 0;
        m = call(m, peer, SEND, local, 0);
        if (masked && op.c() % 2 == 1) {
            m = call(m, caller, UNMASK, high, 0); // EVT-8: the held-back event is delivered now
        }
        if (op.b() / 5 % 2 == 0) {
            // the guest's handler stops after clearing its flag and selector, the port still pending: a second send
            // finds it pending and must mark nothing (EVT-6)
            m = guestUpcall(m, new Op(d == 1 ? 0 : 1, 2, 0, 0));
            m = call(m, peer, SEND, local, 0);
        }
        if (op.c() % 2 == 0) {
            m = call(m, caller, SEND, high, 0);
        }
        if (op.b() / 10 % 3 == 0) {
            m = call(m, caller, CLOSE, high, 0); // EVT-7: the high port's pending bit cleared, the peer unbound
        }
        return m;
    }

    /** The guest's own store: mask or unmask (bit op) one of its ports, or port 0 / a free one. */
    private static XenMachine guestMask(XenMachine m, Op op) {
        int d = op.a() % 2 == 0 ? 1 : 2;
        long p = port(m, d, op.b(), op.c());
        if (p <= 0 || p >= NR_PORTS) {
            return m;
        }
        long si = m.pv().domain(d).sharedInfo();
        boolean on = op.b() % 3 != 0;
        Statistics.label("guest").collect(on ? "mask" : "unmask store");
        return m.withPaging(m.paging().withMemory(bit(m.memory(), si, MASK + (int) p / 64, (int) p % 64, on)));
    }

    /**
     * A window that drives EVT-6 and EVT-8 into their rarer branches, each call judged as any other: d2 masks its
     * port 1, d1 sends on its port 1, d2 unmasks it by hypercall (the held-back event is delivered now); or d1 sends
     * twice with d2 clearing only the port's pending bit between (the second finds the selector bit set); or d1
     * allocates a port for d2, d2 masks its lowest free port and binds to d1's (the new port is masked).
     */
    private static XenMachine window(XenMachine m, Op op) {
        long si2 = m.pv().domain(2).sharedInfo();
        switch (op.b() % 3) {
            case 0:
                m = m.withPaging(m.paging().withMemory(bit(m.memory(), si2, MASK, 1, true)));
                m = call(m, K, SEND, 1, 0);
                return call(m, H, UNMASK, 1, 0);
            case 1:
                m = call(m, K, SEND, 1, 0);
                m = m.withPaging(m.paging().withMemory(bit(m.memory(), si2, PENDING, 1, false)));
                return call(m, K, SEND, 1, 0);
            default:
                int p = lowestFree(m, 1);
                m = call(m, K, ALLOC_UNBOUND, DOMID_SELF, 2);
                int q = lowestFree(m, 2);
                m = m.withPaging(m.paging().withMemory(bit(m.memory(), si2, MASK + q / 64, q % 64, true)));
                return call(m, H, BIND_INTERDOMAIN, 1, p);
        }
    }

    /** The guest's own store clearing one port's pending bit ({@code clear_evtchn}), selector and upcall left. */
    private static XenMachine guestClear(XenMachine m, Op op) {
        int d = op.a() % 2 == 0 ? 1 : 2;
        long p = port(m, d, op.b(), op.c());
        if (p <= 0 || p >= NR_PORTS) {
            return m;
        }
        long si = m.pv().domain(d).sharedInfo();
        Statistics.label("guest").collect("clear");
        return m.withPaging(m.paging().withMemory(bit(m.memory(), si, PENDING + (int) p / 64, (int) p % 64, false)));
    }

    /**
     * The guest's upcall handler (EVT-10, its own stores), stopped at one of its stages as an interrupted handler
     * leaves it: the vCPU clears its upcall-pending only; or that and its selector (the ports still pending); or, as
     * a whole handler, also the pending bit of every unmasked pending port it is notified for. The partial stages are
     * the states in which EVT-6's "already pending" and "selector bit already set" decide whether an event marks the
     * vCPU again.
     */
    private static XenMachine guestUpcall(XenMachine m, Op op) {
        int d = op.a() % 2 == 0 ? 1 : 2;
        int v = 0;
        long si = m.pv().domain(d).sharedInfo();
        int stage = op.b() % 4;
        PhysicalMemory mem = m.memory().write(si, 8 * v, m.memory().read(si, 8 * v) & ~1L);
        if (stage == 1) {
            Statistics.label("guest").collect("upcall flag only");
            return m.withPaging(m.paging().withMemory(mem));
        }
        mem = mem.write(si, 8 * v + 1, 0);
        if (stage == 2) {
            Statistics.label("guest").collect("upcall flag and selector");
            return m.withPaging(m.paging().withMemory(mem));
        }
        for (Map.Entry<Integer, EventChannel> e : m.pv().domain(d).ports().entrySet()) {
            int p = e.getKey();
            if (e.getValue().notifyVcpu() == v && !test(mem, si, MASK, p)) {
                mem = bit(mem, si, PENDING + p / 64, p % 64, false);
            }
        }
        Statistics.label("guest").collect("upcall");
        return m.withPaging(m.paging().withMemory(mem));
    }

    // ---- the rules, restated ---------------------------------------------------------------------------------------

    private static boolean test(PhysicalMemory mem, long si, int base, int port) {
        return (mem.read(si, base + port / 64) >>> (port % 64) & 1) != 0;
    }

    private static PhysicalMemory bit(PhysicalMemory mem, long si, int word, int bit, boolean on) {
        long w = mem.read(si, word);
        long n = on ? w | 1L << bit : w & ~(1L << bit);
        return n == w ? mem : mem.write(si, word, n);
    }

    /**
     * What the rules say: accepted (the RAX, every domain's ports that change, the memory after) or refused (errno);
     * the label names the case for the floors.
     */
    record Expect(boolean ok, int errno, String label, long rax, Map<Integer, SortedMap<Integer, EventChannel>> ports,
            PhysicalMemory memory) {
        static Expect no(int errno, String label) {
            return new Expect(false, errno, label, 0, Map.of(), null);
        }
    }

    private static boolean exists(XenMachine m, long d) {
        return d >= 0 && d <= MAX_DOMAIN && m.domains().containsKey((int) d);
    }

    private static boolean bound(XenMachine m, int d, long port) {
        return port > 0 && port < NR_PORTS && m.pv().domain(d).ports().containsKey((int) port);
    }

    /** A mutable holder for the marking's label (which EVT-6 branch a send or unmask took). */
    private static final class Mark {
        String how = "";
    }

    /**
     * EVT-6, {@code evtchn_2l_set_pending} restated on {@code mem}: port {@code port} of {@code d} pending; if it was
     * not and is not masked, the notified vCPU's selector bit of the port's word; if that was clear, its
     * upcall-pending (a vCPU the domain has, below 32).
     */
    private static PhysicalMemory setPending(XenMachine m, PhysicalMemory mem, int d, int port, Mark mark) {
        long si = m.pv().domain(d).sharedInfo();
        if (si < 0) {
            mark.how = "no shared info";
            return mem;
        }
        if (test(mem, si, PENDING, port)) {
            mark.how = "already pending";
            return mem;
        }
        mem = bit(mem, si, PENDING + port / 64, port % 64, true);
        EventChannel c = m.pv().domain(d).ports().get(port);
        if (c == null || test(mem, si, MASK, port)) {
            mark.how = "masked";
            return mem;
        }
        return markSelected(m, mem, d, c.notifyVcpu(), port, mark);
    }

    private static PhysicalMemory markSelected(XenMachine m, PhysicalMemory mem, int d, int v, int port, Mark mark) {
        long si = m.pv().domain(d).sharedInfo();
        int sel = 8 * v + 1;
        if ((mem.read(si, sel) >>> (port / 64) & 1) != 0) {
            mark.how = "selector set";
            return mem;
        }
        mem = bit(mem, si, sel, port / 64, true);
        mark.how = "marks vcpu";
        if (v < m.domain(d).vcpus().size() && v < LEGACY_MAX_VCPUS) {
            mem = bit(mem, si, 8 * v, 0, true);
        }
        return mem;
    }

    private static Expect expect(XenMachine m, int d, long cmd, long a1, long a2) {
        PhysicalMemory mem = m.memory();
        if (m.pv().domain(d).sharedInfo() < 0) {
            return Expect.no(EINVAL, "no shared info");
        }
        Map<Integer, SortedMap<Integer, EventChannel>> ports = new TreeMap<>();
        SortedMap<Integer, EventChannel> mine = new TreeMap<>(m.pv().domain(d).ports());
        int free = lowestFree(m, d);
        if (cmd == ALLOC_UNBOUND) {
            if ((a1 == DOMID_SELF ? d : a1) != d) {
                return Expect.no(EPERM, "alloc foreign dom");
            }
            long r = a2 == DOMID_SELF ? d : a2;
            if (!exists(m, r)) {
                return Expect.no(ESRCH, "alloc domain");
            }
            mine.put(free, new EventChannel.Unbound((int) r, 0));
            ports.put(d, mine);
            return new Expect(true, 0, "alloc ok", free, ports, mem);
        }
        if (cmd == BIND_INTERDOMAIN) {
            long rd = a1 == DOMID_SELF ? d : a1;
            if (!exists(m, rd)) {
                return Expect.no(ESRCH, "bind domain");
            }
            int r = (int) rd;
            EventChannel u = bound(m, r, a2) ? m.pv().domain(r).ports().get((int) a2) : null;
            if (!(u instanceof EventChannel.Unbound ub) || ub.remoteDomain() != d) {
                return Expect.no(EINVAL, "bind port");
            }
            mine.put(free, new EventChannel.Interdomain(r, (int) a2, 0));
            SortedMap<Integer, EventChannel> theirs = r == d ? mine : new TreeMap<>(m.pv().domain(r).ports());
            theirs.put((int) a2, new EventChannel.Interdomain(d, free, u.notifyVcpu()));
            ports.put(d, mine);
            ports.put(r, theirs);
            // the new port is marked pending at once (EVT-3), with the port table after the bind
            XenMachine bound = m.withPv(m.pv().with(d, m.pv().domain(d).withPort(free, mine.get(free))));
            Mark mark = new Mark();
            mem = setPending(bound, mem, d, free, mark);
            return new Expect(true, 0, "bind interdomain ok" + (mark.how.equals("masked") ? " masked" : ""), free,
                    ports, mem);
        }
        if (cmd == BIND_VIRQ) {
            if (a1 < 0 || a1 >= NR_VIRQS) {
                return Expect.no(EINVAL, "virq number");
            }
            if (a2 < 0 || a2 >= m.domain(d).vcpus().size() || a2 >= LEGACY_MAX_VCPUS) {
                return Expect.no(ENOENT, "virq vcpu");
            }
            for (EventChannel c : mine.values()) {
                if (c instanceof EventChannel.Virq v && v.virq() == a1 && v.notifyVcpu() == a2) {
                    return Expect.no(EEXIST, "virq bound");
                }
            }
            mine.put(free, new EventChannel.Virq((int) a1, (int) a2));
            ports.put(d, mine);
            return new Expect(true, 0, "bind virq ok", free, ports, mem);
        }
        if (cmd == SEND) {
            if (!bound(m, d, a1)) {
                return Expect.no(EINVAL, "send not bound");
            }
            EventChannel c = mine.get((int) a1);
            if (c instanceof EventChannel.Unbound) {
                return new Expect(true, 0, "send unbound", 0, ports, mem);
            }
            if (!(c instanceof EventChannel.Interdomain i)) {
                return Expect.no(EINVAL, "send virq");
            }
            Mark mark = new Mark();
            mem = setPending(m, mem, i.remoteDomain(), i.remotePort(), mark);
            return new Expect(true, 0, mark.how.equals("marks vcpu") ? "send interdomain marks vcpu"
                    : mark.how.equals("selector set") ? "send interdomain" : "send " + mark.how, 0, ports, mem);
        }
        if (cmd == CLOSE) {
            if (!bound(m, d, a1)) {
                return Expect.no(EINVAL, "close not bound");
            }
            int p = (int) a1;
            EventChannel c = mine.remove(p);
            ports.put(d, mine);
            String label = c instanceof EventChannel.Virq ? "close virq" : c instanceof EventChannel.Unbound
                    ? "close unbound" : "close interdomain";
            if (c instanceof EventChannel.Interdomain i) {
                SortedMap<Integer, EventChannel> theirs = i.remoteDomain() == d ? mine
                        : new TreeMap<>(m.pv().domain(i.remoteDomain()).ports());
                theirs.put(i.remotePort(), new EventChannel.Unbound(d, theirs.get(i.remotePort()).notifyVcpu()));
                ports.put(i.remoteDomain(), theirs);
            }
            long si = m.pv().domain(d).sharedInfo();
            mem = bit(mem, si, PENDING + p / 64, p % 64, false);
            return new Expect(true, 0, label, 0, ports, mem);
        }
        if (cmd == UNMASK) {
            if (a1 <= 0 || a1 >= NR_PORTS) {
                return Expect.no(EINVAL, "unmask port");
            }
            int p = (int) a1;
            long si = m.pv().domain(d).sharedInfo();
            mem = bit(mem, si, MASK + p / 64, p % 64, false);
            EventChannel c = mine.get(p);
            String label = "unmask quiet";
            if (test(mem, si, PENDING, p)) {
                if (c == null) {
                    label = "unmask free pending";
                } else {
                    Mark mark = new Mark();
                    mem = markSelected(m, mem, d, c.notifyVcpu(), p, mark);
                    label = mark.how.equals("marks vcpu") ? "unmask pending redelivers" : "unmask pending " + mark.how;
                }
            }
            return new Expect(true, 0, label, 0, ports, mem);
        }
        return Expect.no(ENOSYS, "not modelled");
    }
}
