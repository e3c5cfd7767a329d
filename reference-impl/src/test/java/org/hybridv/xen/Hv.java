package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Entry;

/**
 * A small hypervisor for the tests: 64 frames; Xen owns 0x1–0xf.
 * <ul>
 * <li>d1, DIRECT, frames 0x10–0x2f: L4 0x10 → L3 0x11 → L2 0x12 → L1 0x13 (index 0, RW, supervisor); the L1 maps
 * 0x20 RW at VA 0x5000, 0x21 RO at 0x6000 and itself RO at 0x8000. v0 (VPID 1) runs at CPL 0, v1 (VPID 2) at CPL 3,
 * both on the L4.</li>
 * <li>d2, HAP, frames 0x30–0x37, p2m gfn i → 0x30 + i: guest tables gfn 0 → 1 → 2 → 3 (guest-physical), the L1 maps
 * gfn 4 at VA 0x4000 and gfn 0x100 (not in the p2m) at VA 0x5000; v0 has VPID 3. Its EPT is in free frames taken by
 * the hypervisor (0x0, 0x3c–0x3e).</li>
 * <li>d3, SHADOW, frames 0x38–0x3b, p2m gfn i → 0x38 + i; v0 has VPID 4, its shadow root in 0x3f.</li>
 * </ul>
 */
final class Hv {
    static final int D1 = 1;
    static final int D2 = 2;
    static final int D3 = 3;
    static final VcpuId K = new VcpuId(D1, 0);
    static final VcpuId U = new VcpuId(D1, 1);
    static final VcpuId H = new VcpuId(D2, 0);
    static final VcpuId S = new VcpuId(D3, 0);
    static final long L4 = 0x10;
    static final long L1 = 0x13;
    static final long DATA_RW = 0x20;
    static final long SPARE = 0x14;
    static final int MAXPHY = XenMachine.MAX_PHYS_ADDR;

    private Hv() {}

    static Entry rw(long frame) {
        return Entry.table(frame, true, false);
    }

    static Entry ro(long frame) {
        return Entry.table(frame, false, false);
    }

    static XenMachine machine() {
        return machine(Faults.NONE);
    }

    /** {@link #machine()} built by a hypervisor with the seeded faults {@code faults}. */
    static XenMachine machine(Faults faults) {
        return machine(faults, 1);
    }

    /** {@link #machine(Faults)} on {@code pcpus} physical CPUs (every vCPU on pCPU 0). */
    static XenMachine machine(Faults faults, int pcpus) {
        return machine(faults, pcpus, TlbFlushClock.XEN_WIDTH);
    }

    /** {@link #machine(Faults, int)} with a TLB-flush clock {@code clockWidth} bits wide. */
    static XenMachine machine(Faults faults, int pcpus, int clockWidth) {
        XenMachine m = XenMachine.boot(64, Domains.range(0x1, 0xf)).withPcpus(pcpus).withTlbClockWidth(clockWidth)
                .withFaults(faults);
        long[] f1 = Domains.range(0x10, 0x2f);
        m = done(Domains.create(m, D1, MmuMode.DIRECT, f1, Domains.identity(f1)));
        m = m.withPaging(m.paging().write(0x10, 0, rw(0x11)).write(0x11, 0, rw(0x12)).write(0x12, 0, rw(L1))
                .write(L1, 5, rw(DATA_RW)).write(L1, 6, ro(0x21)).write(L1, 8, ro(L1)));
        m = done(Domains.addVcpu(m, D1, 1, CpuState.longMode(L4, MAXPHY)));
        m = done(Domains.addVcpu(m, D1, 2, CpuState.longMode(L4, MAXPHY).withCpl(3)));
        Map<Long, Long> p2m3 = new TreeMap<>();
        for (long g = 0; g < 4; g++) {
            p2m3.put(g, 0x38 + g);
        }
        m = done(Domains.create(m, D3, MmuMode.SHADOW, Domains.range(0x38, 0x3b), p2m3));
        Map<Long, Long> p2m = new TreeMap<>();
        for (long g = 0; g < 8; g++) {
            p2m.put(g, 0x30 + g);
        }
        m = done(Domains.create(m, D2, MmuMode.HAP, Domains.range(0x30, 0x37), p2m));
        m = m.withPaging(m.paging().write(0x30, 0, Entry.table(1, true, false)).write(0x31, 0, Entry.table(2, true,
                false)).write(0x32, 0, Entry.table(3, true, false)).write(0x33, 4, Entry.table(4, true, false))
                .write(0x33, 5, Entry.table(0x100, true, false)));
        m = done(Domains.addVcpu(m, D2, 3, CpuState.longMode(0, MAXPHY)));
        m = done(Domains.addVcpu(m, D3, 4, CpuState.longMode(0, MAXPHY)));
        assertInvariants(m);
        return m;
    }

    static XenMachine done(HvResult r) {
        assertThat(r).as("expected success").isInstanceOf(HvResult.Done.class);
        return ((HvResult.Done) r).machine();
    }

    static void assertInvariants(XenMachine m) {
        assertThat(Isolation.check(m).toString()).isEqualTo("holds");
        assertThat(TranslationIntegrity.check(m).toString()).isEqualTo("holds");
        assertThat(org.hybridv.invariants.ShadowIntegrity.check(m).toString()).isEqualTo("holds");
    }

    /** The step's outcome as {@code type}, with the invariants checked on the post-state. */
    static <T extends VcpuOutcome> T outcome(HvStep step, Class<T> type) {
        assertThat(step.outcome()).isInstanceOf(type);
        assertInvariants(step.machine());
        return type.cast(step.outcome());
    }
}
