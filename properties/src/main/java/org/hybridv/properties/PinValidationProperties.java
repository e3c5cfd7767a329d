package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.gen.HypervisorCases;
import org.hybridv.x86.Entry;
import org.hybridv.xen.Faults;
import org.hybridv.xen.FlushIpis;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.MmuBatch;
import org.hybridv.xen.PageType;
import org.hybridv.xen.PreemptibleValidation;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * Pinning an L2 or an L4 (rules MX-1, TYP-8, PRO-1..PRO-3, docs/rules/xen.md), judged step by step over the frame
 * table and the table's words, with the rules restated: d1's kernel pins its fresh frame 0x24, whose guest slots 0–2
 * it filled with entries to a lower table (an existing one: L1 0x13 or L3 0x11; a fresh frame 0x25, promoted; or d2's
 * frame 0x30, refused) and whose first and last Xen slots (256, 271) it filled with junk. On one pCPU the pin returns in its own step. On two
 * the pin is validated entry by entry: from the VMCALL until it returns, the frame holds its new type with one type
 * reference, not validated (TYP-8), and a preemption of a batch finds nothing to preempt. When it returns 0 the frame
 * is validated and pinned (one general and one type reference), every lower table referenced by its present entries
 * has gained one general and one type reference per entry, and an L4's Xen slots are empty (PRO-2). When it is refused
 * every frame's general and type counts are back to what they were (PRO-1, PRO-3: the references of the entries
 * before the refused one dropped), and the frame is neither pinned nor validated.
 */
class PinValidationProperties {
    private static final VcpuId K = HypervisorCases.K;
    private static final long TABLE = 0x24;
    private static final long FRESH = 0x25;
    private static final long FOREIGN = 0x30;
    private static final int FIRST_XEN_SLOT = 256; // Xen's PML4 slots 256..271 (SLOT-1)
    private static final int LAST_XEN_SLOT = 271;
    private static final int MMUEXT_OP = 26;
    private static final int PIN_L2 = 1;
    private static final int PIN_L4 = 3;

    /** The machines on one and on two pCPUs (U on pCPU 1), built once (immutable). */
    private static final XenMachine[] MACHINES = {HypervisorCases.initialMachine(Faults.NONE, 1),
        Hypervisor.schedule(HypervisorCases.initialMachine(Faults.NONE, 2), HypervisorCases.U, 1)};

    @Provide
    Arbitrary<List<Integer>> entries() {
        // per guest slot 0..2: 0 none, 1 the existing lower table, 2 the fresh frame 0x25, 3 d2's frame (refused)
        return Arbitraries.frequency(net.jqwik.api.Tuple.of(3, 0), net.jqwik.api.Tuple.of(4, 1),
                net.jqwik.api.Tuple.of(3, 2), net.jqwik.api.Tuple.of(1, 3)).list().ofSize(3);
    }

    @Property(seed = Budget.SEED, tries = 300)
    void everyPinStepDoesWhatTyp8Says(@ForAll @IntRange(min = 1, max = 2) int pcpus, @ForAll boolean l4,
            @ForAll("entries") List<Integer> entries, @ForAll @IntRange(min = 0, max = 6) int preemptAt) {
        XenMachine m = MACHINES[pcpus - 1];
        PageType type = l4 ? PageType.L4 : PageType.L2;
        long existing = l4 ? 0x11 : 0x13;
        long[] lower = new long[3];
        for (int i = 0; i < 3; i++) {
            lower[i] = entries.get(i) == 1 ? existing : entries.get(i) == 2 ? FRESH : entries.get(i) == 3 ? FOREIGN
                    : -1;
            if (lower[i] >= 0) {
                m = m.withPaging(m.paging().write(TABLE, i, Entry.table(lower[i], true, true)));
            }
        }
        long junk = Entry.table(0x26, true, true).raw();
        if (l4) {
            m = m.withPaging(m.paging().write(TABLE, FIRST_XEN_SLOT, new Entry(junk)).write(TABLE, LAST_XEN_SLOT,
                    new Entry(junk)));
        }
        int refusedAt = 0;
        while (refusedAt < 3 && lower[refusedAt] != FOREIGN) {
            refusedAt++;
        }
        XenMachine before = m;
        HvStep s = Hypervisor.hypercall(m, K, Hypercall.of(MMUEXT_OP, l4 ? PIN_L4 : PIN_L2, TABLE));
        m = s.machine();
        VcpuOutcome last = s.outcome();
        if (pcpus == 1) {
            assertThat(m.tlbFlush().inFlight(K)).as("TYP-8 applies to several pCPUs only: one pCPU pins in its step")
                    .isEmpty();
        }
        int steps = 0;
        while (m.tlbFlush().inFlight(K).isPresent() && steps < 40) {
            FrameInfo f = m.paging().frame(TABLE);
            assertThat(f.type()).as("TYP-8: the new type held during validation").isEqualTo(type);
            assertThat(f.typeCount()).as("TYP-8: one type reference during validation").isEqualTo(1);
            assertThat(f.validated()).as("TYP-8: not validated before the last entry").isFalse();
            if (steps == preemptAt) {
                HvStep p = MmuBatch.preempt(m, K);
                assertThat(p.outcome()).as("MU-8: a pin in flight is no batch to preempt")
                        .isInstanceOf(VcpuOutcome.NotModelled.class);
                assertThat(p.machine()).isEqualTo(m);
            }
            XenMachine pre = m;
            m = FlushIpis.deliverIpi(FlushIpis.deliverIpi(m, 1).machine(), 0).machine();
            HvStep c = PreemptibleValidation.continueHypercall(m, K);
            if (!(c.outcome() instanceof VcpuOutcome.NotModelled)) {
                last = c.outcome();
                m = c.machine();
            }
            steps++;
            assertThat(m).as("a step makes progress").isNotEqualTo(pre);
        }
        assertThat(m.tlbFlush().inFlight(K)).as("the pin has returned").isEmpty();
        FrameInfo t0 = before.paging().frame(TABLE);
        FrameInfo t = m.paging().frame(TABLE);
        if (refusedAt == 3) {
            assertThat(last).as("MX-1: a table of valid entries is pinned").isInstanceOf(VcpuOutcome.HypercallDone.class);
            assertThat(t.type()).isEqualTo(type);
            assertThat(t.validated()).as("validated").isTrue();
            assertThat(t.pinned()).as("pinned").isTrue();
            assertThat(t.typeCount()).as("the pin's type reference").isEqualTo(t0.typeCount() + 1);
            assertThat(t.count()).as("the pin's general reference").isEqualTo(t0.count() + 1);
            for (long f : new long[] {existing, FRESH}) {
                long refs = java.util.Arrays.stream(lower).filter(x -> x == f).count();
                FrameInfo a = before.paging().frame(f);
                FrameInfo b = m.paging().frame(f);
                assertThat(b.count()).as("PRO-1: %s general references", f).isEqualTo(a.count() + refs);
                assertThat(b.typeCount()).as("PRO-1: %s type references", f).isEqualTo(a.typeCount() + refs);
            }
            for (int i = 0; i < 3; i++) {
                assertThat(m.paging().memory().read(TABLE, i)).as("guest slot %d kept", i)
                        .isEqualTo(before.paging().memory().read(TABLE, i));
            }
            if (l4) {
                for (int i = FIRST_XEN_SLOT; i <= LAST_XEN_SLOT; i++) {
                    assertThat(m.paging().memory().read(TABLE, i)).as("PRO-2: Xen's slot %d overwritten", i).isZero();
                }
            }
        } else {
            assertThat(last).as("PRO-1: entry %d refused", refusedAt)
                    .isInstanceOf(VcpuOutcome.HypercallRefused.class);
            assertThat(t.pinned()).isFalse();
            assertThat(t.validated()).isFalse();
            for (long f : new long[] {TABLE, existing, FRESH}) {
                FrameInfo a = before.paging().frame(f);
                FrameInfo b = m.paging().frame(f);
                assertThat(b.count()).as("PRO-3: %s's general references back", f).isEqualTo(a.count());
                assertThat(b.typeCount()).as("PRO-3: %s's type references back", f).isEqualTo(a.typeCount());
            }
        }
        Statistics.label("pin").collect((pcpus == 2 ? "entry by entry, " : "one step, ") + (l4 ? "L4 " : "L2 ")
                + (refusedAt == 3 ? "pinned" : "refused at " + refusedAt));
        Statistics.label("pin").coverage(k -> {
            for (String l : new String[] {"L2 ", "L4 "}) {
                k.check("entry by entry, " + l + "pinned").count(c -> c >= 10);
                k.check("entry by entry, " + l + "refused at 2").count(c -> c >= 3);
            }
        });
    }
}
