package org.hybridv.gen;

import org.hybridv.ept.Eptp;
import org.hybridv.vmx.EntryOutcome;
import org.hybridv.vmx.EntryStep;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.GuestState;
import org.hybridv.vmx.HostState;
import org.hybridv.vmx.PrimaryControls;
import org.hybridv.vmx.SecondaryControls;
import org.hybridv.vmx.VmEntries;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.vmx.Vmcs;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.X86Machine;

/**
 * Puts a generated guest under a hypervisor: a VMCS whose guest-state area is a generated CPU state, a fixed 64-bit
 * host (IA-32e paging, CPL 0, CR3 = 0), and VMLAUNCH. Not a generator itself: every decision is the caller's.
 */
public final class VmxSystems {
    /** The host's PML4 frame; the host makes no memory accesses in the properties. */
    public static final long HOST_PML4_FRAME = 0;
    public static final long GUEST_RIP = 0x1000;
    public static final long HOST_RIP = 0xFFFF_8000_0000_1000L;

    private VmxSystems() {}

    public static HostState host(int maxPhysAddr) {
        return new HostState(CpuState.longMode(HOST_PML4_FRAME, maxPhysAddr), HOST_RIP);
    }

    public static Vmcs vmcs(ExecutionControls controls, CpuState guest) {
        return new Vmcs(controls, new GuestState(guest, GUEST_RIP), host(guest.maxPhysAddr()), null);
    }

    /**
     * Root operation just before VMLAUNCH: {@code guestMachine}'s memory and TLB, the host's CPU state with the
     * guest's CR2 and PKRU in the registers (VM entry loads neither — they are not VMCS fields — so a hypervisor
     * restores them itself, e.g. with XRSTOR for PKRU), and a VMCS whose guest state is {@code guestMachine.cpu()}.
     */
    public static VmxProcessor root(X86Machine guestMachine, ExecutionControls controls) {
        CpuState guest = guestMachine.cpu();
        CpuState host = host(guest.maxPhysAddr()).cpu().withCr2(guest.cr2()).withPkru(guest.pkru());
        return VmxProcessor.root(new X86Machine(guestMachine.memory(), host, guestMachine.tlb()),
                vmcs(controls, guest));
    }

    /** VMLAUNCH of {@link #root}; the entry must succeed. */
    public static VmxProcessor launch(X86Machine guestMachine, ExecutionControls controls) {
        return enter(root(guestMachine, controls), false);
    }

    /** VMLAUNCH ({@code resume} false) or VMRESUME, which must succeed. */
    public static VmxProcessor enter(VmxProcessor p, boolean resume) {
        EntryStep s = VmEntries.enter(p, resume);
        if (!(s.outcome() instanceof EntryOutcome.Entered)) {
            throw new IllegalStateException("generated VM entry failed: " + s.outcome());
        }
        return s.processor();
    }

    /** {@code c} with "activate secondary controls" and the given secondary controls. */
    public static ExecutionControls secondary(ExecutionControls c, SecondaryControls s) {
        PrimaryControls p = c.primary().withActivateSecondaryControls(true);
        return c.withPrimary(p).withSecondary(s);
    }

    /** {@code c} with VPID enabled and VPID {@code vpid} (non-zero). */
    public static ExecutionControls withVpid(ExecutionControls c, int vpid) {
        return secondary(c, c.secondary().withEnableVpid(true)).withVpid(vpid);
    }

    /** {@code c} with EPT enabled and EPTP {@code eptp}. */
    public static ExecutionControls withEpt(ExecutionControls c, Eptp eptp) {
        return secondary(c, c.secondary().withEnableEpt(true)).withEptp(eptp.raw());
    }
}
