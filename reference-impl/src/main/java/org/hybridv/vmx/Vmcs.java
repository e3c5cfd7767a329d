package org.hybridv.vmx;

/**
 * A virtual-machine control structure (Intel SDM Vol. 3C chapter 24), grouped as the SDM groups it (§24.3): the
 * guest-state area, the host-state area, the VM-execution control fields, and the VM-exit information fields of the
 * last exit (null before the first).
 */
public record Vmcs(ExecutionControls controls, GuestState guest, HostState host, ExitInformation exitInformation) {
    public Vmcs {
        if (controls == null || guest == null || host == null) {
            throw new IllegalArgumentException("VMCS controls, guest state and host state must not be null");
        }
    }

    public Vmcs withControls(ExecutionControls c) {
        return new Vmcs(c, guest, host, exitInformation);
    }

    public Vmcs withGuest(GuestState g) {
        return new Vmcs(controls, g, host, exitInformation);
    }

    public Vmcs withHost(HostState h) {
        return new Vmcs(controls, guest, h, exitInformation);
    }

    public Vmcs withExitInformation(ExitInformation e) {
        return new Vmcs(controls, guest, host, e);
    }
}
