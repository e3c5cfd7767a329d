package org.hybridv.invariants;

import static org.assertj.core.api.Assertions.assertThat;

import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.Vmcs;
import org.hybridv.x86.Access;
import org.hybridv.x86.Entry;
import org.hybridv.x86.ErrorCode;
import org.hybridv.xen.HvStep;
import org.hybridv.xen.Hypercall;
import org.hybridv.xen.Hypervisor;
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
}
