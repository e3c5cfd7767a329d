package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.ShadowIntegrity;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Entry;
import org.hybridv.xen.DirectPagingState;
import org.hybridv.xen.Domains;
import org.hybridv.xen.HvResult;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * Shadow paging (SH-1..SH-4) under an adversarial guest: two vCPUs (CPL 0 and CPL 3) of a shadow-mode domain issue
 * random reads, writes, writes to their own page tables (random gfns, some outside the p2m, RW/US/NX flags), MOV to
 * CR3, INVLPG and CR0.WP toggles; after every step I1 (shadow trees included), the translation half of I2, and the
 * SH-2 check hold, and no access is left unconverged ({@code ShadowFilled}) or unmodelled. The machine is the one of
 * {@code ShadowPagingTest}: d3 owns 0x40–0x4f, p2m gfn g → 0x40 + g; L4 gfn 0 → 1 → 2 → L1 gfn 3, which maps itself
 * at 0x6000; a second space L4 gfn 8 → 9 → 10 → L1 gfn 11.
 */
class ShadowPagingProperties {
    static final int D = 3;
    static final long[] VAS = {0x4000, 0x5000, 0x6000, 0x7000, 0x8000, 0x9000, 0x6000 + 4 * 8, 0x6000 + 9 * 8};
    static final long[] GFNS = {0, 3, 4, 5, 6, 7, 11, 0x100};

    static XenMachine machine() {
        XenMachine m = XenMachine.boot(96, Domains.range(0x1, 0xf));
        Map<Long, Long> p2m = new TreeMap<>();
        for (long g = 0; g < 16; g++) {
            p2m.put(g, 0x40 + g);
        }
        m = done(Domains.create(m, D, MmuMode.SHADOW, Domains.range(0x40, 0x4f), p2m));
        DirectPagingState s = m.paging().write(0x40, 0, Entry.table(1, true, true))
                .write(0x41, 0, Entry.table(2, true, true)).write(0x42, 0, Entry.table(3, true, true))
                .write(0x43, 4, Entry.table(4, true, true)).write(0x43, 5, Entry.table(5, false, true))
                .write(0x43, 6, Entry.table(3, true, false)).write(0x43, 8, Entry.table(0x100, true, true))
                .write(0x43, 9, Entry.table(6, true, true)).write(0x48, 0, Entry.table(9, true, true))
                .write(0x49, 0, Entry.table(10, true, true)).write(0x4a, 0, Entry.table(11, true, true))
                .write(0x4b, 4, Entry.table(7, true, true)).write(0x4b, 6, Entry.table(11, true, false));
        m = m.withPaging(s);
        m = done(Domains.addVcpu(m, D, 5, CpuState.longMode(0, XenMachine.MAX_PHYS_ADDR)));
        return done(Domains.addVcpu(m, D, 6, CpuState.longMode(0, XenMachine.MAX_PHYS_ADDR).withCpl(3)));
    }

    static XenMachine done(HvResult r) {
        assertThat(r).isInstanceOf(HvResult.Done.class);
        return ((HvResult.Done) r).machine();
    }

    /** One guest instruction decoded from {@code n}. */
    static GuestInstruction op(int n) {
        long va = VAS[(n >>> 3) & 7];
        long gfn = GFNS[(n >>> 6) & 7];
        boolean rw = ((n >>> 9) & 1) != 0;
        boolean us = ((n >>> 10) & 1) != 0;
        boolean nx = ((n >>> 11) & 3) == 0;
        switch (n & 7) {
            case 0:
            case 1:
                return new GuestInstruction.MemoryAccess(Access.read(va));
            case 2:
                return new GuestInstruction.MemoryAccess(Access.write(va, n));
            case 3: {
                Entry e = Entry.table(gfn, rw, us).withNoExecute(nx);
                long slot = 0x6000 + 8L * (4 + ((n >>> 13) & 7));
                return new GuestInstruction.MemoryAccess(Access.write(slot, e.raw()));
            }
            case 4:
                return new GuestInstruction.MovToCr(3, ((n >>> 6) & 1) == 0 ? 0 : 8L << 12, 0);
            case 5:
                return new GuestInstruction.Invlpg(va);
            case 6:
                return new GuestInstruction.MovToCr(0, ((n >>> 6) & 1) == 0 ? 0x80000001L : 0x80010001L, 0);
            default:
                return new GuestInstruction.MemoryAccess(Access.fetch(va));
        }
    }

    @Property(seed = Budget.SEED, tries = 200)
    void everyStepOfAnAdversarialShadowGuestKeepsIsolationAndShadowRights(
            @ForAll @Size(min = 1, max = 30) List<@IntRange(min = 0, max = 0x1FFFF) Integer> ops) {
        XenMachine m = machine();
        int step = 0;
        for (int n : ops) {
            step++;
            VcpuId v = new VcpuId(D, (n >>> 16) & 1);
            GuestInstruction insn = op(n);
            HvStep st = Hypervisor.run(m, v, insn);
            VcpuOutcome o = st.outcome();
            Statistics.label("outcome").collect(o.getClass().getSimpleName());
            assertThat(o).as("step %d %s by %s", step, insn, v).isNotInstanceOf(VcpuOutcome.ShadowFilled.class)
                    .isNotInstanceOf(VcpuOutcome.NotModelled.class).isNotInstanceOf(VcpuOutcome.EntryFailed.class);
            m = st.machine();
            assertThat(Isolation.check(m).toString()).as("I1 after step %d %s by %s", step, insn, v)
                    .isEqualTo("holds");
            assertThat(TranslationIntegrity.check(m).toString()).as("I2 after step %d", step).isEqualTo("holds");
            assertThat(ShadowIntegrity.check(m).toString()).as("SH-2 after step %d %s by %s", step, insn, v)
                    .isEqualTo("holds");
        }
    }
}
