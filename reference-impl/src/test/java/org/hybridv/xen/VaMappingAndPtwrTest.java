package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.Tree.*;

import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.PageTableIntegrity;
import org.hybridv.x86.Entry;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** UVA-1/2, PTW-1..3, and the I2 check on states the hypercalls can never produce. */
class VaMappingAndPtwrTest {
    /** The running tree with the L1 itself mapped read-only at VA 0x8000 and the L2 at VA 0x9000. */
    static DirectPagingState withTablesMapped() {
        DirectPagingState s = success(update(running(), L1, 8, ro(L1)));
        return success(update(s, L1, 9, ro(L2)));
    }

    @Test
    @DisplayName("UVA-1/UVA-2: update_va_mapping changes the PTE for va and hands the requested INVLPG to the caller")
    void updateVaMapping() {
        DirectPagingState s = running();
        MmuResult r = DirectPaging.updateVaMapping(s, V, 0x5000, rw(DATA_RO).raw(),
                Hypercalls.UVMF_INVLPG | Hypercalls.UVMF_LOCAL);
        DirectPagingState t = success(r);
        assertThat(t.entry(L1, 5)).isEqualTo(rw(DATA_RO));
        assertThat(t.frame(DATA_RO)).isEqualTo(info(D1, PageType.WRITABLE, 1, 2, true, false));
        assertThat(t.frame(DATA_RW).count()).isZero();
        assertThat(((MmuResult.Success) r).effects()).containsExactly(new Effect.InvlpgLocal(V, 0x5000, "UVA-2"));
        MmuResult all = DirectPaging.updateVaMapping(s, V, 0x5000, ro(DATA_RW).raw(),
                Hypercalls.UVMF_TLB_FLUSH | Hypercalls.UVMF_ALL);
        assertThat(((MmuResult.Success) all).effects()).containsExactly(new Effect.FlushDomain(D1, "UVA-2"));
    }

    @Test
    @DisplayName("UVA-2 (XSA-279): a refused update requests no flush; UVA-1: no L1 for va, or no base pointer")
    void updateVaMappingRefusals() {
        DirectPagingState s = running();
        refused(DirectPaging.updateVaMapping(s, V, 0x5000, rw(FOREIGN).raw(), Hypercalls.UVMF_INVLPG), Errno.EPERM,
                "L1-2", s);
        refused(DirectPaging.updateVaMapping(s, V, 1L << 39, ro(SPARE).raw(), 0), Errno.EINVAL, "UVA-1", s);
        refused(DirectPaging.updateVaMapping(s, V2, 0x5000, ro(SPARE).raw(), 0), Errno.EINVAL, "UVA-1", s);
    }

    @Test
    @DisplayName("PTW-1/PTW-3: a kernel store into its read-only-mapped L1 is validated and performed")
    void ptwrEmulatesValidStore() {
        DirectPagingState s = withTablesMapped();
        long cr2 = 0x8000 + 7 * 8;
        DirectPagingState t = success(DirectPaging.ptwrEmulate(s, V, cr2, rw(SPARE).raw(), 8));
        assertThat(t.entry(L1, 7)).isEqualTo(rw(SPARE));
        assertThat(t.frame(SPARE)).isEqualTo(info(D1, PageType.WRITABLE, 1, 1, true, false));
    }

    @Test
    @DisplayName("PTW-2: a 4-byte store is widened to the 8-byte PTE; a misaligned store is not emulated")
    void ptwrWidensNarrowStores() {
        DirectPagingState s = withTablesMapped();
        // Entry 6 maps DATA_RO read-only (raw 0x21001); storing the low dword 0x21003 sets RW, the high dword stays.
        DirectPagingState t = success(DirectPaging.ptwrEmulate(s, V, 0x8000 + 6 * 8, 0x21003, 4));
        assertThat(t.entry(L1, 6)).isEqualTo(rw(DATA_RO));
        assertThat(t.frame(DATA_RO)).isEqualTo(info(D1, PageType.WRITABLE, 1, 1, true, false));
        refused(DirectPaging.ptwrEmulate(s, V, 0x8000 + 6 * 8 + 2, 0x21003, 4), Errno.EINVAL, "PTW-2", s);
    }

    @Test
    @DisplayName("PTW-1/PTW-3: not emulated: a store making the L1 writable (L1-3), into an L2, or through a writable PTE")
    void ptwrRefusals() {
        DirectPagingState s = withTablesMapped();
        refused(DirectPaging.ptwrEmulate(s, V, 0x8000 + 7 * 8, rw(L1).raw(), 8), Errno.EBUSY, "L1-3", s);
        refused(DirectPaging.ptwrEmulate(s, V, 0x8000 + 7 * 8, ro(FOREIGN).raw(), 8), Errno.EPERM, "L1-2", s);
        refused(DirectPaging.ptwrEmulate(s, V, 0x9000 + 1 * 8, ro(SPARE).raw(), 8), Errno.EINVAL, "PTW-1", s);
        refused(DirectPaging.ptwrEmulate(s, V, 0x5000, 0, 8), Errno.EINVAL, "PTW-1", s);
    }

    @Test
    @DisplayName("I2: a writable PTE to a page table written behind the hypervisor's back is reported with frame and index")
    void invariantExplainsAWritableMappingOfATable() {
        DirectPagingState s = running().write(L1, 9, rw(L2));
        InvariantResult r = PageTableIntegrity.check(s);
        assertThat(r).isInstanceOf(InvariantResult.Violated.class);
        assertThat(((InvariantResult.Violated) r).rule()).isEqualTo("TYP-1");
        assertThat(r.toString()).contains("L1 0x13[9]", "base pointer of d1v0");
        assertThat(PageTableIntegrity.referenceCounts(s).holds()).isFalse();
    }

    @Test
    @DisplayName("I2: a superpage, a foreign frame, a Xen-slot entry and a 2-deep linear chain are each reported")
    void invariantReportsEachRule() {
        DirectPagingState s = running();
        assertThat(rule(s.write(L2, 1, ro(DATA_RO).withPageSize(true)))).isEqualTo("SP-1");
        assertThat(rule(s.write(L1, 9, ro(FOREIGN)))).isEqualTo("L1-2");
        assertThat(rule(s.write(L4, 256, ro(L3)))).isEqualTo("SLOT-1");
        assertThat(rule(s.write(L4, 1, rw(L4)))).isEqualTo("LIN-1");
        assertThat(rule(s.write(L3, 1, ro(0x17)))).isEqualTo("TYP-4");
        DirectPagingState chain = success(op(s, Hypercalls.MMUEXT_PIN_L2_TABLE, SPARE));
        chain = success(op(chain, Hypercalls.MMUEXT_PIN_L2_TABLE, SPARE2));
        chain = success(update(chain, L2, 1, ro(SPARE)));
        assertThat(rule(chain.write(SPARE, 0, ro(SPARE2)))).isEqualTo("LIN-4");
    }

    private static String rule(DirectPagingState s) {
        InvariantResult r = PageTableIntegrity.check(s);
        return r instanceof InvariantResult.Violated v ? v.rule() : "holds";
    }
}
