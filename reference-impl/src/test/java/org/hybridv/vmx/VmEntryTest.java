package org.hybridv.vmx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.vmx.VmxFixture.*;

import org.hybridv.x86.Cr0;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.TlbTag;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * VMLAUNCH and VMRESUME, Intel SDM Vol. 3C chapter 26: the basic checks of §26.1 (in order), the checks on controls
 * and host state of §26.2 (VMfailValid 7 and 8), the guest-state checks of §26.3 (a VM-entry failure, §26.7), and a
 * successful entry.
 */
class VmEntryTest {
    private static final long HOST_CR2 = 0x7777_0000L;

    private static VmxProcessor rootWith(ExecutionControls c, CpuState guest) {
        return root(plainWords(), vmcs(c, guest), TlbPolicy.ADVERSARIAL, HOST_CR2);
    }

    private static void assertVmFailValid(EntryStep s, VmxProcessor before, int error) {
        assertThat(s.outcome()).isInstanceOf(EntryOutcome.VmFailValid.class);
        assertThat(((EntryOutcome.VmFailValid) s.outcome()).error()).as("VM-instruction error").isEqualTo(error);
        assertThat(s.processor()).as("VMfailValid leaves the processor as it was").isEqualTo(before);
        assertThat(s.processor().mode()).isEqualTo(VmxMode.ROOT);
    }

    @Test
    @DisplayName("SDM 26.1 (table 30-1): VMLAUNCH with a launched VMCS → VMfailValid, error 4")
    void vmlaunchNeedsAClearVmcs() {
        VmxProcessor launchedState = new VmxProcessor(rootWith(ExecutionControls.none(), guest()).machine(),
                VmxMode.ROOT, vmcs(ExecutionControls.none(), guest()), true);
        assertVmFailValid(VmEntries.enter(launchedState, false), launchedState, 4);
    }

    @Test
    @DisplayName("SDM 26.1 (table 30-1): VMRESUME with a clear VMCS → VMfailValid, error 5")
    void vmresumeNeedsALaunchedVmcs() {
        VmxProcessor clear = rootWith(ExecutionControls.none(), guest());
        assertVmFailValid(VmEntries.enter(clear, true), clear, 5);
    }

    @Test
    @DisplayName("SDM 26.1: the launch-state check comes before the control checks of 26.2 (error 4, not 7)")
    void launchStateIsCheckedBeforeControls() {
        ExecutionControls bad = vpid(0);
        VmxProcessor launchedState = new VmxProcessor(rootWith(bad, guest()).machine(), VmxMode.ROOT,
                vmcs(bad, guest()), true);
        assertVmFailValid(VmEntries.enter(launchedState, false), launchedState, 4);
    }

    @Test
    @DisplayName("SDM 26.2.1.1: enable VPID with VPID 0000H → VMfailValid, error 7")
    void enableVpidNeedsANonZeroVpid() {
        VmxProcessor p = rootWith(vpid(0), guest());
        assertVmFailValid(VmEntries.enter(p, false), p, 7);
        assertThat(VmEntries.enter(rootWith(vpid(1), guest()), false).outcome())
                .isInstanceOf(EntryOutcome.Entered.class);
    }

    @Test
    @DisplayName("SDM 26.2.1.1: unrestricted guest requires enable EPT → VMfailValid, error 7")
    void unrestrictedGuestNeedsEpt() {
        VmxProcessor p = rootWith(secondary(SecondaryControls.NONE.withUnrestrictedGuest(true)), guest());
        assertVmFailValid(VmEntries.enter(p, false), p, 7);
    }

    @Test
    @DisplayName("SDM 26.2.1.1 / table 24-8: enable EPT with an invalid EPTP → VMfailValid, error 7")
    void enableEptNeedsAValidEptp() {
        long[] invalid = {
            0x64016L,            // bits 5:3 = 2: walk length 3, must be 3 (length 4)
            0x64019L,            // bits 2:0 = 1 (WC): only 0 (UC) and 6 (WB) are EPT paging-structure memory types
            0x6409EL,            // bit 7 set: bits 11:7 are reserved
            0x10_0006_401EL,     // bit 36 set with MAXPHYADDR = 36: bits 63:N are reserved
            0x64026L             // bits 5:3 = 4: walk length 5
        };
        for (long eptp : invalid) {
            VmxProcessor p = rootWith(ept(eptp), guest());
            assertVmFailValid(VmEntries.enter(p, false), p, 7);
        }
        for (long eptp : new long[] {EPTP, EPTP_AD, 0x64018L /* UC */}) {
            assertThat(VmEntries.enter(rootWith(ept(eptp), guest()), false).outcome())
                    .as("EPTP 0x%x", eptp).isInstanceOf(EntryOutcome.Entered.class);
        }
    }

    @Test
    @DisplayName("SDM 24.6.2: without activate secondary controls, VPID 0, a bad EPTP and unrestricted guest are ignored")
    void secondaryControlsAreIgnoredWithoutActivateSecondaryControls() {
        SecondaryControls all = new SecondaryControls(true, true, true);
        ExecutionControls inactive = ExecutionControls.none().withSecondary(all).withVpid(0).withEptp(0x64016L);
        EntryStep s = VmEntries.enter(rootWith(inactive, guest()), false);
        assertThat(s.outcome()).as("none of the secondary checks apply").isInstanceOf(EntryOutcome.Entered.class);
        assertThat(s.processor().machine().tlbTag()).as("neither VPID nor EPT is in use: VPID 0000H, no EP4TA")
                .isEqualTo(new TlbTag(0, TlbTag.NO_EPT));

        // "unrestricted guest" does not lift the CR0.PE/PG check either: a real-mode guest fails as guest state.
        CpuState realMode = CpuState.reset(MAXPHYADDR);
        EntryStep f = VmEntries.enter(rootWith(ExecutionControls.none().withSecondary(all).withVpid(1)
                .withEptp(EPTP), realMode), false);
        assertThat(f.outcome()).isInstanceOf(EntryOutcome.EntryFailed.class);
    }

    @Test
    @DisplayName("SDM 26.2.2: a host-state area that fails its checks → VMfailValid, error 8")
    void invalidHostStateFailsWithError8() {
        Vmcs bad = new Vmcs(ExecutionControls.none(), new GuestState(guest(), GUEST_RIP),
                new HostState(CpuState.reset(MAXPHYADDR), HOST_RIP), null); // host CR0.PE = PG = 0
        VmxProcessor p = root(plainWords(), bad, TlbPolicy.ADVERSARIAL, HOST_CR2);
        assertVmFailValid(VmEntries.enter(p, false), p, 8);
    }

    @Test
    @DisplayName("SDM 26.2 before 26.3: invalid controls with an invalid guest state is VMfailValid 7, not an entry failure")
    void controlChecksComeBeforeGuestStateChecks() {
        VmxProcessor p = rootWith(vpid(0), CpuState.reset(MAXPHYADDR));
        assertVmFailValid(VmEntries.enter(p, false), p, 7);
    }

    @Test
    @DisplayName("SDM 26.3.1.1, 26.7: guest CR0.PE = PG = 0 without unrestricted guest → VM-entry failure, exit reason 33 | bit 31")
    void realModeGuestWithoutUnrestrictedGuestIsAnEntryFailure() {
        for (CpuState bad : new CpuState[] {
            CpuState.reset(MAXPHYADDR),                                     // PE = 0, PG = 0
            CpuState.reset(MAXPHYADDR).withCr0(new Cr0(true, false, false)) // PE = 1, PG = 0
        }) {
            // The VMCS host-state area names CR3 = 0x15000 (frame 21) while the processor currently runs with
            // 0x14000 and WP = 1: after the failure the processor must hold the host-state area's values.
            CpuState hostArea = CpuState.longMode(21, MAXPHYADDR);
            Vmcs v = new Vmcs(ExecutionControls.none(), new GuestState(bad, GUEST_RIP),
                    new HostState(hostArea, HOST_RIP), null);
            VmxProcessor p = root(plainWords(), v, TlbPolicy.ADVERSARIAL, HOST_CR2);
            p = p.withMachine(p.machine().withCpu(p.machine().cpu().withCr0(new Cr0(true, true, true))));
            EntryStep s = VmEntries.enter(p, false);
            assertThat(s.outcome()).isInstanceOf(EntryOutcome.EntryFailed.class);
            ExitInformation info = ((EntryOutcome.EntryFailed) s.outcome()).exit();
            assertThat(info.reason()).isEqualTo(ExitReason.INVALID_GUEST_STATE);
            assertThat(info.reason().number()).isEqualTo(33);
            assertThat(info.entryFailure()).isTrue();
            assertThat(info.exitReasonField()).as("bits 15:0 = 33, bit 31 = 1").isEqualTo(0x8000_0021);
            VmxProcessor after = s.processor();
            assertThat(after.mode()).as("the processor stays in root operation").isEqualTo(VmxMode.ROOT);
            assertThat(after.machine().cpu()).as("host state loaded (SDM 26.7 → 27.5); CR2 is not loaded")
                    .isEqualTo(hostArea.withCr2(HOST_CR2));
            assertThat(after.machine().cpu().cr3().bits()).isEqualTo(0x15000L);
            assertThat(after.machine().tlbTag()).isEqualTo(TlbTag.NATIVE);
            assertThat(after.vmcs().exitInformation()).as("recorded in the VM-exit information fields")
                    .isEqualTo(info);
            assertThat(after.vmcs().guest()).as("the guest-state area is untouched").isEqualTo(v.guest());
            assertThat(after.launched()).as("the VMCS stays clear (launch state set only on success)").isFalse();
        }
    }

    @Test
    @DisplayName("SDM 26.3.1.1: with unrestricted guest (and EPT) CR0.PE and PG are not checked: a real-mode guest enters")
    void unrestrictedGuestMayRunWithPagingOff() {
        ExecutionControls c = secondary(SecondaryControls.NONE.withEnableEpt(true).withUnrestrictedGuest(true))
                .withEptp(EPTP);
        VmxProcessor p = root(eptWords(), vmcs(c, CpuState.reset(MAXPHYADDR)), TlbPolicy.NONE, 0);
        VmxProcessor in = enter(p, false);
        assertThat(in.machine().cpu().cr0().pg()).isFalse();
        // Paging off: the linear address is the guest-physical address, translated by EPT (SDM 28.2.1):
        // GPA 0x95A8 is in guest frame 9 → host frame 0x29 → host 0x295A8.
        assertThat(retired(read(in, DATA_AT))).isEqualTo(PAGE_DATA);
    }

    @Test
    @DisplayName("SDM 26.3.2, 24.1: a successful VMLAUNCH enters non-root operation with the guest state; the VMCS is launched")
    void successfulEntryLoadsTheGuestState() {
        CpuState g = guest().withCr0(new Cr0(true, true, true)).withCpl(3).withCr2(HOST_CR2);
        VmxProcessor p = rootWith(vpid(7), g);
        EntryStep s = VmEntries.enter(p, false);
        assertThat(s.outcome()).isInstanceOf(EntryOutcome.Entered.class);
        VmxProcessor in = s.processor();
        assertThat(in.mode()).isEqualTo(VmxMode.NON_ROOT);
        assertThat(in.machine().cpu()).as("the guest's CR0, CR3, CR4, EFER, RFLAGS, CPL").isEqualTo(g);
        assertThat(in.machine().tlbTag()).as("translations are tagged with VPID 7 (SDM 28.1)")
                .isEqualTo(new TlbTag(7, TlbTag.NO_EPT));
        assertThat(in.launched()).isTrue();
        assertThat(in.machine().memory()).isEqualTo(p.machine().memory());

        VmxProcessor back = exitByCpuid(in);
        assertVmFailValid(VmEntries.enter(back, false), back, 4);
        assertThat(VmEntries.enter(back, true).outcome()).as("VMRESUME of the launched VMCS")
                .isInstanceOf(EntryOutcome.Entered.class);
    }

    @Test
    @DisplayName("SDM 26.3.2.1, 28.3.3.1: with EPT the guest's translations are tagged with the EP4TA, EPTP bits 51:12")
    void eptEntryTagsTranslationsWithTheEp4ta() {
        VmxProcessor in = enter(root(eptWords(), vmcs(ept(EPTP_AD), guest()), TlbPolicy.NONE, 0), false);
        assertThat(in.machine().tlbTag()).isEqualTo(new TlbTag(0, 0x64000L));
    }
}
