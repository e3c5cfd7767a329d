package org.hybridv.vmx;

import org.hybridv.ept.EptSupport;
import org.hybridv.ept.Eptp;
import org.hybridv.ept.InveptType;

/**
 * INVEPT — invalidate translations derived from EPT (Intel SDM Vol. 3C §28.3.3.3 and the instruction reference).
 * Executed in root operation. Only combined mappings are cached by this reference, so INVEPT acts on those: "for all
 * VPIDs and all PCIDs". Combined mappings include combined paging-structure-cache entries (Vol. 3C §28.3.1); the
 * predicate removes those of the EP4TA too ({@code Tlb#invalidateWhere}), although 2-D walks create none in this
 * reference (docs/paging.md, "Choices where the SDM leaves room").
 */
public final class Invept {
    private Invept() {}

    /**
     * INVEPT {@code type} with the EPTP {@code descriptor}. Single-context: the mappings whose EP4TA is the
     * descriptor's; the descriptor must pass the EPTP VM-entry checks (VMfailValid 28 otherwise). All-context: the
     * mappings of every EP4TA. A type the processor does not support ({@link VmxCapabilities}) is VMfailValid 28
     * first.
     */
    public static RootStep execute(VmxProcessor p, InveptType type, Eptp descriptor, int maxPhysAddr) {
        if (p.mode() != VmxMode.ROOT) {
            throw new IllegalArgumentException("INVEPT in " + p.mode() + " operation (it causes a VM exit there)");
        }
        if (!p.capabilities().supports(type)) {
            // "IF (INVEPT_TYPE is not supported) THEN VMfailValid(Invalid operand to INVEPT/INVVPID)" (INVEPT
            // instruction reference; the supported types are IA32_VMX_EPT_VPID_CAP bits 25 and 26)
            return new RootStep(new RootOutcome.VmFailValid(RootOutcome.INVALID_OPERAND, "INVEPT " + type
                    + " is not supported (IA32_VMX_EPT_VPID_CAP bit " + (type == InveptType.SINGLE_CONTEXT ? 25 : 26)
                    + " is 0)"), p);
        }
        if (type == InveptType.SINGLE_CONTEXT) {
            String problem = descriptor.vmEntryCheck(p.capabilities().eptSupport(maxPhysAddr));
            if (problem != null) {
                return new RootStep(new RootOutcome.VmFailValid(RootOutcome.INVALID_OPERAND,
                        "INVEPT single-context with an invalid EPTP: " + problem), p);
            }
        }
        var tlb = p.machine().tlb().invalidateWhere(e -> e.tag().combined()
                && type.mustInvalidate(descriptor, e.tag().ep4ta()));
        return new RootStep(new RootOutcome.Succeeded(), p.withMachine(p.machine().withTlb(tlb)));
    }
}
