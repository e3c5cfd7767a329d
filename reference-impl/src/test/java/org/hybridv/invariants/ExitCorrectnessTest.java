package org.hybridv.invariants;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.TreeMap;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.Vmcs;
import org.hybridv.x86.Access;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Entry;
import org.hybridv.x86.ErrorCode;
import org.hybridv.xen.Domains;
import org.hybridv.xen.HvResult;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypervisor;
import org.hybridv.xen.MmuMode;
import org.hybridv.xen.Vcpu;
import org.hybridv.xen.VcpuId;
import org.hybridv.xen.VcpuOutcome;
import org.hybridv.xen.XenMachine;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** I7 exit correctness on steps of the hypervisor and on planted bad steps (IsolationTest's machine). */
class ExitCorrectnessTest {
    static final VcpuId K = new VcpuId(1, 0);
    static final GuestInstruction WRITE_RO = new GuestInstruction.MemoryAccess(Access.write(0x2000, 1));

    /** d1 with data frame 0x15 mapped read-only at 0x2000: a supervisor write there exits (P|W) and is reflected. */
    static XenMachine machine() {
        XenMachine m = IsolationTest.machine();
        return m.withPaging(m.paging().write(0x13, 2, Entry.table(0x15, false, false)));
    }

    @Test
    @DisplayName("I7 holds: CPUID, a hypercall, a non-exiting access and a reflected #PF")
    void holdsOnCorrectSteps() {
        XenMachine m = machine();
        for (GuestInstruction insn : new GuestInstruction[] {new GuestInstruction.Cpuid(0, 0),
                new GuestInstruction.MemoryAccess(Access.read(0x1000)),
                new GuestInstruction.MemoryAccess(Access.read(0x7000)), WRITE_RO}) {
            HvStep s = Hypervisor.run(m, K, insn);
            assertThat(ExitCorrectness.check(m, K, insn, s).toString()).as("%s → %s", insn, s.outcome())
                    .isEqualTo("holds");
            m = s.machine();
        }
        HvStep h = Hypervisor.hypercall(m, K, Hypercall.mmuextOp(6, 0));
        assertThat(ExitCorrectness.check(m, K, new GuestInstruction.Vmcall(), h).toString()).isEqualTo("holds");
    }

    @Test
    @DisplayName("I7 planted: a reflected #PF with the wrong error code is named with both error codes")
    void wrongInjectedErrorCode() {
        XenMachine m = machine();
        HvStep s = Hypervisor.run(m, K, WRITE_RO);
        VcpuOutcome.Injected inj = (VcpuOutcome.Injected) s.outcome();
        assertThat(inj.errorCode()).isEqualTo(ErrorCode.P | ErrorCode.WR);
        HvStep bad = new HvStep(new VcpuOutcome.Injected(inj.reason(), inj.vector(), ErrorCode.P, true, inj.cr2(),
                inj.rule(), inj.why()), s.machine());
        InvariantResult r = ExitCorrectness.check(m, K, WRITE_RO, bad);
        assertThat(r.toString()).startsWith("I7-reflect").contains("d1", "0x2000", "injected error code",
                new ErrorCode(ErrorCode.P).toString(), new ErrorCode(ErrorCode.P | ErrorCode.WR).toString());
    }

    @Test
    @DisplayName("I7 planted: an exit the controls did not demand (#PF bit cleared, filter 0/0) is named with the controls")
    void exitNotDemanded() {
        XenMachine m = machine();
        HvStep s = Hypervisor.run(m, K, WRITE_RO);
        Vcpu v = m.vcpu(K);
        Vmcs vmcs = v.vmcs();
        XenMachine pre = m.withVcpu(v.withVmcs(vmcs.withControls(vmcs.controls().withExceptionControls(0, 0, 0))));
        InvariantResult r = ExitCorrectness.check(pre, K, WRITE_RO, s);
        assertThat(r.toString()).startsWith("I7-demanded").contains("EXCEPTION_OR_NMI", "vector 14",
                "delivered in the guest");
    }

    @Test
    @DisplayName("I7 planted: the handler clobbers CR2 on a non-#PF exit")
    void cr2Clobbered() {
        XenMachine m = machine();
        GuestInstruction cpuid = new GuestInstruction.Cpuid(0, 0);
        HvStep s = Hypervisor.run(m, K, cpuid);
        XenMachine post = s.machine();
        var x = post.processor().machine();
        HvStep bad = new HvStep(s.outcome(), post.withProcessor(post.processor().withMachine(x.withCpu(x.cpu()
                .withCr2(0xdead000)))));
        assertThat(ExitCorrectness.check(m, K, cpuid, bad).toString()).startsWith("I7-state").contains("CR2",
                "0xdead000");
    }

    @Test
    @DisplayName("I7-filter planted: controls that let a user write fault (P|W|U) exit in direct mode")
    void userFaultExitsAgainstTheHybridFilter() {
        XenMachine m = machine();
        VcpuId u = K;
        Vcpu v = m.vcpu(u);
        Vmcs vmcs = v.vmcs();
        XenMachine loose = m.withVcpu(v.withVmcs(vmcs.withControls(vmcs.controls().withExceptionControls(
                vmcs.controls().exceptionBitmap(), ErrorCode.P | ErrorCode.WR, ErrorCode.P | ErrorCode.WR))
                .withGuest(new org.hybridv.vmx.GuestState(vmcs.guest().cpu().withCpl(3), vmcs.guest().rip()))));
        GuestInstruction userWrite = new GuestInstruction.MemoryAccess(Access.write(0x2000, 1));
        HvStep s = Hypervisor.run(loose, u, userWrite);
        assertThat(s.outcome().exited()).isTrue();
        assertThat(ExitCorrectness.check(loose, u, userWrite, s).toString()).startsWith("I7-filter").contains(
                "P|W|U", "0x2000", "hybrid");
    }

    /**
     * A shadow-mode d3 (ShadowPagingProperties' machine): frames 0x40–0x4f, p2m gfn g → 0x40 + g; L4 gfn 0 → 1 → 2 →
     * L1 gfn 3, which maps gfn 4 RW user at 0x4000, gfn 5 read-only user at 0x5000, itself RW supervisor at 0x6000
     * and gfn 0x100 (not RAM) at 0x8000. v0 (VPID 5) at CPL 0, v1 (VPID 6) at CPL 3.
     */
    static XenMachine shadowMachine() {
        XenMachine m = XenMachine.boot(96, Domains.range(0x1, 0xf));
        Map<Long, Long> p2m = new TreeMap<>();
        for (long g = 0; g < 16; g++) {
            p2m.put(g, 0x40 + g);
        }
        m = done(Domains.create(m, 3, MmuMode.SHADOW, Domains.range(0x40, 0x4f), p2m));
        m = m.withPaging(m.paging().write(0x40, 0, Entry.table(1, true, true)).write(0x41, 0, Entry.table(2, true,
                true)).write(0x42, 0, Entry.table(3, true, true)).write(0x43, 4, Entry.table(4, true, true))
                .write(0x43, 5, Entry.table(5, false, true)).write(0x43, 6, Entry.table(3, true, false))
                .write(0x43, 8, Entry.table(0x100, true, true)));
        m = done(Domains.addVcpu(m, 3, 5, CpuState.longMode(0, XenMachine.MAX_PHYS_ADDR)));
        return done(Domains.addVcpu(m, 3, 6, CpuState.longMode(0, XenMachine.MAX_PHYS_ADDR).withCpl(3)));
    }

    static XenMachine done(HvResult r) {
        assertThat(r).isInstanceOf(HvResult.Done.class);
        return ((HvResult.Done) r).machine();
    }

    static final VcpuId SK = new VcpuId(3, 0);
    static final VcpuId SU = new VcpuId(3, 1);
    static final GuestInstruction USER_WRITE_RO = new GuestInstruction.MemoryAccess(Access.write(0x5000, 7));

    @Test
    @DisplayName("I7 shadow: fills, a reflected #PF, a page-table write, CR3 load, INVLPG and CPUID all hold")
    void holdsOnAShadowRun() {
        XenMachine m = shadowMachine();
        Object[][] run = {{SK, new GuestInstruction.MemoryAccess(Access.read(0x4000))},
                {SK, new GuestInstruction.MemoryAccess(Access.write(0x4000, 3))},
                {SU, new GuestInstruction.MemoryAccess(Access.read(0x5000))}, {SU, USER_WRITE_RO},
                {SU, new GuestInstruction.MemoryAccess(Access.read(0x7000))},
                {SK, new GuestInstruction.MemoryAccess(Access.write(0x6000 + 7 * 8, Entry.table(6, true, true)
                        .raw()))},
                {SK, new GuestInstruction.MemoryAccess(Access.read(0x7000))},
                {SU, new GuestInstruction.MemoryAccess(Access.read(0x6000))}, {SK, new GuestInstruction.Invlpg(0x4000)},
                {SK, new GuestInstruction.MovToCr(3, 0, 0)}, {SK, new GuestInstruction.Cpuid(0, 0)},
                {SK, new GuestInstruction.MemoryAccess(Access.read(0x8000))}};
        int injected = 0;
        for (Object[] op : run) {
            VcpuId id = (VcpuId) op[0];
            GuestInstruction insn = (GuestInstruction) op[1];
            HvStep s = Hypervisor.run(m, id, insn);
            assertThat(ExitCorrectness.check(m, id, insn, s).toString()).as("%s %s → %s", id, insn, s.outcome())
                    .isEqualTo("holds");
            assertThat(TlbCoherence.check(s.machine()).toString()).as("I6 after %s", insn).isEqualTo("holds");
            injected += s.outcome() instanceof VcpuOutcome.Injected ? 1 : 0;
            m = s.machine();
        }
        assertThat(injected).as("reflected #PFs in the run").isGreaterThanOrEqualTo(3);
    }

    @Test
    @DisplayName("I7 shadow planted: a reflected #PF with W cleared is caught against the guest walk's P|W|U")
    void shadowWrongReflectedErrorCode() {
        XenMachine m = shadowMachine();
        HvStep s = Hypervisor.run(m, SU, USER_WRITE_RO);
        VcpuOutcome.Injected inj = (VcpuOutcome.Injected) s.outcome();
        int guest = ErrorCode.P | ErrorCode.WR | ErrorCode.US;
        assertThat(inj.errorCode()).isEqualTo(guest);
        HvStep bad = new HvStep(new VcpuOutcome.Injected(inj.reason(), inj.vector(), guest & ~ErrorCode.WR, true,
                inj.cr2(), inj.rule(), inj.why()), s.machine());
        assertThat(ExitCorrectness.check(m, SU, USER_WRITE_RO, bad).toString()).startsWith("I7-shadow-reflect")
                .contains("d3", "0x5000", "guest's tables", new ErrorCode(guest).toString(),
                        new ErrorCode(guest & ~ErrorCode.WR).toString());
    }

    @Test
    @DisplayName("I7 shadow planted: a fill that clobbers the guest's CR2 is caught")
    void shadowFillClobbersCr2() {
        XenMachine m = shadowMachine();
        GuestInstruction read = new GuestInstruction.MemoryAccess(Access.read(0x4000));
        HvStep s = Hypervisor.run(m, SK, read);
        assertThat(s.outcome()).isInstanceOf(VcpuOutcome.Retired.class);
        var x = s.machine().processor().machine();
        XenMachine post = s.machine().withProcessor(s.machine().processor().withMachine(x.withCpu(x.cpu()
                .withCr2(0x4000))));
        HvStep bad = new HvStep(new VcpuOutcome.Emulated(0x4000, 0, java.util.List.of(), "SH-2"), post);
        assertThat(ExitCorrectness.check(m, SK, read, bad).toString()).startsWith("I7-state").contains("CR2");
    }

    @Test
    @DisplayName("I7 shadow planted: a shadow vCPU with the direct-mode #PF filter is caught (fills not demanded)")
    void shadowControlsNotTheDesigns() {
        XenMachine m = shadowMachine();
        Vcpu v = m.vcpu(SU);
        Vmcs vmcs = v.vmcs();
        XenMachine loose = m.withVcpu(v.withVmcs(vmcs.withControls(vmcs.controls().withExceptionControls(
                vmcs.controls().exceptionBitmap(), ErrorCode.P | ErrorCode.WR, ErrorCode.P | ErrorCode.WR))));
        HvStep s = Hypervisor.run(loose, SU, USER_WRITE_RO);
        assertThat(ExitCorrectness.check(loose, SU, USER_WRITE_RO, s).toString()).startsWith(
                "I7-shadow-controls").contains("bit 14", "PFEC");
    }
}
