package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.hybridv.xen.Tree.*;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** References, types, validation and devalidation: OWN-2/4, TYP-1..5, PRO-1..3, MX-1..3 on a 4-level tree. */
class PageTypesTest {

    @Test
    @DisplayName("TYP-3/PRO-1/MX-1: pinning the L4 validates the whole tree; each entry holds one type+general reference")
    void pinningTheRootValidatesTheTreeRecursively() {
        MmuResult r = op(built(), Hypercalls.MMUEXT_PIN_L4_TABLE, L4);
        DirectPagingState s = success(r);
        // The pin holds one type and one general reference on the L4 (MX-1).
        assertThat(s.frame(L4)).isEqualTo(info(D1, PageType.L4, 1, 1, true, true));
        // Each present L2–L4 entry holds a type and a general reference of the next level (LN-2, OWN-3).
        assertThat(s.frame(L3)).isEqualTo(info(D1, PageType.L3, 1, 1, true, false));
        assertThat(s.frame(L2)).isEqualTo(info(D1, PageType.L2, 1, 1, true, false));
        assertThat(s.frame(L1)).isEqualTo(info(D1, PageType.L1, 1, 1, true, false));
        // L1-3: a writable PTE holds a WRITABLE type reference (validated without audit, TYP-3); a read-only one only
        // a general reference.
        assertThat(s.frame(DATA_RW)).isEqualTo(info(D1, PageType.WRITABLE, 1, 1, true, false));
        assertThat(s.frame(DATA_RO)).isEqualTo(info(D1, PageType.NONE, 0, 1, false, false));
        // Types taken for the first time: no old type, no TLB-1 obligation.
        assertThat(((MmuResult.Success) r).effects()).isEmpty();
    }

    @Test
    @DisplayName("MX-3: NEW_BASEPTR takes one more L4 type+general reference and hands the CR3 load to the caller")
    void newBaseptrHoldsAReferenceAndLoadsCr3() {
        DirectPagingState pinned = success(op(built(), Hypercalls.MMUEXT_PIN_L4_TABLE, L4));
        MmuResult r = op(pinned, Hypercalls.MMUEXT_NEW_BASEPTR, L4);
        DirectPagingState s = success(r);
        assertThat(s.guestTable(V)).hasValue(L4);
        assertThat(s.frame(L4)).isEqualTo(info(D1, PageType.L4, 2, 2, true, true));
        assertThat(((MmuResult.Success) r).effects()).containsExactly(new Effect.LoadBase(V, L4, "MX-3"));
        // Reloading the current base takes and drops nothing (MX-3 POST).
        DirectPagingState again = success(op(s, Hypercalls.MMUEXT_NEW_BASEPTR, L4));
        assertThat(again).isEqualTo(s);
    }

    @Test
    @DisplayName("MX-3 without a pin: the base pointer alone validates the tree and keeps it validated")
    void baseptrWithoutPinValidatesTree() {
        DirectPagingState s = success(op(built(), Hypercalls.MMUEXT_NEW_BASEPTR, L4));
        assertThat(s.frame(L4)).isEqualTo(info(D1, PageType.L4, 1, 1, true, false));
        assertThat(s.frame(L1)).isEqualTo(info(D1, PageType.L1, 1, 1, true, false));
    }

    @Test
    @DisplayName("TYP-5/PRO-3/MX-2: dropping the last references devalidates recursively; every count returns to zero")
    void devalidationReleasesEveryReference() {
        DirectPagingState s = running();
        s = success(op(s, Hypercalls.MMUEXT_UNPIN_TABLE, L4));
        // The base pointer still holds the tree (MX-2 drops only the pin's references).
        assertThat(s.frame(L4)).isEqualTo(info(D1, PageType.L4, 1, 1, true, false));
        assertThat(s.frame(L1).validated()).isTrue();
        // Switching to an empty L4 drops the old base's references: the last ones.
        s = success(op(s, Hypercalls.MMUEXT_NEW_BASEPTR, SPARE));
        for (long f : new long[] {L4, L3, L2, L1}) {
            assertThat(s.frame(f).typeCount()).as("type count of %x", f).isZero();
            assertThat(s.frame(f).count()).as("count of %x", f).isZero();
            assertThat(s.frame(f).validated()).as("validated %x", f).isFalse();
        }
        assertThat(s.frame(DATA_RW).typeCount()).isZero();
        assertThat(s.frame(DATA_RW).count()).isZero();
        assertThat(s.frame(DATA_RO).count()).isZero();
        assertThat(s.frame(SPARE)).isEqualTo(info(D1, PageType.L4, 1, 1, true, false));
    }

    @Test
    @DisplayName("A tree built frame by frame with mmu_update on untyped frames, pinned bottom-up, used as base")
    void treeBuiltFrameByFrameWithHypercalls() {
        DirectPagingState s = machine();
        // MU-2: a frame with no type reference is written through a transient WRITABLE type (plain store).
        s = success(update(s, L1, 5, rw(DATA_RW)));
        assertThat(s.entry(L1, 5)).isEqualTo(rw(DATA_RW));
        assertThat(s.frame(L1)).isEqualTo(info(D1, PageType.WRITABLE, 0, 0, true, false));
        // TYP-2 + TLB-1: the frame was WRITABLE (count 0); becoming an L1 is a type change the caller must flush for.
        MmuResult pinL1 = op(s, Hypercalls.MMUEXT_PIN_L1_TABLE, L1);
        s = success(pinL1);
        assertThat(((MmuResult.Success) pinL1).effects())
                .containsExactly(new Effect.TypeChange(L1, PageType.WRITABLE, PageType.L1, "TLB-1"));
        s = success(update(s, L2, 0, rw(L1)));
        s = success(op(s, Hypercalls.MMUEXT_PIN_L2_TABLE, L2));
        s = success(update(s, L3, 0, rw(L2)));
        s = success(op(s, Hypercalls.MMUEXT_PIN_L3_TABLE, L3));
        s = success(update(s, L4, 0, rw(L3)));
        s = success(op(s, Hypercalls.MMUEXT_PIN_L4_TABLE, L4));
        s = success(op(s, Hypercalls.MMUEXT_NEW_BASEPTR, L4));
        // Each lower table: its pin + its parent's entry.
        assertThat(s.frame(L1)).isEqualTo(info(D1, PageType.L1, 2, 2, true, true));
        assertThat(s.frame(L2)).isEqualTo(info(D1, PageType.L2, 2, 2, true, true));
        assertThat(s.frame(L3)).isEqualTo(info(D1, PageType.L3, 2, 2, true, true));
        assertThat(s.frame(L4)).isEqualTo(info(D1, PageType.L4, 2, 2, true, true));
        assertThat(DirectPaging.guestL1Slot(s, V, 0x5000)).isEqualTo(new DirectPaging.L1Slot(L1, 5));
    }

    @Test
    @DisplayName("OWN-2: get_page refuses a frame of another domain, of Xen, a free frame and one outside memory")
    void getPageNeedsTheOwner() {
        DirectPagingState s = machine();
        assertThat(PageTypes.getPage(s, 0x14, D1).succeeded()).isTrue();
        refused(PageTypes.getPage(s, FOREIGN, D1), Errno.EINVAL, "OWN-2", s);
        refused(PageTypes.getPage(s, XEN_FRAME, D1), Errno.EINVAL, "OWN-2", s);
        refused(PageTypes.getPage(s, 0, D1), Errno.EINVAL, "OWN-2", s);
        refused(PageTypes.getPage(s, 64, D1), Errno.EINVAL, "OWN-2", s);
        DirectPagingState full = s.withFrame(0x14, s.frame(0x14).withCount(FrameInfo.MAX_COUNT));
        refused(PageTypes.getPage(full, 0x14, D1), Errno.EINVAL, "OWN-2", full);
    }

    @Test
    @DisplayName("OWN-4/TYP-7: putting a reference nobody holds is API misuse")
    void putWithoutReferenceIsMisuse() {
        DirectPagingState s = machine();
        assertThatThrownBy(() -> PageTypes.putPage(s, 0x14)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0x14");
        assertThatThrownBy(() -> PageTypes.putPageType(s, 0x14)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    @DisplayName("TYP-2: a type cannot change while referenced; it can once the count is back to 0")
    void typeChangeOnlyAtCountZero() {
        DirectPagingState s = success(op(machine(), Hypercalls.MMUEXT_PIN_L2_TABLE, SPARE));
        refused(op(s, Hypercalls.MMUEXT_PIN_L1_TABLE, SPARE), Errno.EINVAL, "TYP-2", s);
        refused(PageTypes.getPageType(s, SPARE, PageType.L3), Errno.EINVAL, "TYP-2", s);
        // MX-3 on a frame in use as an L2.
        refused(op(s, Hypercalls.MMUEXT_NEW_BASEPTR, SPARE), Errno.EINVAL, "MX-3", s);
        DirectPagingState unpinned = success(op(s, Hypercalls.MMUEXT_UNPIN_TABLE, SPARE));
        MmuResult r = op(unpinned, Hypercalls.MMUEXT_PIN_L1_TABLE, SPARE);
        assertThat(success(r).frame(SPARE)).isEqualTo(info(D1, PageType.L1, 1, 1, true, true));
        assertThat(((MmuResult.Success) r).effects())
                .containsExactly(new Effect.TypeChange(SPARE, PageType.L2, PageType.L1, "TLB-1"));
    }

    @Test
    @DisplayName("MX-1: pins do not nest; a second pin is refused and changes nothing")
    void doublePinRefused() {
        DirectPagingState s = success(op(built(), Hypercalls.MMUEXT_PIN_L4_TABLE, L4));
        refused(op(s, Hypercalls.MMUEXT_PIN_L4_TABLE, L4), Errno.EINVAL, "MX-1", s);
    }

    @Test
    @DisplayName("MX-1: pinning another domain's or Xen's frame is refused")
    void pinForeignRefused() {
        DirectPagingState s = machine();
        refused(op(s, Hypercalls.MMUEXT_PIN_L1_TABLE, FOREIGN), Errno.EINVAL, "MX-1", s);
        refused(op(s, Hypercalls.MMUEXT_PIN_L1_TABLE, XEN_FRAME), Errno.EINVAL, "MX-1", s);
    }

    @Test
    @DisplayName("MX-2: unpinning a frame that is not pinned is refused")
    void unpinWithoutPinRefused() {
        DirectPagingState s = running();
        refused(op(s, Hypercalls.MMUEXT_UNPIN_TABLE, L3), Errno.EINVAL, "MX-2", s);
        refused(op(s, Hypercalls.MMUEXT_UNPIN_TABLE, FOREIGN), Errno.EINVAL, "MX-2", s);
    }

    @Test
    @DisplayName("PRO-1: a promotion that fails deep in the tree is refused as a whole, with the path in the reason")
    void failedPromotionRollsBackEverything() {
        DirectPagingState pre = built().write(L1, 7, ro(FOREIGN));
        MmuResult.Refused r = refused(op(pre, Hypercalls.MMUEXT_PIN_L4_TABLE, L4), Errno.EPERM, "L1-2", pre);
        assertThat(r.reason()).contains("L4 0x10[0]", "L3 0x11[0]", "L2 0x12[0]", "L1 0x13[7]", "d2");
    }

    @Test
    @DisplayName("PRO-2/SLOT-1: promotion of an L4 empties Xen's slots 256–271, whatever the guest wrote there")
    void promotionEmptiesXenSlots() {
        DirectPagingState pre = built().write(L4, 260, rw(XEN_FRAME)).write(L4, 272, ro(L4));
        DirectPagingState s = success(op(pre, Hypercalls.MMUEXT_PIN_L4_TABLE, L4));
        for (int i = 256; i <= 271; i++) {
            assertThat(s.entry(L4, i).present()).as("slot %d", i).isFalse();
        }
        // Slot 272 is the guest's: a read-only self-map, validated (LIN-3).
        assertThat(s.entry(L4, 272)).isEqualTo(ro(L4));
        // Xen's frame gained no reference.
        assertThat(s.frame(XEN_FRAME).count()).isZero();
    }
}
