package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.xen.Domain;
import org.hybridv.xen.DomainPv;
import org.hybridv.xen.Faults;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.PageType;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * The calls that set a domain's PV interface up, judged by their rules restated here over raw state (never by calling
 * the code they check): {@code memory_op(XENMEM_add_to_physmap)} for the shared-info page (EVT-1) and the grant table
 * (GNT-1), and {@code hvm_op(HVMOP_set_param, HVM_PARAM_CALLBACK_IRQ)} for the upcall vector (EVT-9).
 *
 * <p>The machine is {@link HypervisorCases}' (d1 direct, d2 HAP, d3 shadow; no PV page placed yet). A run is 1..10
 * calls by the three kernels, with operands chosen from the state: spaces shared_info, grant_table and three that are
 * not modelled; a frame of the caller's RAM (by its p2m, or its own frame numbers in direct mode; a third of the time
 * holding words the guest stored in it before), one in use as a page table, the page it placed for the other space, one
 * of another domain's, a guest frame outside its RAM, −1; a callback value of each type (bits 63:56) with a vector 0,
 * 0x1f, 0x20, 0x21, 0xff, reserved bits 55:8 set or not, another command or parameter. For each call:
 * <ul>
 * <li>add_to_physmap is accepted exactly when the space is shared_info or grant_table, the guest frame is the
 * caller's RAM (its machine frame exists and the caller owns it), the frame is not a page table (no type reference
 * of a type but writable) nor the caller's page for either space, and the caller has not placed that space's page
 * yet; accepted, it returns 0, names the frame as that page, clears its 512 words and changes nothing else;</li>
 * <li>set_param is accepted exactly when it is HVMOP_set_param of HVM_PARAM_CALLBACK_IRQ with type 2 (vector) in
 * bits 63:56, bits 55:8 clear and a vector of at least 0x20 (0–31 are the processor's exceptions, SDM Vol. 3A §6.2);
 * accepted, it returns 0, records the vector and changes nothing else;</li>
 * <li>a refusal is -EINVAL and changes no memory word, no frame-table entry and no domain's PV state.</li>
 * </ul>
 */
class PvSetupProperties {
    // public/xen.h, memory.h, hvm/hvm_op.h, hvm/params.h, errno.h — restated
    private static final int MEMORY_OP = 12;
    private static final int HVM_OP = 34;
    private static final int ADD_TO_PHYSMAP = 7;
    private static final int SPACE_SHARED_INFO = 0;
    private static final int SPACE_GRANT_TABLE = 1;
    private static final int SET_PARAM = 0;
    private static final int CALLBACK_IRQ = 0;
    private static final long TYPE_VECTOR = 2;
    private static final int EINVAL = 22;

    private static final VcpuId[] KERNELS = {HypervisorCases.K, HypervisorCases.H, HypervisorCases.S};

    /** One call: kind 0 add_to_physmap, 1 set_param; the caller and raw operands decoded against the state. */
    record Op(int kind, int caller, int a, int b, int c) {}

    @Provide
    Arbitrary<List<Op>> runs() {
        Arbitrary<Integer> x = Arbitraries.integers().between(0, 1 << 20)
                .withDistribution(net.jqwik.api.RandomDistribution.uniform()); // every operand choice alike
        return Combinators.combine(Arbitraries.integers().between(0, 2).map(k -> k == 2 ? 1 : 0),
                Arbitraries.integers().between(0, 2), x, x, x).as(Op::new).list().ofMinSize(1).ofMaxSize(10);
    }

    @Property(seed = Budget.SEED, tries = 200, edgeCases = EdgeCasesMode.NONE)
    void everyPvSetupCallDoesWhatItsRuleSays(@ForAll("runs") List<Op> run) {
        XenMachine m = HypervisorCases.initialMachine(Faults.NONE, 1);
        for (Op op : run) {
            m = op.kind() == 0 ? addToPhysmap(m, op) : setParam(m, op);
        }
        Statistics.label("add_to_physmap").collect("(tries)");
        Statistics.label("add_to_physmap").coverage(k -> {
            for (String s : new String[] {"shared info placed", "grant table placed", "space not modelled",
                "not RAM", "foreign frame", "page table", "the other page", "placed already",
                "over the guest's data"}) {
                k.check(s).count(n -> n > 0);
            }
        });
        Statistics.label("set_param").collect("(tries)");
        Statistics.label("set_param").coverage(k -> {
            for (String s : new String[] {"vector recorded", "vector below 0x20", "not a vector type",
                "reserved bits", "other command or parameter"}) {
                k.check(s).count(n -> n > 0);
            }
        });
    }

    private static <T> T pick(T[] xs, int i) {
        return xs[Math.floorMod(i, xs.length)];
    }

    /** The machine frame of guest frame {@code gfn} of {@code d} by its mode: itself, or its p2m entry; or -1. */
    private static long machineFrame(Domain d, long gfn) {
        if (d.mode() == MmuMode.DIRECT) {
            return gfn;
        }
        Long mfn = d.p2m().get(gfn);
        return mfn == null ? -1 : mfn;
    }

    /** The guest frame that names machine frame {@code mfn} in {@code d} (direct: itself), or -1. */
    private static long guestFrame(Domain d, long mfn) {
        if (d.mode() == MmuMode.DIRECT) {
            return mfn;
        }
        for (var e : d.p2m().entrySet()) {
            if (e.getValue() == mfn) {
                return e.getKey();
            }
        }
        return -1;
    }

    /** The guest frame an add_to_physmap names: drawn from the caller's RAM, its page tables, its pages, or corners. */
    private static long gfn(XenMachine m, int d, int x, int y) {
        Domain dom = m.domain(d);
        java.util.List<Long> ram = new java.util.ArrayList<>();
        java.util.List<Long> tables = new java.util.ArrayList<>();
        for (long f = 0; f < m.frames().size(); f++) {
            FrameInfo i = m.frames().get(f);
            long g = guestFrame(dom, f);
            if (i.owner() == d && g >= 0) {
                ram.add(g);
                if (i.typeCount() > 0 && i.type() != PageType.WRITABLE) {
                    tables.add(g);
                }
            }
        }
        DomainPv pv = m.pv().domain(d);
        switch (x % 8) {
            case 0, 1, 2:
                return ram.get(y % ram.size());
            case 3:
                return tables.isEmpty() ? ram.get(y % ram.size()) : tables.get(y % tables.size());
            case 4: {
                long placed = pick(new Long[] {pv.sharedInfo(), pv.grantTable()}, y);
                return placed >= 0 ? guestFrame(dom, placed) : ram.get(y % ram.size());
            }
            case 5: {
                // a frame another domain owns, named by its machine number (what a direct domain would write)
                int other = d == 1 ? 2 : 1;
                for (long f = y % m.frames().size(), n = 0; n < m.frames().size(); n++, f = (f + 1) % m.frames()
                        .size()) {
                    if (m.frames().get(f).owner() == other) {
                        return dom.mode() == MmuMode.DIRECT ? f : pick(new Long[] {f, 0x100L}, y);
                    }
                }
                return 0x100;
            }
            case 6:
                return pick(new Long[] {0x100L, (long) m.frames().size(), 1L << 40}, y);
            default:
                return pick(new Long[] {-1L, 0L}, y);
        }
    }

    private static XenMachine addToPhysmap(XenMachine m, Op op) {
        VcpuId caller = KERNELS[op.caller()];
        int d = caller.domain();
        long space = op.a() % 5 < 2 ? SPACE_SHARED_INFO : op.a() % 5 < 4 ? SPACE_GRANT_TABLE
                : pick(new Long[] {2L, 7L, -1L}, op.a() / 5);
        long gfn = gfn(m, d, op.b(), op.c());
        long target = machineFrame(m.domain(d), gfn);
        if (op.c() % 3 == 0 && target >= 0 && target < m.frames().size() && m.frames().get(target).owner() == d
                && m.frames().get(target).typeCount() == 0 && target != m.pv().domain(d).sharedInfo()
                && target != m.pv().domain(d).grantTable()) {
            // the guest used the frame before (its own stores): words in both halves, so that the page must be
            // cleared (not its shared-info page: an upcall-pending bit there is delivered at the call's VM entry)
            long w = 1 + op.c() % 1000;
            m = m.withPaging(m.paging().withMemory(m.memory().write(target, 0, w).write(target, 300, ~w)
                    .write(target, PhysicalMemory.WORDS_PER_FRAME - 1, w << 12)));
            Statistics.label("add_to_physmap").collect("over the guest's data");
        }
        Hypercall call = Hypercall.of(MEMORY_OP, ADD_TO_PHYSMAP, space, gfn);
        // the rule (EVT-1, GNT-1), restated over the frame table, the caller's p2m and its PV state
        Domain dom = m.domain(d);
        DomainPv pv = m.pv().domain(d);
        long mfn = machineFrame(dom, gfn);
        boolean ram = mfn >= 0 && mfn < m.frames().size() && m.frames().get(mfn).owner() == d;
        String why;
        if (space != SPACE_SHARED_INFO && space != SPACE_GRANT_TABLE) {
            why = "space not modelled";
        } else if (!ram) {
            why = mfn >= 0 && mfn < m.frames().size() && m.frames().get(mfn).owner() != d ? "foreign frame"
                    : "not RAM";
        } else if (m.frames().get(mfn).typeCount() > 0 && m.frames().get(mfn).type() != PageType.WRITABLE) {
            why = "page table";
        } else if (mfn == pv.sharedInfo() || mfn == pv.grantTable()) {
            why = "the other page";
        } else if ((space == SPACE_SHARED_INFO ? pv.sharedInfo() : pv.grantTable()) >= 0) {
            why = "placed already";
        } else {
            why = null;
        }
        HvStep s = Hypervisor.hypercall(m, caller, call);
        String what = call + " by " + caller + " (gfn " + gfn + ", frame " + mfn + ")";
        if (why != null) {
            Statistics.label("add_to_physmap").collect(why);
            return refused(m, s, what, why);
        }
        Statistics.label("add_to_physmap").collect(space == SPACE_SHARED_INFO ? "shared info placed"
                : "grant table placed");
        assertThat(s.outcome()).as("%s: accepted (EVT-1, GNT-1)", what)
                .isInstanceOf(VcpuOutcome.HypercallDone.class);
        assertThat(((VcpuOutcome.HypercallDone) s.outcome()).rax()).as("%s: RAX", what).isZero();
        XenMachine post = s.machine();
        DomainPv want = space == SPACE_SHARED_INFO ? pv.withSharedInfo(mfn) : pv.withGrantTable(mfn);
        assertThat(post.pv().domain(d)).as("%s: the domain names the frame as its page", what).isEqualTo(want);
        for (int x : m.pv().domains().keySet()) {
            if (x != d) {
                assertThat(post.pv().domain(x)).as("%s: d%d's PV state", what, x).isEqualTo(m.pv().domain(x));
            }
        }
        PhysicalMemory cleared = m.memory();
        for (int w = 0; w < PhysicalMemory.WORDS_PER_FRAME; w++) {
            cleared = cleared.read(mfn, w) == 0 ? cleared : cleared.write(mfn, w, 0);
        }
        Cases.assertSameWords(cleared, post.memory(), what + " (the page starts cleared, nothing else written)");
        assertThat(post.frames()).as("%s: the frame table", what).isEqualTo(m.frames());
        return post;
    }

    private static XenMachine setParam(XenMachine m, Op op) {
        VcpuId caller = KERNELS[op.caller()];
        int d = caller.domain();
        long cmd = op.a() % 6 == 0 ? pick(new Long[] {1L, 2L, -1L}, op.a() / 6) : SET_PARAM;
        long param = op.a() % 6 == 1 ? pick(new Long[] {1L, 18L, -1L}, op.a() / 6) : CALLBACK_IRQ;
        long type = op.b() % 4 == 0 ? pick(new Long[] {0L, 1L, 3L, 0xFFL}, op.b() / 4) : TYPE_VECTOR;
        long vector = pick(new Long[] {0x20L, 0x21L, 0xF3L, 0xFFL, 0x1FL, 0L}, op.c());
        long reserved = op.c() % 7 == 0 ? pick(new Long[] {1L << 8, 1L << 55, 0x100000L << 8}, op.c() / 7) : 0;
        long value = type << 56 | reserved | vector;
        Hypercall call = Hypercall.of(HVM_OP, cmd, param, value);
        // the rule (EVT-9's callback), restated
        String why = cmd != SET_PARAM || param != CALLBACK_IRQ ? "other command or parameter"
                : type != TYPE_VECTOR ? "not a vector type" : reserved != 0 ? "reserved bits"
                : vector < 0x20 ? "vector below 0x20" : null;
        HvStep s = Hypervisor.hypercall(m, caller, call);
        String what = call + " by " + caller;
        if (why != null) {
            Statistics.label("set_param").collect(why);
            return refused(m, s, what, why);
        }
        Statistics.label("set_param").collect("vector recorded");
        assertThat(s.outcome()).as("%s: accepted (EVT-9)", what).isInstanceOf(VcpuOutcome.HypercallDone.class);
        assertThat(((VcpuOutcome.HypercallDone) s.outcome()).rax()).as("%s: RAX", what).isZero();
        XenMachine post = s.machine();
        assertThat(post.pv().domain(d)).as("%s: the domain's callback vector", what)
                .isEqualTo(m.pv().domain(d).withCallbackVector((int) vector));
        for (int x : m.pv().domains().keySet()) {
            if (x != d) {
                assertThat(post.pv().domain(x)).as("%s: d%d's PV state", what, x).isEqualTo(m.pv().domain(x));
            }
        }
        assertThat(post.memory().equals(m.memory())).as("%s: no memory written", what).isTrue();
        return post;
    }

    /** A refusal: -EINVAL, and nothing changed (memory, frame table, every domain's PV state). */
    private static XenMachine refused(XenMachine m, HvStep s, String what, String why) {
        assertThat(s.outcome()).as("%s: refused (%s)", what, why).isInstanceOf(VcpuOutcome.HypercallRefused.class);
        assertThat(((VcpuOutcome.HypercallRefused) s.outcome()).errno().value()).as("%s: errno", what)
                .isEqualTo(EINVAL);
        XenMachine post = s.machine();
        assertThat(post.memory().equals(m.memory())).as("%s: a refusal writes no memory", what).isTrue();
        assertThat(post.frames()).as("%s: a refusal changes no frame", what).isEqualTo(m.frames());
        for (int x : m.pv().domains().keySet()) {
            assertThat(post.pv().domain(x)).as("%s: a refusal changes no PV state (d%d)", what, x)
                    .isEqualTo(m.pv().domain(x));
        }
        return post;
    }
}
