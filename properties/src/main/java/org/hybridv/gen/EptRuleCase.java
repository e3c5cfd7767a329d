package org.hybridv.gen;

import org.hybridv.vmx.VmxCapabilities;

/**
 * An {@link EptCase} in which one EPT paging-structure entry on the access's walk was rewritten to a chosen corner of
 * the rules of Intel SDM Vol. 3C §28.2.2–§28.2.3 ({@link EptRuleCases}), and the processor's VMX capabilities (whether
 * it supports execute-only translations, IA32_VMX_EPT_VPID_CAP bit 0).
 *
 * @param ept          the guest, the host memory with the EPT and the access
 * @param capabilities the processor's VMX capabilities
 * @param region       which corner was chosen: the entry (level, and whether it maps a page) and the rewrite, for
 *                     coverage floors (e.g. {@code "PDPTE 1G: reserved bit 29:12"}, {@code "PTE: RWX=100"})
 */
public record EptRuleCase(EptCase ept, VmxCapabilities capabilities, String region) {
    @Override
    public String toString() {
        return "EptRuleCase[" + region + ", execute-only " + (capabilities.executeOnly() ? "supported" : "unsupported")
                + ", " + ept + "]";
    }
}
