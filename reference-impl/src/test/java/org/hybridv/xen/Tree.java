package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;

import org.hybridv.invariants.PageTableIntegrity;
import org.hybridv.x86.Entry;

/**
 * A small direct-paging machine for the tests: 64 frames; Xen owns 0x1–0xf, d1 owns 0x10–0x2f, d2 owns 0x30–0x3f.
 * d1's tree, written by the domain builder (not yet validated): L4 0x10 → L3 0x11 → L2 0x12 → L1 0x13, all entries
 * at index 0 and RW; the L1 maps data frame 0x20 writable at index 5 (VA 0x5000) and 0x21 read-only at index 6
 * (VA 0x6000). Frames 0x14–0x1f are spare frames of d1.
 */
final class Tree {
    static final int D1 = 1;
    static final int D2 = 2;
    static final VcpuId V = new VcpuId(D1, 0);
    static final VcpuId V2 = new VcpuId(D2, 0);
    static final long L4 = 0x10;
    static final long L3 = 0x11;
    static final long L2 = 0x12;
    static final long L1 = 0x13;
    static final long DATA_RW = 0x20;
    static final long DATA_RO = 0x21;
    static final long SPARE = 0x14;
    static final long SPARE2 = 0x15;
    static final long SPARE3 = 0x16;
    static final long FOREIGN = 0x30;
    static final long XEN_FRAME = 0x01;

    private Tree() {}

    static DirectPagingState machine() {
        DirectPagingState s = DirectPagingState.initial(64);
        for (long f = 0x1; f <= 0xf; f++) {
            s = s.reserveForXen(f);
        }
        for (long f = 0x10; f <= 0x2f; f++) {
            s = s.assign(D1, f);
        }
        for (long f = 0x30; f <= 0x3f; f++) {
            s = s.assign(D2, f);
        }
        return s;
    }

    static Entry rw(long frame) {
        return Entry.table(frame, true, false);
    }

    static Entry ro(long frame) {
        return Entry.table(frame, false, false);
    }

    /** The builder's tree, unvalidated. */
    static DirectPagingState built() {
        return machine().write(L4, 0, rw(L3)).write(L3, 0, rw(L2)).write(L2, 0, rw(L1))
                .write(L1, 5, rw(DATA_RW)).write(L1, 6, ro(DATA_RO));
    }

    /** The tree pinned as L4 and installed as d1v0's base pointer. */
    static DirectPagingState running() {
        DirectPagingState s = success(DirectPaging.mmuextOp(built(), V, Hypercalls.MMUEXT_PIN_L4_TABLE, L4));
        return success(DirectPaging.mmuextOp(s, V, Hypercalls.MMUEXT_NEW_BASEPTR, L4));
    }

    static DirectPagingState success(MmuResult r) {
        assertThat(r).as("expected success").isInstanceOf(MmuResult.Success.class);
        DirectPagingState s = ((MmuResult.Success) r).state();
        assertInvariants(s);
        return s;
    }

    static void assertInvariants(DirectPagingState s) {
        assertThat(PageTableIntegrity.check(s).toString()).isEqualTo("holds");
        assertThat(PageTableIntegrity.referenceCounts(s).toString()).isEqualTo("holds");
    }

    /** The refusal {@code r}, checked for errno and rule; a refusal carries no state, so {@code pre} stays. */
    static MmuResult.Refused refused(MmuResult r, Errno errno, String rule, DirectPagingState pre) {
        assertThat(r).as("expected a refusal").isInstanceOf(MmuResult.Refused.class);
        MmuResult.Refused x = (MmuResult.Refused) r;
        assertThat(x.errno()).as(x.toString()).isEqualTo(errno);
        assertThat(x.rule()).as(x.toString()).isEqualTo(rule);
        assertThat(r.returnValue()).isEqualTo(-errno.value());
        assertThat(r.stateOr(pre)).isSameAs(pre);
        return x;
    }

    /** {@code mmu_update} of entry {@code index} of {@code table} (machine address | MMU_NORMAL_PT_UPDATE). */
    static MmuResult update(DirectPagingState s, long table, int index, Entry e) {
        return DirectPaging.mmuUpdate(s, V, (table << 12) | ((long) index << 3) | Hypercalls.MMU_NORMAL_PT_UPDATE,
                e.raw());
    }

    static MmuResult op(DirectPagingState s, int cmd, long arg) {
        return DirectPaging.mmuextOp(s, V, cmd, arg);
    }

    /** Frame info as (type, type count, count, validated, pinned) for compact expectations. */
    static FrameInfo info(int owner, PageType type, int typeCount, int count, boolean validated, boolean pinned) {
        return new FrameInfo(owner, type, typeCount, count, validated, pinned, 0);
    }
}
