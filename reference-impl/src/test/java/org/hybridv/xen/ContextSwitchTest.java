package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.Hv.H;
import static org.hybridv.xen.Hv.K;

import org.hybridv.vmx.GuestInstruction;
import org.hybridv.vmx.GuestState;
import org.hybridv.x86.Access;
import org.hybridv.x86.CpuState;
import org.junit.jupiter.api.Test;

/**
 * Xen rule CTX-1: CR2 and PKRU are no VMCS fields (Intel SDM Vol. 3C §24.4.1) and VM entries and exits leave them
 * alone, so the hypervisor switches them itself when a pCPU goes from one vCPU to another; and WRPKRU/RDPKRU in the
 * guest (SDM Vol. 2D WRPKRU, Vol. 2B RDPKRU), which never exit. Expectations come from those sentences: the value a
 * guest reads back is the one it wrote, whatever ran on its pCPU in between.
 */
class ContextSwitchTest {
    static final long UNMAPPED_D1 = 0x7000; // d1's L1 has no entry 7: a not-present #PF, delivered in the guest
    static final long UNMAPPED_D2 = 0x6000; // d2's L1 has no entry 6

    /** {@code m} with CR4.PKE {@code on} in vCPU {@code v}'s guest state. */
    static XenMachine pke(XenMachine m, VcpuId v, boolean on) {
        Vcpu x = m.vcpu(v);
        GuestState g = x.vmcs().guest();
        CpuState c = g.cpu().withCr4(g.cpu().cr4().withPke(on));
        return m.withVcpu(x.withVmcs(x.vmcs().withGuest(new GuestState(c, g.rip()))));
    }

    static XenMachine machine(int pcpus) {
        return pke(pke(Hv.machine(Faults.NONE, pcpus), K, true), H, true);
    }

    static HvStep run(XenMachine m, VcpuId v, GuestInstruction i) {
        return Hypervisor.run(m, v, i);
    }

    static long rdpkru(XenMachine m, VcpuId v) {
        VcpuOutcome o = run(m, v, new GuestInstruction.Rdpkru(0)).outcome();
        assertThat(o).as("RDPKRU with CR4.PKE = 1 and ECX = 0 retires").isInstanceOf(VcpuOutcome.Retired.class);
        return ((VcpuOutcome.Retired) o).value();
    }

    @Test
    void eachGuestReadsBackThePkruItWroteAfterAnotherGuestRanOnItsPcpu() {
        XenMachine m = machine(1);
        HvStep s = run(m, K, new GuestInstruction.Wrpkru(0xC, 0, 0));
        assertThat(s.outcome()).isEqualTo(new VcpuOutcome.Retired(0xC));
        assertThat(s.vmExits()).as("WRPKRU causes no VM exit").isZero();
        m = s.machine();
        assertThat(m.pcpu(0).cpu().pkru()).as("WRPKRU writes the live register").isEqualTo(0xC);
        m = run(m, H, new GuestInstruction.Wrpkru(0x4, 0, 0)).machine();
        assertThat(m.pcpu(0).cpu().pkru()).isEqualTo(0x4);
        assertThat(m.guestCpu(K).pkru()).as("K's PKRU saved when the pCPU went to H").isEqualTo(0xC);
        assertThat(rdpkru(m, K)).as("K's own PKRU, not H's").isEqualTo(0xC);
        assertThat(rdpkru(run(m, K, new GuestInstruction.Hlt()).machine(), H)).isEqualTo(0x4);
    }

    @Test
    void eachGuestKeepsTheCr2OfItsOwnLastPageFault() {
        XenMachine m = machine(1);
        HvStep s = run(m, K, new GuestInstruction.MemoryAccess(Access.read(UNMAPPED_D1)));
        assertThat(s.outcome()).isInstanceOf(VcpuOutcome.Delivered.class);
        m = s.machine();
        s = run(m, H, new GuestInstruction.MemoryAccess(Access.read(UNMAPPED_D2)));
        assertThat(s.outcome()).isInstanceOf(VcpuOutcome.Delivered.class);
        m = s.machine();
        assertThat(m.pcpu(0).cpu().cr2()).as("H's fault address while H is current").isEqualTo(UNMAPPED_D2);
        assertThat(m.guestCpu(K).cr2()).as("K's saved CR2").isEqualTo(UNMAPPED_D1);
        m = run(m, K, new GuestInstruction.Rdpkru(0)).machine();
        assertThat(m.pcpu(0).cpu().cr2()).as("K runs with its own CR2 again").isEqualTo(UNMAPPED_D1);
        assertThat(m.guestCpu(H).cr2()).isEqualTo(UNMAPPED_D2);
    }

    @Test
    void aMigratedGuestTakesItsPkruAndCr2ToTheOtherPcpu() {
        XenMachine m = machine(2);
        m = run(m, K, new GuestInstruction.Wrpkru(0x30, 0, 0)).machine();
        m = run(m, K, new GuestInstruction.MemoryAccess(Access.read(UNMAPPED_D1))).machine();
        m = Hypervisor.schedule(m, K, 1);
        assertThat(m.current(0)).as("MIG-1: pCPU 0 has no current VMCS after the VMCLEAR").isEmpty();
        m = run(m, H, new GuestInstruction.Wrpkru(0x3, 0, 0)).machine();
        assertThat(rdpkru(m, K)).isEqualTo(0x30);
        assertThat(run(m, K, new GuestInstruction.Rdpkru(0)).machine().pcpu(1).cpu().cr2()).isEqualTo(UNMAPPED_D1);
    }

    @Test
    void wrpkruAndRdpkruFaultAsTheInstructionReferenceSays() {
        XenMachine m = pke(machine(1), K, false);
        // "#UD If CR4.PKE = 0."
        assertThat(vector(run(m, K, new GuestInstruction.Wrpkru(0, 0, 0)).outcome())).isEqualTo(6);
        assertThat(vector(run(m, K, new GuestInstruction.Rdpkru(0)).outcome())).isEqualTo(6);
        m = machine(1);
        // WRPKRU: "ECX and EDX must be 0 [...]; otherwise, a general-protection exception (#GP) occurs"
        assertThat(vector(run(m, K, new GuestInstruction.Wrpkru(0, 1, 0)).outcome())).isEqualTo(13);
        assertThat(vector(run(m, K, new GuestInstruction.Wrpkru(0, 0, 1)).outcome())).isEqualTo(13);
        // RDPKRU: "#GP(0) If ECX ≠ 0"
        assertThat(vector(run(m, K, new GuestInstruction.Rdpkru(1)).outcome())).isEqualTo(13);
        HvStep s = run(m, K, new GuestInstruction.Wrpkru(0x1_0000_000CL, 0, 0));
        assertThat(s.machine().pcpu(0).cpu().pkru()).as("EAX: bits 31:0 of RAX").isEqualTo(0xC);
        assertThat(s.machine().pcpu(0).tlb()).as("WRPKRU invalidates nothing")
                .isEqualTo(run(m, K, new GuestInstruction.Rdpkru(0)).machine().pcpu(0).tlb());
    }

    static int vector(VcpuOutcome o) {
        if (o instanceof VcpuOutcome.Delivered d) {
            return d.vector();
        }
        if (o instanceof VcpuOutcome.Injected i) {
            return i.vector();
        }
        throw new AssertionError("no exception: " + o);
    }
}
