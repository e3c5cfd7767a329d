package org.hybridv.scenario.vmx;

import org.hybridv.scenario.MachineState;
import org.hybridv.scenario.x86.X86Module;
import org.hybridv.vmx.ExecutionControls;
import org.hybridv.vmx.GuestState;
import org.hybridv.vmx.HostState;
import org.hybridv.vmx.Vmcs;
import org.hybridv.vmx.VmxCapabilities;
import org.hybridv.vmx.VmxMode;
import org.hybridv.vmx.VmxProcessor;
import org.hybridv.x86.CpuState;

/**
 * The VMX layer's part of a scenario's state: what a {@link VmxProcessor} holds besides the x86 machine. The x86
 * component ({@link X86Module#MACHINE}) stays the machine — memory, the current registers (the host's in root
 * operation, the guest's in non-root operation), the TLB and its current tag — so the x86 inspection ops see what
 * the processor sees; this component holds the rest.
 *
 * @param mode     VMX root or non-root operation
 * @param vmcs     the current VMCS
 * @param launched     its launch state (SDM Vol. 3C §24.1): clear until the first successful VMLAUNCH
 * @param capabilities what the processor reports in IA32_VMX_EPT_VPID_CAP (the machine's {@code vmxCapabilities})
 */
public record VmxState(VmxMode mode, Vmcs vmcs, boolean launched, VmxCapabilities capabilities) {
    public VmxState {
        if (mode == null || vmcs == null || capabilities == null) {
            throw new IllegalArgumentException("VMX mode, VMCS and capabilities must not be null");
        }
    }

    /**
     * Where every scenario starts: root operation, a clear VMCS with no VM-execution control set
     * ({@link ExecutionControls#none()}: no exiting controls, no bitmaps, no EPT, VPID 0), and guest and host state
     * both IA-32e paging at CPL 0 with the PML4 in frame 0 and every optional protection off
     * ({@link CpuState#longMode(long, int)}), RIP 0. A scenario sets the fields it needs with {@code vmcs}.
     */
    public static VmxState initial(int maxPhysAddr, VmxCapabilities capabilities) {
        CpuState longMode = CpuState.longMode(0, maxPhysAddr);
        return new VmxState(VmxMode.ROOT, new Vmcs(ExecutionControls.none(), new GuestState(longMode, 0),
                new HostState(longMode, 0), null), false, capabilities);
    }

    /** The processor of {@code s}: its x86 machine with this component. */
    static VmxProcessor processor(MachineState s) {
        VmxState v = s.get(VmxModule.VMX);
        return new VmxProcessor(s.get(X86Module.MACHINE), v.mode(), v.vmcs(), v.launched(), v.capabilities());
    }

    /** {@code s} with processor {@code p}: its machine into the x86 component, the rest into this one. */
    static MachineState write(MachineState s, VmxProcessor p) {
        return s.with(X86Module.MACHINE, p.machine()).with(VmxModule.VMX, new VmxState(p.mode(), p.vmcs(),
                p.launched(), p.capabilities()));
    }
}
