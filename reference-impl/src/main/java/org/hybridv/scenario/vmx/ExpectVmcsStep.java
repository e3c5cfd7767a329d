package org.hybridv.scenario.vmx;

import org.hybridv.vmx.VmxMode;

/**
 * {@code {"op": "expectVmcs", "mode": …, "launched": …, "exit": {…}, "guest": {…}}}: check the VMX state — root or
 * non-root operation, the VMCS launch state (SDM Vol. 3C §24.1), the exit-information fields of the last VM exit
 * (§24.9, §27.2), and the guest-state fields of the VMCS (§24.4), which a VM exit saves (§27.3). In non-root
 * operation the guest-state fields hold what the last VM entry loaded; the running guest's registers are checked
 * with {@code expectCpu}. Absent fields are not checked.
 *
 * @param mode     root or non-root operation, or null
 * @param launched the launch state, or null
 * @param exit     the exit-information fields, or null
 * @param guest    guest-state fields, or null
 */
public record ExpectVmcsStep(VmxMode mode, Boolean launched, ExitPattern exit, GuestFields guest)
        implements VmxStep {
    /**
     * Guest-state fields as register values (CR0, CR3, CR4, IA32_EFER with LMA), the CPL, RFLAGS.AC and RIP; null
     * means "do not check".
     */
    public record GuestFields(Long cr0, Long cr3, Long cr4, Long efer, Integer cpl, Boolean ac, Long rip) {}

    @Override
    public String op() {
        return "expectVmcs";
    }

    @Override
    public String describe() {
        return "VMX state";
    }
}
