package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.EnumMap;
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
import org.hybridv.guest.XenPlatform;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.CpuidIdentity;
import org.hybridv.xen.Faults;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.XenMachine;

/**
 * The guest kernel's own timer driver — its clock event programming, its handler's scan of the 2-level event words,
 * its end of interrupt and its tick accounting (rules BOOT-9, BOOT-10 of docs/rules/hybrid.md, EVT-10 of
 * docs/rules/xen.md) — judged over what the kernel's instructions did and the shared-info page before and after its
 * handler, never by calling the driver. The native twin (I3) runs the same driver and so cannot see a slip in it;
 * these rules are restated here from the sources:
 * <ul>
 * <li>the tick count and clock the kernel reports are the number of timer periods so far and the sum of their
 * lengths (Linux's {@code tick_periodic}: {@code jiffies} + 1 per tick);</li>
 * <li>under Xen with the PV timer: exactly one {@code VCPUOP_set_singleshot_timer(vcpu 0, clock + period,
 * VCPU_SSHOTTMR_future)}, an idle period adds exactly one {@code SCHEDOP_block}, no MSR write; one upcall, after which
 * the shared-info page is what {@code xen_evtchn_do_upcall} (2-level ABI, {@code evtchn_2l_handle_events}) leaves:
 * {@code evtchn_upcall_pending} (byte 0 of {@code vcpu_info}) and the whole selector {@code evtchn_pending_sel}
 * cleared, and in each word whose selector bit was set every pending, unmasked port cleared
 * ({@code clear_evtchn}) — pending := pending AND mask — and every other word of the page as it was;</li>
 * <li>on the local APIC timer (natively, KVM, Xen without the PV timer): the MSR writes of {@code
 * lapic_timer_set_oneshot} on the first use only (divide configuration 1011b, LVT timer = vector ECH one-shot
 * unmasked), the initial count = the period ({@code lapic_next_event}), then one end of interrupt: with KVM's PV EOI,
 * if the hypervisor set bit 0 of the EOI word, that bit cleared by a store and no EOI write, else WRMSR EOI (80BH) = 0
 * ({@code kvm_guest_apic_eoi_write}, Intel SDM Vol. 3A §10.8.5).</li>
 * </ul>
 * Before each PV period the kernel itself writes random pending, mask and selector words (as {@code mask_evtchn} and a
 * resend's {@code evtchn_2l_set_pending} do; never the timer's own port or its word's selector bit, which must stay
 * free for Xen to raise the timer's event), so the
 * handler meets masked, unmasked, selected and unselected ports in words 0, 1, 2 and 63; and it sets or clears
 * {@code evtchn_upcall_mask}, which the handler must leave as it is.
 */
class GuestTimerProperties {
    private static final int FRAMES = 64;
    private static final int VCPU_OP = 24;
    private static final int SCHED_OP = 29;
    private static final long SET_SINGLESHOT = 10;
    private static final long SSHOTTMR_FUTURE = 1;
    private static final long SCHEDOP_BLOCK = 1;
    // x2APIC MSRs (Intel SDM Vol. 3A Table 10-6) and KVM's MSR_KVM_PV_EOI_EN (Documentation/virt/kvm/x86/msr.rst)
    private static final long EOI = 0x80B;
    private static final long LVT_TIMER = 0x832;
    private static final long INIT_COUNT = 0x838;
    private static final long DIV_CONF = 0x83E;
    private static final long MSR_KVM_PV_EOI_EN = 0x4b564d04L;
    private static final long DIVIDE_BY_1 = 0b1011;
    private static final long LOCAL_TIMER_VECTOR = 0xEC;
    // the 2-level ABI's shared-info layout (public/xen.h): vcpu_info[0] at word 0, its selector at word 1,
    // evtchn_pending[64] at byte 2048, evtchn_mask[64] at byte 2560
    private static final int SELECTOR = 1;
    private static final int PENDING = 256;
    private static final int MASK = 320;
    private static final int[] WORDS = {0, 1, 2, 63};

    enum Setup { XEN_SHADOW, XEN_DIRECT, XEN_HAP, KVM, NATIVE }

    /** One period: its length, idle or a tick, PV wanted, and the words the kernel writes first (PV periods only). */
    record Period(long ticks, boolean idle, boolean pv, long[] pending, long[] mask, long selector,
            boolean upcallMask) {
        @Override
        public String toString() {
            return (idle ? "idle " : "tick ") + ticks + (pv ? " pv" : " apic") + " pending "
                    + java.util.Arrays.toString(pending) + " mask " + java.util.Arrays.toString(mask) + " sel "
                    + Long.toHexString(selector) + (upcallMask ? " upcall mask" : "");
        }
    }

    record Run(Setup setup, List<Period> periods) {}

    private static Arbitrary<Long> word() {
        // sparse, dense, all-ones and single-bit words: the corners of "pending AND mask"
        return Arbitraries.oneOf(Arbitraries.just(0L), Arbitraries.just(-1L), Arbitraries.longs(),
                Arbitraries.integers().between(0, 63).map(b -> 1L << b),
                Combinators.combine(Arbitraries.longs(), Arbitraries.longs()).as((a, b) -> a & b));
    }

    private static Arbitrary<long[]> words() {
        return word().array(long[].class).ofSize(WORDS.length);
    }

    @Provide
    Arbitrary<Run> runs() {
        Arbitrary<Long> ticks = Arbitraries.oneOf(Arbitraries.longs().between(1, 20),
                Arbitraries.of(0xFFFF_FFFFL, 0xFFFF_FFFEL, 1L << 31));
        Arbitrary<Long> selector = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(1, Arbitraries.just(-1L)),
                net.jqwik.api.Tuple.of(2, Arbitraries.longs()),
                net.jqwik.api.Tuple.of(3, Arbitraries.of(0L, 2L, 4L, 6L, 1L << 63, 3L, 5L)));
        Arbitrary<Period> period = Combinators.combine(ticks, Arbitraries.of(false, false, true),
                Arbitraries.of(true, true, true, false), words(), words(), selector, Arbitraries.of(false, true))
                .as(Period::new);
        return Combinators.combine(Arbitraries.of(Setup.class), period.list().ofMinSize(1).ofMaxSize(4))
                .as(Run::new);
    }

    private static final Map<Setup, GuestSystem> BOOTED = new EnumMap<>(Setup.class);

    /** The kernel booted on {@code s} (booting is deterministic; systems are values, so one boot serves all tries). */
    private static synchronized GuestSystem booted(Setup s) {
        return BOOTED.computeIfAbsent(s, k -> {
            GuestSystem g = switch (k) {
                case XEN_SHADOW, XEN_DIRECT -> Loader.underXen(MmuMode.SHADOW, FRAMES, 64);
                case XEN_HAP -> Loader.underXen(MmuMode.HAP, FRAMES, 64);
                case KVM -> Loader.underXen(MmuMode.HAP, FRAMES, 64, Faults.NONE, CpuidIdentity.KVM);
                case NATIVE -> Loader.onBareMetal(FRAMES);
            };
            BootStage to = k == Setup.XEN_SHADOW ? BootStage.HYPERCALL_PAGE_INSTALLED : BootStage.DIRECT;
            return Kernel.apply(g, new GuestOp.Boot(to)).post();
        });
    }

    private static long sharedInfoLinear() {
        return Layout.directMap(Layout.sharedInfo(FRAMES));
    }

    private static GuestSystem kernelStore(GuestSystem g, long linear, long value) {
        KernelStep s = Kernel.apply(g, new GuestOp.KernelAccess(linear, AccessKind.WRITE, value));
        assertThat(s.result()).as("the kernel's store to %x", linear).isInstanceOf(KernelResult.Read.class);
        return s.post();
    }

    private static long kernelLoad(GuestSystem g, long linear) {
        KernelResult r = Kernel.apply(g, new GuestOp.KernelAccess(linear, AccessKind.READ, 0)).result();
        assertThat(r).isInstanceOf(KernelResult.Read.class);
        return ((KernelResult.Read) r).value();
    }

    /** The upcall's or interrupt's injection: the instructions at whose VM entry (or boundary) one was delivered. */
    private static List<Integer> injections(List<Executed> t) {
        List<Integer> at = new ArrayList<>();
        for (int i = 0; i < t.size(); i++) {
            if (t.get(i).platform().interruptsDelivered() > t.get(i).pre().interruptsDelivered()) {
                at.add(i);
            }
        }
        return at;
    }

    private static List<long[]> wrmsrs(List<Executed> t, int from, int to) {
        List<long[]> l = new ArrayList<>();
        for (int i = from; i < to; i++) {
            if (t.get(i).instruction() instanceof GuestInstruction.Wrmsr w) {
                l.add(new long[] {w.msr(), w.value()});
            }
        }
        return l;
    }

    private static List<List<Long>> hypercalls(List<Executed> t) {
        List<List<Long>> l = new ArrayList<>();
        for (Executed e : t) {
            if (e.instruction() instanceof GuestInstruction.Vmcall) {
                List<Long> c = new ArrayList<>();
                c.add(e.regs().number());
                c.addAll(e.regs().args());
                l.add(c);
            }
        }
        return l;
    }

    private static String render(List<long[]> l) {
        StringBuilder b = new StringBuilder();
        for (long[] x : l) {
            b.append(Long.toHexString(x[0])).append('=').append(Long.toHexString(x[1])).append(' ');
        }
        return b.toString().trim();
    }

    /** The guest-physical address of the PV EOI word, from the kernel's boot-time WRMSR of MSR_KVM_PV_EOI_EN, or -1. */
    private static long pvEoiAddress(Setup s) {
        if (s != Setup.KVM) {
            return -1;
        }
        GuestSystem g = Loader.underXen(MmuMode.HAP, FRAMES, 64, Faults.NONE, CpuidIdentity.KVM);
        for (Executed e : Kernel.apply(g, new GuestOp.Boot(BootStage.DIRECT)).trace()) {
            if (e.instruction() instanceof GuestInstruction.Wrmsr w && w.msr() == MSR_KVM_PV_EOI_EN
                    && (w.value() & 1) != 0) {
                return w.value() & ~1L;
            }
        }
        return -1;
    }

    private static final Map<Setup, Long> PV_EOI = new EnumMap<>(Setup.class);

    private static synchronized long pvEoi(Setup s) {
        return PV_EOI.computeIfAbsent(s, GuestTimerProperties::pvEoiAddress);
    }

    @Property(seed = Budget.SEED, tries = 150)
    void theTimerDriverProgramsHandlesAndCountsAsBoot9Says(@ForAll("runs") Run run) {
        GuestSystem g = booted(run.setup());
        boolean xen = run.setup() != Setup.KVM && run.setup() != Setup.NATIVE;
        long timerPort = xen ? kernelLoad(g, Layout.TIMER_PORT_VAR) : -1;
        long jiffies = 0;
        long clock = 0;
        boolean apicProgrammed = false;
        for (Period p : run.periods()) {
            boolean pv = xen && p.pv();
            if (pv) {
                long si = sharedInfoLinear();
                for (int k = 0; k < WORDS.length; k++) {
                    long keep = WORDS[k] == timerPort / 64 ? ~(1L << (timerPort % 64)) : -1L;
                    g = kernelStore(g, si + 8L * (PENDING + WORDS[k]), p.pending()[k] & keep);
                    g = kernelStore(g, si + 8L * (MASK + WORDS[k]), p.mask()[k] & keep);
                }
                // the timer's word stays unselected: Xen raises the upcall only when it sets that bit itself
                // (evtchn_2l_set_pending: test_and_set_bit on evtchn_pending_sel, then vcpu_mark_events_pending)
                g = kernelStore(g, si + 8L * SELECTOR, p.selector() & ~(1L << (timerPort / 64)));
                // evtchn_upcall_mask, byte 1 of vcpu_info: a PV kernel's interrupt flag, which an HVM vCPU's
                // callback vector ignores (Xen's hvm_vcpu_has_pending_irq reads only evtchn_upcall_pending)
                g = kernelStore(g, si, (kernelLoad(g, si) & ~0xFF00L) | (p.upcallMask() ? 1L << 8 : 0));
            }
            GuestOp op = p.idle() ? new GuestOp.Idle(p.ticks(), p.pv()) : new GuestOp.TimerTick(p.ticks(), p.pv());
            KernelStep st = Kernel.apply(g, op);
            List<Executed> t = st.trace();
            jiffies++;
            List<Integer> inj = injections(t);
            assertThat(inj).as("%s on %s: exactly one interrupt or upcall delivered", p, run.setup()).hasSize(1);
            int at = inj.get(0);
            if (pv) {
                List<List<Long>> expected = new ArrayList<>();
                expected.add(List.of((long) VCPU_OP, SET_SINGLESHOT, 0L, clock + p.ticks(), SSHOTTMR_FUTURE));
                if (p.idle()) {
                    expected.add(List.of((long) SCHED_OP, SCHEDOP_BLOCK));
                }
                assertThat(hypercalls(t)).as("%s: the PV timer's hypercalls (BOOT-9, BOOT-10)", p)
                        .isEqualTo(expected);
                assertThat(wrmsrs(t, 0, t.size())).as("%s: no MSR write with the PV timer", p).isEmpty();
                judgeUpcall(p, timerPort, t.get(at), st.post());
            } else {
                List<long[]> expected = new ArrayList<>();
                if (!apicProgrammed) {
                    expected.add(new long[] {DIV_CONF, DIVIDE_BY_1});
                    expected.add(new long[] {LVT_TIMER, LOCAL_TIMER_VECTOR});
                    apicProgrammed = true;
                }
                expected.add(new long[] {INIT_COUNT, p.ticks()});
                assertThat(render(wrmsrs(t, 0, at))).as("%s on %s: the APIC timer's programming (BOOT-9)", p,
                        run.setup()).isEqualTo(render(expected));
                assertThat(hypercalls(t)).as("%s: no hypercall on the APIC timer", p).isEmpty();
                judgeEoi(run.setup(), p, t, at);
            }
            clock += p.ticks();
            if (p.idle()) {
                assertThat(st.result()).as("%s on %s", p, run.setup()).isEqualTo(new KernelResult.Idled());
            } else {
                assertThat(st.result()).as("%s on %s: the tick count and the clock", p, run.setup())
                        .isEqualTo(new KernelResult.Ticked(jiffies, clock));
            }
            g = st.post();
            Statistics.label("period").collect(run.setup() + (pv ? " pv" : " apic") + (p.idle() ? " idle" : " tick"));
        }
        Statistics.label("period").coverage(k -> {
            for (Setup s : Setup.values()) {
                k.checkPattern(s + " apic tick").count(n -> n >= 5);
                if (s != Setup.KVM && s != Setup.NATIVE) {
                    k.checkPattern(s + " pv tick").count(n -> n >= 8);
                    k.checkPattern(s + " pv idle").count(n -> n >= 4);
                }
            }
        });
    }

    /**
     * EVT-10, the 2-level handler: from the shared-info page as it was when the upcall was injected to the page after
     * the operation, judged word by word.
     */
    private static void judgeUpcall(Period p, long timerPort, Executed injected, GuestSystem post) {
        XenMachine before = ((XenPlatform) injected.pre()).machine();
        XenMachine after = ((XenPlatform) post.platform()).machine();
        long siFrame = before.pv().domain(1).sharedInfo();
        long[] pre = before.memory().frame(siFrame);
        long[] got = after.memory().frame(after.pv().domain(1).sharedInfo());
        long sel = pre[SELECTOR];
        assertThat((pre[0] & 0xFF) != 0).as("%s: upcall-pending set when the upcall came", p).isTrue();
        assertThat((pre[PENDING + (int) (timerPort / 64)] >>> (timerPort % 64) & 1)).as("%s: the timer's port %d "
                + "pending when the upcall came", p, timerPort).isEqualTo(1L);
        long[] want = pre.clone();
        want[0] = pre[0] & ~0xFFL;
        want[SELECTOR] = 0;
        int handled = 0;
        for (int w = 0; w < 64; w++) {
            if ((sel >>> w & 1) != 0) {
                want[PENDING + w] = pre[PENDING + w] & pre[MASK + w];
                handled += Long.bitCount(pre[PENDING + w] & ~pre[MASK + w]);
            }
        }
        for (int i = 0; i < PhysicalMemory.WORDS_PER_FRAME; i++) {
            assertThat(Long.toHexString(got[i])).as("%s: shared-info word %d after the upcall (selector %x, pending "
                    + "%x, mask %x)", p, i, sel, i >= PENDING && i < MASK ? pre[i] : 0,
                    i >= PENDING && i < MASK ? pre[i + 64] : 0).isEqualTo(Long.toHexString(want[i]));
        }
        Statistics.label("ports handled by one upcall").collect(handled <= 1 ? "1" : handled <= 8 ? "2-8" : "> 8");
        Statistics.label("unselected pending, unmasked").collect(unselectedReady(pre, sel) ? "present" : "none");
        Statistics.label("masked pending in a selected word").collect(maskedSelected(pre, sel) ? "present" : "none");
        Statistics.label("unselected pending, unmasked").coverage(k -> k.check("present").count(n -> n >= 20));
        Statistics.label("masked pending in a selected word").coverage(k -> k.check("present").count(n -> n >= 20));
        Statistics.label("ports handled by one upcall").coverage(k -> k.check("> 8").count(n -> n >= 20));
    }

    private static boolean unselectedReady(long[] pre, long sel) {
        for (int w = 0; w < 64; w++) {
            if ((sel >>> w & 1) == 0 && (pre[PENDING + w] & ~pre[MASK + w]) != 0) {
                return true;
            }
        }
        return false;
    }

    private static boolean maskedSelected(long[] pre, long sel) {
        for (int w = 0; w < 64; w++) {
            if ((sel >>> w & 1) != 0 && (pre[PENDING + w] & pre[MASK + w]) != 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * The end of the APIC timer's interrupt: with KVM's PV EOI enabled and bit 0 of the EOI word set when the
     * interrupt came, exactly one store clearing that bit and no EOI write; otherwise exactly one WRMSR EOI = 0.
     */
    private static void judgeEoi(Setup s, Period p, List<Executed> t, int at) {
        long gpa = pvEoi(s);
        boolean bitSet = false;
        long linear = -1;
        if (gpa >= 0) {
            // the hypervisor sets the bit as it injects (at the handler's first instruction's VM entry)
            XenPlatform x = (XenPlatform) t.get(at).platform();
            long mfn = x.machine().domain(1).machineFrame(gpa >>> 12);
            bitSet = (x.machine().memory().read(mfn, (int) ((gpa & 0xFFF) / 8)) & 1) != 0;
            GuestSystem g = booted(s);
            for (int pfn = 0; pfn < FRAMES; pfn++) {
                if (g.kernel().frameOf(pfn) == gpa >>> 12) {
                    linear = Layout.directMap(pfn) + (gpa & 0xFFF); // the kernel's direct map of that frame
                }
            }
        }
        List<long[]> eois = wrmsrs(t, at, t.size());
        int stores = 0;
        for (int i = at; i < t.size(); i++) {
            if (t.get(i).instruction() instanceof GuestInstruction.MemoryAccess a && a.access().linear() == linear
                    && a.access().kind() == AccessKind.WRITE) {
                stores++;
                assertThat(a.access().value() & 1).as("%s: the PV EOI store clears bit 0", p).isZero();
            }
        }
        if (bitSet) {
            assertThat(eois).as("%s on %s: PV EOI, no EOI write", p, s).isEmpty();
            assertThat(stores).as("%s on %s: one store to the PV EOI word", p, s).isEqualTo(1);
            XenPlatform x = (XenPlatform) t.get(t.size() - 1).platform();
            long mfn = x.machine().domain(1).machineFrame(gpa >>> 12);
            assertThat(x.machine().memory().read(mfn, (int) ((gpa & 0xFFF) / 8)) & 1).isZero();
        } else {
            assertThat(render(eois)).as("%s on %s: one EOI write", p, s).isEqualTo(render(List.of(new long[] {EOI,
                0})));
            assertThat(stores).as("%s on %s: no PV EOI store", p, s).isZero();
        }
        Statistics.label("end of interrupt").collect(s + (bitSet ? " pv eoi" : " eoi write"));
    }
}
