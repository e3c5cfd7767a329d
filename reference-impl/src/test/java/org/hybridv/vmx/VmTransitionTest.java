package org.hybridv.vmx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.vmx.VmxFixture.*;

import org.hybridv.x86.Cr0;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Efer;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.TlbTag;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A VM entry followed by a VM exit: the guest state is saved exactly (Intel SDM Vol. 3C §27.3), the host state is
 * loaded (§27.5), and CR2 — which is in neither area — keeps its value across both transitions.
 */
class VmTransitionTest {
    /** A guest with every modelled field away from its default. */
    private static CpuState distinctiveGuest(long cr2) {
        CpuState g = guest();
        return g.withCr0(new Cr0(true, true, true))
                .withCr4(g.cr4().withPge(true).withSmep(true).withSmap(true))
                .withEfer(new Efer(true, true))
                .withAc(true)
                .withCpl(3)
                .withCr2(cr2);
    }

    @Test
    @DisplayName("SDM 26.3.2 + 27.3: entry then an exit with no guest change leaves the VMCS guest-state area exactly as it was")
    void roundTripPreservesTheGuestStateExactly() {
        long cr2 = 0xDEAD_B000L;
        // The hypervisor keeps the guest's CR2 in the processor register itself (VM entry does not load it), so the
        // processor's CR2 at entry is the guest's.
        Vmcs before = vmcs(vpid(3), distinctiveGuest(cr2));
        VmxProcessor p = root(plainWords(), before, TlbPolicy.ADVERSARIAL, cr2);
        VmxProcessor after = exitByCpuid(enter(p, false));
        assertThat(after.vmcs().guest()).as("guest-state area after the exit").isEqualTo(before.guest());
        assertThat(after.vmcs().controls()).isEqualTo(before.controls());
        assertThat(after.vmcs().host()).isEqualTo(before.host());
    }

    @Test
    @DisplayName("SDM 27.5.1: a VM exit loads CR0, CR3, CR4, EFER and CPL 0 from the host-state area and returns to root operation")
    void exitLoadsTheHostState() {
        long cr2 = 0x1234_5000L;
        VmxProcessor p = root(plainWords(), vmcs(ExecutionControls.none(), distinctiveGuest(0)),
                TlbPolicy.ADVERSARIAL, cr2);
        VmxProcessor in = enter(p, false);
        assertThat(in.machine().cpu().cpl()).isEqualTo(3);
        VmxProcessor out = exitByCpuid(in);
        assertThat(out.mode()).isEqualTo(VmxMode.ROOT);
        CpuState h = out.machine().cpu();
        assertThat(h.cr3().bits()).as("host CR3").isEqualTo(0x14000L);
        assertThat(h.cpl()).isZero();
        assertThat(h.cr0()).isEqualTo(new Cr0(true, false, true));
        assertThat(h.cr4().smep()).isFalse();
        assertThat(h.efer()).isEqualTo(new Efer(true, false));
        assertThat(h).isEqualTo(host().withCr2(cr2));
        assertThat(out.machine().tlbTag()).as("root operation uses VPID 0000H, no EPT (SDM 28.1)")
                .isEqualTo(TlbTag.NATIVE);
    }

    @Test
    @DisplayName("SDM 27.3.1: the exit saves the guest's current control registers, not those it was entered with")
    void exitSavesWhatTheGuestChanged() {
        VmxProcessor in = launched(plainWords(), ExecutionControls.none(), guest(), TlbPolicy.NONE);
        GuestStep mov = run(in, new GuestInstruction.MovToCr(3, 0x5000L, 0));
        assertThat(retired(mov)).isEqualTo(0x5000L);
        VmxProcessor out = exitByCpuid(mov.processor());
        assertThat(out.vmcs().guest().cpu().cr3().bits()).isEqualTo(0x5000L);
        assertThat(out.vmcs().guest().rip()).as("RIP is carried as an opaque value").isEqualTo(GUEST_RIP);
    }

    @Test
    @DisplayName("SDM 26.3.2.1, 27.5.1: neither VM entry nor VM exit loads CR2; a #PF delivered in the guest is seen by the host")
    void cr2IsKeptAcrossTransitions() {
        long hostCr2 = 0xAAAA_0000L;
        // The VMCS guest state carries another CR2 value: entry must not load it (CR2 is not in the guest-state area).
        Vmcs v = vmcs(vpid(1), guest().withCr2(0x5555_0000L));
        VmxProcessor in = enter(root(plainWords(), v, TlbPolicy.NONE, hostCr2), false);
        assertThat(in.machine().cpu().cr2()).as("guest CR2 after entry").isEqualTo(hostCr2);

        VmxProcessor out = exitByCpuid(in);
        assertThat(out.machine().cpu().cr2()).as("host CR2 after an exit without #PF").isEqualTo(hostCr2);
        assertThat(out.vmcs().guest().cpu().cr2()).isEqualTo(hostCr2);

        // A #PF delivered to the guest (exception bitmap 0) loads CR2 with the linear address (Vol. 3A §6.15) ...
        Vmcs v2 = vmcs(vpid(1), guest());
        java.util.Map<Long, Long> words = plainWords();
        words.put(PTE_AT, 0L);
        VmxProcessor in2 = enter(root(words, v2, TlbPolicy.NONE, hostCr2), false);
        GuestStep pf = read(in2, LINEAR);
        assertThat(pf.outcome()).isEqualTo(new GuestOutcome.Delivered(14, 0, true, LINEAR));
        assertThat(pf.processor().machine().cpu().cr2()).isEqualTo(LINEAR);
        // ... and the VM exit that follows leaves that value in the register for the host.
        VmxProcessor out2 = exitByCpuid(pf.processor());
        assertThat(out2.machine().cpu().cr2()).isEqualTo(LINEAR);
        VmxProcessor again = enter(out2, true);
        assertThat(again.machine().cpu().cr2()).as("and VMRESUME leaves it for the guest").isEqualTo(LINEAR);
    }
}
