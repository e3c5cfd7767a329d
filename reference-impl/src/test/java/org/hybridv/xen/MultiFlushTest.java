package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.Hv.K;
import static org.hybridv.xen.Hv.U;

import org.hybridv.invariants.TlbCoherence;
import org.junit.jupiter.api.Test;

/**
 * Xen rule MX-7: {@code MMUEXT_TLB_FLUSH_MULTI} and {@code MMUEXT_INVLPG_MULTI} (Xen {@code do_mmuext_op}:
 * {@code vcpumask_to_pcpumask}, then {@code flush_tlb_mask} / {@code flush_tlb_one_mask}) reach the pCPUs the masked
 * vCPUs run on, and only those. d1's vCPUs K (pCPU 0) and U (moved to pCPU 1) have both read {@link #VA}, so each
 * pCPU holds one translation of it under the vCPU's VPID (1 and 2).
 */
class MultiFlushTest {
    static final long VA = SmpTest.VA;

    /** K on pCPU 0 and U on pCPU 1, each having cached VA; the active pCPU is K's. */
    static XenMachine bothCached() {
        XenMachine m = Hypervisor.schedule(SmpTest.two().withGuestCpl(U, 0), U, 1);
        m = SmpTest.read(m, U, VA).machine();
        m = SmpTest.read(m, K, VA).machine();
        assertThat(SmpTest.entriesOf(m, 0, 1)).isEqualTo(1);
        assertThat(SmpTest.entriesOf(m, 1, 2)).isEqualTo(1);
        return m;
    }

    static XenMachine multi(XenMachine m, int cmd, long linear, long vcpumask) {
        HvStep s = Hypervisor.hypercall(m, K, Hypercall.mmuextMulti(cmd, linear, vcpumask));
        assertThat(s.outcome()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        assertThat(((VcpuOutcome.HypercallDone) s.outcome()).rax()).isZero();
        return s.machine();
    }

    @Test
    void invlpgMultiToTheRemoteVcpuInvalidatesItsPcpuAndLeavesTheCallersAlone() {
        XenMachine m = multi(bothCached(), Hypercalls.MMUEXT_INVLPG_MULTI, VA, 1L << U.vcpu());
        assertThat(SmpTest.entriesOf(m, 1, 2)).as("pCPU 1, where U runs").isZero();
        // pCPU 0 runs no vCPU of the mask: not interrupted, K's translation stays (K did not ask for itself)
        assertThat(SmpTest.entriesOf(m, 0, 1)).as("pCPU 0, outside the mask's pCPUs").isEqualTo(1);
        assertThat(TlbCoherence.check(m).holds()).isTrue();
    }

    @Test
    void invlpgMultiToAMaskThatExcludesAPcpuLeavesThatPcpuAlone() {
        XenMachine m = multi(bothCached(), Hypercalls.MMUEXT_INVLPG_MULTI, VA, 1L << K.vcpu());
        assertThat(SmpTest.entriesOf(m, 0, 1)).isZero();
        assertThat(SmpTest.entriesOf(m, 1, 2)).as("pCPU 1 is no masked vCPU's: left alone").isEqualTo(1);
    }

    @Test
    void tlbFlushMultiToBothVcpusFlushesBothPcpus() {
        XenMachine m = multi(bothCached(), Hypercalls.MMUEXT_TLB_FLUSH_MULTI, 0, (1L << K.vcpu()) | (1L << U.vcpu()));
        assertThat(SmpTest.entriesOf(m, 0, 1)).isZero();
        assertThat(SmpTest.entriesOf(m, 1, 2)).isZero();
        // TLB-9: both pCPUs stay in d1's mask, each has a vCPU of d1 current
        assertThat(m.tlbFlush().dirtyCpumask(Hv.D1)).containsExactly(0, 1);
    }

    @Test
    void bitsThatNameNoVcpuAreIgnoredAndANonCanonicalAddressDoesNothing() {
        XenMachine pre = bothCached();
        XenMachine m = multi(pre, Hypercalls.MMUEXT_TLB_FLUSH_MULTI, 0, 1L << 5);
        assertThat(SmpTest.entriesOf(m, 0, 1)).isEqualTo(1);
        assertThat(SmpTest.entriesOf(m, 1, 2)).isEqualTo(1);
        assertThat(TlbDiscipline.vcpumaskToPcpumask(pre, Hv.D1, 1L << 5)).isEmpty();
        assertThat(TlbDiscipline.vcpumaskToPcpumask(pre, Hv.D1, 3)).containsExactly(0, 1);
        XenMachine n = multi(pre, Hypercalls.MMUEXT_INVLPG_MULTI, 0x0000_8000_0000_0000L, 3);
        assertThat(SmpTest.entriesOf(n, 0, 1)).isEqualTo(1);
        assertThat(SmpTest.entriesOf(n, 1, 2)).isEqualTo(1);
    }

    @Test
    void theEffectsNameTheMaskAndTheRule() {
        DirectPagingState s = SmpTest.two().paging();
        MmuResult r = DirectPaging.mmuextOp(s, K, Hypercalls.MMUEXT_INVLPG_MULTI, VA, 2);
        assertThat(((MmuResult.Success) r).effects()).containsExactly(new Effect.InvlpgMulti(Hv.D1, 2, VA, "MX-7"));
        MmuResult f = DirectPaging.mmuextOp(s, K, Hypercalls.MMUEXT_TLB_FLUSH_MULTI, 0, 3);
        assertThat(((MmuResult.Success) f).effects()).containsExactly(new Effect.FlushMulti(Hv.D1, 3, "MX-7"));
        // the four-argument form passes an empty mask: nothing to flush
        MmuResult e = DirectPaging.mmuextOp(s, K, Hypercalls.MMUEXT_TLB_FLUSH_MULTI, 0);
        assertThat(((MmuResult.Success) e).effects()).containsExactly(new Effect.FlushMulti(Hv.D1, 0, "MX-7"));
    }

    @Test
    void theMultiFlushesAreForDirectModeOnly() {
        XenMachine m = SwitchMmuTest.ready();
        HvStep s = Hypervisor.hypercall(m, SwitchMmuTest.K, Hypercall.mmuextMulti(Hypercalls.MMUEXT_TLB_FLUSH_MULTI,
                0, 1));
        assertThat(s.outcome()).isInstanceOf(VcpuOutcome.HypercallRefused.class);
        assertThat(((VcpuOutcome.HypercallRefused) s.outcome()).rule()).isEqualTo("MU-1");
    }
}
