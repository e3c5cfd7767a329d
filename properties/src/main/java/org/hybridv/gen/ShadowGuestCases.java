package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Efer;
import org.hybridv.xen.DirectPagingState;
import org.hybridv.xen.Domains;
import org.hybridv.xen.HvResult;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.XenMachine;

/**
 * A shadow-mode guest whose own page tables, paging registers and accesses are all drawn: what the hypervisor's
 * shadow code (SH-1..SH-5) must make indistinguishable from the guest running on its own tables. Every input the
 * paging rules of the SDM mention varies: P, R/W, U/S, A, D, XD, PS at the PDPTE and PDE levels (with aligned and
 * misaligned page bases), a bit between MAXPHYADDR and 51, the protection key, PWT/PCD/G in every entry of the guest's
 * tree; per vCPU CPL 0 or 3, the guest's CR0.WP, CR4.SMEP, SMAP and PKE, EFER.NXE and EFLAGS.AC; the guest's
 * CR3 (two roots sharing their lower tables, or a gfn the p2m does not map); one or two pCPUs.
 *
 * <p>The domain (d3, frames 0x40–0x4f, p2m gfn g → 0x40 + g for g &lt; 16; gfn {@link #UNMAPPED} is in no p2m):
 * <ul>
 * <li>L4 gfn 0 (and a second L4, gfn 12): slot 0 → L3 gfn 1, slot 1 → gfn 1 again (a second path through the same
 * tables), slot 256 → gfn 1;</li>
 * <li>L3 gfn 1: slot 0 → L2 gfn 2, slot 1 → a 1-GByte page or L2 gfn 2 again;</li>
 * <li>L2 gfn 2: slot 0 → L1 gfn 3, slot 1 → a 2-MByte page or L1 gfn 4, slot 2 → L1 gfn 4;</li>
 * <li>L1 gfn 3: slots 0–15 map data gfns 5–11 and 13–15, the tables themselves or the unmapped gfn; slot 8 maps gfn
 * 3 itself (the guest edits its PTEs through 0x8000); L1 gfn 4: slots 0–3 likewise.</li>
 * </ul>
 * Each entry's target is the skeleton's (usually) or another gfn, with drawn flags. The ops: accesses (read, write,
 * fetch) at the addresses of those slots, PTE stores through the self-map, MOV to CR3, INVLPG and MOV to CR0
 * toggling WP, each by any of the 2–3 vCPUs; in a fifth of the cases a protection-key window after them (vCPU 0
 * reads a user page keyed 1, 5 or 15 with every key allowed, then reads or writes it again once PKRU denies every key
 * but 0: the SDM's #PF with PK, whatever the shadow cached); in a third of the cases the last vCPU starts with paging
 * off and the run begins with its boot path ({@link #boot}), which the hypervisor emulates.
 */
public final class ShadowGuestCases {
    private ShadowGuestCases() {}

    /** The shadow-mode domain. */
    public static final int D = 3;
    /** The domain's first frame: gfn g is machine frame {@code BASE + g}. */
    public static final long BASE = 0x40;
    /** The number of gfns the p2m maps (0..15). */
    public static final int GFNS = 16;
    /** A gfn in no p2m. */
    public static final long UNMAPPED = 0x20;
    /** The two guest roots (gfns). */
    public static final long ROOT = 0, ROOT2 = 12;
    /** The linear address at which L1 gfn 3 maps itself. */
    public static final long SELF_MAP = 0x8000;

    /** The guest's tables (as builder writes: table gfn, index, raw entry), its vCPUs and the pCPUs. */
    public record Case(List<long[]> writes, List<CpuState> vcpus, int pcpus, List<Integer> placement,
            List<Op> ops) {
        public Case {
            writes = List.copyOf(writes);
            vcpus = List.copyOf(vcpus);
            placement = List.copyOf(placement);
            ops = List.copyOf(ops);
        }

        /** The machine the case describes (built afresh: states are values, but building is cheap). */
        public XenMachine machine() {
            XenMachine m = XenMachine.boot(128, Domains.range(0x1, 0xf));
            if (pcpus > 1) {
                m = m.withPcpus(pcpus);
            }
            Map<Long, Long> p2m = new TreeMap<>();
            for (long g = 0; g < GFNS; g++) {
                p2m.put(g, BASE + g);
            }
            m = done(Domains.create(m, D, MmuMode.SHADOW, Domains.range(BASE, BASE + GFNS - 1), p2m));
            DirectPagingState s = m.paging();
            for (long[] w : writes) {
                s = s.write(BASE + w[0], (int) w[1], new org.hybridv.x86.Entry(w[2]));
            }
            m = m.withPaging(s);
            for (int i = 0; i < vcpus.size(); i++) {
                m = done(Domains.addVcpu(m, D, 5 + i, vcpus.get(i)));
                m = m.withVcpu(m.vcpu(new VcpuId(D, i)).withPcpu(placement.get(i)));
            }
            return m;
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder("ShadowGuest[pcpus " + pcpus + " placed " + placement + "; tables");
            for (long[] w : writes) {
                b.append(String.format(" %x[%d]=%x", w[0], w[1], w[2]));
            }
            for (int i = 0; i < vcpus.size(); i++) {
                CpuState c = vcpus.get(i);
                b.append(String.format("; v%d CPL %d CR0 %x CR3 %x CR4 %x NXE %d AC %d PKRU %x", i, c.cpl(),
                        c.cr0().bits(), c.cr3().bits(), c.cr4().bits(), c.efer().nxe() ? 1 : 0, c.ac() ? 1 : 0,
                        c.pkru()));
            }
            return b.append("; ops ").append(ops).append(']').toString();
        }
    }

    /** One step: vCPU {@code vcpu} executes {@code insn}. */
    public record Op(VcpuId vcpu, GuestInstruction insn) {
        @Override
        public String toString() {
            return vcpu + " " + insn;
        }
    }

    private static XenMachine done(HvResult r) {
        if (!(r instanceof HvResult.Done d)) {
            throw new IllegalStateException("the generator's machine is invalid: " + r);
        }
        return d.machine();
    }

    /** The skeleton: {table gfn, index, target gfn, level of the table}. */
    private static final long[][] SKELETON = {
        {0, 0, 1, 4}, {0, 1, 1, 4}, {0, 256, 1, 4}, {12, 0, 1, 4}, {12, 1, 1, 4},
        {1, 0, 2, 3}, {1, 1, 2, 3},
        {2, 0, 3, 2}, {2, 1, 4, 2}, {2, 2, 4, 2},
    };

    /** The linear addresses of the skeleton's slots (a page each; an access adds a word offset). */
    static final long[] LINEAR = {
        0x0000, 0x1000, 0x2000, 0x3000, 0x4000, 0x5000, 0x6000, 0x7000, 0x8000, 0x9000, 0xA000, 0xB000, 0xC000,
        0xD000, 0xE000, 0xF000,
        0x20_0000L, 0x20_5000L, 0x40_0000L, 0x40_1000L, 0x40_3000L,
        0x4000_0000L, 0x4000_6000L, 0x4000_8000L, 0x4020_5000L,
        0x80_0000_5000L, 0x80_0000_8000L, 0xFFFF_8000_0000_6000L, 0xFFFF_8000_0000_8000L,
    };

    /**
     * A case: the vCPU count, the ops and a seed from {@code c} (so that jqwik shrinks the ops one by one), the
     * tables, the vCPUs' registers and the pCPUs from a stream of that seed (seed 0: all zeroes, the skeleton with
     * the usual flags and the simplest registers).
     */
    public static Case generate(Choices c) {
        int n = 2 + c.below(2);
        boolean booting = c.flag(false, 35);
        List<Op> ops = new ArrayList<>();
        if (booting) {
            ops.addAll(boot(c, new VcpuId(D, n - 1)));
        }
        int steps = 1 + c.below(12);
        for (int i = 0; i < steps; i++) {
            ops.add(op(c, n));
        }
        // the protection-key window (below): a user page with key 1, 5 or 15 that vCPU 0 reads with every key
        // allowed (the shadow fill), then reads or writes once PKRU denies every key but 0
        boolean pkWindow = c.flag(false, 20);
        int pkSlot = c.oneOf(5, 6, 7, 9, 10, 11, 12);
        long pkKey = c.oneOf(1L, 5L, 15L);
        boolean pkWrite = c.flag(false, 50);
        if (pkWindow) {
            VcpuId v0 = new VcpuId(D, 0);
            long linear = LINEAR[pkSlot];
            ops.add(new Op(v0, new GuestInstruction.Wrpkru(0, 0, 0)));
            ops.add(new Op(v0, new GuestInstruction.MemoryAccess(Access.read(linear))));
            ops.add(new Op(v0, new GuestInstruction.Wrpkru(0xFFFF_FFFCL, 0, 0)));
            ops.add(new Op(v0, new GuestInstruction.MemoryAccess(pkWrite ? Access.write(linear + 8, 0x5EED)
                    : Access.read(linear + 8))));
        }
        int seed = c.next();
        Choices w = seed == 0 ? Choices.of() : Choices.random(seed);
        List<long[]> writes = new ArrayList<>();
        for (long[] s : SKELETON) {
            int level = (int) s[3];
            if (level == 4 && s[1] != 0 && w.flag(false, 25)) {
                continue; // a slot left empty
            }
            long target = w.flag(false, 10) ? w.oneOf(1L, 2L, 3L, 5L, UNMAPPED) : s[2];
            boolean leafAllowed = level == 3 || level == 2;
            writes.add(new long[] {s[0], s[1], entry(w, target, leafAllowed && s[1] == 1 && w.flag(true, 40),
                    leafAllowed)});
        }
        for (int i = 0; i < 16; i++) {
            if (w.flag(false, 15)) {
                continue;
            }
            long target = i == 8 ? 3 : data(w);
            writes.add(new long[] {3, i, entry(w, target, false, false)});
        }
        for (int i = 0; i < 4; i++) {
            writes.add(new long[] {4, i, entry(w, data(w), false, false)});
        }
        List<CpuState> vcpus = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            vcpus.add(booting && i == n - 1 ? CpuState.reset(XenMachine.MAX_PHYS_ADDR) : cpu(w, i));
        }
        if (pkWindow) {
            // the path to the page user and writable, its PTE keyed, vCPU 0 with CR4.PKE (SMAP off: it would fault
            // the supervisor's access to a user page first; SDM Vol. 3A §4.6.2 applies PKRU to user-mode addresses)
            long us = 1 | 1L << 1 | 1L << 2;
            writes.add(new long[] {ROOT, 0, 1L << 12 | us});
            writes.add(new long[] {1, 0, 2L << 12 | us});
            writes.add(new long[] {2, 0, 3L << 12 | us});
            writes.add(new long[] {3, pkSlot, w.oneOf(5L, 6L, 7L, 9L, 10L, 11L, 13L) << 12 | us | pkKey << 59});
            CpuState v0 = vcpus.get(0);
            vcpus.set(0, v0.withCr4(v0.cr4().withPke(true).withSmap(false)).withCr3(Cr3.ofFrame(ROOT)));
        }
        int pcpus = 1 + w.below(2);
        List<Integer> placement = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            placement.add(w.below(pcpus));
        }
        return new Case(writes, vcpus, pcpus, placement, ops);
    }

    /** A data gfn (usually), one of the guest's tables, or the unmapped gfn. */
    static long data(Choices c) {
        return switch (c.weighted(60, 25, 15)) {
            case 0 -> c.oneOf(5L, 6L, 7L, 8L, 9L, 10L, 11L, 13L, 14L, 15L);
            case 1 -> c.oneOf(0L, 1L, 2L, 3L, 4L, 12L);
            default -> UNMAPPED;
        };
    }

    /**
     * An entry for {@code gfn}: P (usually), R/W, U/S, A, D, XD, PWT/PCD/G, the protection key; with {@code page}
     * PS = 1 with a page base of gfn 0 (aligned) or the target's (misaligned: a reserved bit); PS alone when
     * {@code psAllowed} and drawn; sometimes a bit between MAXPHYADDR and 51 (reserved, SDM Vol. 3A §4.5).
     */
    static long entry(Choices c, long gfn, boolean page, boolean psAllowed) {
        long raw = page && c.flag(true, 30) ? 0 : gfn << 12;
        if (c.flag(true, 8)) {
            raw |= 1; // P
        }
        if (c.flag(true, 25)) {
            raw |= 1L << 1; // R/W
        }
        if (c.flag(true, 25)) {
            raw |= 1L << 2; // U/S
        }
        if (c.flag(false, 10)) {
            raw |= c.oneOf(1L << 3, 1L << 4, 1L << 8); // PWT, PCD, G
        }
        if (c.flag(false, 50)) {
            raw |= 1L << 5; // A
        }
        if (c.flag(false, 50)) {
            raw |= 1L << 6; // D
        }
        if (page || psAllowed && c.flag(false, 8)) {
            raw |= 1L << 7; // PS
        }
        if (c.flag(false, 10)) {
            raw |= 1L << 63; // XD
        }
        if (c.flag(false, 20)) {
            raw |= (long) c.below(16) << 59; // protection key
        }
        if (c.flag(false, 5)) {
            raw |= 1L << (XenMachine.MAX_PHYS_ADDR + c.below(52 - XenMachine.MAX_PHYS_ADDR));
        }
        return raw;
    }

    /**
     * A vCPU's guest state: CPL, CR0.WP, CR3, CR4.SMEP/SMAP/PKE, EFER.NXE, EFLAGS.AC, PKRU (mostly 0, else a value of
     * {@link #pkru}: the value the hypervisor loads at the vCPU's first entry, Xen rule CTX-1).
     */
    static CpuState cpu(Choices c, int i) {
        Cr0 cr0 = new Cr0(true, c.flag(true, 40), true);
        Cr4 cr4 = Cr4.RESET.withPae(true).withSmep(c.flag(false, 30)).withSmap(c.flag(false, 30))
                .withPke(c.flag(false, 45));
        Efer efer = new Efer(true, c.flag(true, 15));
        long root = c.flag(false, 20) ? ROOT2 : ROOT;
        return new CpuState(cr0, 0, Cr3.ofFrame(root), cr4, efer, c.flag(false, 20), i == 0 || c.flag(true, 50) ? 0
                : 3, c.flag(true, 50) ? 0 : (int) pkru(c), XenMachine.MAX_PHYS_ADDR);
    }

    /**
     * A PKRU value for WRPKRU (SDM Vol. 3A §4.6.2: bit 2i is AD, bit 2i+1 WD of key i): access or write disabled for
     * one of the keys the entries carry (0, the most common, 1, 5, 15), both for key 0, every key but 0 denied, or any 32 bits.
     */
    static long pkru(Choices c) {
        int key = c.oneOf(0, 0, 1, 5, 15);
        return switch (c.weighted(30, 30, 10, 10, 20)) {
            case 0 -> 1L << (2 * key);
            case 1 -> 2L << (2 * key);
            case 2 -> 3;
            case 3 -> 0xFFFF_FFFCL;
            default -> c.next() & 0xFFFF_FFFFL;
        };
    }

    /**
     * The boot path of a vCPU that starts with paging off (CR0 = 0, the state after reset), each step sometimes left
     * out or wrong: MOV to CR4 (PAE, or none; SMEP), WRMSR IA32_EFER (LME, or none; NXE), MOV to CR3 (a root, or a gfn
     * outside the p2m), MOV to CR0 with PE and PG (WP drawn). Intel SDM Vol. 3A §9.8.5: paging on with LME = 1 needs
     * PAE = 1 (#GP otherwise); LME = 0 would select 32-bit or PAE paging.
     */
    static List<Op> boot(Choices c, VcpuId v) {
        List<Op> ops = new ArrayList<>();
        if (c.flag(true, 10)) {
            long cr4 = (c.flag(true, 15) ? 1L << Cr4.PAE_BIT : 0) | (c.flag(false, 30) ? 1L << Cr4.SMEP_BIT : 0);
            ops.add(new Op(v, new GuestInstruction.MovToCr(4, cr4, 0)));
        }
        if (c.flag(true, 10)) {
            long efer = (c.flag(true, 15) ? 1L << 8 : 0) | (c.flag(true, 50) ? 1L << 11 : 0);
            ops.add(new Op(v, new GuestInstruction.Wrmsr(Efer.MSR_INDEX, efer)));
        }
        if (c.flag(true, 10)) {
            ops.add(new Op(v, new GuestInstruction.MovToCr(3, Cr3.ofFrame(c.oneOf(ROOT, ROOT, ROOT, ROOT2, UNMAPPED))
                    .bits(), 0)));
        }
        ops.add(new Op(v, new GuestInstruction.MovToCr(0, (1L << Cr0.PE_BIT) | (1L << Cr0.PG_BIT)
                | (c.flag(true, 50) ? 1L << Cr0.WP_BIT : 0), 0)));
        return ops;
    }

    /** A page of {@link #LINEAR}: mostly one the L1 gfn 3 maps (4-KByte pages), else one of the other paths. */
    static long linear(Choices c) {
        return c.flag(true, 40) ? LINEAR[c.below(16)] : LINEAR[16 + c.below(LINEAR.length - 16)];
    }

    static Op op(Choices c, int vcpus) {
        VcpuId v = new VcpuId(D, c.below(vcpus));
        GuestInstruction insn = switch (c.weighted(60, 14, 8, 9, 9, 8)) {
            case 0 -> {
                long linear = linear(c) + 8L * c.oneOf(0, 1, 8, 511);
                yield new GuestInstruction.MemoryAccess(switch (c.weighted(45, 40, 15)) {
                    case 0 -> Access.read(linear);
                    case 1 -> Access.write(linear, c.next());
                    default -> Access.fetch(linear);
                });
            }
            case 1 -> {
                int slot = c.below(16);
                long value = entry(c, slot == 8 && c.flag(true, 50) ? 3 : data(c), false, false);
                yield new GuestInstruction.MemoryAccess(Access.write(SELF_MAP + 8L * slot, value));
            }
            case 2 -> new GuestInstruction.MovToCr(3, Cr3.ofFrame(c.oneOf(ROOT, ROOT2, ROOT, UNMAPPED)).bits(), 0);
            case 3 -> new GuestInstruction.Invlpg(linear(c));
            case 5 -> new GuestInstruction.Wrpkru(c.flag(true, 15) ? pkru(c) : 0, 0, 0);
            default -> new GuestInstruction.MovToCr(0, (1L << Cr0.PE_BIT) | (1L << Cr0.PG_BIT)
                    | (c.flag(true, 50) ? 1L << Cr0.WP_BIT : 0), 0);
        };
        return new Op(v, insn);
    }
}
