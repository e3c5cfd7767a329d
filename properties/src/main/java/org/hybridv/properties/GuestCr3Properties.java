package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * A guest reads back the CR3 it loaded, in every MMU mode (Xen rule SH-6; Intel SDM Vol. 3A §2.5 and the MOV to/from CR
 * instruction reference: MOV from CR3 returns CR3; under shadow paging the hypervisor virtualises the read — CR3-store
 * exiting — and must answer with the guest's value, never the shadow root it actually loaded; Xen's
 * {@code hvm_get_guest_cr(v, 3)} returns {@code v->arch.hvm.guest_cr[3]}). Runs of MOV to CR3 (each of the guest's
 * top-level tables it may load, with PWT and PCD drawn) and MOV from CR3 by the CPL-0 vCPU of the direct (d1), HAP
 * (d2) and shadow (d3) domains of the hypervisor generator's machine; each read is compared with the last value
 * loaded, or the vCPU's CR3 at creation (d1: its L4 at frame 0x10; d2 and d3: gfn 0). In direct mode a MOV to CR3
 * is a new base pointer (MX-3), and CR3 holds the frame with Xen's cache bits: the guest's PWT and PCD are not kept.
 */
class GuestCr3Properties {
    record Run(int domain, List<Long> ops) {}

    @Provide
    Arbitrary<Run> runs() {
        // an op: -1 reads CR3; otherwise a value to load: a table's address with PWT (bit 3) and PCD (bit 4) drawn
        Arbitrary<Long> op = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(2, Arbitraries.just(-1L)),
                net.jqwik.api.Tuple.of(3, Arbitraries.longs().between(0, 31)));
        return net.jqwik.api.Combinators.combine(Arbitraries.of(1, 2, 3), op.list().ofMinSize(1).ofMaxSize(8))
                .as(Run::new);
    }

    private static long loadable(int domain, long pick) {
        long flags = pick & 0x18;
        // d1 (direct) may load only its validated L4 (MX-3); d2 and d3 any gfn of their p2m (0..7)
        long frame = domain == 1 ? 0x10 : pick & 7;
        return frame << 12 | flags;
    }

    @Property(seed = Budget.SEED, tries = Budget.SEQUENCE_TRIES)
    void aGuestReadsBackTheCr3ItLoaded(@ForAll("runs") Run run) {
        VcpuId v = run.domain() == 1 ? HypervisorCases.K : run.domain() == 2 ? HypervisorCases.H : HypervisorCases.S;
        XenMachine m = HypervisorCases.initialMachine();
        long expected = run.domain() == 1 ? 0x10L << 12 : 0;
        String mode = run.domain() == 1 ? "direct" : run.domain() == 2 ? "HAP" : "shadow";
        for (long op : run.ops()) {
            if (op < 0) {
                HvStep st = Hypervisor.run(m, v, new GuestInstruction.MovFromCr(3, 0));
                long got = st.outcome() instanceof VcpuOutcome.Resumed r ? r.value()
                        : st.outcome() instanceof VcpuOutcome.Retired r ? r.value() : Long.MIN_VALUE;
                assertThat(got).as("%s: MOV from CR3 after %s returns %x (%s)", mode, run, expected, st.outcome())
                        .isEqualTo(expected);
                Statistics.label("read").collect(mode + (expected >>> 12 != (run.domain() == 1 ? 0x10 : 0)
                        || (expected & 0x18) != 0 ? ", after a new CR3" : ", the first CR3"));
                m = st.machine();
            } else {
                long value = loadable(run.domain(), op);
                HvStep st = Hypervisor.run(m, v, new GuestInstruction.MovToCr(3, value, 0));
                assertThat(st.outcome()).as("%s: MOV to CR3 %x", mode, value).isInstanceOfAny(
                        VcpuOutcome.Resumed.class, VcpuOutcome.Retired.class);
                // direct mode: the MOV is a new base pointer (MX-3): CR3 becomes the frame, Xen's cache bits, not
                // the guest's (Xen's new_guest_cr3 takes a frame number; a PV guest reads back pfn_to_cr3(mfn))
                expected = run.domain() == 1 ? value & ~0xFFFL : value;
                m = st.machine();
            }
        }
        Statistics.label("read").coverage(c -> {
            for (String mode2 : new String[] {"direct", "HAP", "shadow"}) {
                c.check(mode2 + ", the first CR3").count(n -> n >= 20);
            }
            for (String mode2 : new String[] {"HAP", "shadow"}) {
                c.check(mode2 + ", after a new CR3").count(n -> n >= 20);
            }
        });
    }
}
