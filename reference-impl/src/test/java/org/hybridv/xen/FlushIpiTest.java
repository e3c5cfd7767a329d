package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.Hv.D1;
import static org.hybridv.xen.Hv.H;
import static org.hybridv.xen.Hv.K;
import static org.hybridv.xen.Hv.L1;
import static org.hybridv.xen.Hv.SPARE;
import static org.hybridv.xen.Hv.U;
import static org.hybridv.xen.Hv.rw;
import static org.hybridv.xen.ShootdownTest.DATA;
import static org.hybridv.xen.ShootdownTest.VA;
import static org.hybridv.xen.ShootdownTest.bothWrote;
import static org.hybridv.xen.ShootdownTest.entries;
import static org.hybridv.xen.ShootdownTest.pinL1;
import static org.hybridv.xen.ShootdownTest.update;

import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.Entry;
import org.junit.jupiter.api.Test;

/**
 * Flush IPIs in flight (docs/smp.md; Xen rules IPI-1..IPI-5): a hypercall that owes a flush on another pCPU sends an
 * IPI and waits inside the hypervisor; the target's handler is a step of its own; the hypercall returns with the last
 * acknowledgement. Each logical processor has its own TLB and invalidates only its own (Intel SDM Vol. 3A §4.10,
 * §4.10.5), so until the handler runs the target's guest may use the translation the flush is for. Expectations come
 * from the rules: what each pCPU's TLB holds between send and delivery, when the hypercall returns, which type the
 * frame has meanwhile.
 */
class FlushIpiTest {
    static final Access READ_VA = Access.read(VA);

    static HvStep runOn(XenMachine m, VcpuId v, Access a) {
        return Hypervisor.run(m, v, new GuestInstruction.MemoryAccess(a));
    }

    /** IPI-1, IPI-2: the L2 update's flush reaches pCPU 1 by an IPI; K waits until pCPU 1 acknowledged. */
    @Test
    void theSenderWaitsForTheRemoteAcknowledgement() {
        XenMachine m = bothWrote(Faults.NONE);
        HvStep sent = Hypervisor.hypercall(m, K, update(0x12, 0, rw(SPARE)));
        assertThat(sent.outcome()).isInstanceOf(VcpuOutcome.InHypercall.class);
        assertThat(((VcpuOutcome.InHypercall) sent.outcome()).awaiting()).containsExactly(1);
        assertThat(sent.vmExits()).isEqualTo(1); // the VMCALL exit
        XenMachine w = sent.machine();
        // the sender flushed its own pCPU; pCPU 1 has a domain flush of d1 pending and still holds U's translation
        assertThat(entries(w, 0, 1)).isZero();
        assertThat(entries(w, 1, 2)).isEqualTo(1);
        assertThat(w.tlbFlush().pendingFlushes(1)).containsExactly(new FlushRequest(K, FlushRequest.Scope.DOMAIN,
                D1, 0));
        assertThat(w.tlbFlush().inFlight(K)).isPresent();
        // the window: U on pCPU 1 still reads through its stale translation (the L2 entry no longer maps VA)
        HvStep stale = runOn(w, U, READ_VA);
        assertThat(stale.outcome()).isInstanceOf(VcpuOutcome.Retired.class);
        // IPI-4: covered by a pending flush of a hypercall that has not returned: I6 does not apply to it yet
        assertThat(TlbCoherence.check(stale.machine())).isEqualTo(InvariantResult.HOLDS);
        // IPI-5: K executes nothing while it waits (no VM entry, no change)
        HvStep spin = runOn(stale.machine(), K, READ_VA);
        assertThat(spin.outcome()).isInstanceOf(VcpuOutcome.InHypercall.class);
        assertThat(spin.vmExits()).isZero();
        assertThat(spin.machine()).isEqualTo(stale.machine());
        // and it is not moved
        assertThat(Hypervisor.schedule(stale.machine(), K, 1)).isEqualTo(stale.machine());
        // pCPU 1 takes the IPI: flushed, acknowledged, K's hypercall returns
        FlushIpis.Delivery d = FlushIpis.deliverIpi(stale.machine(), 1);
        assertThat(d.handled()).hasSize(1);
        assertThat(d.completed()).extracting(FlushIpis.Completion::vcpu).containsExactly(K);
        assertThat(d.completed().get(0).outcome()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        assertThat(entries(d.machine(), 1, 2)).isZero();
        assertThat(d.machine().tlbFlush().pendingFlushes(1)).isEmpty();
        assertThat(d.machine().tlbFlush().inFlight(K)).isEmpty();
        assertThat(TlbCoherence.check(d.machine())).isEqualTo(InvariantResult.HOLDS);
        assertThat(runOn(d.machine(), U, READ_VA).outcome()).isInstanceOf(VcpuOutcome.Delivered.class);
        // nothing pending any more: a second delivery changes nothing
        assertThat(FlushIpis.deliverIpi(d.machine(), 1).machine()).isEqualTo(d.machine());
    }

    /** IPI-5: another vCPU placed on the pCPU of a waiting hypercall does not run either. */
    @Test
    void aPcpuInsideAHypercallRunsNoOtherVcpu() {
        XenMachine m = Hypervisor.schedule(bothWrote(Faults.NONE), H, 0);
        XenMachine w = Hypervisor.hypercall(m, K, update(0x12, 0, rw(SPARE))).machine();
        HvStep h = Hypervisor.run(w, H, new GuestInstruction.MemoryAccess(Access.read(0x4000)));
        assertThat(h.outcome()).isEqualTo(new VcpuOutcome.InHypercall(K, update(0x12, 0, rw(SPARE)),
                new java.util.TreeSet<>(java.util.Set.of(1))));
        assertThat(h.machine()).isEqualTo(w);
    }

    /** IPI-2 seeded fault: the hypercall returns with its IPI unhandled; I6 is violated on pCPU 1 after return. */
    @Test
    void ackNotAwaitedReturnsWithAStaleRemoteTranslation() {
        XenMachine m = bothWrote(Faults.of(Fault.IPI_ACK_NOT_AWAITED));
        HvStep r = Hypervisor.hypercall(m, K, update(0x12, 0, rw(SPARE)));
        assertThat(r.outcome()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        assertThat(r.machine().tlbFlush().pendingFlushes(1)).hasSize(1);
        InvariantResult i6 = TlbCoherence.check(r.machine());
        assertThat(i6).isInstanceOf(InvariantResult.Violated.class);
        assertThat(((InvariantResult.Violated) i6).rule()).isEqualTo("MU-5");
    }

    /** IPI-3: the type change's flush precedes the new type; the frame stays writable until every ack is in. */
    @Test
    void aTypeChangeValidatesOnlyAfterTheAcknowledgement() {
        XenMachine unmapped = ShootdownTest.call(bothWrote(Faults.NONE), K, update(L1, 5, new Entry(0)));
        HvStep sent = Hypervisor.hypercall(unmapped, K, pinL1(DATA));
        assertThat(sent.outcome()).isInstanceOf(VcpuOutcome.InHypercall.class);
        XenMachine w = sent.machine();
        FrameInfo f = w.frames().get(DATA);
        assertThat(f.type()).isEqualTo(PageType.WRITABLE);
        assertThat(f.typeCount()).isZero();
        assertThat(f.pinned()).isFalse();
        assertThat(w.tlbFlush().pendingFlushes(1)).containsExactly(FlushRequest.whole(K));
        // the sender flushed itself whole (clock 1 → 2); pCPU 1 has not (time 0)
        assertThat(w.tlbFlush().clock().cpuTime()).containsExactly(2L, 0L);
        // U writes through its stale writable translation: the frame is not a page table yet, I2 holds
        HvStep write = runOn(w, U, Access.write(VA, 0x1234));
        assertThat(write.outcome()).isInstanceOf(VcpuOutcome.Retired.class);
        assertThat(TranslationIntegrity.check(write.machine())).isEqualTo(InvariantResult.HOLDS);
        FlushIpis.Delivery d = FlushIpis.deliverIpi(write.machine(), 1);
        assertThat(d.completed().get(0).outcome()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        FrameInfo after = d.machine().frames().get(DATA);
        assertThat(after.type()).isEqualTo(PageType.L1);
        assertThat(after.validated()).isTrue();
        assertThat(after.pinned()).isTrue();
        assertThat(entries(d.machine(), 1, 2)).isZero();
        // pCPU 1's handler flushed whole at 3; the retried type change needed no second flush
        assertThat(d.machine().tlbFlush().clock().cpuTime()).containsExactly(2L, 3L);
        assertThat(TranslationIntegrity.check(d.machine())).isEqualTo(InvariantResult.HOLDS);
        assertThat(TlbCoherence.check(d.machine())).isEqualTo(InvariantResult.HOLDS);
    }

    /** IPI-3 seeded fault: the new L1 exists while pCPU 1 still holds a writable translation of it: I2 at once. */
    @Test
    void validateBeforeFlushAckLeavesAWritablePageTable() {
        XenMachine unmapped = ShootdownTest.call(bothWrote(Faults.of(Fault.VALIDATE_BEFORE_FLUSH_ACK)), K,
                update(L1, 5, new Entry(0)));
        HvStep sent = Hypervisor.hypercall(unmapped, K, pinL1(DATA));
        assertThat(sent.outcome()).isInstanceOf(VcpuOutcome.InHypercall.class);
        assertThat(sent.machine().frames().get(DATA).type()).isEqualTo(PageType.L1);
        InvariantResult i2 = TranslationIntegrity.check(sent.machine());
        assertThat(i2).isInstanceOf(InvariantResult.Violated.class);
        assertThat(((InvariantResult.Violated) i2).rule()).isEqualTo("TLB-1");
    }

    /**
     * IPI-3, the cmpxchg loop (XSA-401's race): while K's pin waits for its flush, U maps the frame writable on pCPU
     * 1; when the acknowledgement arrives the pin is executed again and finds the frame in use as writable: refused.
     */
    @Test
    void aWritableReferenceTakenDuringTheFlushMakesThePinFail() {
        XenMachine unmapped = ShootdownTest.call(bothWrote(Faults.NONE), K, update(L1, 5, new Entry(0)));
        XenMachine w = Hypervisor.hypercall(unmapped, K, pinL1(DATA)).machine();
        HvStep mapped = Hypervisor.hypercall(w, U, update(L1, 7, rw(DATA)));
        assertThat(mapped.outcome()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        assertThat(mapped.machine().frames().get(DATA).typeCount()).isEqualTo(1);
        FlushIpis.Delivery d = FlushIpis.deliverIpi(mapped.machine(), 1);
        VcpuOutcome o = d.completed().get(0).outcome();
        assertThat(o).isInstanceOf(VcpuOutcome.HypercallRefused.class);
        assertThat(((VcpuOutcome.HypercallRefused) o).errno()).isEqualTo(Errno.EINVAL);
        assertThat(d.machine().frames().get(DATA).type()).isEqualTo(PageType.WRITABLE);
        assertThat(TranslationIntegrity.check(d.machine())).isEqualTo(InvariantResult.HOLDS);
    }

    /**
     * IPI-1, IPI-2: two hypercalls in flight at once, each waiting for the other's pCPU. A pCPU spinning for its own
     * acknowledgements still takes IPIs (Xen spins with interrupts enabled), so both complete: no deadlock.
     */
    @Test
    void twoHypercallsWaitingForEachOthersPcpuBothComplete() {
        XenMachine m = bothWrote(Faults.NONE);
        XenMachine k = Hypervisor.hypercall(m, K, update(0x12, 0, rw(SPARE))).machine(); // K on 0 awaits pCPU 1
        // U on pCPU 1 (which has K's IPI pending) flushes d1 everywhere: pCPU 0 is in d1's mask (K is current there)
        HvStep u2 = Hypervisor.hypercall(k, U, Hypercall.mmuextOp(Hypercalls.MMUEXT_TLB_FLUSH_ALL, 0));
        assertThat(u2.outcome()).isInstanceOf(VcpuOutcome.InHypercall.class);
        assertThat(((VcpuOutcome.InHypercall) u2.outcome()).awaiting()).containsExactly(0);
        XenMachine both = u2.machine();
        assertThat(both.tlbFlush().inFlight().keySet()).containsExactly(K, U);
        FlushIpis.Delivery on0 = FlushIpis.deliverIpi(both, 0);
        assertThat(on0.completed()).extracting(FlushIpis.Completion::vcpu).containsExactly(U);
        FlushIpis.Delivery on1 = FlushIpis.deliverIpi(on0.machine(), 1);
        assertThat(on1.completed()).extracting(FlushIpis.Completion::vcpu).containsExactly(K);
        assertThat(on1.machine().tlbFlush().inFlight()).isEmpty();
        assertThat(on1.machine().tlbFlush().pendingFlushes(0)).isEmpty();
        assertThat(on1.machine().tlbFlush().pendingFlushes(1)).isEmpty();
        assertThat(TlbCoherence.check(on1.machine())).isEqualTo(InvariantResult.HOLDS);
    }

    /** One pCPU: nothing is ever sent, the hypercall returns in its step as before. */
    @Test
    void onePcpuSendsNoIpi() {
        XenMachine m = ShootdownTest.run(Hv.machine(Faults.NONE), K, Access.write(VA));
        HvStep r = Hypervisor.hypercall(m, K, update(0x12, 0, rw(SPARE)));
        assertThat(r.outcome()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        assertThat(r.machine().tlbFlush().pendingFlushes(0)).isEmpty();
        assertThat(r.machine().tlbFlush().inFlight()).isEmpty();
    }
}
