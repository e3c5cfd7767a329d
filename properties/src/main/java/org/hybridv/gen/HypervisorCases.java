package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Entry;
import org.hybridv.xen.Domains;
import org.hybridv.xen.HvResult;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.HypercallPage;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * Adversarial guests against the whole hypervisor ({@code Hypervisor.run}): a run is a plain list of operations — a
 * vCPU, a guest instruction and the registers a VMCALL passes — drawn from {@link Choices} (0 = the simplest: a kernel
 * read of a mapped page). This replaces a jqwik {@code ActionChain} on purpose: the generator stays engine-neutral,
 * jqwik shrinks the choice list (hence the op list), and a shrunk run is a list of operations a scenario can replay.
 *
 * <p>The machine (96 frames; Xen owns 0x1–0xf; 0x48–0x5f are free for shadow tables):
 * <ul>
 * <li>d1 DIRECT, frames 0x10–0x2f: L4 0x10 → L3 0x11 → L2 0x12 → L1 0x13 (all RW, user); the L1 maps 0x20 RW user at
 * 0x5000, 0x21 RO user at 0x6000, 0x22 RW supervisor at 0x7000 and itself RO at 0x8000 (so the kernel can write its
 * PTEs through the page-table-write emulation). v0 (VPID 1) runs at CPL 0, v1 (VPID 2) at CPL 3.</li>
 * <li>d2 HAP, frames 0x30–0x37, p2m gfn i → 0x30 + i; guest tables gfn 0 → 1 → 2 → 3; the L1 maps gfn 4 at 0x4000,
 * gfn 0x100 (not in the p2m) at 0x5000 and itself RW supervisor at 0x8000 (the generator's page-table writes are
 * plain stores, no exit). v0 (VPID 3) at CPL 0, v1 (VPID 4) at CPL 3.</li>
 * <li>d3 SHADOW, frames 0x40–0x47, p2m gfn i → 0x40 + i; guest tables gfn 0 → 1 → 2 → L1 gfn 3, which maps gfn 4
 * RW user at 0x4000, gfn 5 RW user at 0x5000, gfn 6 RO user at 0x6000, gfn 7 RW supervisor at 0x7000, itself at
 * 0x8000 (the generator's page-table writes go through the shadow write emulation, SH-4) and gfn 0x100 (not in the
 * p2m) at 0x9000. v0 (VPID 5) at CPL 0, v1 (VPID 6) at CPL 3; their CR3 loads mostly reload gfn 0.</li>
 * </ul>
 */
public final class HypervisorCases {
    private HypervisorCases() {}

    public static final VcpuId K = new VcpuId(1, 0);
    public static final VcpuId U = new VcpuId(1, 1);
    public static final VcpuId H = new VcpuId(2, 0);
    public static final VcpuId HU = new VcpuId(2, 1);
    public static final VcpuId S = new VcpuId(3, 0);
    public static final VcpuId SU = new VcpuId(3, 1);

    /** One step: vCPU {@code vcpu} executes {@code insn}; {@code regs} are RAX and the arguments of a VMCALL. */
    public record Op(VcpuId vcpu, GuestInstruction insn, Hypercall regs) {
        @Override
        public String toString() {
            return vcpu + " " + (insn instanceof GuestInstruction.Vmcall ? "VMCALL " + regs : insn.toString());
        }
    }

    /**
     * A run: the machine ({@link #initialMachine()}, on {@code pcpus} pCPUs with the vCPUs K, U, H, HU, S, SU placed
     * on the pCPUs {@code placement} lists, in that order; empty: all on pCPU 0) and the ops; printed as the ops
     * alone (and the pCPUs when there are several).
     */
    public record Run(XenMachine initial, List<Op> ops, int pcpus, List<Integer> placement) {
        public Run {
            ops = List.copyOf(ops);
            placement = List.copyOf(placement);
            if (pcpus < 1 || pcpus > WholeSystemCases.MAX_PCPUS || !placement.isEmpty() && placement.size()
                    != VCPUS.size() || placement.stream().anyMatch(q -> q < 0 || q >= pcpus)) {
                throw new IllegalArgumentException("pcpus " + pcpus + ", placement " + placement);
            }
        }

        /** A run on one pCPU. */
        public Run(XenMachine initial, List<Op> ops) {
            this(initial, ops, 1, List.of());
        }

        /** The run's machine with {@code faults} injected before the domains are built. */
        public XenMachine machine(org.hybridv.xen.Faults faults) {
            if (pcpus == 1) {
                return faults.isEmpty() ? initial : initialMachine(faults);
            }
            return placed(initialMachine(faults, pcpus), placement);
        }

        @Override
        public String toString() {
            return "Run" + (pcpus == 1 ? "" : "(" + pcpus + " pCPUs, placed " + placement + ")") + ops;
        }
    }

    /** The vCPUs of {@link #initialMachine()} in the order a {@link Run}'s placement lists them. */
    public static final List<VcpuId> VCPUS = List.of(K, U, H, HU, S, SU);

    /** {@code m} (no vCPU run yet) with vCPU {@code VCPUS.get(i)} placed on pCPU {@code placement.get(i)}. */
    public static XenMachine placed(XenMachine m, List<Integer> placement) {
        for (int i = 0; i < placement.size(); i++) {
            m = m.withVcpu(m.vcpu(VCPUS.get(i)).withPcpu(placement.get(i)));
        }
        return m;
    }

    private static XenMachine initial;

    /** The machine of the class comment (built once; immutable). */
    public static synchronized XenMachine initialMachine() {
        if (initial == null) {
            initial = build();
        }
        return initial;
    }

    /**
     * The machine of the class comment with the seeded {@code faults} injected before any domain is built (some
     * faults act when a vCPU is created: its VMCS setup, its VPID).
     */
    public static XenMachine initialMachine(org.hybridv.xen.Faults faults) {
        return faults.isEmpty() ? initialMachine() : build(faults);
    }

    private static XenMachine build() {
        return build(org.hybridv.xen.Faults.NONE);
    }

    private static XenMachine build(org.hybridv.xen.Faults faults) {
        return initialMachine(faults, 1);
    }

    /**
     * The machine of the class comment on {@code pcpus} physical CPUs (every vCPU on pCPU 0), the seeded
     * {@code faults} injected before any domain is built.
     */
    public static XenMachine initialMachine(org.hybridv.xen.Faults faults, int pcpus) {
        XenMachine m = XenMachine.boot(96, Domains.range(0x1, 0xf));
        m = (pcpus == 1 ? m : m.withPcpus(pcpus)).withFaults(faults);
        return withD3(withD2(withD1(m)));
    }

    /**
     * {@link #initialMachine(org.hybridv.xen.Faults, int)} with the TLB-flush clock's counter at {@code clockStart}
     * and every pCPU's time 0 (Xen rule TLB-8; {@code XenMachine.withTlbClockAt}): near its top, the next flushes wrap
     * it.
     */
    public static XenMachine initialMachine(org.hybridv.xen.Faults faults, int pcpus, long clockStart) {
        XenMachine m = XenMachine.boot(96, Domains.range(0x1, 0xf));
        m = (pcpus == 1 ? m : m.withPcpus(pcpus)).withTlbClockAt(clockStart).withFaults(faults);
        return withD3(withD2(withD1(m)));
    }

    /** d1: direct mode, frames 0x10–0x2f, its tree L4 0x10 → L3 0x11 → L2 0x12 → L1 0x13, vCPUs K and U. */
    public static XenMachine withD1(XenMachine m) {
        int max = XenMachine.MAX_PHYS_ADDR;
        long[] f1 = Domains.range(0x10, 0x2f);
        m = done(Domains.create(m, 1, MmuMode.DIRECT, f1, Domains.identity(f1)));
        m = m.withPaging(m.paging().write(0x10, 0, Entry.table(0x11, true, true))
                .write(0x11, 0, Entry.table(0x12, true, true)).write(0x12, 0, Entry.table(0x13, true, true))
                .write(0x13, 5, Entry.table(0x20, true, true)).write(0x13, 6, Entry.table(0x21, false, true))
                .write(0x13, 7, Entry.table(0x22, true, false)).write(0x13, 8, Entry.table(0x13, false, false)));
        m = done(Domains.addVcpu(m, 1, 1, CpuState.longMode(0x10, max)));
        return done(Domains.addVcpu(m, 1, 2, CpuState.longMode(0x10, max).withCpl(3)));
    }

    /**
     * d2: HAP, frames 0x30–0x37 (gfn g → 0x30 + g), its L1 self-mapped at 0x8000 (page-table writes are plain guest
     * stores: the guest's tables are its own business under HAP), vCPUs H and HU.
     */
    public static XenMachine withD2(XenMachine m) {
        int max = XenMachine.MAX_PHYS_ADDR;
        Map<Long, Long> p2m = new TreeMap<>();
        for (long g = 0; g < 8; g++) {
            p2m.put(g, 0x30 + g);
        }
        m = done(Domains.create(m, 2, MmuMode.HAP, Domains.range(0x30, 0x37), p2m));
        m = m.withPaging(m.paging().write(0x30, 0, Entry.table(1, true, true)).write(0x31, 0, Entry.table(2, true,
                true)).write(0x32, 0, Entry.table(3, true, true)).write(0x33, 4, Entry.table(4, true, true))
                .write(0x33, 5, Entry.table(0x100, true, true)).write(0x33, 8, Entry.table(3, true, false)));
        m = done(Domains.addVcpu(m, 2, 3, CpuState.longMode(0, max)));
        return done(Domains.addVcpu(m, 2, 4, CpuState.longMode(0, max).withCpl(3)));
    }

    /** d3: shadow mode, frames 0x40–0x47 (gfn g → 0x40 + g), its L1 self-mapped at 0x8000, vCPUs S and SU. */
    public static XenMachine withD3(XenMachine m) {
        int max = XenMachine.MAX_PHYS_ADDR;
        Map<Long, Long> p2m3 = new TreeMap<>();
        for (long g = 0; g < 8; g++) {
            p2m3.put(g, 0x40 + g);
        }
        m = done(Domains.create(m, 3, MmuMode.SHADOW, Domains.range(0x40, 0x47), p2m3));
        m = m.withPaging(m.paging().write(0x40, 0, Entry.table(1, true, true)).write(0x41, 0, Entry.table(2, true,
                true)).write(0x42, 0, Entry.table(3, true, true)).write(0x43, 4, Entry.table(4, true, true))
                .write(0x43, 5, Entry.table(5, true, true)).write(0x43, 6, Entry.table(6, false, true))
                .write(0x43, 7, Entry.table(7, true, false)).write(0x43, 8, Entry.table(3, true, false))
                .write(0x43, 9, Entry.table(0x100, true, true)));
        m = done(Domains.addVcpu(m, 3, 5, CpuState.longMode(0, max)));
        return done(Domains.addVcpu(m, 3, 6, CpuState.longMode(0, max).withCpl(3)));
    }

    private static XenMachine done(HvResult r) {
        if (!(r instanceof HvResult.Done d)) {
            throw new IllegalStateException("the generator's initial machine is invalid: " + r);
        }
        return d.machine();
    }

    public static Run generate(Choices c) {
        int n = 1 + c.below(14);
        List<Op> ops = new ArrayList<>(n);
        Operands state = new Operands();
        for (int i = 0; i < n; i++) {
            if (c.flag(false, 12)) {
                // one fragment in ten is the PKRU switch (kept out of fragment(), which the whole-system runs share)
                ops.addAll(c.flag(true, 10) ? fragment(c) : pkruSwitch(c));
            } else {
                ops.add(op(c, state));
            }
            state.saw(ops);
        }
        // Drawn last, so that the run above is the same on any number of pCPUs: the pCPUs (half the runs one),
        // the vCPUs' places (d1's K and U on different pCPUs in most runs), and a window of the shared page at the end.
        int pcpus = 1 + c.weighted(4, 2, 1, 1);
        if (pcpus == 1) {
            return new Run(initialMachine(), ops);
        }
        List<Integer> placement = new ArrayList<>();
        for (int i = 0; i < VCPUS.size(); i++) {
            placement.add(c.below(pcpus));
        }
        if (c.flag(true, 25) && placement.get(0).equals(placement.get(1))) {
            placement.set(1, (placement.get(0) + 1 + c.below(pcpus - 1)) % pcpus);
        }
        if (c.flag(true, 40)) {
            WholeSystemCases.Window[] kinds = {WholeSystemCases.Window.DOMAIN_FLUSH,
                WholeSystemCases.Window.TYPE_CHANGE, WholeSystemCases.Window.L1_CHANGE_THEN_FLUSH};
            ops.addAll(WholeSystemCases.sharedPage(c, kinds[c.below(kinds.length)], c.flag(true, 30) ? 5 : 6));
        }
        return new Run(placed(initialMachine(org.hybridv.xen.Faults.NONE, pcpus), placement), ops, pcpus,
                placement);
    }

    /**
     * What the run so far has made of d1's frames, as the generator tracks it from its own ops (no simulation): the
     * frames it asked to pin (candidates for UNPIN and NEW_BASEPTR), the frames it installed as tables, and the
     * linear addresses its L1 updates mapped — so later operands act on state that exists instead of on blind
     * values. Choice 0 still gives the fixed operands of the initial machine.
     */
    static final class Operands {
        final List<Long> pinned = new ArrayList<>();
        final List<Long> linear = new ArrayList<>();
        private int seen;

        void saw(List<Op> ops) {
            for (; seen < ops.size(); seen++) {
                Op op = ops.get(seen);
                if (!(op.insn() instanceof GuestInstruction.Vmcall) || op.vcpu().domain() != 1) {
                    continue;
                }
                Hypercall h = op.regs();
                if (h.number() == Hypercalls.HYPERVISOR_MMUEXT_OP && h.arg(0) <= Hypercalls.MMUEXT_PIN_L4_TABLE
                        && !pinned.contains(h.arg(1))) {
                    pinned.add(h.arg(1));
                } else if (h.number() == Hypercalls.HYPERVISOR_MMU_UPDATE && (h.arg(0) >>> 12) == 0x13) {
                    long va = ((h.arg(0) & 0xFFF) >>> 3) << 12;
                    if (!linear.contains(va)) {
                        linear.add(va);
                    }
                }
            }
        }

        /** A frame pinned earlier in the run if there is one (usually), else a drawn frame. */
        long pinnedOr(Choices c) {
            return !pinned.isEmpty() && c.flag(true, 25) ? pinned.get(c.below(pinned.size())) : frame(c);
        }

        /** A linear address an earlier L1 update mapped if there is one (sometimes), else a fixed target. */
        long linearOr(Choices c) {
            return !linear.isEmpty() && c.flag(false, 30) ? linear.get(c.below(linear.size())) : HypervisorCases
                    .linear(c);
        }
    }

    /**
     * A short sequence that reaches a state the single-op distribution rarely reaches — each the shape of a known
     * attack on PV page-table validation, correct in itself (the real rules refuse or handle every step):
     * <ol>
     * <li>a 2-MByte page in d1's L2 (SP-1, XSA-167 shape);</li>
     * <li>a read-only self-map in d1's L4, then the same entry made writable (the flags-only fast path, XSA-182);</li>
     * <li>two more L4s pinned, one with a linear entry to the other, then d1's L4 pointing at the first (a linear
     * chain of depth 2, XSA-240);</li>
     * <li>an entry in Xen's L4 slot 256 (SLOT-2);</li>
     * <li>pin and unpin a spare frame as an L1 (reference counting, MX-1/MX-2);</li>
     * <li>a write through 0x5000 (a writable TLB entry for frame 0x20), the L1 entry cleared or made read-only
     * without a flush (TLB-7: the guest's own L1 change is its own to flush), an access through the now stale entry
     * (the processor may use it until it is invalidated, SDM Vol. 3A §4.10.4, §4.10.4.2), then 0x20 pinned as an L1
     * (the type change must flush, TLB-1) and 0x5000 read once more (now a fresh walk);</li>
     * <li>d3 writes a read-only, dirty PTE for 0x6000 into its own L1 through the self-map, then reads 0x6000 (the
     * shadow fill must stay read-only, SH-2);</li>
     * <li>the HAP guest d2 caches 0x4000, clears or write-protects its PTE with a plain store through its self-map,
     * uses the stale entry (legal: nothing the hypervisor relies on changed, HAP-1 still holds), then INVLPG and
     * a fresh access.</li>
     * <li>a leaf entry with a bit between MAXPHYADDR and 51 set (reserved, SDM Vol. 3A §4.5) in each mode, then an
     * access through it: d1 asks for it with mmu_update (the L1 rules must refuse it), d2 stores it through its
     * self-map (its walk must fault with RSVD, delivered without an exit), d3 stores it through its self-map (the
     * shadow code must not shadow it: the guest sees a #PF with RSVD).</li>
     * </ol>
     */
    public static List<Op> fragment(Choices c) {
        Hypercall none = Hypercall.of(0);
        return switch (c.below(9)) {
            case 0 -> List.of(call(K, update(0x12, 1 + c.below(3), Entry.table(0x14 + c.below(4), true, true)
                    .withPageSize(true).raw())));
            case 1 -> List.of(call(K, update(0x10, 1, Entry.table(0x10, false, true).raw())),
                    call(K, update(0x10, 1, Entry.table(0x10, true, true).raw())));
            case 2 -> List.of(call(K, Hypercall.mmuextOp(Hypercalls.MMUEXT_PIN_L4_TABLE, 0x15)),
                    call(K, Hypercall.mmuextOp(Hypercalls.MMUEXT_PIN_L4_TABLE, 0x16)),
                    call(K, update(0x15, 1, Entry.table(0x16, false, true).raw())),
                    call(K, update(0x10, 1, Entry.table(0x15, false, true).raw())));
            case 3 -> List.of(call(K, update(0x10, 256 + c.below(16), Entry.table(0x11, c.flag(true, 50), true)
                    .raw())));
            case 4 -> List.of(call(K, Hypercall.mmuextOp(Hypercalls.MMUEXT_PIN_L1_TABLE, 0x14 + c.below(4))),
                    call(K, Hypercall.mmuextOp(Hypercalls.MMUEXT_UNPIN_TABLE, 0x14 + c.below(4))));
            case 5 -> List.of(new Op(K, new GuestInstruction.MemoryAccess(Access.write(0x5000, 0)), none),
                    call(K, update(0x13, 5, c.flag(true, 50) ? 0 : Entry.table(0x20, false, true).raw())),
                    new Op(K, new GuestInstruction.MemoryAccess(c.flag(true, 50) ? Access.read(0x5000)
                            : Access.write(0x5000, 1)), none),
                    call(K, Hypercall.mmuextOp(Hypercalls.MMUEXT_PIN_L1_TABLE, 0x20)),
                    new Op(K, new GuestInstruction.MemoryAccess(Access.read(0x5000)), none));
            case 6 -> List.of(new Op(S, new GuestInstruction.MemoryAccess(Access.write(0x8000 + 8 * 6,
                    Entry.table(6, false, true).withDirty(true).raw())), none),
                    new Op(c.flag(true, 50) ? S : SU, new GuestInstruction.MemoryAccess(Access.read(0x6000)), none));
            case 8 -> {
                int bit = XenMachine.MAX_PHYS_ADDR + c.below(52 - XenMachine.MAX_PHYS_ADDR);
                int mode = c.below(3);
                VcpuId v = mode == 0 ? (c.flag(true, 30) ? K : U) : mode == 1 ? (c.flag(true, 30) ? H : HU)
                        : (c.flag(true, 30) ? S : SU);
                long frame = mode == 0 ? 0x20 : 4;
                long bad = Entry.table(frame, true, true).raw() | (1L << bit);
                Op install = mode == 0 ? call(K, update(0x13, 5, bad)) : new Op(mode == 1 ? H : S,
                        new GuestInstruction.MemoryAccess(Access.write(0x8000 + 8 * 4, bad)), none);
                long linear = mode == 0 ? 0x5000 : 0x4000;
                Access a = switch (c.below(3)) {
                    case 0 -> Access.read(linear);
                    case 1 -> Access.write(linear, 1);
                    default -> Access.fetch(linear);
                };
                yield List.of(install, new Op(v, new GuestInstruction.MemoryAccess(a), none));
            }
            default -> List.of(new Op(H, new GuestInstruction.MemoryAccess(Access.write(0x4000, 0)), none),
                    new Op(H, new GuestInstruction.MemoryAccess(Access.write(0x8000 + 8 * 4,
                            c.flag(true, 50) ? 0 : Entry.table(4, false, true).raw())), none),
                    new Op(H, new GuestInstruction.MemoryAccess(Access.write(0x4000, 1)), none),
                    new Op(H, new GuestInstruction.Invlpg(0x4000), none),
                    new Op(H, new GuestInstruction.MemoryAccess(Access.write(0x4000, 2)), none));
        };
    }

    /**
     * A guest's PKRU across another guest on its pCPU (Xen rule CTX-1): a direct, HAP or shadow kernel vCPU turns on
     * CR4.PKE (MOV to CR4 with its CR4 and bit 22) and writes a PKRU that denies a key, a vCPU of another domain runs
     * an access that faults (its CR2) and a WRPKRU of 0 (#UD unless an earlier step turned its CR4.PKE on), then the
     * first reads its PKRU back and reads its data page — with its own rights, whatever the other left on the pCPU.
     */
    static List<Op> pkruSwitch(Choices c) {
        Hypercall none = Hypercall.of(0);
        VcpuId v = c.oneOf(K, H, S);
        VcpuId other = v.equals(K) ? c.oneOf(H, S) : c.oneOf(K, U);
        long cr4 = initialMachine().vcpu(v).vmcs().guest().cpu().cr4().bits() | (1L << 22);
        long pkru = c.oneOf(1L, 3L, 0xCL, 0xFFFF_FFFCL);
        return List.of(new Op(v, new GuestInstruction.MovToCr(4, cr4, 0), none),
                new Op(v, new GuestInstruction.Wrpkru(pkru, 0, 0), none),
                new Op(other, new GuestInstruction.MemoryAccess(Access.read(0x7000)), none),
                new Op(other, new GuestInstruction.Wrpkru(0, 0, 0), none),
                new Op(v, new GuestInstruction.Rdpkru(0), none),
                new Op(v, new GuestInstruction.MemoryAccess(Access.read(v.equals(K) ? 0x5000 : 0x4000)), none));
    }

    private static Op call(VcpuId v, Hypercall h) {
        return new Op(v, new GuestInstruction.Vmcall(), h);
    }

    private static Hypercall update(long table, int index, long value) {
        return Hypercall.mmuUpdate((table << 12) | ((long) index << 3) | Hypercalls.MMU_NORMAL_PT_UPDATE, value);
    }

    static Op op(Choices c) {
        return op(c, new Operands());
    }

    static Op op(Choices c, Operands state) {
        VcpuId v = switch (c.weighted(45, 12, 15, 8, 12, 8)) {
            case 0 -> K;
            case 1 -> U;
            case 2 -> H;
            case 3 -> HU;
            case 4 -> S;
            default -> SU;
        };
        Hypercall none = Hypercall.of(0);
        return switch (c.weighted(30, 40, 8, 7, 5, 10, 6)) {
            case 0 -> new Op(v, new GuestInstruction.MemoryAccess(access(c, v, state)), none);
            case 1 -> new Op(v, new GuestInstruction.Vmcall(), hypercall(c, state));
            case 2 -> new Op(v, new GuestInstruction.MovToCr(3, v.domain() == 3 && c.flag(true, 70) ? 0
                    : (v.domain() == 1 ? state.pinnedOr(c) : frame(c)) << 12, 0), none);
            case 3 -> new Op(v, new GuestInstruction.Invlpg(c.flag(true, 10) ? state.linearOr(c)
                    : 0x8000_0000_0000L), none);
            case 4 -> new Op(v, new GuestInstruction.Cpuid(c.oneOf(0L, 0x40000000L, 0x40000002L), 0), none);
            case 5 -> new Op(v, new GuestInstruction.Wrmsr(msr(c), (frame(c) << 12) | c.below(2)), none);
            default -> new Op(v, new GuestInstruction.MovToCr(0, cr0(c), 0), none);
        };
    }

    /** The MSRs of the {@link #msr} regions, in its order. */
    static final String[] MSR_REGIONS = {"hypercall", "low", "low", "low", "low end", "high", "high end", "above low",
        "above high", "hypervisor range"};

    /**
     * An MSR for WRMSR from each region the MSR bitmap distinguishes (SDM Vol. 3C §24.6.9): the hypercall MSR
     * 0x40000000 (first, the usual one), low MSRs 0–1FFFH (first, an ordinary one, EFER's neighbour, the last), high
     * MSRs C0000000H–C0001FFFH (EFER 0xC0000080, the last), just past each range (2000H, C0002000H: always exit), and
     * another MSR of the hypervisor range.
     */
    static long msr(Choices c) {
        return switch (c.weighted(30, 10, 6, 6, 6, 10, 6, 8, 8, 10)) {
            case 0 -> HypercallPage.MSR;
            case 1 -> 0x10;
            case 2 -> 0;
            case 3 -> 0x1B;
            case 4 -> 0x1FFF;
            case 5 -> 0xC000_0080L;
            case 6 -> 0xC000_1FFFL;
            case 7 -> 0x2000;
            case 8 -> 0xC000_2000L;
            default -> 0x4000_0001L;
        };
    }

    /** The region {@link #msr} drew {@code msr} from (coverage). */
    public static String msrRegion(long msr) {
        if (msr == HypercallPage.MSR) {
            return "hypercall MSR";
        }
        if (msr >= 0 && msr <= 0x1FFF) {
            return "low";
        }
        if (msr >= 0xC000_0000L && msr <= 0xC000_1FFFL) {
            return "high";
        }
        return "outside both ranges";
    }

    /**
     * A CR0 value for MOV to CR0 from the bits the reference models (PE, WP, PG): mostly the long-mode value with WP
     * set or cleared (WP is host-owned in direct and shadow mode: the read shadow decides whether it exits, SDM Vol.
     * 3C §25.1.3, MISC-1; guest-owned under HAP), or PG with PE clear (#GP, SDM Vol. 3A §2.5). PG is never cleared:
     * a vCPU in IA-32e mode that clears it under HAP is executed with paging off while I7 holds that no such vCPU is
     * entered (an open finding, see docs/properties.md, "Mutation analysis").
     */
    static long cr0(Choices c) {
        long pe = 1L << Cr0.PE_BIT;
        long wp = 1L << Cr0.WP_BIT;
        long pg = 1L << Cr0.PG_BIT;
        return switch (c.weighted(45, 40, 15)) {
            case 0 -> pe | pg | wp;
            case 1 -> pe | pg;
            default -> pg | (c.flag(true, 50) ? wp : 0);
        };
    }

    static Access access(Choices c, VcpuId v) {
        return access(c, v, new Operands());
    }

    static Access access(Choices c, VcpuId v, Operands state) {
        if (c.flag(false, 35)) {
            // a store through the self-map 0x8000 into the L1: a page-table write (PTW-1) of an adversarial entry
            return Access.write(0x8000 + 8L * c.oneOf(0, 5, 6, 7, 9, 10), entry(c));
        }
        long linear = v.domain() == 1 ? state.linearOr(c) : linear(c);
        return switch (c.weighted(55, 35, 10)) {
            case 0 -> Access.read(linear);
            case 1 -> Access.write(linear, c.below(100));
            default -> Access.fetch(linear);
        };
    }

    static long linear(Choices c) {
        return c.oneOf(0x5000L, 0x6000L, 0x7000L, 0x8000L, 0x4000L, 0x9000L, 0xA000L);
    }

    static Hypercall hypercall(Choices c) {
        return hypercall(c, new Operands());
    }

    static Hypercall hypercall(Choices c, Operands state) {
        return switch (c.weighted(30, 20, 30, 5, 15)) {
            case 4 -> treeEdit(c);
            case 0 -> Hypercall.mmuUpdate((frame(c) << 12) | ((long) index(c) << 3) | Hypercalls.MMU_NORMAL_PT_UPDATE,
                    entry(c));
            case 1 -> Hypercall.updateVaMapping(state.linearOr(c), entry(c), c.oneOf(Hypercalls.UVMF_NONE,
                    Hypercalls.UVMF_TLB_FLUSH, Hypercalls.UVMF_INVLPG));
            case 2 -> Hypercall.mmuextOp(c.oneOf(Hypercalls.MMUEXT_PIN_L1_TABLE, Hypercalls.MMUEXT_PIN_L2_TABLE,
                    Hypercalls.MMUEXT_PIN_L4_TABLE, Hypercalls.MMUEXT_UNPIN_TABLE, Hypercalls.MMUEXT_NEW_BASEPTR,
                    Hypercalls.MMUEXT_TLB_FLUSH_LOCAL, Hypercalls.MMUEXT_INVLPG_LOCAL, Hypercalls.MMUEXT_TLB_FLUSH_ALL,
                    Hypercalls.MMUEXT_INVLPG_ALL), c.flag(true, 20) ? state.pinnedOr(c) : state.linearOr(c));
            default -> Hypercall.of(c.oneOf(2L, 29L, 4096L));
        };
    }

    /**
     * An edit of d1's tree at slot 0 of the L4, L3 or L2 (what MU-5 must flush): zap it, make it read-only or
     * supervisor-only, point it at a spare frame, or set a flag an L2-L4 entry must not have.
     */
    static Hypercall treeEdit(Choices c) {
        long table = 0x10 + c.below(3);
        long child = c.flag(true, 30) ? table + 1 : 0x14 + c.below(4);
        long value = switch (c.weighted(40, 20, 20, 20, 10)) {
            case 0 -> 0;
            case 1 -> Entry.table(child, false, true).raw();
            case 2 -> Entry.table(child, true, false).raw();
            case 3 -> Entry.table(child, true, true).raw();
            // a flag Xen disallows in an L2-L4 entry (LN-1: PWT, PCD or G)
            default -> Entry.table(child, true, true).raw() | c.oneOf(0x8L, 0x10L, 0x100L);
        };
        return Hypercall.mmuUpdate((table << 12) | Hypercalls.MMU_NORMAL_PT_UPDATE, value);
    }

    /**
     * Mostly d1's tables and data, then spare d1 frames, d2's frames, Xen's, or beyond RAM (for d2 and d3 a frame
     * number is a gfn: 0–7 are in their p2m).
     */
    static long frame(Choices c) {
        return switch (c.weighted(35, 20, 20, 10, 10, 5)) {
            case 0 -> 0x10 + c.below(4);
            case 1 -> 0x20 + c.below(3);
            case 2 -> 0x14 + c.below(4);
            case 3 -> 0x30 + c.below(8);
            case 4 -> 0x1 + c.below(15);
            default -> c.oneOf(0x60L, 0x100L);
        };
    }

    /** The slot of the tree (0), the data PTEs (5–9), a Xen L4 slot, or the top slot. */
    static int index(Choices c) {
        return switch (c.weighted(35, 40, 15, 10)) {
            case 0 -> 0;
            case 1 -> 5 + c.below(5);
            case 2 -> 256 + c.below(16);
            default -> 511;
        };
    }

    /**
     * A present entry to a drawn frame with R/W and U/S, sometimes PS (a superpage) or G, sometimes with a bit set
     * between MAXPHYADDR and 51 (reserved: a walk through it faults with RSVD, SDM Vol. 3A §4.5, and the hypervisor
     * must refuse or fault it in every mode); or not present.
     */
    static long entry(Choices c) {
        if (c.flag(false, 12)) {
            return 0;
        }
        Entry e = Entry.table(frame(c), c.flag(true, 40), c.flag(true, 30));
        if (c.flag(false, 8)) {
            e = e.withPageSize(true);
        }
        if (c.flag(false, 6)) {
            e = e.withGlobal(true);
        }
        long raw = e.raw();
        if (c.flag(false, 8)) {
            raw |= 1L << (XenMachine.MAX_PHYS_ADDR + c.below(52 - XenMachine.MAX_PHYS_ADDR));
        }
        return raw;
    }
}
