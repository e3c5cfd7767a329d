package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.hybridv.xen.Hv.DATA_RW;
import static org.hybridv.xen.Hv.K;
import static org.hybridv.xen.Hv.L1;
import static org.hybridv.xen.Hv.SPARE;
import static org.hybridv.xen.Hv.U;
import static org.hybridv.xen.Hv.rw;

import java.util.Optional;
import org.hybridv.invariants.InvariantResult;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.MigrationRules;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.VmxMode;
import org.hybridv.x86.Access;
import org.hybridv.x86.PageSize;
import org.hybridv.x86.Rights;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbTag;
import org.junit.jupiter.api.Test;

/**
 * Several physical CPUs (docs/smp.md): shared memory and per-pCPU processor state, vCPUs placed on pCPUs, migration
 * (MIG-1: VMCLEAR on the old pCPU, VMLAUNCH next, Intel SDM Vol. 3C §24.1/§24.11.1; MIG-2: the vCPU's VPID
 * invalidated on the new pCPU, INVVPID single-context, §28.3.3.3) and I6 over every pCPU's TLB. Expectations come
 * from those rules: which pCPU's TLB may hold which VPID's entries, which launch state the next entry sees.
 */
class SmpTest {
    static final long VA = 0x5000; // L1[5] → DATA_RW, RW, supervisor

    static XenMachine two() {
        return Hv.machine(Faults.NONE, 2);
    }

    static HvStep read(XenMachine m, VcpuId v, long linear) {
        return Hypervisor.run(m, v, new GuestInstruction.MemoryAccess(Access.read(linear)));
    }

    static long entriesOf(XenMachine m, int pcpu, int vpid) {
        return m.pcpu(pcpu).tlb().entries().stream().filter(e -> e.tag().vpid() == vpid).count();
    }

    @Test
    void oneProcessorByDefaultAndMemoryIsSharedByAll() {
        assertThat(Hv.machine().pcpuCount()).isEqualTo(1);
        XenMachine m = two();
        assertThat(m.pcpuCount()).isEqualTo(2);
        assertThat(m.pcpu(1).current()).isEmpty();
        assertThat(m.pcpu(1).mode()).isEqualTo(VmxMode.ROOT);
        // a write by the active pCPU is every pCPU's memory: it is stored once
        XenMachine w = m.withPaging(m.paging().write(SPARE, 0, new org.hybridv.x86.Entry(0x1234)));
        assertThat(w.processor(1).machine().memory().read(SPARE, 0)).isEqualTo(0x1234);
        assertThat(w.processor(0).machine().memory()).isSameAs(w.processor(1).machine().memory());
        assertThatThrownBy(() -> m.withPcpus(XenMachine.MAX_PCPUS + 1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(m).isEqualTo(two()).hasSameHashCodeAs(two()); // a value
    }

    @Test
    void aVcpuRunsOnItsPcpuAndFillsOnlyThatTlb() {
        XenMachine m = Hypervisor.schedule(two(), K, 1);
        HvStep s = read(m, K, VA);
        assertThat(s.outcome()).isInstanceOf(VcpuOutcome.Retired.class);
        XenMachine after = s.machine();
        assertThat(after.current(1)).contains(K);
        assertThat(after.current(0)).isEmpty();
        assertThat(after.pcpu(1).mode()).isEqualTo(VmxMode.NON_ROOT);
        assertThat(after.pcpu(0).mode()).isEqualTo(VmxMode.ROOT);
        assertThat(entriesOf(after, 1, 1)).isEqualTo(1);
        assertThat(after.pcpu(0).tlb().entries()).isEmpty();
    }

    @Test
    void twoVcpusOfOneDomainOnTwoPcpusEachWithItsOwnTlb() {
        XenMachine m = two().withGuestCpl(U, 0);
        m = Hypervisor.schedule(m, U, 1);
        m = read(m, K, VA).machine();
        m = read(m, U, VA).machine();
        // both run at once, each on its own pCPU; neither run preempted the other
        assertThat(m.running(K)).isTrue();
        assertThat(m.running(U)).isTrue();
        assertThat(entriesOf(m, 0, 1)).isEqualTo(1);
        assertThat(entriesOf(m, 0, 2)).isZero();
        assertThat(entriesOf(m, 1, 2)).isEqualTo(1);
        assertThat(entriesOf(m, 1, 1)).isZero();
        assertThat(TlbCoherence.check(m)).isEqualTo(InvariantResult.HOLDS);
        assertThat(Isolation.check(m)).isEqualTo(InvariantResult.HOLDS);
    }

    /** MIG-1: the launch state is cleared on the old pCPU, which is left with no current VMCS; VMLAUNCH next. */
    @Test
    void migrationClearsTheLaunchState() {
        XenMachine ran = read(two(), K, VA).machine();
        assertThat(ran.vcpu(K).launched()).isTrue();
        XenMachine moved = Hypervisor.schedule(ran, K, 1);
        assertThat(moved.vcpu(K).launched()).isFalse();
        assertThat(moved.vcpu(K).pcpu()).isEqualTo(1);
        assertThat(moved.current(0)).isEmpty();
        assertThat(moved.pcpu(0).mode()).isEqualTo(VmxMode.ROOT);
        assertThat(moved.pcpu(0).launched()).isFalse();
        assertThat(MigrationRules.check(ran, moved, K)).isEqualTo(InvariantResult.HOLDS);
        // the next entry, on pCPU 1, is a VMLAUNCH that succeeds: the launch state becomes launched there
        HvStep again = read(moved, K, VA);
        assertThat(again.outcome()).isInstanceOf(VcpuOutcome.Retired.class);
        assertThat(again.machine().pcpu(1).launched()).isTrue();
        assertThat(Hypervisor.schedule(moved, K, 1)).isSameAs(moved); // already there: nothing happens
    }

    /** MIG-2: entries the vCPU left on pCPU 1 are gone when it comes back. */
    @Test
    void migrationInvalidatesTheVpidOnTheDestination() {
        XenMachine m = Hypervisor.schedule(two(), K, 1);
        m = read(m, K, VA).machine();
        m = Hypervisor.schedule(m, K, 0);
        assertThat(entriesOf(m, 1, 1)).as("a dead entry left on pCPU 1").isEqualTo(1);
        XenMachine back = Hypervisor.schedule(m, K, 1);
        assertThat(entriesOf(back, 1, 1)).isZero();
        assertThat(MigrationRules.vpidFlushedOnArrival(m, back, K)).isEqualTo(InvariantResult.HOLDS);
    }

    /**
     * The stale translation MIG-2 prevents: K reads VA on pCPU 1, moves to 0, its L1 entry for VA is changed and it
     * INVLPGs VA on 0, moves back to 1: VA reads the new frame. With migration-without-vpid-flush it reads the old one,
     * and the step's post-condition reports MIG-2.
     */
    @Test
    void theFaultUsesAStaleEntryAndTheStepCheckCatchesIt() {
        assertThat(staleRound(Faults.NONE).read()).isEqualTo(0x2222);
        Round bad = staleRound(Faults.of(Fault.MIGRATION_WITHOUT_VPID_FLUSH));
        assertThat(bad.read()).isEqualTo(0x1111);
        InvariantResult r = MigrationRules.vpidFlushedOnArrival(bad.beforeReturn(), bad.afterReturn(), K);
        assertThat(r).isInstanceOf(InvariantResult.Violated.class);
        assertThat(((InvariantResult.Violated) r).rule()).isEqualTo("MIG-2");
    }

    record Round(XenMachine beforeReturn, XenMachine afterReturn, long read) {}

    static Round staleRound(Faults faults) {
        XenMachine m = Hv.machine(faults, 2);
        m = m.withPaging(m.paging().write(DATA_RW, 0, new org.hybridv.x86.Entry(0x1111))
                .write(SPARE, 0, new org.hybridv.x86.Entry(0x2222)));
        m = Hypervisor.schedule(m, K, 1);
        HvStep s = read(m, K, VA);
        assertThat(((VcpuOutcome.Retired) s.outcome()).value()).isEqualTo(0x1111);
        m = Hypervisor.schedule(s.machine(), K, 0);
        s = Hypervisor.hypercall(m, K, FaultCatalogTest.update(L1, 5, rw(SPARE)));
        assertThat(s.outcome()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        s = Hypervisor.run(s.machine(), K, new GuestInstruction.Invlpg(VA));
        XenMachine before = s.machine();
        XenMachine after = Hypervisor.schedule(before, K, 1);
        s = read(after, K, VA);
        return new Round(before, after, ((VcpuOutcome.Retired) s.outcome()).value());
    }

    /**
     * I6 over every pCPU: a live entry (its vCPU is placed on that pCPU) is checked wherever it is; an entry a vCPU
     * left on a pCPU it moved away from is not usable and is not I6's (MIG-2 guards the way back), but I1 still sees
     * it (no TLB entry of a domain on any pCPU may reach a frame it does not own).
     */
    @Test
    void i6QuantifiesOverEveryPcpu() {
        XenMachine m = two();
        TlbEntry foreign = TlbEntry.linear(new TlbTag(1, 0), 0, false, 0x7000, PageSize.SIZE_4K, 0x3L << 12,
                new Rights(true, false, false, 0), false);
        XenMachine planted = m.withPcpu(1, m.pcpu(1).withTlb(m.pcpu(1).tlb().fill(foreign)));
        assertThat(TlbCoherence.check(planted).holds()).as("K is on pCPU 0: the entry on 1 is dead").isTrue();
        assertThat(Isolation.check(planted).holds()).isFalse();
        XenMachine live = Hypervisor.schedule(m, K, 1);
        live = live.withPcpu(1, live.pcpu(1).withTlb(live.pcpu(1).tlb().fill(foreign)));
        InvariantResult r = TlbCoherence.check(live);
        assertThat(r).isInstanceOf(InvariantResult.Violated.class);
        assertThat(r.toString()).contains("on pCPU 1");
        assertThat(live.current(0)).isEqualTo(Optional.empty());
    }
}
