package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;
import org.hybridv.invariants.ExitCorrectness;
import org.hybridv.invariants.SafeSwitch;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.PageTableIntegrity;
import org.hybridv.invariants.ShadowIntegrity;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Entry;
import org.hybridv.xen.Domains;
import org.hybridv.xen.FrameInfo;
import org.hybridv.xen.HvResult;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.HypercallPage;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;

/**
 * SWITCH_MMU is refused without any state change, or accepted with every invariant holding (the SWITCH_MMU contract, PRE-1..3 and POST-1..3): a
 * shadow-mode domain (d3 owns 0x40–0x4f, p2m gfn g → 0x40 + g, boot tables gfn 0 → 1 → 2 → 3) runs some accesses,
 * then the builder writes adversarial entries (foreign, Xen, beyond-RAM, writable page-table, PSE, linear, Xen-slot)
 * into its proposed direct tables L4 0x48 → 0x49 → 0x4a → L1 0x4b, and v0 issues SWITCH_MMU(0x48). Refused: frames,
 * memory, base pointers, TLB, modes, p2ms, controls and guest states are those before, and the rule is the
 * contract's. Accepted: d3 is in direct mode on the root, no shadow frame is left, and I1, I2, I6, I7 hold.
 */
class SwitchMmuProperties {
    static final int D = 3;
    static final VcpuId K = new VcpuId(D, 0);
    static final VcpuId U = new VcpuId(D, 1);
    static final long ROOT = 0x48;
    static final long[] TABLES = {0x48, 0x49, 0x4a, 0x4b};
    static final int[] INDEXES = {0, 1, 5, 6, 256};
    static final long[] TARGETS = {0x44, 0x45, 0x48, 0x49, 0x4a, 0x4b, 0x30, 0x1, 0x200};
    static final long[] VAS = {0x5000, 0x6000, 0x7000, 0x8000};

    static XenMachine machine() {
        XenMachine m = XenMachine.boot(96, Domains.range(0x1, 0xf));
        long[] f2 = Domains.range(0x30, 0x33);
        m = done(Domains.create(m, 2, MmuMode.DIRECT, f2, Domains.identity(f2)));
        Map<Long, Long> p2m = new TreeMap<>();
        for (long g = 0; g < 16; g++) {
            p2m.put(g, 0x40 + g);
        }
        m = done(Domains.create(m, D, MmuMode.SHADOW, Domains.range(0x40, 0x4f), p2m));
        m = m.withPaging(m.paging().write(0x40, 0, Entry.table(1, true, true)).write(0x41, 0, Entry.table(2, true,
                true)).write(0x42, 0, Entry.table(3, true, true)).write(0x43, 5, Entry.table(4, true, true))
                .write(0x43, 6, Entry.table(5, false, true)).write(0x43, 7, Entry.table(0xb, true, false))
                .write(0x48, 0, Entry.table(0x49, true, true)).write(0x49, 0, Entry.table(0x4a, true, true))
                .write(0x4a, 0, Entry.table(0x4b, true, true)).write(0x4b, 5, Entry.table(0x44, true, true))
                .write(0x4b, 6, Entry.table(0x45, false, true)).write(0x4b, 7, Entry.table(0x4b, false, false)));
        m = done(Domains.addVcpu(m, D, 5, CpuState.longMode(0, XenMachine.MAX_PHYS_ADDR)));
        m = done(Domains.addVcpu(m, D, 6, CpuState.longMode(0, XenMachine.MAX_PHYS_ADDR).withCpl(3)));
        return Hypervisor.run(m, K, new GuestInstruction.Wrmsr(HypercallPage.MSR, 0xcL << 12)).machine();
    }

    static XenMachine done(HvResult r) {
        assertThat(r).isInstanceOf(HvResult.Done.class);
        return ((HvResult.Done) r).machine();
    }

    /** An entry decoded from {@code n}: not present, or a target frame with RW/US/PSE bits. */
    static Entry entry(int n) {
        if ((n & 7) == 0) {
            return Entry.NOT_PRESENT;
        }
        Entry e = Entry.table(TARGETS[(n >>> 3) % TARGETS.length], ((n >>> 7) & 1) != 0, ((n >>> 8) & 1) != 0);
        return ((n >>> 9) & 7) == 0 ? e.withPageSize(true) : e;
    }

    @Property(seed = Budget.SEED, tries = 300)
    void switchIsAllOrNothing(@ForAll @Size(max = 4) List<@IntRange(min = 0, max = 0xFFFFF) Integer> edits,
            @ForAll @Size(max = 4) List<@IntRange(min = 0, max = 15) Integer> accesses) {
        XenMachine m = machine();
        for (int a : accesses) {
            VcpuId v = (a & 1) == 0 ? K : U;
            long va = VAS[(a >>> 1) & 3];
            Access acc = (a & 8) == 0 ? Access.read(va) : Access.write(va, a);
            m = Hypervisor.run(m, v, new GuestInstruction.MemoryAccess(acc)).machine();
        }
        for (int e : edits) {
            long table = TABLES[e % TABLES.length];
            int index = INDEXES[(e >>> 2) % INDEXES.length];
            m = m.withPaging(m.paging().write(table, index, entry(e >>> 5)));
        }
        List<Long> shadowFrames = new ArrayList<>();
        for (Vcpu v : m.domain(D).vcpus()) {
            shadowFrames.add(v.shadow().root());
            shadowFrames.addAll(v.shadow().tables());
        }
        XenMachine pre = m;
        HvStep st = Hypervisor.hypercall(pre, K, Hypercall.switchMmu(ROOT));
        XenMachine post = st.machine();
        assertThat(ExitCorrectness.check(pre, K, new GuestInstruction.Vmcall(), st).toString()).isEqualTo("holds");
        if (st.outcome() instanceof VcpuOutcome.HypercallRefused r) {
            Statistics.label("outcome").collect("refused " + r.rule());
            assertThat(r.reason()).startsWith("PRE-2: ");
            assertThat(SafeSwitch.unchanged(pre, post).toString()).isEqualTo("holds");
            return;
        }
        Statistics.label("outcome").collect("accepted");
        assertThat(st.outcome()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        assertThat(post.domain(D).mode()).isEqualTo(MmuMode.DIRECT);
        for (Vcpu v : post.domain(D).vcpus()) {
            assertThat(v.vmcs().guest().cpu().cr3().pml4Frame()).isEqualTo(ROOT);
            assertThat(post.guestTables().get(v.id())).isEqualTo(ROOT);
            assertThat(v.shadow().active()).isFalse();
        }
        for (long f : shadowFrames) {
            assertThat(post.frames().get(f)).isEqualTo(FrameInfo.UNUSED);
        }
        assertThat(Isolation.check(post).toString()).isEqualTo("holds");
        assertThat(TranslationIntegrity.check(post).toString()).isEqualTo("holds");
        assertThat(ShadowIntegrity.check(post).toString()).isEqualTo("holds");
        assertThat(TlbCoherence.check(post).toString()).isEqualTo("holds");
        assertThat(PageTableIntegrity.referenceCounts(post.paging()).toString()).isEqualTo("holds");
        for (long va : VAS) {
            HvStep after = Hypervisor.run(post, U, new GuestInstruction.MemoryAccess(Access.read(va)));
            assertThat(TlbCoherence.check(after.machine()).toString()).isEqualTo("holds");
            assertThat(Isolation.check(after.machine()).toString()).isEqualTo("holds");
        }
    }
}
