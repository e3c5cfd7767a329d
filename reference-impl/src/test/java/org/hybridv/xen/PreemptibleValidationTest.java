package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.Hv.K;
import static org.hybridv.xen.Hv.L1;
import static org.hybridv.xen.Hv.U;
import static org.hybridv.xen.Hv.rw;
import static org.hybridv.xen.ShootdownTest.update;

import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.x86.Entry;
import org.junit.jupiter.api.Test;

/**
 * Pinning an L2 table entry by entry on two pCPUs (Xen rule TYP-8; Xen's preemptible {@code alloc_l2_table} with
 * {@code nr_validated_ptes}, XSA-299, XSA-401): the pin takes the frame's new type at once, not validated, validates
 * one entry per step, and validates and pins the table after the last. Expectations come from the rules: while the
 * type is held a writable reference is refused (TYP-1), the entries validated so far hold their references (PRO-1), a
 * refused entry drops them (PRO-3).
 */
class PreemptibleValidationTest {
    static final long TABLE = 0x15; // an unused frame of d1, written as an L2 with two entries to the L1 0x13
    static final Hypercall PIN = Hypercall.mmuextOp(Hypercalls.MMUEXT_PIN_L2_TABLE, TABLE);

    /** d1's L2 candidate written through mmu_update (a writable frame, no type reference left). */
    static XenMachine written(Faults f, Entry second) {
        XenMachine m = ShootdownTest.call(Hv.machine(f, 2).withGuestCpl(U, 0), K, update(TABLE, 0, rw(L1)));
        m = ShootdownTest.call(m, K, update(TABLE, 1, second));
        return Hypervisor.schedule(m, U, 1);
    }

    static HvStep cont(XenMachine m) {
        return PreemptibleValidation.continueHypercall(m, K);
    }

    @Test
    void theTableIsValidatedEntryByEntryWithItsTypeHeld() {
        XenMachine m = written(Faults.NONE, rw(L1));
        int l1Types = m.frames().get(L1).typeCount();
        HvStep begun = Hypervisor.hypercall(m, K, PIN);
        assertThat(begun.outcome()).isInstanceOf(VcpuOutcome.InHypercall.class);
        FrameInfo f = begun.machine().frames().get(TABLE);
        assertThat(f.type()).isEqualTo(PageType.L2);
        assertThat(f.typeCount()).isEqualTo(1);
        assertThat(f.validated()).isFalse();
        assertThat(f.pinned()).isFalse();
        assertThat(TranslationIntegrity.check(begun.machine())).isEqualTo(InvariantResult.HOLDS);
        // TYP-1 while the type is held: U, on pCPU 1, cannot map the table writable
        HvStep mapped = Hypervisor.hypercall(begun.machine(), U, update(L1, 9, rw(TABLE)));
        assertThat(mapped.outcome()).isInstanceOf(VcpuOutcome.HypercallRefused.class);
        // K's pCPU runs nothing else meanwhile (IPI-5)
        assertThat(Hypervisor.run(begun.machine(), K, new org.hybridv.vmx.GuestInstruction.Hlt()).outcome())
                .isInstanceOf(VcpuOutcome.InHypercall.class);
        HvStep first = cont(mapped.machine());
        assertThat(first.outcome()).isInstanceOf(VcpuOutcome.InHypercall.class);
        assertThat(first.machine().frames().get(L1).typeCount()).isEqualTo(l1Types + 1);
        assertThat(TranslationIntegrity.check(first.machine())).isEqualTo(InvariantResult.HOLDS);
        HvStep second = cont(first.machine());
        assertThat(second.machine().frames().get(L1).typeCount()).isEqualTo(l1Types + 2);
        HvStep last = cont(second.machine());
        assertThat(last.outcome()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        FrameInfo done = last.machine().frames().get(TABLE);
        assertThat(done.validated()).isTrue();
        assertThat(done.pinned()).isTrue();
        assertThat(last.machine().tlbFlush().inFlight(K)).isEmpty();
        assertThat(TranslationIntegrity.check(last.machine())).isEqualTo(InvariantResult.HOLDS);
        // nothing left to continue
        assertThat(cont(last.machine()).outcome()).isInstanceOf(VcpuOutcome.NotModelled.class);
    }

    @Test
    void aRefusedEntryDropsTheReferencesOfTheEntriesBefore() {
        XenMachine m = written(Faults.NONE, new Entry(0x30L << 12 | 3)); // d2's frame: LN-3 refuses it
        int l1Types = m.frames().get(L1).typeCount();
        int l1Count = m.frames().get(L1).count();
        XenMachine x = cont(Hypervisor.hypercall(m, K, PIN).machine()).machine(); // entry 0 validated
        HvStep refused = cont(x);
        assertThat(refused.outcome()).isInstanceOf(VcpuOutcome.HypercallRefused.class);
        XenMachine after = refused.machine();
        assertThat(after.frames().get(L1).typeCount()).isEqualTo(l1Types);
        assertThat(after.frames().get(L1).count()).isEqualTo(l1Count);
        assertThat(after.frames().get(TABLE).typeCount()).isZero();
        assertThat(after.frames().get(TABLE).count()).isZero();
        assertThat(after.tlbFlush().inFlight(K)).isEmpty();
        assertThat(TranslationIntegrity.check(after)).isEqualTo(InvariantResult.HOLDS);
    }

    /** TYP-8 seeded fault: the type is not held, U maps the frame writable, and the table is validated anyway. */
    @Test
    void aTableValidatedWithoutItsTypeHeldEndsUpWritable() {
        XenMachine m = written(Faults.of(Fault.PARTIAL_VALIDATION_TYPE_NOT_HELD), rw(L1));
        HvStep begun = Hypervisor.hypercall(m, K, PIN);
        assertThat(begun.machine().frames().get(TABLE).typeCount()).isZero();
        InvariantResult early = TranslationIntegrity.check(begun.machine());
        assertThat(early).isInstanceOf(InvariantResult.Violated.class);
        assertThat(((InvariantResult.Violated) early).rule()).isEqualTo("TYP-8");
        HvStep mapped = Hypervisor.hypercall(begun.machine(), U, update(L1, 9, rw(TABLE)));
        assertThat(mapped.outcome()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        XenMachine done = cont(cont(cont(mapped.machine()).machine()).machine()).machine();
        assertThat(done.frames().get(TABLE).type()).isEqualTo(PageType.L2);
        assertThat(done.frames().get(TABLE).validated()).isTrue();
        assertThat(TranslationIntegrity.check(done)).isInstanceOf(InvariantResult.Violated.class);
    }

    /** One pCPU: the pin validates the whole table in its own step, as before. */
    @Test
    void onePcpuPinsAtOnce() {
        XenMachine m = ShootdownTest.call(Hv.machine(Faults.NONE), K, update(TABLE, 0, rw(L1)));
        HvStep r = Hypervisor.hypercall(m, K, PIN);
        assertThat(r.outcome()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        assertThat(r.machine().frames().get(TABLE).pinned()).isTrue();
    }
}
