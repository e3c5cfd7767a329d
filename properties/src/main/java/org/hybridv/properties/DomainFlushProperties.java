package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.Choices;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.gen.JqwikChoices;
import org.hybridv.x86.PageSize;
import org.hybridv.x86.Rights;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.TlbTag;
import org.hybridv.xen.Effect;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.Faults;
import org.hybridv.xen.PageType;
import org.hybridv.xen.Pcpu;
import org.hybridv.xen.TlbDiscipline;
import org.hybridv.xen.TlbFlushClock;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * Where the hypervisor's TLB obligations land on a machine of two or three pCPUs (Xen rules TLB-9, MX-7, MX-5, UVA-2,
 * TLB-6, TLB-1 with TLB-8, docs/rules/xen.md), judged over every pCPU's TLB, every domain's dirty CPU mask and the
 * TLB-flush clock, with the rules restated here and never asked of {@code TlbDiscipline}:
 *
 * <ul>
 * <li>a domain-wide flush or INVLPG reaches exactly the pCPUs of the domain's dirty mask (TLB-9);</li>
 * <li>a {@code _MULTI} one exactly the pCPUs the masked vCPUs of the domain are placed on — a bit naming no vCPU of
 * the domain is ignored (MX-7);</li>
 * <li>a local one only the active pCPU (MX-5, UVA-2);</li>
 * <li>a type change (TLB-1) exactly the pCPUs of the owner's mask the clock does not clear for the frame's stamp
 * ({@code cpuTime ≤ stamp ≤ now}, or every pCPU of the mask for a frame with no stamp, TLB-8), each flushed whole
 * (every guest translation, of every domain), the clock ticking once per flushed pCPU in the order the flush reaches
 * them (the active pCPU first), the frame's stamp dropped.</li>
 * </ul>
 *
 * On a reached pCPU the translations of the domain's VPIDs (for an INVLPG, those covering the address; a
 * non-canonical address reaches nothing, TLB-6) are gone and every other one stays; an unreached pCPU's TLB is
 * untouched; the host's translations (VPID 0) stay everywhere. A pCPU that has dropped all of a domain's translations
 * leaves that domain's mask, unless a vCPU of the domain is current on it (TLB-9); no other mask changes. The TLBs
 * hold translations of every domain's VPIDs on every pCPU, including pCPUs outside the masks, so a flush that reaches a
 * pCPU it must not, or misses one it must, shows.
 */
class DomainFlushProperties {
    private static final List<VcpuId> VCPUS = HypervisorCases.VCPUS;
    private static final int[] DOMAINS = {1, 2, 3};
    /** The pages the TLBs cache translations of; the INVLPGs name one of them, another page, or a non-canonical one. */
    private static final long[] PAGES = {0x1000, 0x2000, 0xFFFF_8000_0000_3000L};

    private static final XenMachine[] MACHINES = {HypervisorCases.initialMachine(Faults.NONE, 2),
        HypervisorCases.initialMachine(Faults.NONE, 3)};

    /** A drawn machine and one obligation on it. */
    record Case(XenMachine machine, Effect effect, String kind) {
        @Override
        public String toString() {
            StringBuilder s = new StringBuilder(kind + " " + effect + " on a machine of " + machine.pcpuCount()
                    + " pCPUs, active " + machine.active());
            for (int q = 0; q < machine.pcpuCount(); q++) {
                s.append("; pCPU ").append(q).append(" current ").append(machine.current(q)).append(" TLB ")
                        .append(machine.pcpu(q).tlb().entries().size()).append(" entries");
            }
            for (int d : DOMAINS) {
                s.append("; d").append(d).append(" mask ").append(machine.tlbFlush().dirtyCpumask(d));
            }
            return s.append("; clock ").append(machine.tlbFlush().clock()).toString();
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        return JqwikChoices.arbitrary(DomainFlushProperties::generate);
    }

    /**
     * The choices that decide the case come first (the choice list is finite and reads zeroes past its end), the
     * TLB contents last: the obligation and its operands, the placement of the six vCPUs, the active pCPU, the clock,
     * the masks, the current vCPUs, then per pCPU, vCPU and page a translation (non-global, global, or none).
     */
    static Case generate(Choices c) {
        int kind = c.weighted(20, 18, 16, 16, 14, 8, 8);
        int d = DOMAINS[c.below(3)];
        long page = c.flag(true, 15) ? PAGES[c.below(2)] : c.oneOf(0x5000L, 1L << 47);
        long vcpumask = c.below(4) | (c.flag(false, 15) ? c.oneOf(4L, 1L << 63) : 0);
        long mfn = c.oneOf(0x13L, 0x20L, 0x25L, 0x31L, 0x41L);
        boolean noStamp = c.flag(false, 25);
        XenMachine m = MACHINES[c.below(2)];
        int n = m.pcpuCount();
        List<Integer> placement = new ArrayList<>();
        for (int i = 0; i < VCPUS.size(); i++) {
            placement.add(c.below(n));
        }
        m = HypervisorCases.placed(m, placement).withActive(c.below(n));
        // the clock: a counter, every pCPU's last flush at or before it, and the frame's stamp
        long now = 1 + c.below(20);
        List<Long> times = new ArrayList<>();
        for (int q = 0; q < n; q++) {
            times.add((long) c.below((int) now + 1));
        }
        long stamp = noStamp ? FrameInfo.NO_TIMESTAMP : c.below((int) now + 3);
        m = m.withTlbFlush(m.tlbFlush().withClock(new TlbFlushClock(m.tlbFlush().clock().width(), now, times)));
        for (int dom : DOMAINS) {
            Set<Integer> mask = new TreeSet<>();
            int bits = (1 << n) - 1 - c.below(1 << n);
            for (int q = 0; q < n; q++) {
                if ((bits & (1 << q)) != 0) {
                    mask.add(q);
                }
            }
            m = m.withTlbFlush(m.tlbFlush().withDirtyCpumask(dom, mask));
        }
        List<Optional<VcpuId>> current = new ArrayList<>();
        for (int q = 0; q < n; q++) {
            // sometimes one of the vCPUs placed here is current on it
            List<VcpuId> here = new ArrayList<>();
            for (int i = 0; i < VCPUS.size(); i++) {
                if (placement.get(i) == q) {
                    here.add(VCPUS.get(i));
                }
            }
            int pick = c.below(here.size() + 1);
            current.add(pick == here.size() ? Optional.empty() : Optional.of(here.get(pick)));
        }
        for (int q = 0; q < n; q++) {
            Tlb tlb = Tlb.empty(TlbPolicy.ADVERSARIAL);
            for (VcpuId v : VCPUS) {
                int vpid = m.vcpu(v).vpid();
                for (long p : PAGES) {
                    int t = c.below(4); // 0, 1: a translation; 2: a global one; 3: none
                    if (t < 3) {
                        tlb = tlb.fill(TlbEntry.linear(new TlbTag(vpid, TlbTag.NO_EPT), 0, t == 2, p,
                                PageSize.SIZE_4K, 0x50_000L + p % 0x10_000, Rights.UNRESTRICTED, false));
                    }
                }
            }
            tlb = tlb.fill(TlbEntry.linear(TlbTag.NATIVE, 0, false, 0x1000, PageSize.SIZE_4K, 0x7000,
                    Rights.UNRESTRICTED, false));
            Pcpu p = m.pcpu(q);
            Optional<VcpuId> cur = current.get(q);
            m = m.withPcpu(q, new Pcpu(p.cpu(), tlb, p.tlbTag(), p.mode(),
                    cur.isPresent() ? m.vcpu(cur.get()).vmcs() : p.vmcs(),
                    cur.isPresent() ? m.vcpu(cur.get()).launched() : p.launched(), cur));
        }
        VcpuId self = m.current(m.active()).orElse(VCPUS.get((int) (mfn % VCPUS.size())));
        switch (kind) {
            case 0: {
                FrameInfo f = m.frames().get(mfn);
                m = new XenMachine(m.memory(), m.pcpus(), m.active(), m.frames().with(mfn,
                        f.withTlbflushTimestamp(stamp)), m.guestTables(), m.domains(), m.faults(), m.tlbFlush(), m.pv());
                return new Case(m, new Effect.TypeChange(mfn, PageType.L1, PageType.WRITABLE, "TLB-1"),
                        "type change");
            }
            case 1:
                return new Case(m, new Effect.FlushMulti(d, vcpumask, "MX-7"), "multi flush");
            case 2:
                return new Case(m, new Effect.InvlpgMulti(d, vcpumask, page, "MX-7"), "multi INVLPG");
            case 3:
                return new Case(m, new Effect.FlushDomain(d, "MX-5"), "domain flush");
            case 4:
                return new Case(m, new Effect.InvlpgDomain(d, page, "MX-5"), "domain INVLPG");
            case 5:
                return new Case(m, new Effect.FlushLocal(self, "MX-5"), "local flush");
            default:
                return new Case(m, new Effect.InvlpgLocal(self, page, "MX-5"), "local INVLPG");
        }
    }

    // ---- the rules restated ------------------------------------------------------------------------------------

    /** Bits 63:47 all equal (TLB-6: INVVPID of any other address fails and changes nothing). */
    private static boolean canonical(long linear) {
        long top = linear >> 47;
        return top == 0 || top == -1;
    }

    private static Set<Integer> vpidsOf(XenMachine m, int d) {
        Set<Integer> out = new TreeSet<>();
        for (VcpuId v : VCPUS) {
            if (v.domain() == d) {
                out.add(m.vcpu(v).vpid());
            }
        }
        return out;
    }

    /** MX-7: the pCPUs the vCPUs of {@code d} named by {@code vcpumask} are placed on (bit i: vCPU i). */
    private static Set<Integer> placedOn(XenMachine m, int d, long vcpumask) {
        Set<Integer> out = new TreeSet<>();
        for (VcpuId v : VCPUS) {
            if (v.domain() == d && v.vcpu() < 64 && (vcpumask & (1L << v.vcpu())) != 0) {
                out.add(m.vcpu(v).pcpu());
            }
        }
        return out;
    }

    /** The expected result: per pCPU what goes, which domain flushed whole there, and the clock. */
    private record Expected(Set<Integer> reached, Predicate<TlbEntry> gone, Set<Integer> domainsFlushedWhole,
            boolean whole) {}

    private static Expected expected(XenMachine m, Effect e) {
        if (e instanceof Effect.FlushDomain f) {
            Set<Integer> vpids = vpidsOf(m, f.domain());
            return new Expected(m.tlbFlush().dirtyCpumask(f.domain()), t -> vpids.contains(t.tag().vpid()),
                    Set.of(f.domain()), false);
        }
        if (e instanceof Effect.InvlpgDomain i) {
            Set<Integer> vpids = vpidsOf(m, i.domain());
            return new Expected(canonical(i.linear()) ? m.tlbFlush().dirtyCpumask(i.domain()) : Set.of(),
                    t -> vpids.contains(t.tag().vpid()) && t.covers(i.linear()), Set.of(), false);
        }
        if (e instanceof Effect.FlushMulti f) {
            Set<Integer> vpids = vpidsOf(m, f.domain());
            return new Expected(placedOn(m, f.domain(), f.vcpumask()), t -> vpids.contains(t.tag().vpid()),
                    Set.of(f.domain()), false);
        }
        if (e instanceof Effect.InvlpgMulti i) {
            Set<Integer> vpids = vpidsOf(m, i.domain());
            return new Expected(canonical(i.linear()) ? placedOn(m, i.domain(), i.vcpumask()) : Set.of(),
                    t -> vpids.contains(t.tag().vpid()) && t.covers(i.linear()), Set.of(), false);
        }
        if (e instanceof Effect.FlushLocal f) {
            int vpid = m.vcpu(f.vcpu()).vpid();
            return new Expected(Set.of(m.active()), t -> t.tag().vpid() == vpid, Set.of(), false);
        }
        if (e instanceof Effect.InvlpgLocal i) {
            int vpid = m.vcpu(i.vcpu()).vpid();
            return new Expected(canonical(i.linear()) ? Set.of(m.active()) : Set.of(),
                    t -> t.tag().vpid() == vpid && t.covers(i.linear()), Set.of(), false);
        }
        Effect.TypeChange t = (Effect.TypeChange) e;
        int owner = m.frames().get(t.mfn()).owner();
        long stamp = m.frames().get(t.mfn()).tlbflushTimestamp();
        TlbFlushClock clock = m.tlbFlush().clock();
        Set<Integer> reached = new TreeSet<>();
        for (int q : m.tlbFlush().dirtyCpumask(owner)) {
            long cpu = clock.cpuTime().get(q);
            if (stamp == FrameInfo.NO_TIMESTAMP || cpu <= stamp && stamp <= clock.now()) {
                reached.add(q);
            }
        }
        Set<Integer> all = new TreeSet<>();
        for (int d : DOMAINS) {
            all.add(d);
        }
        return new Expected(reached, x -> x.tag().vpid() != 0, all, true);
    }

    @Property(seed = Budget.SEED, tries = 300)
    void everyFlushReachesExactlyThePcpusItsRuleNames(@ForAll("cases") Case k) {
        XenMachine m = k.machine();
        XenMachine after = TlbDiscipline.apply(m, k.effect());
        Expected x = expected(m, k.effect());
        int n = m.pcpuCount();
        boolean someKept = false;
        boolean someGone = false;
        for (int q = 0; q < n; q++) {
            List<TlbEntry> before = m.pcpu(q).tlb().entries();
            List<TlbEntry> want = x.reached().contains(q) ? before.stream().filter(x.gone().negate()).toList()
                    : before;
            assertThat(after.pcpu(q).tlb().entries()).as("pCPU %d's TLB after %s (reached: %s)", q, k, x.reached())
                    .containsExactlyElementsOf(want);
            someGone |= want.size() < before.size();
            someKept |= !x.reached().contains(q) && before.stream().anyMatch(x.gone());
        }
        // TLB-9: a reached pCPU leaves the mask of each domain it flushed whole, unless a vCPU of it is current there
        for (int d : DOMAINS) {
            Set<Integer> mask = new TreeSet<>(m.tlbFlush().dirtyCpumask(d));
            if (x.domainsFlushedWhole().contains(d)) {
                for (int q : x.reached()) {
                    Optional<VcpuId> c = m.current(q);
                    if (c.isEmpty() || c.get().domain() != d) {
                        mask.remove(q);
                    }
                }
            }
            assertThat(after.tlbFlush().dirtyCpumask(d)).as("TLB-9: d%d's dirty mask after %s", d, k)
                    .containsExactlyElementsOf(mask);
        }
        TlbFlushClock c0 = m.tlbFlush().clock();
        TlbFlushClock c1 = after.tlbFlush().clock();
        if (x.whole()) {
            // TLB-8: one tick per whole flush, the active pCPU first, then the others in order
            List<Integer> order = new ArrayList<>();
            if (x.reached().contains(m.active())) {
                order.add(m.active());
            }
            for (int q : x.reached()) {
                if (q != m.active()) {
                    order.add(q);
                }
            }
            List<Long> times = new ArrayList<>(c0.cpuTime());
            for (int i = 0; i < order.size(); i++) {
                times.set(order.get(i), c0.now() + i + 1);
            }
            assertThat(c1.now()).as("TLB-8: the clock after %s", k).isEqualTo(c0.now() + order.size());
            assertThat(c1.cpuTime()).as("TLB-8: each flushed pCPU's time after %s", k).isEqualTo(times);
            long mfn = ((Effect.TypeChange) k.effect()).mfn();
            assertThat(after.frames().get(mfn).tlbflushTimestamp()).as("TLB-2: the frame is in use again")
                    .isEqualTo(FrameInfo.NO_TIMESTAMP);
            assertThat(after.frames().get(mfn).withTlbflushTimestamp(FrameInfo.NO_TIMESTAMP))
                    .isEqualTo(m.frames().get(mfn).withTlbflushTimestamp(FrameInfo.NO_TIMESTAMP));
        } else {
            assertThat(c1).as("only a whole flush ticks the clock: %s", k).isEqualTo(c0);
            assertThat(after.frames()).as("frames after %s", k).isEqualTo(m.frames());
        }
        assertThat(after.memory()).as("memory").isEqualTo(m.memory());
        assertThat(after.active()).as("active pCPU").isEqualTo(m.active());
        for (int q = 0; q < n; q++) {
            assertThat(after.current(q)).as("current vCPU of pCPU %d", q).isEqualTo(m.current(q));
        }
        for (Vcpu v : m.domain(1).vcpus()) {
            assertThat(after.vcpu(v.id()).pcpu()).isEqualTo(v.pcpu());
        }

        Statistics.label("obligation").collect(k.kind());
        Statistics.label("reach").collect(k.kind() + ": " + (x.reached().isEmpty() ? "no pCPU"
                : x.reached().size() == n ? "every pCPU" : "some pCPUs"));
        Statistics.label("effect").collect(someGone && someKept ? "translations gone and kept"
                : someGone ? "only gone" : "none gone");
        boolean keptByCurrent = x.domainsFlushedWhole().stream().anyMatch(d -> x.reached().stream()
                .anyMatch(q -> m.current(q).isPresent() && m.current(q).get().domain() == d
                        && m.tlbFlush().dirtyCpumask(d).contains(q)));
        Statistics.label("mask").collect(keptByCurrent ? "a reached pCPU stays: a vCPU current" : "other");
        if (k.effect() instanceof Effect.TypeChange) {
            boolean filtered = x.reached().size() < m.tlbFlush().dirtyCpumask(
                    m.frames().get(((Effect.TypeChange) k.effect()).mfn()).owner()).size();
            Statistics.label("clock").collect(filtered ? "a pCPU of the mask cleared by the clock"
                    : "the whole mask flushed");
        }
        Statistics.label("obligation").coverage(cov -> {
            for (String kind : List.of("domain flush", "domain INVLPG", "multi flush", "multi INVLPG", "local flush",
                    "local INVLPG", "type change")) {
                cov.check(kind).count(v -> v >= 10);
            }
        });
        Statistics.label("reach").coverage(cov -> {
            for (String kind : List.of("domain flush", "multi flush", "multi INVLPG", "type change")) {
                cov.check(kind + ": some pCPUs").count(v -> v >= 5);
                cov.check(kind + ": no pCPU").count(v -> v >= 2);
            }
        });
        Statistics.label("effect").coverage(cov -> cov.check("translations gone and kept").percentage(p -> p >= 20));
        Statistics.label("mask").coverage(cov -> cov.check("a reached pCPU stays: a vCPU current").count(v -> v >= 10));
        Statistics.label("clock").coverage(cov -> {
            cov.check("a pCPU of the mask cleared by the clock").count(v -> v >= 5);
            cov.check("the whole mask flushed").count(v -> v >= 5);
        });
    }
}
