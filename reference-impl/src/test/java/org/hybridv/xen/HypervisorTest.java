package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.Hv.*;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.ExitInformation;
import org.hybridv.vmx.ExitReason;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;
import org.hybridv.x86.ErrorCode;
import org.hybridv.x86.TlbEntry;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** VM-exit handlers, hypercall entry and TLB discipline, rule by rule. */
class HypervisorTest {
    static HvStep run(XenMachine m, VcpuId v, GuestInstruction insn) {
        return Hypervisor.run(m, v, insn);
    }

    static GuestInstruction read(long va) {
        return new GuestInstruction.MemoryAccess(Access.read(va));
    }

    static GuestInstruction write(long va, long value) {
        return new GuestInstruction.MemoryAccess(Access.write(va, value));
    }

    @Test
    @DisplayName("VMCS per mode: shadow traps every #PF, CR3 loads and INVLPG; HAP: EPT, no #PF/CR3/INVLPG exits; direct: filter, WP host-owned")
    void controlsPerMode() {
        XenMachine m = machine();
        ExecutionControls s = m.vcpu(S).vmcs().controls();
        assertThat(s.exceptionBitmap() & (1 << 14)).isNotZero();
        assertThat(s.pfecMask()).isZero();
        assertThat(s.pfecMatch()).isZero();
        assertThat(s.primary().cr3LoadExiting()).isTrue();
        assertThat(s.primary().invlpgExiting()).isTrue();
        assertThat(s.eptEnabled()).isFalse();
        ExecutionControls h = m.vcpu(H).vmcs().controls();
        assertThat(h.eptEnabled()).isTrue();
        assertThat(h.eptp()).isEqualTo(m.domain(D2).eptp());
        assertThat(h.exceptionBitmap() & (1 << 14)).isZero();
        assertThat(h.primary().cr3LoadExiting() || h.primary().cr3StoreExiting() || h.primary().invlpgExiting())
                .isFalse();
        ExecutionControls d = m.vcpu(K).vmcs().controls();
        assertThat(d.eptEnabled()).isFalse();
        assertThat(d.exceptionBitmap() & (1 << 14)).isNotZero();
        assertThat(d.pfecMask()).isEqualTo(0x7);
        assertThat(d.pfecMatch()).isEqualTo(0x3);
        assertThat(d.primary().cr3LoadExiting()).isTrue();
        assertThat(d.cr3TargetValues()).isEmpty();
        assertThat(d.cr0GuestHostMask()).isEqualTo(1L << 16);
        assertThat(d.cr0ReadShadow()).as("read shadow: WP as the guest set it (0)").isZero();
        assertThat(m.vcpu(K).vmcs().guest().cpu().cr0().wp()).as("MISC-1: WP forced to 1").isTrue();
        for (VcpuId v : List.of(K, U, H, S)) {
            ExecutionControls c = m.vcpu(v).vmcs().controls();
            assertThat(c.vpidEnabled()).isTrue();
            assertThat(c.primary().hltExiting() && c.primary().useIoBitmaps() && c.primary().useMsrBitmaps()).isTrue();
            assertThat(c.ioBitmaps().bitFor(0x3F8)).isTrue();
        }
        assertThat(List.of(m.vcpu(K).vpid(), m.vcpu(U).vpid(), m.vcpu(H).vpid(), m.vcpu(S).vpid()))
                .containsExactly(1, 2, 3, 4);
    }

    @Test
    @DisplayName("Domain creation: a taken frame (OWN-1), a p2m entry to another frame (HAP-2), a taken VPID are refused")
    void creationRefusals() {
        XenMachine m = machine();
        HvResult r = Domains.create(m, 4, MmuMode.HAP, new long[] {0x5}, java.util.Map.of());
        assertThat(r).isInstanceOf(HvResult.Refused.class);
        assertThat(((HvResult.Refused) r).rule()).isEqualTo("OWN-1");
        assertThat(r.machineOr(m)).isSameAs(m);
        XenMachine more = XenMachine.boot(64, 0x1);
        r = Domains.create(more, 4, MmuMode.HAP, new long[] {0x10}, java.util.Map.of(0L, 0x11L));
        assertThat(((HvResult.Refused) r).rule()).isEqualTo("HAP-2");
        r = Domains.addVcpu(m, D3, 1, org.hybridv.x86.CpuState.longMode(0, MAXPHY));
        assertThat(((HvResult.Refused) r).rule()).isEqualTo("VPID");
    }

    @Test
    @DisplayName("CPUID 0x40000000: max leaf and \"XenVMMXenVMM\"; 0x40000002: one hypercall page, MSR base 0x40000000")
    void cpuidSignature() {
        XenMachine m = machine();
        VcpuOutcome.CpuidResult sig = outcome(run(m, K, new GuestInstruction.Cpuid(0x40000000L, 0)),
                VcpuOutcome.CpuidResult.class);
        assertThat(sig).isEqualTo(new VcpuOutcome.CpuidResult(0x40000002L, 0x566e6558L, 0x65584d4dL, 0x4d4d566eL));
        assertThat(outcome(run(m, H, new GuestInstruction.Cpuid(0x40000002L, 0)), VcpuOutcome.CpuidResult.class))
                .isEqualTo(new VcpuOutcome.CpuidResult(1, 0x40000000L, 0, 0));
        assertThat(CpuidLeaves.cpuid(1).ecx()).isEqualTo(1L << 31);
        assertThat(CpuidLeaves.cpuid(0x40000010L)).isEqualTo(new VcpuOutcome.CpuidResult(0, 0, 0, 0));
    }

    @Test
    @DisplayName("Hypercall page: WRMSR 0x40000000 writes mov/vmcall/ret stubs and ud2 in the iret slot, through the p2m in HAP")
    void hypercallPageInstalled() {
        XenMachine m = machine();
        HvStep st = run(m, K, new GuestInstruction.Wrmsr(0x40000000L, 0x22L << 12));
        outcome(st, VcpuOutcome.Resumed.class);
        assertThat(st.machine().domain(D1).hypercallPageInstalled()).isTrue();
        int[] slot1 = new int[9];
        for (int i = 0; i < 9; i++) {
            slot1[i] = HypercallPage.byteAt(st.machine().memory(), 0x22, 32 + i);
        }
        assertThat(slot1).containsExactly(0xB8, 0x01, 0, 0, 0, 0x0F, 0x01, 0xC1, 0xC3);
        assertThat(HypercallPage.byteAt(st.machine().memory(), 0x22, 26 * 32 + 1)).isEqualTo(26);
        assertThat(HypercallPage.byteAt(st.machine().memory(), 0x22, 23 * 32)).isEqualTo(0x0F);
        assertThat(HypercallPage.byteAt(st.machine().memory(), 0x22, 23 * 32 + 1)).isEqualTo(0x0B);
        assertThat(st.machine().frames().get(0x22).typeCount()).as("the writable type is not kept").isZero();
        HvStep hap = run(m, H, new GuestInstruction.Wrmsr(0x40000000L, 5L << 12));
        outcome(hap, VcpuOutcome.Resumed.class);
        assertThat(HypercallPage.byteAt(hap.machine().memory(), 0x35, 0)).as("gfn 5 → mfn 0x35").isEqualTo(0xB8);
        assertThat(hap.machine().domain(D2).hypercallPageInstalled()).isTrue();
    }

    @Test
    @DisplayName("Hypercall page: index ≠ 0, a page-table frame, another domain's frame, a gfn outside the p2m → #GP, nothing changed")
    void hypercallPageRefusals() {
        XenMachine m = machine();
        for (Object[] c : new Object[][] {{K, (0x22L << 12) | 1}, {K, L1 << 12}, {K, 0x30L << 12},
                {H, 0x40L << 12}}) {
            HvStep st = run(m, (VcpuId) c[0], new GuestInstruction.Wrmsr(0x40000000L, (Long) c[1]));
            VcpuOutcome.Injected gp = outcome(st, VcpuOutcome.Injected.class);
            assertThat(gp.vector()).isEqualTo(13);
            assertThat(gp.rule()).isEqualTo("guest_wrmsr_xen");
            assertThat(st.machine().memory()).isEqualTo(m.memory());
            assertThat(st.machine().frames()).isEqualTo(m.frames());
            assertThat(st.machine().domain(((VcpuId) c[0]).domain()).hypercallPageInstalled()).isFalse();
        }
        VcpuOutcome.Injected other = outcome(run(m, K, new GuestInstruction.Wrmsr(0x40000001L, 0)),
                VcpuOutcome.Injected.class);
        assertThat(other.vector()).isEqualTo(13);
    }

    @Test
    @DisplayName("XSA-76: VMCALL at CPL 3 → -EPERM; unknown number → -ENOSYS")
    void hypercallPrivilege() {
        XenMachine m = machine();
        HvStep st = Hypervisor.hypercall(m, U, Hypercall.mmuextOp(Hypercalls.MMUEXT_TLB_FLUSH_LOCAL, 0));
        VcpuOutcome.HypercallRefused r = outcome(st, VcpuOutcome.HypercallRefused.class);
        assertThat(r.errno()).isEqualTo(Errno.EPERM);
        assertThat(r.rule()).isEqualTo("XSA-76");
        assertThat(r.rax()).isEqualTo(-1);
        VcpuOutcome.HypercallRefused n = outcome(Hypervisor.hypercall(m, K, Hypercall.of(99)),
                VcpuOutcome.HypercallRefused.class);
        assertThat(n.errno()).isEqualTo(Errno.ENOSYS);
    }

    @Test
    @DisplayName("MU-1/XSA-109: mmu_update, update_va_mapping, mmuext_op from a HAP or shadow domain → -EOPNOTSUPP, nothing changed")
    void pvMmuOnlyInDirectMode() {
        XenMachine m = machine();
        for (VcpuId v : List.of(H, S)) {
            for (Hypercall c : List.of(Hypercall.mmuUpdate(0x33L << 12, 0), Hypercall.updateVaMapping(0x4000, 0, 0),
                    Hypercall.mmuextOp(Hypercalls.MMUEXT_PIN_L4_TABLE, 0x30))) {
                // The shadow vCPU's guest tables are empty: its VMCALL exit goes to the handler directly.
                HvStep st = v.equals(H) ? Hypervisor.hypercall(m, v, c)
                        : Hypervisor.handle(m, v, ExitInformation.of(ExitReason.VMCALL, 0),
                                new GuestInstruction.Vmcall(), c);
                VcpuOutcome.HypercallRefused r = outcome(st, VcpuOutcome.HypercallRefused.class);
                assertThat(r.errno()).isEqualTo(Errno.EOPNOTSUPP);
                assertThat(r.rule()).isEqualTo("MU-1");
                assertThat(st.machine().memory()).isEqualTo(m.memory());
                assertThat(st.machine().frames()).isEqualTo(m.frames());
            }
        }
    }

    @Test
    @DisplayName("MU-5/XSA-286: an L2 update through mmu_update flushes the domain's stale TLB entries before the guest resumes")
    void l2UpdateFlushesDomainTlb() {
        XenMachine m = machine();
        HvStep r = run(m, K, read(0x5000));
        assertThat(outcome(r, VcpuOutcome.Retired.class)).isNotNull();
        assertThat(entriesOf(r.machine(), 1)).as("the read cached 0x5000 → 0x20 under VPID 1").isNotEmpty();
        // The kernel repoints L2[0] from L1 0x13 to an empty L1 (SPARE): 0x5000 is no longer mapped.
        HvStep u = Hypervisor.hypercall(r.machine(), K, Hypercall.mmuUpdate((0x12L << 12), rw(SPARE).raw()));
        VcpuOutcome.HypercallDone done = outcome(u, VcpuOutcome.HypercallDone.class);
        assertThat(done.effects()).contains(new Effect.FlushDomain(D1, "MU-5"));
        assertThat(done.rax()).isZero();
        assertThat(entriesOf(u.machine(), 1)).as("stale translation gone").isEmpty();
        assertThat(entriesOf(u.machine(), 2)).isEmpty();
        VcpuOutcome.Delivered pf = outcome(run(u.machine(), K, read(0x5000)), VcpuOutcome.Delivered.class);
        assertThat(pf.vector()).isEqualTo(14);
        assertThat(pf.cr2()).isEqualTo(0x5000);
    }

    static List<TlbEntry> entriesOf(XenMachine m, int vpid) {
        List<TlbEntry> l = new ArrayList<>();
        for (TlbEntry e : m.processor().machine().tlb().entries()) {
            if (e.tag().vpid() == vpid) {
                l.add(e);
            }
        }
        return l;
    }

    @Test
    @DisplayName("PTW-1..3: a kernel write to its read-only-mapped L1 exits (error P|W) and is emulated as a validated update")
    void supervisorWriteToL1IsEmulated() {
        XenMachine m = machine();
        HvStep st = run(m, K, write(0x8000 + 7 * 8, rw(SPARE).raw()));
        VcpuOutcome.Emulated e = outcome(st, VcpuOutcome.Emulated.class);
        assertThat(e.linear()).isEqualTo(0x8000 + 7 * 8);
        assertThat(st.machine().memory().read(L1, 7)).isEqualTo(rw(SPARE).raw());
        assertThat(st.machine().frames().get(SPARE).type()).isEqualTo(PageType.WRITABLE);
        assertThat(st.machine().vcpu(K).vmcs().exitInformation().interruptionErrorCode())
                .isEqualTo(ErrorCode.P | ErrorCode.WR);
    }

    @Test
    @DisplayName("PTW-1: a refused page-table write (a writable mapping of the L1 itself, L1-3) is reflected as #PF with error code and CR2")
    void refusedPtwrIsReflected() {
        XenMachine m = machine();
        HvStep st = run(m, K, write(0x8000 + 7 * 8, rw(L1).raw()));
        VcpuOutcome.Injected pf = outcome(st, VcpuOutcome.Injected.class);
        assertThat(pf.vector()).isEqualTo(14);
        assertThat(pf.errorCode()).isEqualTo(ErrorCode.P | ErrorCode.WR);
        assertThat(pf.cr2()).isEqualTo(0x8000 + 7 * 8);
        assertThat(pf.rule()).isEqualTo("L1-3");
        assertThat(st.machine().processor().machine().cpu().cr2()).isEqualTo(0x8000 + 7 * 8);
        assertThat(st.machine().memory()).isEqualTo(m.memory());
        assertThat(st.machine().frames()).isEqualTo(m.frames());
    }

    @Test
    @DisplayName("Hybrid #PF filter: user-mode faults and supervisor not-present faults reach the guest with 0 VM exits")
    void userFaultsDoNotExit() {
        XenMachine m = machine();
        int exits = 0;
        List<VcpuOutcome> seen = new ArrayList<>();
        Object[][] steps = {{U, read(0x5000)}, {U, write(0x5000, 1)}, {U, write(0x8000, 1)}, {U, read(0x7000)},
                {K, read(0x7000)}, {K, write(0x7000, 1)}};
        for (Object[] s : steps) {
            HvStep st = run(m, (VcpuId) s[0], (GuestInstruction) s[1]);
            m = st.machine();
            seen.add(st.outcome());
            exits += st.outcome().exited() ? 1 : 0;
        }
        assertThat(exits).isZero();
        assertThat(seen).allMatch(o -> o instanceof VcpuOutcome.Delivered d && d.vector() == 14);
        assertThat(((VcpuOutcome.Delivered) seen.get(1)).errorCode())
                .isEqualTo(ErrorCode.P | ErrorCode.WR | ErrorCode.US);
        HvStep sup = run(m, K, write(0x6000, 1));
        assertThat(sup.outcome().exited()).as("a supervisor write-protection fault exits").isTrue();
        assertThat(((VcpuOutcome.Injected) sup.outcome()).rule()).isEqualTo("PTW-1");
    }

    @Test
    @DisplayName("MX-3: MOV to CR3 exits in direct mode; a validated L4 is loaded, a foreign frame → #GP and nothing changes")
    void movToCr3Validated() {
        XenMachine m = machine();
        HvStep ok = run(m, K, new GuestInstruction.MovToCr(3, L4 << 12, 0));
        outcome(ok, VcpuOutcome.Resumed.class);
        assertThat(ok.machine().vcpu(K).vmcs().guest().cpu().cr3().pml4Frame()).isEqualTo(L4);
        HvStep bad = run(m, K, new GuestInstruction.MovToCr(3, 0x30L << 12, 0));
        VcpuOutcome.Injected gp = outcome(bad, VcpuOutcome.Injected.class);
        assertThat(gp.vector()).isEqualTo(13);
        assertThat(gp.rule()).isEqualTo("MX-3");
        assertThat(bad.machine().frames()).isEqualTo(m.frames());
        assertThat(bad.machine().guestTables()).isEqualTo(m.guestTables());
    }

    @Test
    @DisplayName("MISC-1: CR0.WP is host-owned: the guest clears it without effect, setting it exits and updates the shadow")
    void wpStaysSet() {
        XenMachine m = machine();
        long cr0 = m.vcpu(K).vmcs().guest().cpu().cr0().bits() & ~(1L << 16);
        HvStep clear = run(m, K, new GuestInstruction.MovToCr(0, cr0, 0));
        assertThat(clear.outcome().exited()).as("WP = 0 equals the read shadow: no exit").isFalse();
        assertThat(clear.machine().processor().machine().cpu().cr0().wp()).as("hardware WP kept").isTrue();
        HvStep set = run(clear.machine(), K, new GuestInstruction.MovToCr(0, cr0 | (1L << 16), 0));
        assertThat(outcome(set, VcpuOutcome.Resumed.class).rule()).isEqualTo("MISC-1");
        assertThat(set.machine().vcpu(K).vmcs().controls().cr0ReadShadow()).isEqualTo(1L << 16);
        HvStep read = run(set.machine(), K, new GuestInstruction.MovFromCr(0, 0));
        assertThat(((VcpuOutcome.Retired) read.outcome()).value() & (1L << 16)).isNotZero();
        HvStep again = run(read.machine(), K, new GuestInstruction.MovToCr(0, cr0, 0));
        outcome(again, VcpuOutcome.Resumed.class);
        assertThat(again.machine().vcpu(K).vmcs().guest().cpu().cr0().wp()).as("forced to 1").isTrue();
        HvStep readBack = run(again.machine(), K, new GuestInstruction.MovFromCr(0, 0));
        assertThat(((VcpuOutcome.Retired) readBack.outcome()).value() & (1L << 16)).isZero();
    }

    @Test
    @DisplayName("HLT blocks the vCPU; IN from an intercepted port reads all ones; RDMSR of the hypercall MSR → #GP")
    void minimalHandlers() {
        XenMachine m = machine();
        HvStep hlt = run(m, K, new GuestInstruction.Hlt());
        outcome(hlt, VcpuOutcome.Blocked.class);
        assertThat(hlt.machine().vcpu(K).blocked()).isTrue();
        assertThat(run(hlt.machine(), K, read(0x5000)).outcome()).isInstanceOf(VcpuOutcome.Blocked.class);
        HvStep in = run(m, H, new GuestInstruction.Io(0x2F8, 1, true, false, false, true, 0));
        assertThat(outcome(in, VcpuOutcome.Resumed.class).value()).isEqualTo(0xFF);
        VcpuOutcome.Injected gp = outcome(run(m, K, new GuestInstruction.Rdmsr(0x40000000L)),
                VcpuOutcome.Injected.class);
        assertThat(gp.reason()).isEqualTo(ExitReason.MSR_READ);
        assertThat(gp.vector()).isEqualTo(13);
    }

    @Test
    @DisplayName("HAP: the guest's tables work through the EPT; a gfn outside the p2m is an EPT violation and a guest error value")
    void hapEptViolation() {
        XenMachine m = machine();
        HvStep ok = run(m, H, read(0x4000));
        outcome(ok, VcpuOutcome.Retired.class);
        HvStep bad = run(ok.machine(), H, read(0x5000));
        VcpuOutcome.GuestError e = outcome(bad, VcpuOutcome.GuestError.class);
        assertThat(e.reason()).isEqualTo(ExitReason.EPT_VIOLATION);
        assertThat(e.guestPhysical()).isEqualTo(0x100L << 12);
        assertThat(e.why()).contains("not in the p2m");
        HvStep pf = run(bad.machine(), H, read(0x9000));
        assertThat(pf.outcome()).as("#PF never exits in HAP mode").isInstanceOf(VcpuOutcome.Delivered.class);
    }

    @Test
    @DisplayName("Switching vCPUs preempts the running one (timer exit) and resumes it later with VMRESUME")
    void switching() {
        XenMachine m = machine();
        HvStep a = run(m, K, read(0x5000));
        HvStep b = run(a.machine(), H, read(0x4000));
        assertThat(b.machine().current()).contains(H);
        assertThat(b.machine().vcpu(K).vmcs().exitInformation().reason()).isEqualTo(ExitReason.EXTERNAL_INTERRUPT);
        HvStep c = run(b.machine(), K, read(0x5000));
        outcome(c, VcpuOutcome.Retired.class);
        assertThat(c.machine().vcpu(K).launched()).isTrue();
    }

    @Test
    @DisplayName("TLB-6: an INVLPG exit invalidates the page for the vCPU's VPID; a non-canonical address is dropped")
    void invlpgExitCanonicalOnly() {
        XenMachine m = machine();
        TlbEntry e = TlbEntry.linear(new org.hybridv.x86.TlbTag(1, org.hybridv.x86.TlbTag.NO_EPT), 0, false, 0x5000,
                org.hybridv.x86.PageSize.SIZE_4K, DATA_RW << 12, new org.hybridv.x86.Rights(true, false, false, 0),
                false);
        XenMachine cached = m.withProcessor(m.processor().withMachine(m.processor().machine()
                .withTlb(m.processor().machine().tlb().fill(e))));
        HvStep bad = Hypervisor.handle(cached, K, ExitInformation.of(ExitReason.INVLPG, 0x0000_8000_0000_5000L),
                new GuestInstruction.Invlpg(0x0000_8000_0000_5000L), Hypercall.of(0));
        assertThat(outcome(bad, VcpuOutcome.Resumed.class).rule()).isEqualTo("TLB-6");
        assertThat(entriesOf(bad.machine(), 1)).hasSize(1);
        HvStep ok = Hypervisor.handle(cached, K, ExitInformation.of(ExitReason.INVLPG, 0x5000),
                new GuestInstruction.Invlpg(0x5000), Hypercall.of(0));
        assertThat(entriesOf(ok.machine(), 1)).isEmpty();
    }
}
