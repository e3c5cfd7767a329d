package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hybridv.xen.SwitchMmuTest.D1;
import static org.hybridv.xen.SwitchMmuTest.D2;
import static org.hybridv.xen.SwitchMmuTest.K;
import static org.hybridv.xen.SwitchMmuTest.ROOT;
import static org.hybridv.xen.SwitchMmuTest.U;

import org.hybridv.invariants.SafeSwitch;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.GuestState;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.ErrorCode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Mutants of an accepted SWITCH_MMU against I5. {@code SafeSwitch} states the direct-mode controls and the
 * root's owner and type from the rules (CTL-1, CTL-3, MISC-1, POST-1) instead of comparing them with
 * {@code VmcsSetup.direct}; so a slip in the setup, which used to change the oracle along with the outcome, is now
 * reported. Each test builds the outcome of a switch of {@link SwitchMmuTest}'s machine with one slip, shows from the
 * SDM or the rule why it is one, and checks that {@link SafeSwitch#accepted} reports the clause {@code I5-post}; the
 * reference's own switch holds.
 */
class SwitchMmuMutantsTest {

    /**
     * SDM Vol. 3C 25.2: a #PF with error code {@code pfec} causes a VM exit iff "(PFEC AND PFEC_MASK) = PFEC_MATCH"
     * agrees with exception-bitmap bit 14 (equal and bit 14 set, or unequal and bit 14 clear).
     */
    static boolean pageFaultExits(ExecutionControls c, int pfec) {
        boolean bit14 = ((c.exceptionBitmap() >>> 14) & 1) != 0;
        return ((pfec & c.pfecMask()) == c.pfecMatch()) == bit14;
    }

    static HvStep switchOf(XenMachine pre) {
        HvStep st = Hypervisor.hypercall(pre, K, Hypercall.switchMmu(ROOT));
        assertThat(st.outcome()).as(st.outcome().toString()).isInstanceOf(VcpuOutcome.HypercallDone.class);
        return st;
    }

    @Test
    @DisplayName("the reference's switch: I5-post and I5-view hold")
    void referenceHolds() {
        XenMachine pre = SwitchMmuTest.ready();
        XenMachine post = switchOf(pre).machine();
        assertThat(SafeSwitch.accepted(pre, post, K, ROOT, post).toString()).isEqualTo("holds");
        // CTL-1 / PTW-1: after the switch a supervisor write to a present read-only page (a page-table write to
        // emulate) exits, a user write fault does not
        ExecutionControls c = post.vcpu(K).vmcs().controls();
        assertThat(pageFaultExits(c, ErrorCode.P | ErrorCode.WR)).isTrue();
        assertThat(pageFaultExits(c, ErrorCode.P | ErrorCode.WR | ErrorCode.US)).isFalse();
    }

    @Test
    @DisplayName("slip pfec-supervisor-write-bypass: the supervisor write fault does not exit after the switch → I5-post")
    void pfecSupervisorWriteBypass() {
        XenMachine pre = SwitchMmuTest.ready().withFaults(Faults.of(Fault.PFEC_SUPERVISOR_WRITE_BYPASS));
        XenMachine post = switchOf(pre).machine();
        ExecutionControls c = post.vcpu(K).vmcs().controls();
        // the slip, by SDM 25.2: the page-table write Xen must emulate (PTW-1) goes to the guest
        assertThat(pageFaultExits(c, ErrorCode.P | ErrorCode.WR)).as("supervisor write fault exits").isFalse();
        assertThat(SafeSwitch.accepted(pre, post, K, ROOT, post).toString()).startsWith("I5-post")
                .contains(K.toString(), "#PF filter", "MASK P|W|U, MATCH P|W");
    }

    @Test
    @DisplayName("slip CR0.WP guest-owned after the switch: the guest could clear WP and write its tables → I5-post")
    void wpNotHostOwned() {
        XenMachine pre = SwitchMmuTest.ready();
        XenMachine post = switchOf(pre).machine();
        Vcpu v = post.vcpu(K);
        ExecutionControls c = v.vmcs().controls();
        long wp = 1L << Cr0.WP_BIT;
        assertThat(c.cr0GuestHostMask() & wp).as("MISC-1 in the reference").isEqualTo(wp);
        XenMachine mutant = post.withVcpu(v.withVmcs(v.vmcs().withControls(
                c.withCr0Ownership(c.cr0GuestHostMask() & ~wp, c.cr0ReadShadow() & ~wp))));
        assertThat(SafeSwitch.accepted(pre, mutant, K, ROOT, mutant).toString()).startsWith("I5-post")
                .contains("CR0.WP is not host-owned and forced to 1");
    }

    @Test
    @DisplayName("slip CR0.WP forced only on the caller: the other vCPU runs the direct tables with WP = 0 → I5-post")
    void wpNotForcedOnTheOtherVcpu() {
        XenMachine pre = SwitchMmuTest.ready();
        XenMachine post = switchOf(pre).machine();
        Vcpu v = post.vcpu(U);
        CpuState g = v.vmcs().guest().cpu();
        assertThat(g.cr0().wp()).as("MISC-1 in the reference").isTrue();
        XenMachine mutant = post.withVcpu(v.withVmcs(v.vmcs().withGuest(new GuestState(g.withCr0(g.cr0().withWp(false)),
                v.vmcs().guest().rip()))));
        assertThat(SafeSwitch.accepted(pre, mutant, K, ROOT, mutant).toString()).startsWith("I5-post")
                .contains(U.toString(), "CR0.WP");
    }

    @Test
    @DisplayName("slip root of another domain: the vCPUs run on an L4 d2 owns → I5-post (POST-1, PRE-2)")
    void rootOwnedByAnotherDomain() {
        XenMachine pre = SwitchMmuTest.ready();
        XenMachine post = switchOf(pre).machine();
        FrameInfo root = post.frames().get(ROOT);
        assertThat(root.owner()).isEqualTo(D1);
        // the state a switch that accepted a root of d2 leaves behind: the same tables, the root d2's
        XenMachine mutant = post.withPaging(post.paging().withFrame(ROOT, root.withOwner(D2)));
        assertThat(SafeSwitch.accepted(pre, mutant, K, ROOT, mutant).toString()).startsWith("I5-post")
                .contains("POST-1 wants a frame of d1 in use as a validated L4");
    }
}
