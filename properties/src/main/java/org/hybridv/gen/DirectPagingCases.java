package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.x86.Entry;
import org.hybridv.xen.DirectPaging;
import org.hybridv.xen.DirectPagingState;
import org.hybridv.xen.Hypercalls;
import org.hybridv.xen.MmuResult;
import org.hybridv.xen.VcpuId;

/**
 * Generates adversarial direct-paging runs: a small machine with two domains, domain 1 already running on a valid,
 * pinned 4-level tree, then a list of guest hypercalls as plain values ({@link Op}) whose arguments are drawn to hit
 * every rule: foreign, hypervisor-owned and free frames, the domain's own page-table frames, Xen's L4 slots,
 * superpages, writable and read-only self-maps and linear entries, stale and repeated pins; the TLB operations of
 * mmuext_op on canonical and non-canonical addresses; every flush of update_va_mapping; narrow and misaligned
 * ptwr stores.
 *
 * <p>Frame layout (24 frames): 0 free; 1–10 domain 1 (L4 = 1, L3 = 2, L2 = 3, L1 = 4, data 5–7, and three empty
 * tables, each pinned, so that a same-level ("linear") entry to another validated table can be accepted, LIN-2, and a
 * chain of two refused from either end, LIN-4: L4s 8 and 9, L3 10); 11–18 domain 2; 19–20 hypervisor; 21–23 free.
 * Domain 1 maps linear 0x0–0x2fff to frames 5–7 and its own L1 read-only, supervisor, at 0x4000.
 */
public final class DirectPagingCases {
    public static final int FRAMES = 24;
    public static final VcpuId D1 = new VcpuId(1, 0);
    public static final VcpuId D2 = new VcpuId(2, 0);
    static final long L4 = 1;
    static final long L3 = 2;
    static final long L2 = 3;
    static final long L1 = 4;
    static final long SPARE_L4 = 9;
    static final long OTHER_L4 = 8;
    static final long SPARE_L3 = 10;

    private DirectPagingCases() {}

    /** One guest hypercall (or a ptwr-emulated store), as a value that a list shrinker can drop. */
    public sealed interface Op {
        VcpuId caller();
    }

    /** mmu_update(MMU_NORMAL_PT_UPDATE) of entry {@code index} of frame {@code mfn} to {@code value}. */
    public record MmuUpdate(VcpuId caller, long mfn, int index, long value) implements Op {
        @Override
        public String toString() {
            return "mmu_update(d" + caller.domain() + ", frame " + mfn + "[" + index + "] := " + new Entry(value) + ")";
        }
    }

    /**
     * mmuext_op {@code cmd} with argument {@code mfn}: a frame for pin L1..L4, unpin and new_baseptr; a linear
     * address for the TLB operations (INVLPG_LOCAL, INVLPG_ALL).
     */
    public record MmuextOp(VcpuId caller, int cmd, long mfn) implements Op {}

    /** update_va_mapping of {@code va} to {@code value} with {@code flags}. */
    public record UpdateVaMapping(VcpuId caller, long va, long value, long flags) implements Op {}

    /** A supervisor store of the {@code bytes} low bytes of {@code value} to linear {@code cr2}, emulated by ptwr. */
    public record Ptwr(VcpuId caller, long cr2, long value, int bytes) implements Op {}

    /** The generated run. */
    public record Run(DirectPagingState initial, List<Op> ops) {}

    /** Domain 1 on a valid tree (see the class comment), pinned and loaded as its base pointer. */
    public static DirectPagingState initialState() {
        DirectPagingState s = DirectPagingState.initial(FRAMES)
                .assign(1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
                .assign(2, 11, 12, 13, 14, 15, 16, 17, 18)
                .reserveForXen(19, 20)
                .write(L4, 0, Entry.table(L3, true, true))
                .write(L3, 0, Entry.table(L2, true, true))
                .write(L2, 0, Entry.table(L1, true, true));
        for (int i = 0; i < 3; i++) {
            s = s.write(L1, i, Entry.table(5 + i, true, true));
        }
        // The L1 maps itself read-only at linear 0x4000, so the kernel can write its PTEs through ptwr (PTW-1).
        s = s.write(L1, 4, Entry.table(L1, false, false));
        s = must(DirectPaging.mmuextOp(s, D1, Hypercalls.MMUEXT_PIN_L4_TABLE, L4));
        s = must(DirectPaging.mmuextOp(s, D1, Hypercalls.MMUEXT_PIN_L4_TABLE, SPARE_L4));
        s = must(DirectPaging.mmuextOp(s, D1, Hypercalls.MMUEXT_PIN_L4_TABLE, OTHER_L4));
        s = must(DirectPaging.mmuextOp(s, D1, Hypercalls.MMUEXT_PIN_L3_TABLE, SPARE_L3));
        return must(DirectPaging.mmuextOp(s, D1, Hypercalls.MMUEXT_NEW_BASEPTR, L4));
    }

    private static DirectPagingState must(MmuResult r) {
        if (!(r instanceof MmuResult.Success ok)) {
            throw new IllegalStateException("the generator's initial state is invalid: " + r);
        }
        return ok.state();
    }

    public static Run generate(Choices c) {
        int n = 1 + c.below(12);
        List<Op> ops = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ops.add(op(c));
        }
        return new Run(initialState(), ops);
    }

    static Op op(Choices c) {
        VcpuId caller = c.flag(true, 15) ? D1 : D2;
        return switch (c.weighted(45, 25, 10, 10, 10)) {
            case 0 -> new MmuUpdate(caller, frame(c), index(c), entry(c));
            case 4 -> sameLevel(c, caller);
            case 1 -> c.flag(false, 20) ? tlbOp(c, caller) : new MmuextOp(caller, c.oneOf(
                    Hypercalls.MMUEXT_PIN_L1_TABLE, Hypercalls.MMUEXT_PIN_L2_TABLE, Hypercalls.MMUEXT_PIN_L3_TABLE,
                    Hypercalls.MMUEXT_PIN_L4_TABLE, Hypercalls.MMUEXT_UNPIN_TABLE, Hypercalls.MMUEXT_NEW_BASEPTR),
                    frame(c));
            case 2 -> new UpdateVaMapping(caller, (long) c.below(6) << 12, entry(c), uvmFlags(c));
            default -> ptwr(c, caller);
        };
    }

    /**
     * The TLB operations of mmuext_op (MX-5) on a mapped, an unmapped or a non-canonical address, and the commands
     * Xen refuses: the superpage marks (SP-1) and one not modelled.
     */
    static MmuextOp tlbOp(Choices c, VcpuId caller) {
        int cmd = c.oneOf(Hypercalls.MMUEXT_TLB_FLUSH_LOCAL, Hypercalls.MMUEXT_INVLPG_LOCAL,
                Hypercalls.MMUEXT_TLB_FLUSH_ALL, Hypercalls.MMUEXT_INVLPG_ALL, Hypercalls.MMUEXT_MARK_SUPER,
                Hypercalls.MMUEXT_TLB_FLUSH_MULTI);
        long linear = switch (c.weighted(60, 20, 20)) {
            case 0 -> (long) c.below(6) << 12;
            case 1 -> 0xFFFF_8000_0000_0000L | ((long) c.below(512) << 12);
            default -> (1L << 47) | ((long) c.below(512) << 12); // bits 63:47 not all equal
        };
        return new MmuextOp(caller, cmd, linear);
    }

    /**
     * An mmu_update of an L4 or L3 of domain 1 (the tree's or the spare one) to an entry naming a table of the same
     * level — itself, the other one, or sometimes a table one level down — read-only or writable (LIN-1..LIN-4, LN-2).
     */
    static MmuUpdate sameLevel(Choices c, VcpuId caller) {
        boolean l4 = c.flag(true, 50);
        long[] level = l4 ? new long[] {L4, SPARE_L4, OTHER_L4} : new long[] {L3, SPARE_L3};
        int at = c.below(level.length);
        long table = level[at];
        // mostly another table of the level (a self-map one time in eight), sometimes one level down
        long target = c.flag(true, 20) ? level[c.flag(true, 12) ? (at + 1 + c.below(level.length - 1)) % level.length
                : at] : l4 ? c.oneOf(L3, SPARE_L3) : L2;
        return new MmuUpdate(caller, table, 1 + c.below(3), Entry.table(target, c.flag(false, 15), true).raw());
    }

    /** update_va_mapping flags: no flush, a TLB flush or an INVLPG, local or domain-wide; sometimes one not modelled. */
    static long uvmFlags(Choices c) {
        if (c.flag(false, 5)) {
            return c.oneOf(3L, Hypercalls.UVMF_TLB_FLUSH | (0x1000L << 2)); // flush type 3, or a vCPU-mask scope
        }
        return c.oneOf(Hypercalls.UVMF_NONE, Hypercalls.UVMF_TLB_FLUSH, Hypercalls.UVMF_INVLPG)
                | (c.flag(false, 30) ? Hypercalls.UVMF_ALL : Hypercalls.UVMF_LOCAL);
    }

    /**
     * A store through the read-only self-map of the L1 (0x4000, PTW-1) or elsewhere; mostly 8 bytes, sometimes a
     * narrower store at an aligned or a misaligned offset of the entry (PTW-2).
     */
    static Ptwr ptwr(Choices c, VcpuId caller) {
        long cr2 = c.flag(true, 30) ? 0x4000 + 8L * c.below(8) : (long) c.below(6) << 12;
        int bytes = c.flag(true, 30) ? 8 : c.oneOf(1, 2, 4);
        if (bytes != 8) {
            cr2 += c.below(8);
        }
        long value = entry(c);
        if (bytes != 8 && c.flag(true, 50)) {
            value >>>= 8 * c.below(bytes == 1 ? 2 : 1); // sometimes the flags byte, sometimes a frame byte
        }
        return new Ptwr(caller, cr2, value, bytes);
    }

    /** Mostly domain 1's frames (its tables first), sometimes another domain's, Xen's or a free one. */
    static long frame(Choices c) {
        return switch (c.weighted(50, 25, 10, 8, 7)) {
            case 0 -> 1 + c.below(4);
            case 1 -> 5 + c.below(6);
            case 2 -> 11 + c.below(8);
            case 3 -> 19 + c.below(2);
            default -> c.oneOf(0, 21, 22, 23, 40, 0x1000); // free, or not RAM (MMIO: L1-4)
        };
    }

    /** Entry 0 (where the tree lives) most often; then 1–3, a Xen L4 slot, or the top slot. */
    static int index(Choices c) {
        return switch (c.weighted(40, 30, 15, 15)) {
            case 0 -> 0;
            case 1 -> 1 + c.below(3);
            case 2 -> 256 + c.below(16);
            default -> 511;
        };
    }

    /** A present entry to a drawn frame, with R/W, U/S, and sometimes PS, G, PWT/PCD, or a high bit; or not present. */
    static long entry(Choices c) {
        if (c.flag(false, 10)) {
            return 0;
        }
        Entry e = Entry.table(frame(c), c.flag(true, 40), c.flag(true, 20));
        if (c.flag(false, 8)) {
            e = e.withPageSize(true);
        }
        if (c.flag(false, 8)) {
            e = e.withGlobal(true);
        }
        if (c.flag(false, 5)) {
            e = e.with(Entry.PCD, true);
        }
        if (c.flag(false, 5)) {
            e = e.withNoExecute(true);
        }
        return e.raw();
    }

    /** Runs {@code op} on {@code s}. */
    public static MmuResult apply(DirectPagingState s, Op op) {
        if (op instanceof MmuUpdate u) {
            long ptr = (u.mfn() << 12) | ((long) u.index() << 3) | Hypercalls.MMU_NORMAL_PT_UPDATE;
            return DirectPaging.mmuUpdate(s, u.caller(), ptr, u.value());
        }
        if (op instanceof MmuextOp x) {
            return DirectPaging.mmuextOp(s, x.caller(), x.cmd(), x.mfn());
        }
        if (op instanceof UpdateVaMapping v) {
            return DirectPaging.updateVaMapping(s, v.caller(), v.va(), v.value(), v.flags());
        }
        Ptwr w = (Ptwr) op;
        return DirectPaging.ptwrEmulate(s, w.caller(), w.cr2(), w.value(), w.bytes());
    }
}
