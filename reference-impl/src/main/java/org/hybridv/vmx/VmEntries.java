package org.hybridv.vmx;

import org.hybridv.ept.EptSupport;
import org.hybridv.ept.Eptp;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Hex;
import org.hybridv.x86.TlbTag;
import org.hybridv.x86.X86Machine;

/**
 * VM entries: VMLAUNCH and VMRESUME (Intel SDM Vol. 3C chapter 26), with the subset of checks this reference needs.
 */
public final class VmEntries {
    /** VM-instruction error 4: VMLAUNCH with non-clear VMCS (SDM §30.4). */
    public static final int VMLAUNCH_NON_CLEAR = 4;
    /** VM-instruction error 5: VMRESUME with non-launched VMCS. */
    public static final int VMRESUME_NON_LAUNCHED = 5;
    /** VM-instruction error 7: VM entry with invalid control field(s). */
    public static final int INVALID_CONTROLS = 7;
    /** VM-instruction error 8: VM entry with invalid host-state field(s). */
    public static final int INVALID_HOST_STATE = 8;

    private VmEntries() {}

    /**
     * VMLAUNCH ({@code resume} = false) or VMRESUME. In order (SDM 26.1, 26.2, 26.3):
     * <ol>
     * <li>the launch state: VMLAUNCH needs a clear VMCS, VMRESUME a launched one (VMfailValid 4 / 5);</li>
     * <li>the VM-execution control fields ({@link #controlCheck}, VMfailValid 7);</li>
     * <li>the host-state area ({@link #hostStateCheck}, VMfailValid 8);</li>
     * <li>the guest-state area ({@link #guestStateCheck}); a failure is a VM-entry failure: an exit with basic reason 33
     * and bit 31 set, loading host state (§26.7);</li>
     * <li>then the guest state is loaded (§26.3.2) and translations are tagged with the VMCS VPID (if "enable VPID")
     * and EP4TA (if "enable EPT"). Without VPID, the entry invalidates the mappings of VPID 0000H (§28.3.3.1).</li>
     * </ol>
     */
    public static EntryStep enter(VmxProcessor p, boolean resume) {
        if (p.mode() != VmxMode.ROOT) {
            throw new IllegalArgumentException((resume ? "VMRESUME" : "VMLAUNCH") + " in " + p.mode()
                    + " operation (it causes a VM exit there)");
        }
        if (!resume && p.launched()) {
            return fail(p, VMLAUNCH_NON_CLEAR, "VMLAUNCH with a launched VMCS");
        }
        if (resume && !p.launched()) {
            return fail(p, VMRESUME_NON_LAUNCHED, "VMRESUME with a clear VMCS");
        }
        Vmcs vmcs = p.vmcs();
        CpuState guest = vmcs.guest().cpu();
        String control = controlCheck(vmcs.controls(), p.capabilities().eptSupport(guest.maxPhysAddr()));
        if (control != null) {
            return fail(p, INVALID_CONTROLS, control);
        }
        String host = hostStateCheck(vmcs.host());
        if (host != null) {
            return fail(p, INVALID_HOST_STATE, host);
        }
        String guestProblem = guestStateCheck(vmcs.controls(), guest);
        if (guestProblem != null) {
            ExitInformation info = new ExitInformation(ExitReason.INVALID_GUEST_STATE, true, 0, 0, 0,
                    InterruptionInfo.NONE, 0, 0);
            X86Machine m = p.machine();
            X86Machine loaded = new X86Machine(m.memory(), vmcs.host().cpu().withCr2(m.cpu().cr2())
                    .withPkru(m.cpu().pkru()), m.tlb(), TlbTag.NATIVE);
            return new EntryStep(new EntryOutcome.EntryFailed(info, guestProblem),
                    new VmxProcessor(loaded, VmxMode.ROOT, vmcs.withExitInformation(info), p.launched(),
                            p.capabilities()));
        }
        if (vmcs.controls().eptEnabled() && guest.maxPhysAddr() > 48) {
            throw new IllegalArgumentException("MAXPHYADDR = " + guest.maxPhysAddr() + " with EPT: 4-level EPT"
                    + " translates 48-bit guest-physical addresses; this reference models MAXPHYADDR <= 48 with EPT");
        }
        ExecutionControls c = vmcs.controls();
        TlbTag tag = new TlbTag(c.vpidEnabled() ? c.vpid() : 0,
                c.eptEnabled() ? new Eptp(c.eptp()).ep4ta() : TlbTag.NO_EPT);
        X86Machine m = p.machine();
        X86Machine entered = new X86Machine(m.memory(), guest.withCr2(m.cpu().cr2()).withPkru(m.cpu().pkru()), m.tlb(),
                tag);
        if (!c.vpidEnabled()) {
            entered = entered.withTlb(entered.tlb().invalidateVpid(0));
        }
        return new EntryStep(new EntryOutcome.Entered(), new VmxProcessor(entered, VmxMode.NON_ROOT, vmcs, true,
                p.capabilities()));
    }

    /**
     * Checks on VM-execution control fields (SDM 26.2.1.1), those this reference models: "The CR3-target count must
     * not be greater than 4"; with "activate secondary controls": "If the 'enable VPID' VM-execution control is 1,
     * the value of the VPID VM-execution control field must not be 0000H"; "If the 'enable EPT' VM-execution control
     * is 1, the EPTP VM-execution control field … must satisfy" the EPTP checks ({@link Eptp#vmEntryCheck}); "If the
     * 'unrestricted guest' VM-execution control is 1, the 'enable EPT' VM-execution control must also be 1."
     *
     * @return null if the controls pass, otherwise the reason
     */
    public static String controlCheck(ExecutionControls c, int maxPhysAddr) {
        return controlCheck(c, EptSupport.full(maxPhysAddr));
    }

    /** {@link #controlCheck(ExecutionControls, int)} on a processor with EPT support {@code support}. */
    public static String controlCheck(ExecutionControls c, EptSupport support) {
        if (c.cr3TargetValues().size() > ExecutionControls.MAX_CR3_TARGETS) {
            return "CR3-target count " + c.cr3TargetValues().size() + " is greater than 4";
        }
        SecondaryControls s = c.effectiveSecondary();
        if (s.enableVpid() && c.vpid() == 0) {
            return "enable VPID with VPID 0000H";
        }
        if (s.enableEpt()) {
            String eptp = new Eptp(c.eptp()).vmEntryCheck(support);
            if (eptp != null) {
                return "enable EPT with an invalid EPTP " + Hex.of(c.eptp()) + ": " + eptp;
            }
        }
        if (s.unrestrictedGuest() && !s.enableEpt()) {
            return "unrestricted guest without enable EPT";
        }
        return null;
    }

    /**
     * Checks on the host-state area (SDM 26.2.2), as far as modelled: the host runs with paging in IA-32e mode
     * (a 64-bit hypervisor: "host address-space size" = 1 requires CR4.PAE = 1, and CR0.PE = PG = 1 are fixed bits).
     */
    public static String hostStateCheck(HostState host) {
        CpuState h = host.cpu();
        if (!h.cr0().pe() || !h.cr0().pg()) {
            return "host CR0.PE/PG must be 1 (IA32_VMX_CR0_FIXED0)";
        }
        if (!h.ia32eMode()) {
            return "host must be in IA-32e mode (host address-space size = 1)";
        }
        return null;
    }

    /**
     * Checks on the guest-state area (SDM 26.3.1.1), as far as modelled: CR0 must respect IA32_VMX_CR0_FIXED0, which
     * fixes PE and PG to 1, except that "if the 'unrestricted guest' VM-execution control is 1, bits 0 and 31 … are
     * not checked"; and "if bit 31 in the CR0 field (corresponding to PG) is 1, bit 0 in that field (PE) must also be
     * 1" (always true of a {@link CpuState}).
     */
    public static String guestStateCheck(ExecutionControls c, CpuState guest) {
        if (!c.effectiveSecondary().unrestrictedGuest() && !(guest.cr0().pe() && guest.cr0().pg())) {
            return "guest CR0.PE = " + (guest.cr0().pe() ? 1 : 0) + ", PG = " + (guest.cr0().pg() ? 1 : 0)
                    + " without unrestricted guest (IA32_VMX_CR0_FIXED0)";
        }
        return null;
    }

    private static EntryStep fail(VmxProcessor p, int error, String reason) {
        return new EntryStep(new EntryOutcome.VmFailValid(error, reason), p);
    }
}
