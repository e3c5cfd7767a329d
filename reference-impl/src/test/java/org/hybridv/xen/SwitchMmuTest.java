package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.Hv.done;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.hybridv.invariants.Isolation;
import org.hybridv.invariants.PageTableIntegrity;
import org.hybridv.invariants.SafeSwitch;
import org.hybridv.invariants.ShadowIntegrity;
import org.hybridv.invariants.TlbCoherence;
import org.hybridv.invariants.TranslationIntegrity;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Entry;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.PageWalk;
import org.hybridv.x86.Rights;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.Walk;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * SWITCH_MMU (docs/rules/hybrid.md): each precondition refused with its rule and nothing changed; an accepted switch
 * satisfies POST-1..3 and preserves the guest's translations.
 *
 * <p>The machine: 64 frames, Xen owns 0x1–0xf. d1 (SHADOW) owns 0x10–0x2f with p2m gfn g → 0x10 + g (not the
 * identity). Its boot tables, in guest frames: L4 gfn 0 → L3 gfn 1 → L2 gfn 2 → L1 gfn 3 (all RW|US); the L1 maps
 * VA 0x5000 → gfn 0x10 RW, 0x6000 → gfn 0x11 RO|US|NX, 0x7000 → gfn 0x12 RW|US, 0x8000 → gfn 7 RW (the frame the
 * guest builds its new L1 in). The tables for direct mode, written with machine frames (as the kernel computes them
 * with {@code XENMEM_translate_gpfn_list}): L4 0x14 → L3 0x15 → L2 0x16 → L1 0x17 with the same leaves, except that
 * VA 0x8000 (the new L1 itself) is read-only. v0 (VPID 1) at CPL 0 and v1 (VPID 2) at CPL 3 are in long mode with
 * guest CR3 = gfn 0. d2 (DIRECT) owns 0x38–0x3b: foreign frames.
 */
class SwitchMmuTest {
    static final int D1 = 1;
    static final int D2 = 2;
    static final VcpuId K = new VcpuId(D1, 0);
    static final VcpuId U = new VcpuId(D1, 1);
    static final long ROOT = 0x14;
    static final long NEW_L3 = 0x15;
    static final long NEW_L2 = 0x16;
    static final long NEW_L1 = 0x17;
    static final long FOREIGN = 0x38;
    static final long HCALL_GFN = 8;
    static final int MAXPHY = XenMachine.MAX_PHYS_ADDR;
    static final long[] VAS = {0x5000, 0x6000, 0x7000, 0x8000};

    static Entry user(long frame, boolean rw) {
        return Entry.table(frame, rw, true);
    }

    /** d1 in shadow mode, tables written, hypercall page not yet installed; no vCPU has run. */
    static XenMachine boot() {
        XenMachine m = XenMachine.boot(64, Domains.range(0x1, 0xf));
        Map<Long, Long> p2m = new TreeMap<>();
        for (long g = 0; g < 0x20; g++) {
            p2m.put(g, 0x10 + g);
        }
        m = done(Domains.create(m, D1, MmuMode.SHADOW, Domains.range(0x10, 0x2f), p2m));
        long[] f2 = Domains.range(0x38, 0x3b);
        m = done(Domains.create(m, D2, MmuMode.DIRECT, f2, Domains.identity(f2)));
        DirectPagingState s = m.paging()
                // boot tables (guest frames)
                .write(0x10, 0, user(1, true)).write(0x11, 0, user(2, true)).write(0x12, 0, user(3, true))
                .write(0x13, 5, Entry.table(0x10, true, false)).write(0x13, 6, user(0x11, false).withNoExecute(true))
                .write(0x13, 7, user(0x12, true)).write(0x13, 8, Entry.table(7, true, false))
                // direct-mode tables (machine frames)
                .write(ROOT, 0, user(NEW_L3, true)).write(NEW_L3, 0, user(NEW_L2, true))
                .write(NEW_L2, 0, user(NEW_L1, true))
                .write(NEW_L1, 5, Entry.table(0x20, true, false)).write(NEW_L1, 6, user(0x21, false).withNoExecute(true))
                .write(NEW_L1, 7, user(0x22, true)).write(NEW_L1, 8, Entry.table(NEW_L1, false, false));
        m = m.withPaging(s);
        m = done(Domains.addVcpu(m, D1, 1, CpuState.longMode(0, MAXPHY)));
        return done(Domains.addVcpu(m, D1, 2, CpuState.longMode(0, MAXPHY).withCpl(3)));
    }

    /** {@link #boot()}, then the kernel installs the hypercall page and touches some pages (shadows, TLB entries). */
    static XenMachine ready() {
        XenMachine m = boot();
        m = run(m, K, new GuestInstruction.Wrmsr(HypercallPage.MSR, HCALL_GFN << 12));
        assertThat(m.domain(D1).hypercallPageInstalled()).isTrue();
        m = run(m, K, new GuestInstruction.MemoryAccess(Access.read(0x5000)));
        m = run(m, K, new GuestInstruction.MemoryAccess(Access.write(0x7000, 42)));
        m = run(m, U, new GuestInstruction.MemoryAccess(Access.read(0x6000)));
        assertThat(m.vcpu(K).shadow().tables()).isNotEmpty();
        assertThat(vpidEntries(m, 1)).isNotEmpty();
        assertAllInvariants(m);
        return m;
    }

    static XenMachine run(XenMachine m, VcpuId v, GuestInstruction insn) {
        return Hypervisor.run(m, v, insn).machine();
    }

    static List<TlbEntry> vpidEntries(XenMachine m, int vpid) {
        return m.processor().machine().tlb().entries().stream().filter(e -> e.tag().vpid() == vpid).toList();
    }

    static void assertAllInvariants(XenMachine m) {
        assertThat(Isolation.check(m).toString()).isEqualTo("holds");
        assertThat(TranslationIntegrity.check(m).toString()).isEqualTo("holds");
        assertThat(ShadowIntegrity.check(m).toString()).isEqualTo("holds");
        assertThat(TlbCoherence.check(m).toString()).isEqualTo("holds");
        assertThat(PageTableIntegrity.check(m.paging()).toString()).isEqualTo("holds");
        assertThat(PageTableIntegrity.referenceCounts(m.paging()).toString()).isEqualTo("holds");
    }

    /**
     * A refused SWITCH_MMU: the errno and rule, RAX = -errno, and nothing changed — the pure function returns the
     * very pre-state, and through VMCALL only the exit itself (exit information, processor mode) differs.
     */
    static VcpuOutcome.HypercallRefused refused(XenMachine pre, VcpuId v, long root, Errno errno, String rule) {
        HvStep direct = SwitchMmu.switchMmu(pre, v, root);
        HvStep st = Hypervisor.hypercall(pre, v, Hypercall.switchMmu(root));
        assertThat(st.outcome()).isInstanceOf(VcpuOutcome.HypercallRefused.class);
        VcpuOutcome.HypercallRefused r = (VcpuOutcome.HypercallRefused) st.outcome();
        assertThat(r.errno()).as(r.toString()).isEqualTo(errno);
        assertThat(r.rule()).as(r.toString()).isEqualTo(rule);
        assertThat(r.rax()).isEqualTo(-errno.value());
        if (!rule.equals("XSA-76")) { // the CPL check is Hypervisor.vmcall's, before SwitchMmu
            assertThat(direct.outcome()).isEqualTo(r);
            assertThat(direct.machine()).isSameAs(pre);
        }
        // I5-refused, the statement of docs/invariants.md: everything but the VM exit itself is as before
        assertThat(SafeSwitch.unchanged(pre, st.machine()).toString()).isEqualTo("holds");
        return r;
    }

    // ---- PRE-1 -------------------------------------------------------------------------------------------------

    @Test
    @DisplayName("PRE-1 (CPL): SWITCH_MMU from CPL 3 → -EPERM by the generic hypercall check (XSA-76)")
    void cpl3() {
        refused(ready(), U, ROOT, Errno.EPERM, "XSA-76");
    }

    @Test
    @DisplayName("PRE-1 (long mode): a caller with paging off → -EINVAL, rule PRE-1")
    void notLongMode() {
        XenMachine m = boot();
        m = run(m, K, new GuestInstruction.Wrmsr(HypercallPage.MSR, HCALL_GFN << 12));
        Vcpu v = m.vcpu(K);
        CpuState off = v.vmcs().guest().cpu().withCr0(new Cr0(true, true, false));
        m = m.withVcpu(v.withVmcs(v.vmcs().withGuest(new org.hybridv.vmx.GuestState(off, 0))));
        VcpuOutcome.HypercallRefused r = refused(m, K, ROOT, Errno.EINVAL, "PRE-1");
        assertThat(r.reason()).contains("long mode");
    }

    @Test
    @DisplayName("PRE-1 (hypercall page): SWITCH_MMU before WRMSR 0x40000000 → -EPERM, rule PRE-1")
    void beforeHypercallPage() {
        VcpuOutcome.HypercallRefused r = refused(boot(), K, ROOT, Errno.EPERM, "PRE-1");
        assertThat(r.reason()).contains("hypercall page");
    }

    @Test
    @DisplayName("PRE-1 (once): a second SWITCH_MMU → -EBUSY \"already switched\", rule PRE-1")
    void once() {
        XenMachine m = switched();
        VcpuOutcome.HypercallRefused r = refused(m, K, ROOT, Errno.EBUSY, "PRE-1");
        assertThat(r.reason()).contains("already switched");
    }

    @Test
    @DisplayName("PRE-1 (mode): a HAP domain → -EOPNOTSUPP, rule PRE-1")
    void hap() {
        XenMachine m = Hv.machine();
        m = run(m, Hv.H, new GuestInstruction.Wrmsr(HypercallPage.MSR, 6L << 12));
        assertThat(m.domain(Hv.D2).hypercallPageInstalled()).isTrue();
        refused(m, Hv.H, 0x30, Errno.EOPNOTSUPP, "PRE-1");
    }

    // ---- PRE-3 -------------------------------------------------------------------------------------------------

    @Test
    @DisplayName("PRE-3: another vCPU still in real mode (CR0 = 0) → -EBUSY, rule PRE-3")
    void otherVcpuInRealMode() {
        XenMachine m = ready();
        m = done(Domains.addVcpu(m, D1, 3, CpuState.reset(MAXPHY)));
        VcpuOutcome.HypercallRefused r = refused(m, K, ROOT, Errno.EBUSY, "PRE-3");
        assertThat(r.reason()).contains("d1v2").contains("paging off");
    }

    // ---- PRE-2 -------------------------------------------------------------------------------------------------

    static XenMachine edit(XenMachine m, long mfn, int index, Entry e) {
        return m.withPaging(m.paging().write(mfn, index, e));
    }

    @Test
    @DisplayName("PRE-2: a root that is not the domain's (foreign, Xen's, beyond RAM) → -EINVAL, rule OWN-1")
    void rootNotOwned() {
        XenMachine m = ready();
        for (long root : new long[] {FOREIGN, 0x1, 0x1000}) {
            VcpuOutcome.HypercallRefused r = refused(m, K, root, Errno.EINVAL, "OWN-1");
            assertThat(r.reason()).startsWith("PRE-2: ");
        }
    }

    @Test
    @DisplayName("PRE-2/SP-1: a 2-MiB page in the new tables → refused by SP-1")
    void superpage() {
        XenMachine m = edit(ready(), NEW_L2, 1, Entry.table(0x200, true, false).withPageSize(true));
        VcpuOutcome.HypercallRefused r = refused(m, K, ROOT, Errno.EINVAL, "SP-1");
        assertThat(r.reason()).startsWith("PRE-2: ");
    }

    @Test
    @DisplayName("PRE-2/L1-3: a writable mapping of one of its own tables → refused by L1-3 (-EBUSY)")
    void writableMappingOfOwnTable() {
        XenMachine m = edit(ready(), NEW_L1, 8, Entry.table(NEW_L2, true, false));
        VcpuOutcome.HypercallRefused r = refused(m, K, ROOT, Errno.EBUSY, "L1-3");
        assertThat(r.reason()).startsWith("PRE-2: ");
    }

    @Test
    @DisplayName("PRE-2/L1-2: a foreign frame mapped in the new L1 → refused by L1-2 (-EPERM)")
    void foreignFrame() {
        XenMachine m = edit(ready(), NEW_L1, 9, Entry.table(FOREIGN, false, false));
        VcpuOutcome.HypercallRefused r = refused(m, K, ROOT, Errno.EPERM, "L1-2");
        assertThat(r.reason()).startsWith("PRE-2: ");
    }

    @Test
    @DisplayName("PRE-2/SLOT-1: a present entry in a Xen L4 slot (256–271) → -EINVAL, rule SLOT-1 (PRO-2 would clear it)")
    void xenSlot() {
        for (int slot : new int[] {256, 271}) {
            XenMachine m = edit(ready(), ROOT, slot, user(NEW_L3, false));
            VcpuOutcome.HypercallRefused r = refused(m, K, ROOT, Errno.EINVAL, "SLOT-1");
            assertThat(r.reason()).startsWith("PRE-2: ");
        }
        // slot 272 is a guest slot: accepted
        XenMachine ok = edit(ready(), ROOT, 272, user(NEW_L3, false));
        assertThat(Hypervisor.hypercall(ok, K, Hypercall.switchMmu(ROOT)).outcome())
                .isInstanceOf(VcpuOutcome.HypercallDone.class);
    }

    // ---- acceptance ----------------------------------------------------------------------------------------------

    static XenMachine switched() {
        HvStep st = Hypervisor.hypercall(ready(), K, Hypercall.switchMmu(ROOT));
        assertThat(st.outcome()).as(st.outcome().toString()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        return st.machine();
    }

    @Test
    @DisplayName("POST-1..3: direct mode, every vCPU on the root with direct controls, shadows freed, TLB flushed")
    void accepted() {
        XenMachine pre = ready();
        List<Long> shadowFrames = new ArrayList<>();
        for (Vcpu v : pre.domain(D1).vcpus()) {
            shadowFrames.add(v.shadow().root());
            shadowFrames.addAll(v.shadow().tables());
        }
        HvStep st = Hypervisor.hypercall(pre, K, Hypercall.switchMmu(ROOT));
        VcpuOutcome.HypercallDone done = (VcpuOutcome.HypercallDone) st.outcome();
        assertThat(done.rax()).isZero();
        assertThat(done.effects()).contains(new Effect.LoadBase(K, ROOT, "POST-1"), new Effect.LoadBase(U, ROOT,
                "POST-1"), new Effect.FlushDomain(D1, "POST-2"));
        assertThat(st.vmExits()).isEqualTo(1);
        assertThat(org.hybridv.invariants.ExitCorrectness.check(pre, K, new GuestInstruction.Vmcall(), st).toString())
                .as("I7 over the switching VMCALL").isEqualTo("holds");
        XenMachine m = st.machine();
        Domain d = m.domain(D1);
        assertThat(d.mode()).isEqualTo(MmuMode.DIRECT);
        Map<Long, Long> identity = Domains.identity(Domains.range(0x10, 0x2f));
        assertThat(d.p2m()).as("POST-3: identity on its own frames").isEqualTo(identity);
        for (Vcpu v : d.vcpus()) {
            CpuState g = v.vmcs().guest().cpu();
            assertThat(g.cr3().pml4Frame()).isEqualTo(ROOT);
            assertThat(g.cr0().wp()).as("MISC-1: hardware WP forced").isTrue();
            assertThat(v.vmcs().controls()).isEqualTo(VmcsSetup.direct(v.vpid(), new Cr0(true, false, true)));
            assertThat(v.shadow()).isEqualTo(ShadowState.NONE);
            assertThat(m.guestTables().get(v.id())).isEqualTo(ROOT);
            assertThat(vpidEntries(m, v.vpid())).as("POST-2: no TLB entry of VPID " + v.vpid()).isEmpty();
        }
        assertThat(m.processor().vmcs()).as("the current VMCS follows").isEqualTo(m.vcpu(K).vmcs());
        for (long f : shadowFrames) {
            assertThat(m.frames().get(f)).as("shadow frame " + f).isEqualTo(FrameInfo.UNUSED);
            for (int i = 0; i < 512; i++) {
                assertThat(m.memory().read(f, i)).isZero();
            }
        }
        FrameInfo root = m.frames().get(ROOT);
        assertThat(root.type()).isEqualTo(PageType.L4);
        assertThat(root.validated()).isTrue();
        assertThat(root.typeCount()).as("one type reference per vCPU's guest_table").isEqualTo(2);
        assertThat(root.count()).isEqualTo(2);
        assertThat(m.frames().get(NEW_L1).type()).isEqualTo(PageType.L1);
        assertThat(m.frames().get(0x20).type()).isEqualTo(PageType.WRITABLE);
        assertAllInvariants(m);
    }

    @Test
    @DisplayName("POST: translations preserved — same machine frame, U/S, R/W, NX (the new L1 itself now read-only)")
    void translationsPreserved() {
        XenMachine pre = ready();
        XenMachine post = switched();
        for (long va = 0; va < 0x20_0000; va += 0x1000) {
            Walk before = ShadowPaging.guestWalk(pre, pre.vcpu(K), va);
            Walk after = PageWalk.walk(post.memory(), post.vcpu(K).vmcs().guest().cpu(), va);
            assertThat(after.end()).as("va %x", va).isEqualTo(before.end());
            if (before.end() != Walk.End.MAPPED) {
                continue;
            }
            long mfnBefore = pre.domain(D1).machineFrame(before.physical() >>> 12);
            assertThat(after.physical() >>> 12).as("va %x", va).isEqualTo(mfnBefore);
            Rights b = before.rights();
            Rights a = after.rights();
            assertThat(a.user()).isEqualTo(b.user());
            assertThat(a.executeDisable()).isEqualTo(b.executeDisable());
            boolean pageTable = post.frames().get(mfnBefore).type().isPageTable();
            assertThat(a.writable()).as("va %x", va).isEqualTo(b.writable() && !pageTable);
        }
        assertThat(PageWalk.walk(post.memory(), post.vcpu(K).vmcs().guest().cpu(), 0x8000).rights().writable())
                .isFalse();
    }

    @Test
    @DisplayName("After the switch a user-mode #PF does not exit (0 exits); in shadow mode the same #PF costs an exit")
    void userPageFaultStopsExiting() {
        GuestInstruction touch = new GuestInstruction.MemoryAccess(Access.read(0x10_0000));
        HvStep before = Hypervisor.run(ready(), U, touch);
        assertThat(before.vmExits()).isGreaterThanOrEqualTo(1);
        assertThat(before.outcome()).isInstanceOf(VcpuOutcome.Injected.class);
        XenMachine sw = switched();
        HvStep after = Hypervisor.run(sw, U, touch);
        assertThat(org.hybridv.invariants.ExitCorrectness.check(sw, U, touch, after).toString()).isEqualTo("holds");
        assertThat(after.vmExits()).isZero();
        VcpuOutcome.Delivered d = (VcpuOutcome.Delivered) after.outcome();
        assertThat(d.vector()).isEqualTo(PageFault.VECTOR);
        assertThat(d.errorCode()).isEqualTo(((VcpuOutcome.Injected) before.outcome()).errorCode());
        assertAllInvariants(after.machine());
    }

    @Test
    @DisplayName("After the switch the PV MMU works: mmu_update accepted, MOV to CR3 validated (MX-3)")
    void pvMmuAfterSwitch() {
        XenMachine m = switched();
        HvStep up = Hypervisor.hypercall(m, K, Hypercall.mmuUpdate((NEW_L1 << 12) | (9 << 3), Entry.table(0x23, true,
                false).raw()));
        assertThat(up.outcome()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        HvStep cr3 = Hypervisor.run(m, K, new GuestInstruction.MovToCr(3, FOREIGN << 12, 0));
        assertThat(cr3.outcome()).isInstanceOf(VcpuOutcome.Injected.class);
        assertThat(((VcpuOutcome.Injected) cr3.outcome()).vector()).isEqualTo(13);
        assertAllInvariants(up.machine());
    }

    // ---- memory_op / XENMEM_translate_gpfn_list ------------------------------------------------------------------

    @Test
    @DisplayName("XENMEM_translate_gpfn_list: RAX = p2m(gfn) in shadow mode, gfn itself in direct mode; not RAM → -EINVAL (P2M)")
    void translateGpfn() {
        XenMachine m = ready();
        HvStep st = Hypervisor.hypercall(m, K, Hypercall.translateGpfn(7));
        assertThat(((VcpuOutcome.HypercallDone) st.outcome()).rax()).isEqualTo(0x17);
        assertThat(st.machine().memory()).isEqualTo(m.memory());
        VcpuOutcome.HypercallRefused r = (VcpuOutcome.HypercallRefused) Hypervisor.hypercall(m, K,
                Hypercall.translateGpfn(0x20)).outcome();
        assertThat(r.errno()).isEqualTo(Errno.EINVAL);
        assertThat(r.rule()).isEqualTo("P2M");
        XenMachine d = switched();
        assertThat(((VcpuOutcome.HypercallDone) Hypervisor.hypercall(d, K, Hypercall.translateGpfn(0x17)).outcome())
                .rax()).isEqualTo(0x17);
        for (long gfn : new long[] {0x7, FOREIGN, 0x1}) {
            VcpuOutcome.HypercallRefused x = (VcpuOutcome.HypercallRefused) Hypervisor.hypercall(d, K,
                    Hypercall.translateGpfn(gfn)).outcome();
            assertThat(x.rule()).isEqualTo("P2M");
        }
        VcpuOutcome.HypercallRefused other = (VcpuOutcome.HypercallRefused) Hypervisor.hypercall(d, K,
                Hypercall.of(Hypercalls.HYPERVISOR_MEMORY_OP, 6, 0)).outcome();
        assertThat(other.errno()).isEqualTo(Errno.ENOSYS);
    }
}
