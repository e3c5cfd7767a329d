package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.Hv.DATA_RW;
import static org.hybridv.xen.Hv.K;
import static org.hybridv.xen.Hv.L1;
import static org.hybridv.xen.Hv.U;
import static org.hybridv.xen.Hv.rw;
import static org.hybridv.xen.ShootdownTest.update;

import org.hybridv.x86.Entry;
import org.junit.jupiter.api.Test;

/**
 * The batched {@code mmu_update} (Xen rules MU-7, MU-8; Xen {@code do_mmu_update}): requests read from guest memory
 * through the caller's translation, applied in order, each atomically; the first refused one stops the batch with
 * {@code *pdone} = the requests before it; on several pCPUs one request per step, preemptible between two requests
 * into a continuation that re-issues the rest. Expectations come from the rules: the tables after a batch equal those
 * after the same requests issued one by one (the one-request form), and {@code *pdone} counts the requests applied.
 */
class MmuBatchTest {
    /** The request list lives at VA 0x5000 (frame 0x20, mapped RW by d1's L1), {@code *pdone} at VA 0x5800. */
    static final long REQ = 0x5000;
    static final long PDONE = 0x5800;
    static final int PDONE_WORD = 0x800 / 8;

    /** Three L1 updates of d1: slots 10, 11, 12 of the L1 map frames 0x22, 0x23, 0x24 writable. */
    static final Hypercall[] THREE = {update(L1, 10, rw(0x22)), update(L1, 11, rw(0x23)), update(L1, 12, rw(0x24))};

    /** {@code m} with {@code requests} written at {@link #REQ} (the guest wrote its list) and {@code *pdone} = 0. */
    static XenMachine listed(XenMachine m, Hypercall... requests) {
        DirectPagingState s = m.paging();
        for (int i = 0; i < requests.length; i++) {
            s = s.write(DATA_RW, 2 * i, new Entry(requests[i].arg(0))).write(DATA_RW, 2 * i + 1,
                    new Entry(requests[i].arg(1)));
        }
        return m.withPaging(s.write(DATA_RW, PDONE_WORD, new Entry(0)));
    }

    static long pdone(XenMachine m) {
        return m.paging().memory().read(DATA_RW, PDONE_WORD);
    }

    /** The machine after the requests one by one (the one-request form), to compare tables with. */
    static XenMachine oneByOne(XenMachine m, Hypercall... requests) {
        for (Hypercall c : requests) {
            m = ShootdownTest.call(m, K, c);
        }
        return m;
    }

    static void sameTables(XenMachine batched, XenMachine sequential) {
        assertThat(batched.frames()).isEqualTo(sequential.frames());
        for (long mfn = 0x10; mfn <= 0x2f; mfn++) {
            for (int i = 0; i < 512; i++) {
                if (mfn != DATA_RW || i != PDONE_WORD) {
                    assertThat(batched.paging().memory().read(mfn, i)).as("frame %x[%d]", mfn, i)
                            .isEqualTo(sequential.paging().memory().read(mfn, i));
                }
            }
        }
    }

    @Test
    void onOnePcpuTheBatchRunsToItsEndInItsStep() {
        XenMachine m = listed(Hv.machine(), THREE);
        VcpuOutcome.HypercallDone done = Hv.outcome(Hypervisor.hypercall(m, K, MmuBatch.batch(REQ, 3, PDONE)),
                VcpuOutcome.HypercallDone.class);
        assertThat(done.rax()).isZero();
        XenMachine after = Hypervisor.hypercall(m, K, MmuBatch.batch(REQ, 3, PDONE)).machine();
        assertThat(pdone(after)).isEqualTo(3);
        assertThat(after.tlbFlush().inFlight(K)).isEmpty();
        sameTables(after, oneByOne(m, THREE));
    }

    @Test
    void aRefusedRequestStopsTheBatchWithTheCountDone() {
        Hypercall foreign = update(0x30, 0, rw(0x22)); // d2's frame: MU-1
        XenMachine m = listed(Hv.machine(), THREE[0], foreign, THREE[2]);
        HvStep s = Hypervisor.hypercall(m, K, MmuBatch.batch(REQ, 3, PDONE));
        VcpuOutcome.HypercallRefused x = Hv.outcome(s, VcpuOutcome.HypercallRefused.class);
        assertThat(x.errno()).isEqualTo(Errno.EINVAL);
        assertThat(x.rule()).isEqualTo("MU-1");
        assertThat(pdone(s.machine())).isEqualTo(1);
        sameTables(s.machine(), oneByOne(m, THREE[0])); // the first stays applied, the third never is
    }

    @Test
    void aListTheGuestCannotReadIsRefusedEfault() {
        XenMachine m = listed(Hv.machine(), THREE);
        HvStep s = Hypervisor.hypercall(m, K, MmuBatch.batch(0x7000, 3, PDONE)); // VA 0x7000 is not mapped
        VcpuOutcome.HypercallRefused x = Hv.outcome(s, VcpuOutcome.HypercallRefused.class);
        assertThat(x.errno()).isEqualTo(Errno.EFAULT);
        assertThat(pdone(s.machine())).isZero();
        sameTables(s.machine(), m);
    }

    @Test
    void theOneRequestFormIsUnchanged() {
        XenMachine m = Hv.machine();
        HvStep s = Hypervisor.hypercall(m, K, THREE[0]);
        assertThat(MmuBatch.isBatch(THREE[0])).isFalse();
        Hv.outcome(s, VcpuOutcome.HypercallDone.class);
        assertThat(s.machine().paging().entry(L1, 10)).isEqualTo(rw(0x22));
    }

    @Test
    void onTwoPcpusOneRequestPerStepWithAnotherPcpuInBetween() {
        XenMachine m = Hypervisor.schedule(listed(Hv.machine(Faults.NONE, 2).withGuestCpl(U, 0), THREE), U, 1);
        HvStep first = Hypervisor.hypercall(m, K, MmuBatch.batch(REQ, 3, PDONE));
        Hv.outcome(first, VcpuOutcome.InHypercall.class);
        assertThat(first.machine().paging().entry(L1, 10)).isEqualTo(rw(0x22));
        assertThat(first.machine().paging().entry(L1, 11)).isEqualTo(Entry.NOT_PRESENT);
        // U, on pCPU 1, updates another slot of the same L1 between two requests of K's batch
        HvStep other = Hypervisor.hypercall(first.machine(), U, update(L1, 20, rw(0x25)));
        Hv.outcome(other, VcpuOutcome.HypercallDone.class);
        HvStep second = PreemptibleValidation.continueHypercall(other.machine(), K);
        Hv.outcome(second, VcpuOutcome.InHypercall.class);
        HvStep last = PreemptibleValidation.continueHypercall(second.machine(), K);
        Hv.outcome(last, VcpuOutcome.HypercallDone.class);
        assertThat(pdone(last.machine())).isEqualTo(3);
        assertThat(last.machine().tlbFlush().inFlight(K)).isEmpty();
        XenMachine seq = ShootdownTest.call(oneByOne(m, THREE[0]), U, update(L1, 20, rw(0x25)));
        sameTables(last.machine(), oneByOne(seq, THREE[1], THREE[2]));
    }

    @Test
    void aPreemptedBatchReissuedCompletesWithTheCountOfAll() {
        XenMachine m = listed(Hv.machine(Faults.NONE, 2), THREE);
        XenMachine x = Hypervisor.hypercall(m, K, MmuBatch.batch(REQ, 3, PDONE)).machine();
        // nothing to preempt before the first request (Xen checks only when i > 0) is not reachable: one is done
        HvStep p = MmuBatch.preempt(x, K);
        VcpuOutcome.HypercallPreempted pre = Hv.outcome(p, VcpuOutcome.HypercallPreempted.class);
        assertThat(pre.done()).isEqualTo(1);
        assertThat(pre.continuation()).isEqualTo(MmuBatch.batch(REQ + 16, 2 | MmuBatch.MMU_UPDATE_PREEMPTED,
                PDONE));
        assertThat(pdone(p.machine())).isEqualTo(1);
        assertThat(p.machine().tlbFlush().inFlight(K)).isEmpty();
        // MU-8: the registers are the vCPU's until its VMCALL is executed again (its saved guest registers)
        assertThat(x.vcpu(K).continuation()).isNull();
        assertThat(p.machine().vcpu(K).continuation()).isEqualTo(pre.continuation());
        // the vCPU is back in its guest: the re-executed VMCALL does the rest, adding to *pdone
        HvStep again = FlushIpis.runToCompletion(Hypervisor.hypercall(p.machine(), K, pre.continuation()), K);
        assertThat(again.machine().vcpu(K).continuation()).as("consumed by the re-executed VMCALL").isNull();
        Hv.outcome(again, VcpuOutcome.HypercallDone.class);
        assertThat(pdone(again.machine())).isEqualTo(3);
        sameTables(again.machine(), oneByOne(m, THREE));
        // nothing is left to preempt or continue
        assertThat(MmuBatch.preempt(again.machine(), K).outcome()).isInstanceOf(VcpuOutcome.NotModelled.class);
    }

    @Test
    void theSeededFaultSkipsTheRequestAtThePreemptionPoint() {
        XenMachine m = listed(Hv.machine(Faults.of(Fault.MMU_UPDATE_CONTINUATION_LOSES_ENTRY), 2), THREE);
        XenMachine x = Hypervisor.hypercall(m, K, MmuBatch.batch(REQ, 3, PDONE)).machine();
        VcpuOutcome.HypercallPreempted pre = (VcpuOutcome.HypercallPreempted) MmuBatch.preempt(x, K).outcome();
        HvStep again = FlushIpis.runToCompletion(Hypervisor.hypercall(MmuBatch.preempt(x, K).machine(), K,
                pre.continuation()), K);
        assertThat(again.outcome()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        assertThat(again.machine().paging().entry(L1, 11)).as("request 1 never applied")
                .isEqualTo(Entry.NOT_PRESENT);
        assertThat(pdone(again.machine())).isEqualTo(2);
    }
}
