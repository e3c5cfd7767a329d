package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.Hv.D1;
import static org.hybridv.xen.Hv.D2;
import static org.hybridv.xen.Hv.H;
import static org.hybridv.xen.Hv.K;
import static org.hybridv.xen.Hv.L1;
import static org.hybridv.xen.Hv.SPARE;
import static org.hybridv.xen.Hv.U;
import static org.hybridv.xen.Hv.rw;

import java.util.List;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.Entry;
import org.junit.jupiter.api.Test;

/**
 * TLB shootdown as Xen does it (docs/smp.md): domain-wide flushes reach the pCPUs of the domain's dirty CPU mask
 * (Xen rule TLB-9, {@code flush_tlb_mask}), a type change only those the TLB-flush clock cannot clear (TLB-1, TLB-2,
 * TLB-8), and a wrap of the clock flushes every pCPU. Expectations come from those rules: which pCPU may still hold
 * which VPID's translations, which clock time each pCPU has after which flush.
 */
class ShootdownTest {
    static final long VA = 0x5000; // L1[5] → 0x20, RW
    static final long DATA = 0x20;
    static final long OTHER = 0x22; // a d1 frame, untyped until mapped RW at L1[7]

    static XenMachine run(XenMachine m, VcpuId v, Access a) {
        return Hypervisor.run(m, v, new GuestInstruction.MemoryAccess(a)).machine();
    }

    /**
     * Hypercall {@code c} of {@code v}, run to its return: while it waits for flush acknowledgements (IPI-2) the
     * awaited pCPUs take their IPIs in pCPU order and nothing else steps (the synchronous interleaving).
     */
    static XenMachine call(XenMachine m, VcpuId v, Hypercall c) {
        HvStep s = FlushIpis.runToCompletion(Hypervisor.hypercall(m, v, c), v);
        assertThat(s.outcome()).as("accepted: %s", s.outcome()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        return s.machine();
    }

    static Hypercall update(long mfn, int index, Entry e) {
        return Hypercall.mmuUpdate((mfn << 12) | ((long) index << 3) | Hypercalls.MMU_NORMAL_PT_UPDATE, e.raw());
    }

    static Hypercall pinL1(long mfn) {
        return Hypercall.mmuextOp(Hypercalls.MMUEXT_PIN_L1_TABLE, mfn);
    }

    static long entries(XenMachine m, int pcpu, int vpid) {
        return m.pcpu(pcpu).tlb().entries().stream().filter(e -> e.tag().vpid() == vpid).count();
    }

    /** d1's kernel vCPU on pCPU 0 and its second vCPU (at CPL 0) on pCPU 1 have both written VA. */
    static XenMachine bothWrote(Faults f) {
        XenMachine m = Hypervisor.schedule(Hv.machine(f, 2).withGuestCpl(U, 0), U, 1);
        m = run(m, K, Access.write(VA));
        return run(m, U, Access.write(VA));
    }

    /** {@link #bothWrote} then the kernel unmaps VA (L1[5] cleared) and pins the frame it mapped as an L1. */
    static XenMachine retypedAfterBothWrote(Faults f) {
        XenMachine m = call(bothWrote(f), K, update(L1, 5, new Entry(0)));
        return call(m, K, pinL1(DATA));
    }

    /** TLB-9: a pCPU joins a domain's mask when a vCPU of the domain runs there. */
    @Test
    void aPcpuJoinsTheMaskOfTheDomainThatRunsThere() {
        XenMachine m = Hv.machine(Faults.NONE, 2);
        assertThat(m.tlbFlush().dirtyCpumask(D1)).isEmpty();
        XenMachine m2 = bothWrote(Faults.NONE);
        assertThat(m2.tlbFlush().dirtyCpumask(D1)).containsExactly(0, 1);
        assertThat(m2.tlbFlush().dirtyCpumask(D2)).isEmpty();
    }

    /** MU-5/TLB-3 with TLB-9: an L2 update flushes the domain on the remote pCPU of its mask too. */
    @Test
    void anL2UpdateFlushesTheRemotePcpuOfTheMask() {
        XenMachine m = bothWrote(Faults.NONE);
        assertThat(entries(m, 1, 2)).isEqualTo(1);
        XenMachine after = call(m, K, update(0x12, 0, rw(SPARE)));
        assertThat(entries(after, 0, 1)).isZero();
        assertThat(entries(after, 1, 2)).isZero();
        // both pCPUs still have a vCPU of d1 current: they stay in its mask (its vCPUs re-enter after the flush)
        assertThat(after.tlbFlush().dirtyCpumask(D1)).containsExactly(0, 1);
        assertThat(TlbCoherence.check(after)).isEqualTo(InvariantResult.HOLDS);
        // the window is unmapped for every vCPU of d1: U's next access faults
        assertThat(Hypervisor.run(after, U, new GuestInstruction.MemoryAccess(Access.read(VA))).outcome())
                .isInstanceOf(VcpuOutcome.Delivered.class);
        // flush-ipi-local-only: pCPU 1 keeps U's translation of the unmapped window, and U still reads through it
        XenMachine bad = call(bothWrote(Faults.of(Fault.FLUSH_IPI_LOCAL_ONLY)), K, update(0x12, 0, rw(SPARE)));
        assertThat(entries(bad, 1, 2)).isEqualTo(1);
        assertThat(Hypervisor.run(bad, U, new GuestInstruction.MemoryAccess(Access.read(VA))).outcome())
                .isInstanceOf(VcpuOutcome.Retired.class);
    }

    /** TLB-9: a pCPU outside the domain's mask is not interrupted; what other domains cached there stays. */
    @Test
    void aPcpuOutsideTheMaskIsNotFlushed() {
        XenMachine m = Hypervisor.schedule(Hv.machine(Faults.NONE, 2), H, 1);
        m = run(m, H, Access.read(0x4000));
        m = run(m, K, Access.write(VA));
        long d2 = entries(m, 1, 3);
        assertThat(d2).isPositive();
        assertThat(m.tlbFlush().dirtyCpumask(D1)).containsExactly(0);
        XenMachine after = call(call(m, K, update(L1, 5, new Entry(0))), K, pinL1(DATA));
        assertThat(entries(after, 0, 1)).isZero();
        assertThat(entries(after, 1, 3)).isEqualTo(d2);
        // only pCPU 0 flushed: the clock ticked once, from 1, and pCPU 1's time is still 0
        assertThat(after.tlbFlush().clock().cpuTime()).containsExactly(2L, 0L);
    }

    /** TLB-1, TLB-2, TLB-8: a type change flushes the mask's pCPUs that have not flushed since the frame's stamp. */
    @Test
    void aTypeChangeFlushesEveryPcpuThatMayHoldAWritableTranslation() {
        XenMachine unmapped = call(bothWrote(Faults.NONE), K, update(L1, 5, new Entry(0)));
        // TLB-2: the stamp is the clock's value when the last writable use ended (the clock still at 1)
        assertThat(unmapped.frames().get(DATA).tlbflushTimestamp()).isEqualTo(1L);
        // TLB-7: the L1 update itself flushes nothing; both stale writable translations remain
        assertThat(entries(unmapped, 0, 1)).isEqualTo(1);
        assertThat(entries(unmapped, 1, 2)).isEqualTo(1);
        XenMachine after = call(unmapped, K, pinL1(DATA));
        assertThat(entries(after, 0, 1)).isZero();
        assertThat(entries(after, 1, 2)).isZero();
        // the sender (pCPU 0) flushed first: 1 → 2, then pCPU 1: 2 → 3
        assertThat(after.tlbFlush().clock().cpuTime()).containsExactly(2L, 3L);
        assertThat(after.tlbFlush().clock().now()).isEqualTo(3L);
        assertThat(TranslationIntegrity.check(after)).isEqualTo(InvariantResult.HOLDS);
        assertThat(TlbCoherence.check(after)).isEqualTo(InvariantResult.HOLDS);
    }

    /** TLB-8: pCPUs that flushed after the frame's stamp are skipped, and the clock does not tick. */
    @Test
    void theClockSkipsAPcpuThatFlushedAfterTheStamp() {
        XenMachine m = call(bothWrote(Faults.NONE), K, update(L1, 7, rw(OTHER)));
        m = call(m, K, update(L1, 5, new Entry(0)));
        m = call(m, K, update(L1, 7, new Entry(0)));
        assertThat(m.frames().get(DATA).tlbflushTimestamp()).isEqualTo(1L);
        assertThat(m.frames().get(OTHER).tlbflushTimestamp()).isEqualTo(1L);
        m = call(m, K, pinL1(DATA)); // both flushed: times 2 and 3
        m = run(m, K, Access.read(0x6000));
        m = run(m, U, Access.read(0x6000));
        assertThat(entries(m, 0, 1)).isEqualTo(1);
        assertThat(entries(m, 1, 2)).isEqualTo(1);
        XenMachine after = call(m, K, pinL1(OTHER));
        // OTHER's stamp (1) is older than both pCPUs' last flushes: neither can hold a writable translation of it
        assertThat(after.tlbFlush().clock()).isEqualTo(m.tlbFlush().clock());
        assertThat(entries(after, 0, 1)).isEqualTo(1);
        assertThat(entries(after, 1, 2)).isEqualTo(1);
    }

    /** TLB-8: a tick that wraps the clock is followed by a flush of every pCPU and a new period. */
    @Test
    void theClockWrapFlushesEveryPcpu() {
        XenMachine m = Hypervisor.schedule(Hv.machine(Faults.NONE, 2, 2), H, 1); // a 2-bit clock: 1, 2, 3, 0
        m = run(m, H, Access.read(0x4000));
        m = run(m, K, Access.write(VA));
        assertThat(entries(m, 1, 3)).isPositive();
        m = call(m, K, update(L1, 5, new Entry(0)));
        m = call(m, K, pinL1(DATA)); // pCPU 0: 1 → 2
        m = call(m, K, Hypercall.mmuextOp(Hypercalls.MMUEXT_UNPIN_TABLE, DATA)); // stamp 2
        m = call(m, K, update(L1, 5, rw(DATA))); // L1 → writable: pCPU 0 flushed at 2, not after: 2 → 3
        assertThat(m.tlbFlush().clock().cpuTime()).containsExactly(3L, 0L);
        assertThat(entries(m, 1, 3)).as("pCPU 1 is not in d1's mask").isPositive();
        m = call(m, K, update(L1, 5, new Entry(0))); // stamp 3
        XenMachine after = call(m, K, pinL1(DATA)); // 3 → 0: the wrap
        assertThat(entries(after, 1, 3)).as("the new period flushed every pCPU").isZero();
        assertThat(after.tlbFlush().clock().now()).isEqualTo(1L);
        assertThat(after.tlbFlush().clock().cpuTime()).containsExactly(0L, 0L);
        assertThat(after.tlbFlush().dirtyCpumask(D2)).as("H is current on pCPU 1: it stays").containsExactly(1);
    }

    /** TLB-8 seeded fault: the reversed test clears the pCPUs that never flushed; a page table stays writable. */
    @Test
    void aReversedClockLeavesWritableTranslationsOfAPageTable() {
        XenMachine bad = retypedAfterBothWrote(Faults.of(Fault.TLB_CLOCK_REVERSED));
        assertThat(entries(bad, 0, 1)).isEqualTo(1);
        assertThat(TranslationIntegrity.check(bad)).isInstanceOf(InvariantResult.Violated.class);
    }

    /** TLB-9 seeded faults: a remote pCPU of the mask (or, never joined, any pCPU) keeps a writable translation. */
    @Test
    void aFlushThatMissesAPcpuOfTheMaskLeavesAWritablePageTable() {
        for (Fault f : List.of(Fault.FLUSH_IPI_LOCAL_ONLY, Fault.DIRTY_MASK_NOT_UPDATED)) {
            XenMachine bad = retypedAfterBothWrote(Faults.of(f));
            assertThat(entries(bad, 1, 2)).as(f.id()).isEqualTo(1);
            assertThat(TranslationIntegrity.check(bad)).as(f.id()).isInstanceOf(InvariantResult.Violated.class);
            assertThat(Isolation.check(bad)).as(f.id()).isNotNull();
        }
        XenMachine never = bothWrote(Faults.of(Fault.DIRTY_MASK_NOT_UPDATED));
        assertThat(never.tlbFlush().dirtyCpumask(D1)).isEmpty();
    }
}
