package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.Hv.assertInvariants;
import static org.hybridv.xen.Hv.done;
import static org.hybridv.xen.Hv.outcome;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.ShadowIntegrity;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Entry;
import org.hybridv.x86.ErrorCode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Shadow paging (SH-1..SH-4). A machine of 96 frames, Xen owns 0x1–0xf; d3 in SHADOW mode owns 0x40–0x4f with the
 * p2m gfn g → 0x40 + g (g = 0..15), so guest-physical ≠ machine. Guest tables (guest-physical): L4 gfn 0 → L3 gfn 1
 * → L2 gfn 2 → L1 gfn 3 (all RW, US, A clear). The L1 maps VA 0x4000 → gfn 4 (RW US), 0x5000 → gfn 5 (RO US),
 * 0x6000 → gfn 3 itself (RW, supervisor), 0x7000 not present, 0x8000 → gfn 0x100 (not in the p2m), 0x9000 → gfn 6
 * (RW US). A second address space: L4 gfn 8 → 9 → 10 → L1 gfn 11, which maps 0x4000 → gfn 7. v0 (VPID 5) runs at CPL
 * 0, v1 (VPID 6) at CPL 3, both with guest CR3 = 0 (gfn 0). I1 and SH-2 are checked after every step
 * ({@link Hv#outcome}).
 */
class ShadowPagingTest {
    static final int D = 3;
    static final VcpuId K = new VcpuId(D, 0);
    static final VcpuId U = new VcpuId(D, 1);

    static long mfn(long gfn) {
        return 0x40 + gfn;
    }

    static Entry gte(long gfn, boolean rw, boolean us) {
        return Entry.table(gfn, rw, us);
    }

    static XenMachine machine() {
        XenMachine m = XenMachine.boot(96, Domains.range(0x1, 0xf));
        Map<Long, Long> p2m = new TreeMap<>();
        for (long g = 0; g < 16; g++) {
            p2m.put(g, mfn(g));
        }
        m = done(Domains.create(m, D, MmuMode.SHADOW, Domains.range(0x40, 0x4f), p2m));
        DirectPagingState s = m.paging().write(mfn(0), 0, gte(1, true, true)).write(mfn(1), 0, gte(2, true, true))
                .write(mfn(2), 0, gte(3, true, true)).write(mfn(3), 4, gte(4, true, true))
                .write(mfn(3), 5, gte(5, false, true)).write(mfn(3), 6, gte(3, true, false))
                .write(mfn(3), 8, gte(0x100, true, true)).write(mfn(3), 9, gte(6, true, true))
                .write(mfn(8), 0, gte(9, true, true)).write(mfn(9), 0, gte(10, true, true))
                .write(mfn(10), 0, gte(11, true, true)).write(mfn(11), 4, gte(7, true, true));
        m = m.withPaging(s.withMemory(s.memory().write(mfn(5), 0, 0x55).write(mfn(6), 0, 0x66)
                .write(mfn(7), 0, 0x77)));
        m = done(Domains.addVcpu(m, D, 5, CpuState.longMode(0, XenMachine.MAX_PHYS_ADDR)));
        m = done(Domains.addVcpu(m, D, 6, CpuState.longMode(0, XenMachine.MAX_PHYS_ADDR).withCpl(3)));
        assertInvariants(m);
        return m;
    }

    static GuestInstruction read(long va) {
        return new GuestInstruction.MemoryAccess(Access.read(va));
    }

    static GuestInstruction write(long va, long value) {
        return new GuestInstruction.MemoryAccess(Access.write(va, value));
    }

    static HvStep run(XenMachine m, VcpuId id, GuestInstruction insn) {
        return Hypervisor.run(m, id, insn);
    }

    /** The shadow leaf of {@code id} for {@code va}, or NOT_PRESENT. */
    static Entry shadowLeaf(XenMachine m, VcpuId id, long va) {
        long t = m.vcpu(id).shadow().root();
        for (int shift = 39; shift >= 21; shift -= 9) {
            Entry e = new Entry(m.memory().read(t, (int) ((va >>> shift) & 511)));
            if (!e.present()) {
                return Entry.NOT_PRESENT;
            }
            t = e.frame();
        }
        return new Entry(m.memory().read(t, (int) ((va >>> 12) & 511)));
    }

    @Test
    @DisplayName("SH-1: the hardware CR3 is a Xen-owned shadow root; MOV from CR3 (CR3-store exit) returns the guest's CR3")
    void shadowRootIsXens() {
        XenMachine m = machine();
        Vcpu v = m.vcpu(K);
        assertThat(v.shadow().guestCr3()).isZero();
        assertThat(v.vmcs().guest().cpu().cr3().pml4Frame()).isEqualTo(v.shadow().root());
        assertThat(m.frames().get(v.shadow().root()).owner()).isEqualTo(FrameInfo.XEN);
        VcpuOutcome.Resumed r = outcome(run(m, K, new GuestInstruction.MovFromCr(3, 0)), VcpuOutcome.Resumed.class);
        assertThat(r.reason()).isEqualTo(ExitReason.CR_ACCESS);
        assertThat(r.value()).isZero();
    }

    @Test
    @DisplayName("SH-1/SH-2: reads and writes land in the p2m-translated machine frames; guest A/D set; shadow tables Xen-owned")
    void readWrite() {
        XenMachine m = machine();
        HvStep w = run(m, K, write(0x4000, 0x1234));
        assertThat(outcome(w, VcpuOutcome.Retired.class).value()).isEqualTo(0x1234L);
        XenMachine m1 = w.machine();
        m = m1;
        assertThat(m.memory().read(mfn(4), 0)).isEqualTo(0x1234L);
        Entry gl1e = new Entry(m.memory().read(mfn(3), 4));
        assertThat(gl1e.accessed() && gl1e.dirty()).isTrue();
        assertThat(new Entry(m.memory().read(mfn(0), 0)).accessed()).isTrue();
        Entry sl1e = shadowLeaf(m, K, 0x4000);
        assertThat(sl1e.frame()).isEqualTo(mfn(4));
        assertThat(sl1e.writable() && sl1e.user()).isTrue();
        assertThat(m.vcpu(K).shadow().tables()).hasSize(3)
                .allSatisfy(t -> assertThat(m1.frames().get(t).owner()).isEqualTo(FrameInfo.XEN));
        HvStep r = run(m, K, read(0x4000));
        assertThat(outcome(r, VcpuOutcome.Retired.class).value()).isEqualTo(0x1234L);
        assertThat(r.outcome().exited()).as("the filled shadow serves the read without an exit").isFalse();
        HvStep ro = run(r.machine(), K, read(0x5000));
        assertThat(outcome(ro, VcpuOutcome.Retired.class).value()).isEqualTo(0x55L);
    }

    @Test
    @DisplayName("SH-2: a read fill of a clean page is read-only; the later write exits, sets guest D and makes it writable")
    void dirtyOnWriteFill() {
        XenMachine m = run(machine(), K, read(0x9000)).machine();
        assertThat(shadowLeaf(m, K, 0x9000).writable()).isFalse();
        assertThat(new Entry(m.memory().read(mfn(3), 9)).dirty()).isFalse();
        HvStep w = run(m, K, write(0x9000, 7));
        outcome(w, VcpuOutcome.Retired.class);
        assertThat(new Entry(w.machine().memory().read(mfn(3), 9)).dirty()).isTrue();
        assertThat(shadowLeaf(w.machine(), K, 0x9000).writable()).isTrue();
        assertThat(w.machine().memory().read(mfn(6), 0)).isEqualTo(7L);
    }

    @Test
    @DisplayName("SH-3: a guest not-present fault is reflected with the guest walk's error code and CR2; nothing is shadowed")
    void notPresentReflected() {
        XenMachine m = machine();
        HvStep st = run(m, K, read(0x7000));
        VcpuOutcome.Injected i = outcome(st, VcpuOutcome.Injected.class);
        assertThat(i.vector()).isEqualTo(14);
        assertThat(i.errorCode()).isZero();
        assertThat(i.cr2()).isEqualTo(0x7000L);
        assertThat(i.rule()).isEqualTo("SH-3");
        assertThat(st.machine().processor().machine().cpu().cr2()).isEqualTo(0x7000L);
        assertThat(shadowLeaf(st.machine(), K, 0x7000)).isEqualTo(Entry.NOT_PRESENT);
        VcpuOutcome.Injected u = outcome(run(m, U, write(0x7000, 1)), VcpuOutcome.Injected.class);
        assertThat(u.errorCode()).isEqualTo(ErrorCode.WR | ErrorCode.US);
    }

    @Test
    @DisplayName("SH-3: a user write to a guest read-only page is reflected with P|W|U, also after a read filled it")
    void userWriteToReadOnly() {
        XenMachine m = machine();
        VcpuOutcome.Injected i = outcome(run(m, U, write(0x5000, 1)), VcpuOutcome.Injected.class);
        assertThat(i.errorCode()).isEqualTo(ErrorCode.P | ErrorCode.WR | ErrorCode.US);
        assertThat(i.cr2()).isEqualTo(0x5000L);
        HvStep r = run(m, U, read(0x5000));
        assertThat(outcome(r, VcpuOutcome.Retired.class).value()).isEqualTo(0x55L);
        VcpuOutcome.Injected again = outcome(run(r.machine(), U, write(0x5000, 1)), VcpuOutcome.Injected.class);
        assertThat(again.errorCode()).isEqualTo(ErrorCode.P | ErrorCode.WR | ErrorCode.US);
        assertThat(r.machine().memory().read(mfn(5), 0)).isEqualTo(0x55L);
        VcpuOutcome.Injected sup = outcome(run(m, U, read(0x6000)), VcpuOutcome.Injected.class);
        assertThat(sup.errorCode()).as("user read of a supervisor page").isEqualTo(ErrorCode.P | ErrorCode.US);
    }

    @Test
    @DisplayName("SH-4: a write to a guest page table is trapped (read-only shadow), emulated, and visible through the shadow")
    void pageTableWriteTrapped() {
        XenMachine m = machine();
        HvStep r = run(m, K, read(0x6000 + 4 * 8));
        assertThat(outcome(r, VcpuOutcome.Retired.class).value()).isEqualTo(new Entry(r.machine().memory()
                .read(mfn(3), 4)).raw());
        assertThat(shadowLeaf(r.machine(), K, 0x6000).writable()).as("guest RW, but a page table").isFalse();
        m = r.machine();
        long pte = gte(6, true, true).raw();
        HvStep w = run(m, K, write(0x6000 + 7 * 8, pte));
        VcpuOutcome.Emulated e = outcome(w, VcpuOutcome.Emulated.class);
        assertThat(e.rule()).isEqualTo("SH-4");
        m = w.machine();
        assertThat(m.memory().read(mfn(3), 7)).isEqualTo(pte);
        assertThat(m.vcpu(K).shadow().tables()).as("shadows dropped").isEmpty();
        HvStep now = run(m, K, read(0x7000));
        assertThat(outcome(now, VcpuOutcome.Retired.class).value()).isEqualTo(0x66L);
        HvStep again = run(now.machine(), K, write(0x6000 + 7 * 8, 0));
        outcome(again, VcpuOutcome.Emulated.class);
        VcpuOutcome.Injected gone = outcome(run(again.machine(), K, read(0x7000)), VcpuOutcome.Injected.class);
        assertThat(gone.errorCode()).as("the cleared entry is not present through the shadow").isZero();
    }

    @Test
    @DisplayName("SH-4/TLB-4: MOV to CR3 switches address spaces (shadows dropped, guest CR3 kept, read back)")
    void movToCr3Switches() {
        XenMachine m = machine();
        HvStep a = run(m, K, read(0x4000));
        assertThat(outcome(a, VcpuOutcome.Retired.class).value()).isZero();
        HvStep sw = run(a.machine(), K, new GuestInstruction.MovToCr(3, 8L << 12, 0));
        VcpuOutcome.Resumed res = outcome(sw, VcpuOutcome.Resumed.class);
        assertThat(res.reason()).isEqualTo(ExitReason.CR_ACCESS);
        assertThat(sw.machine().vcpu(K).shadow().guestCr3()).isEqualTo(8L << 12);
        assertThat(sw.machine().vcpu(K).vmcs().guest().cpu().cr3().pml4Frame())
                .isEqualTo(m.vcpu(K).shadow().root());
        HvStep b = run(sw.machine(), K, read(0x4000));
        assertThat(outcome(b, VcpuOutcome.Retired.class).value()).isEqualTo(0x77L);
        VcpuOutcome.Resumed cr3 = outcome(run(b.machine(), K, new GuestInstruction.MovFromCr(3, 0)),
                VcpuOutcome.Resumed.class);
        assertThat(cr3.value()).isEqualTo(8L << 12);
        VcpuOutcome.GuestError bad = outcome(run(b.machine(), K, new GuestInstruction.MovToCr(3, 0x200L << 12, 0)),
                VcpuOutcome.GuestError.class);
        assertThat(bad.rule()).isEqualTo("SH-1");
    }

    @Test
    @DisplayName("SH-4/TLB-6: INVLPG drops a stale shadow entry (and is a no-op for a non-canonical address)")
    void invlpgDropsStaleEntry() {
        XenMachine m = run(machine(), K, read(0x9000)).machine();
        assertThat(shadowLeaf(m, K, 0x9000).frame()).isEqualTo(mfn(6));
        // The guest's L1 changes behind the shadow (planted: guest writes to it trap); the shadow is now stale.
        XenMachine stale = m.withPaging(m.paging().write(mfn(3), 9, gte(7, true, true)));
        assertThat(ShadowIntegrity.check(stale).toString()).contains("SH-2").contains("0x47");
        VcpuOutcome.Resumed nc = ((VcpuOutcome.Resumed) Hypervisor.handle(stale, K,
                org.hybridv.vmx.ExitInformation.of(ExitReason.INVLPG, 0x8000_0000_0000_0000L),
                new GuestInstruction.Invlpg(0x8000_0000_0000_0000L), Hypercall.of(0)).outcome());
        assertThat(nc.rule()).isEqualTo("TLB-6");
        HvStep inv = run(stale, K, new GuestInstruction.Invlpg(0x9000));
        outcome(inv, VcpuOutcome.Resumed.class);
        assertThat(shadowLeaf(inv.machine(), K, 0x9000)).isEqualTo(Entry.NOT_PRESENT);
        HvStep r = run(inv.machine(), K, read(0x9000));
        assertThat(outcome(r, VcpuOutcome.Retired.class).value()).isEqualTo(0x77L);
    }

    @Test
    @DisplayName("SH-4: a page-table write by one vCPU drops every shadow of the domain (the other vCPU's too) and flushes")
    void ptWriteDropsDomainShadows() {
        XenMachine m = run(machine(), U, write(0x4000, 9)).machine();
        assertThat(shadowLeaf(m, U, 0x4000).writable()).isTrue();
        HvStep w = run(m, K, write(0x6000 + 4 * 8, gte(5, false, true).raw()));
        outcome(w, VcpuOutcome.Emulated.class);
        assertThat(shadowLeaf(w.machine(), U, 0x4000)).isEqualTo(Entry.NOT_PRESENT);
        assertThat(w.machine().processor().machine().tlb().entries())
                .noneMatch(e -> e.tag().vpid() == 5 || e.tag().vpid() == 6);
        VcpuOutcome.Injected i = outcome(run(w.machine(), U, write(0x4000, 1)), VcpuOutcome.Injected.class);
        assertThat(i.errorCode()).as("now read-only in the guest").isEqualTo(ErrorCode.P | ErrorCode.WR | ErrorCode.US);
        HvStep r = run(w.machine(), U, read(0x4000));
        assertThat(outcome(r, VcpuOutcome.Retired.class).value()).isEqualTo(0x55L);
    }

    @Test
    @DisplayName("SH-2: guest CR0.WP = 0: a supervisor write to a guest read-only page is emulated; the shadow stays read-only")
    void supervisorWriteWithWpClear() {
        XenMachine m = machine();
        assertThat(m.vcpu(K).vmcs().guest().cpu().cr0().wp()).as("hardware WP forced").isTrue();
        assertThat(ShadowPaging.guestCpu(m.vcpu(K)).cr0().wp()).as("the guest's own WP (longMode: 0)").isFalse();
        HvStep w = run(m, K, write(0x5000, 0xAB));
        VcpuOutcome.Emulated e = outcome(w, VcpuOutcome.Emulated.class);
        assertThat(e.rule()).isEqualTo("SH-2");
        assertThat(w.machine().memory().read(mfn(5), 0)).isEqualTo(0xABL);
        assertThat(shadowLeaf(w.machine(), K, 0x5000).writable()).isFalse();
        HvStep wp = run(w.machine(), K, new GuestInstruction.MovToCr(0, 0x80010001L, 0));
        outcome(wp, VcpuOutcome.Resumed.class);
        VcpuOutcome.Injected i = outcome(run(wp.machine(), K, write(0x5000, 1)), VcpuOutcome.Injected.class);
        assertThat(i.errorCode()).as("WP = 1 now: a protection fault for the guest").isEqualTo(ErrorCode.P | ErrorCode.WR);
    }

    @Test
    @DisplayName("SH-2: guest CR0.WP = 0: a supervisor write to a user page whose protection key has WD set is emulated"
            + " (with the hardware's forced WP a shadow fill would fault again on every retry)")
    void supervisorWriteToAWriteDisabledKeyWithWpClear() {
        XenMachine m = machine();
        m = m.withPaging(m.paging().write(mfn(3), 4, gte(4, true, true).withProtectionKey(3)));
        long cr4 = ShadowPaging.guestCpu(m.vcpu(K)).cr4().bits() | 1L << 22; // CR4.PKE
        m = run(m, K, new GuestInstruction.MovToCr(4, cr4, 0)).machine();
        m = run(m, K, new GuestInstruction.Wrpkru(1 << 7, 0, 0)).machine(); // WD of key 3 (SDM Vol. 3A §4.6.2)
        // the running vCPU's registers are the processor's until it exits
        assertThat(m.processor().machine().cpu().cr4().pke()).isTrue();
        assertThat(m.processor().machine().cpu().pkru()).isEqualTo(1 << 7);
        assertThat(ShadowPaging.guestCpu(m.vcpu(K)).cr0().wp()).as("the guest's own WP").isFalse();
        // §4.6.2: with CR0.WP = 0, WD does not restrict a supervisor-mode write: the guest's write completes
        HvStep w = run(m, K, write(0x4000, 0xCD));
        VcpuOutcome.Emulated e = outcome(w, VcpuOutcome.Emulated.class);
        assertThat(e.rule()).isEqualTo("SH-2");
        assertThat(w.machine().memory().read(mfn(4), 0)).isEqualTo(0xCDL);
        // a read is not restricted by WD: it returns the word (after a shadow fill if none serves it yet)
        HvStep r = run(w.machine(), K, read(0x4000));
        if (r.outcome() instanceof VcpuOutcome.ShadowFilled) {
            r = run(r.machine(), K, read(0x4000));
        }
        assertThat(outcome(r, VcpuOutcome.Retired.class).value()).isEqualTo(0xCDL);
        // with the guest's WP = 1 the key's WD refuses the supervisor write: #PF with P, W/R and PK (§4.7)
        HvStep wp = run(r.machine(), K, new GuestInstruction.MovToCr(0, 0x80010001L, 0));
        VcpuOutcome.Injected i = outcome(run(wp.machine(), K, write(0x4000, 1)), VcpuOutcome.Injected.class);
        assertThat(i.errorCode()).isEqualTo(ErrorCode.P | ErrorCode.WR | ErrorCode.PK);
    }

    @Test
    @DisplayName("SH-1: a guest mapping of a gfn outside the p2m → GuestError, nothing mapped, state unchanged")
    void p2mMissing() {
        XenMachine m = machine();
        HvStep st = run(m, K, read(0x8000));
        VcpuOutcome.GuestError e = outcome(st, VcpuOutcome.GuestError.class);
        assertThat(e.rule()).isEqualTo("SH-1");
        assertThat(e.guestPhysical()).isEqualTo(0x100L << 12);
        assertThat(shadowLeaf(st.machine(), K, 0x8000)).isEqualTo(Entry.NOT_PRESENT);
        assertThat(st.machine().memory()).isEqualTo(m.memory());
    }

    @Test
    @DisplayName("SH-2 check catches a planted over-permissive shadow leaf; I1 catches a planted foreign frame")
    void plantedShadowsCaught() {
        XenMachine m = run(machine(), U, read(0x5000)).machine();
        Entry sl1e = shadowLeaf(m, U, 0x5000);
        assertThat(sl1e.writable()).isFalse();
        List<Long> l1 = new ArrayList<>(m.vcpu(U).shadow().tables());
        long table = l1.get(l1.size() - 1);
        XenMachine rw = m.withPaging(m.paging().write(table, 5, sl1e.withWritable(true)));
        assertThat(ShadowIntegrity.check(rw).toString()).contains("SH-2").contains("writable");
        XenMachine foreign = m.withPaging(m.paging().write(table, 5, sl1e.withFrame(0x2)));
        assertThat(Isolation.check(foreign).toString()).contains("I1").contains("hypervisor frame");
        XenMachine table3 = m.withPaging(m.paging().write(table, 4, gte(mfn(3), true, true).withDirty(true)));
        assertThat(ShadowIntegrity.check(table3).toString()).contains("SH-2");
    }
}
