package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.Tree.*;

import org.hybridv.x86.Entry;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** L1-*, LN-*, SP-*, SLOT-*, LIN-*, MU-2/3/5 through mmu_update on a running tree; every refusal changes nothing. */
class EntryRulesTest {

    @Test
    @DisplayName("L1-2: an L1 entry may not map another domain's frame, nor a hypervisor frame (-EPERM)")
    void l1ForeignFrameRefused() {
        DirectPagingState s = running();
        refused(update(s, L1, 7, ro(FOREIGN)), Errno.EPERM, "L1-2", s);
        refused(update(s, L1, 7, ro(XEN_FRAME)), Errno.EPERM, "L1-2", s);
        refused(update(s, L1, 7, ro(0)), Errno.EPERM, "L1-2", s); // a free frame
    }

    @Test
    @DisplayName("L1-4: a frame beyond RAM is MMIO, and no domain here has I/O-memory permission (-EPERM)")
    void l1MmioRefused() {
        DirectPagingState s = running();
        refused(update(s, L1, 7, ro(0x1000)), Errno.EPERM, "L1-4", s);
    }

    @Test
    @DisplayName("L1-1: PWT, PCD, PAT and _PAGE_GNTTAB are disallowed in an L1 entry; G, NX, A, D, AVAIL are allowed")
    void l1DisallowMask() {
        DirectPagingState s = running();
        refused(update(s, L1, 7, ro(SPARE).with(Entry.PCD, true)), Errno.EINVAL, "L1-1", s);
        refused(update(s, L1, 7, ro(SPARE).with(Entry.PWT, true)), Errno.EINVAL, "L1-1", s);
        refused(update(s, L1, 7, ro(SPARE).with(7, true)), Errno.EINVAL, "L1-1", s);
        refused(update(s, L1, 7, ro(SPARE).with(62, true)), Errno.EINVAL, "L1-1", s);
        Entry allowed = ro(SPARE).withGlobal(true).withNoExecute(true).withAccessed(true).withDirty(true)
                .with(9, true).with(52, true).withUser(true);
        DirectPagingState t = success(update(s, L1, 7, allowed));
        assertThat(t.frame(SPARE).count()).isEqualTo(1);
        assertThat(EntryRules.L1_DISALLOW_MASK).isEqualTo(0x4000_0000_0000_0098L);
    }

    @Test
    @DisplayName("LN-1: PWT, PCD, G are disallowed in L2–L4 entries (base_disallow_mask)")
    void lnDisallowMask() {
        DirectPagingState s = running();
        refused(update(s, L2, 1, ro(SPARE).withGlobal(true)), Errno.EINVAL, "LN-1", s);
        refused(update(s, L3, 1, ro(SPARE).with(Entry.PCD, true)), Errno.EINVAL, "LN-1", s);
        refused(update(s, L4, 1, ro(SPARE).with(Entry.PWT, true)), Errno.EINVAL, "LN-1", s);
        assertThat(EntryRules.LN_DISALLOW_MASK).isEqualTo(0x198L);
    }

    @Test
    @DisplayName("SP-1: no superpage: PSE in an L2 or L3 entry is refused, by mmu_update and by promotion")
    void superpageRefused() {
        DirectPagingState s = running();
        refused(update(s, L2, 1, ro(0x20).withPageSize(true)), Errno.EINVAL, "SP-1", s);
        refused(update(s, L3, 1, ro(0x20).withPageSize(true)), Errno.EINVAL, "SP-1", s);
        DirectPagingState pre = built().write(L2, 1, rw(0x20).withPageSize(true));
        refused(op(pre, Hypercalls.MMUEXT_PIN_L4_TABLE, L4), Errno.EINVAL, "SP-1", pre);
        refused(op(s, Hypercalls.MMUEXT_MARK_SUPER, 0x20), Errno.EOPNOTSUPP, "SP-1", s);
    }

    @Test
    @DisplayName("LN-3: an L2–L4 entry may only reference a frame of the table's domain")
    void lnForeignFrameRefused() {
        DirectPagingState s = running();
        refused(update(s, L2, 1, ro(FOREIGN)), Errno.EINVAL, "LN-3", s);
        refused(update(s, L4, 1, ro(XEN_FRAME)), Errno.EINVAL, "LN-3", s);
    }

    @Test
    @DisplayName("LN-2: an L3 entry needs an L2: a frame in use as an L1 is refused")
    void lnChildTypeRefused() {
        DirectPagingState s = running();
        refused(update(s, L3, 1, ro(L1)), Errno.EINVAL, "LN-2", s);
        // A fresh frame takes the needed type and is validated on the way (TYP-3).
        DirectPagingState t = success(update(s, L3, 1, ro(SPARE)));
        assertThat(t.frame(SPARE)).isEqualTo(info(D1, PageType.L2, 1, 1, true, false));
    }

    @Test
    @DisplayName("SLOT-2: a guest update of Xen's L4 slots 256–271 is refused; slots 255 and 272 are the guest's")
    void xenSlotsRefused() {
        DirectPagingState s = running();
        refused(update(s, L4, 256, ro(SPARE)), Errno.EINVAL, "SLOT-2", s);
        refused(update(s, L4, 271, Entry.NOT_PRESENT), Errno.EINVAL, "SLOT-2", s);
        success(update(s, L4, 255, ro(SPARE)));
        success(update(s, L4, 272, ro(SPARE)));
    }

    @Test
    @DisplayName("L1-3/TYP-1: map a frame writable, then pinning it as an L1 is refused")
    void writableThenPinRefused() {
        DirectPagingState s = success(update(running(), L1, 7, rw(SPARE)));
        assertThat(s.frame(SPARE)).isEqualTo(info(D1, PageType.WRITABLE, 1, 1, true, false));
        refused(op(s, Hypercalls.MMUEXT_PIN_L1_TABLE, SPARE), Errno.EINVAL, "TYP-1", s);
        // Nor may it become any other table level, e.g. through an L2 entry (LN-2).
        refused(update(s, L2, 1, ro(SPARE)), Errno.EINVAL, "LN-2", s);
    }

    @Test
    @DisplayName("L1-3/TYP-1: pin a frame as an L1, then mapping it writable is refused (-EBUSY); read-only is fine")
    void pinThenWritableRefused() {
        DirectPagingState s = success(op(running(), Hypercalls.MMUEXT_PIN_L1_TABLE, SPARE));
        refused(update(s, L1, 7, rw(SPARE)), Errno.EBUSY, "L1-3", s);
        // The L1 mapping itself writable is the same case.
        refused(update(s, L1, 7, rw(L1)), Errno.EBUSY, "L1-3", s);
        DirectPagingState t = success(update(s, L1, 7, ro(SPARE)));
        assertThat(t.frame(SPARE)).isEqualTo(info(D1, PageType.L1, 1, 2, true, true));
    }

    @Test
    @DisplayName("L1-6: replacing a writable PTE drops the WRITABLE type reference it held")
    void replacingWritablePteDropsItsTypeReference() {
        DirectPagingState s = success(update(running(), L1, 5, ro(DATA_RW)));
        assertThat(s.frame(DATA_RW)).isEqualTo(info(D1, PageType.WRITABLE, 0, 1, true, false));
        s = success(update(s, L1, 5, Entry.NOT_PRESENT));
        assertThat(s.frame(DATA_RW).count()).isZero();
        // Now the frame may become a page table.
        success(op(s, Hypercalls.MMUEXT_PIN_L1_TABLE, DATA_RW));
    }

    @Test
    @DisplayName("LIN-1/LIN-3: a linear self-map must be read-only, and takes no reference")
    void selfMap() {
        DirectPagingState s = running();
        refused(update(s, L4, 1, rw(L4)), Errno.EINVAL, "LIN-1", s);
        DirectPagingState t = success(update(s, L4, 1, ro(L4)));
        assertThat(t.frame(L4)).isEqualTo(s.frame(L4));
        // Removing it drops nothing either.
        assertThat(success(update(t, L4, 1, Entry.NOT_PRESENT)).frame(L4)).isEqualTo(s.frame(L4));
    }

    @Test
    @DisplayName("LIN-2: a linear entry to a same-level table takes a reference; one to another domain's table is refused")
    void linearToOtherTable() {
        DirectPagingState s = success(op(running(), Hypercalls.MMUEXT_PIN_L2_TABLE, SPARE));
        DirectPagingState t = success(update(s, L2, 1, ro(SPARE)));
        assertThat(t.frame(SPARE)).isEqualTo(new FrameInfo(D1, PageType.L2, 2, 2, true, true, -1));
        assertThat(t.frame(L2).linearCount()).isEqualTo(1);
        refused(update(s, L2, 1, rw(SPARE)), Errno.EINVAL, "LIN-1", s);
        DirectPagingState d2 = success(DirectPaging.mmuextOp(s, V2, Hypercalls.MMUEXT_PIN_L2_TABLE, FOREIGN));
        refused(update(d2, L2, 1, ro(FOREIGN)), Errno.EINVAL, "LIN-2", d2);
    }

    @Test
    @DisplayName("LIN-4 (XSA-240): a chain A→B→C of linear L2 entries is refused, in either order of creation")
    void linearDepthTwoRefused() {
        DirectPagingState s = running();
        for (long f : new long[] {SPARE, SPARE2, SPARE3}) {
            s = success(op(s, Hypercalls.MMUEXT_PIN_L2_TABLE, f));
        }
        // A→B, then B→C.
        DirectPagingState ab = success(update(s, SPARE, 0, ro(SPARE2)));
        refused(update(ab, SPARE2, 0, ro(SPARE3)), Errno.EINVAL, "LIN-4", ab);
        // B→C, then A→B.
        DirectPagingState bc = success(update(s, SPARE2, 0, ro(SPARE3)));
        refused(update(bc, SPARE, 0, ro(SPARE2)), Errno.EINVAL, "LIN-4", bc);
    }

    @Test
    @DisplayName("MU-5: a successful L2–L4 update obliges the caller to flush the domain; an L1 update does not (TLB-7)")
    void flushAfterUpperLevelUpdate() {
        DirectPagingState s = running();
        assertThat(((MmuResult.Success) update(s, L2, 1, ro(SPARE))).effects())
                .containsExactly(new Effect.FlushDomain(D1, "MU-5"));
        assertThat(((MmuResult.Success) update(s, L1, 7, ro(SPARE))).effects()).isEmpty();
    }

    @Test
    @DisplayName("MU-1/MU-2: the target must be the caller's; a WRITABLE frame gets a plain, unchecked store")
    void mmuUpdateTargets() {
        DirectPagingState s = running();
        refused(update(s, FOREIGN, 0, ro(SPARE)), Errno.EINVAL, "MU-1", s);
        refused(update(s, XEN_FRAME, 0, ro(SPARE)), Errno.EINVAL, "MU-1", s);
        // DATA_RW is WRITABLE (mapped RW): plain store, no validation, no references.
        DirectPagingState t = success(update(s, DATA_RW, 3, ro(FOREIGN).with(Entry.PCD, true)));
        assertThat(t.entry(DATA_RW, 3)).isEqualTo(ro(FOREIGN).with(Entry.PCD, true));
        assertThat(t.frame(FOREIGN)).isEqualTo(s.frame(FOREIGN));
        // Other mmu_update commands are not modelled.
        refused(DirectPaging.mmuUpdate(s, V, (DATA_RW << 12) | Hypercalls.MMU_MACHPHYS_UPDATE, 0), Errno.ENOSYS,
                "MU-4", s);
    }

    @Test
    @DisplayName("MX-5/TLB-6: TLB operations become effects; INVLPG of a non-canonical address is a no-op")
    void tlbOperations() {
        DirectPagingState s = running();
        assertThat(((MmuResult.Success) op(s, Hypercalls.MMUEXT_TLB_FLUSH_LOCAL, 0)).effects())
                .containsExactly(new Effect.FlushLocal(V, "MX-5"));
        assertThat(((MmuResult.Success) op(s, Hypercalls.MMUEXT_INVLPG_LOCAL, 0x5000)).effects())
                .containsExactly(new Effect.InvlpgLocal(V, 0x5000, "MX-5"));
        MmuResult nonCanonical = op(s, Hypercalls.MMUEXT_INVLPG_LOCAL, 0x0000_8000_0000_0000L);
        assertThat(success(nonCanonical)).isEqualTo(s);
        assertThat(((MmuResult.Success) nonCanonical).effects()).isEmpty();
        assertThat(((MmuResult.Success) op(s, Hypercalls.MMUEXT_TLB_FLUSH_ALL, 0)).effects())
                .containsExactly(new Effect.FlushDomain(D1, "MX-5"));
        refused(op(s, Hypercalls.MMUEXT_SET_LDT, 0), Errno.ENOSYS, "MX-6", s);
    }

    @Test
    @DisplayName("xen.h: hypercall and command numbers")
    void abiNumbers() {
        assertThat(Hypercalls.HYPERVISOR_MMU_UPDATE).isEqualTo(1);
        assertThat(Hypercalls.HYPERVISOR_UPDATE_VA_MAPPING).isEqualTo(14);
        assertThat(Hypercalls.HYPERVISOR_MMUEXT_OP).isEqualTo(26);
        assertThat(new int[] {Hypercalls.MMUEXT_PIN_L1_TABLE, Hypercalls.MMUEXT_PIN_L4_TABLE,
                Hypercalls.MMUEXT_UNPIN_TABLE, Hypercalls.MMUEXT_NEW_BASEPTR, Hypercalls.MMUEXT_TLB_FLUSH_LOCAL,
                Hypercalls.MMUEXT_INVLPG_LOCAL}).containsExactly(0, 3, 4, 5, 6, 7);
    }
}
