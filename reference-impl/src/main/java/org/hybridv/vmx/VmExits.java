package org.hybridv.vmx;

import org.hybridv.x86.CpuState;
import org.hybridv.x86.TlbTag;
import org.hybridv.x86.X86Machine;

/**
 * VM exits (Intel SDM Vol. 3C chapter 27): record the exit information, save the guest state, load the host state.
 */
public final class VmExits {
    private VmExits() {}

    /**
     * A VM exit from non-root operation with {@code info}. Step by step:
     * <ol>
     * <li>§27.2: the exit-information fields are written.</li>
     * <li>§27.3: the guest state is saved: the guest's current CR0, CR3, CR4, EFER, RFLAGS, CPL (and RIP, opaque here)
     * become the VMCS guest-state area. CR2 and PKRU are not VMCS fields: the processor keeps their values across
     * the exit (§27.3.1, §27.5.1). IA32_EFER is saved and loaded as if the "save IA32_EFER" and "load IA32_EFER"
     * exit controls were 1, as Xen sets them.</li>
     * <li>§27.5: the host state is loaded (CPL 0) and the processor returns to root operation, where translations are
     * tagged with VPID 0000H.</li>
     * <li>§28.3.3.1: if "enable VPID" is 0, the exit invalidates the linear and combined mappings of VPID 0000H.</li>
     * </ol>
     */
    public static VmxProcessor exit(VmxProcessor p, ExitInformation info) {
        if (p.mode() != VmxMode.NON_ROOT) {
            throw new IllegalArgumentException("VM exit requested in " + p.mode() + " operation");
        }
        X86Machine m = p.machine();
        Vmcs vmcs = p.vmcs()
                .withExitInformation(info)
                .withGuest(new GuestState(m.cpu(), p.vmcs().guest().rip()));
        CpuState host = p.vmcs().host().cpu().withCr2(m.cpu().cr2()).withPkru(m.cpu().pkru());
        X86Machine loaded = new X86Machine(m.memory(), host, m.tlb(), TlbTag.NATIVE);
        if (!vmcs.controls().vpidEnabled()) {
            loaded = loaded.withTlb(loaded.tlb().invalidateVpid(0));
        }
        return new VmxProcessor(loaded, VmxMode.ROOT, vmcs, p.launched(), p.capabilities());
    }
}
