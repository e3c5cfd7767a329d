package org.hybridv.vmx;

import org.hybridv.x86.Canonical;
import org.hybridv.x86.Hex;
import org.hybridv.x86.Tlb;

/**
 * INVVPID — invalidate translations based on VPID (Intel SDM Vol. 3C §28.3.3.3 and the instruction reference).
 * Executed in root operation by the hypervisor.
 */
public final class Invvpid {
    private Invvpid() {}

    /**
     * INVVPID {@code type} with descriptor ({@code vpid}, {@code linear}). Checks, each a VMfailValid with error 28
     * ("invalid operand to INVEPT/INVVPID"): a type the processor does not support ({@link VmxCapabilities}); VPID 0000H
     * for types 0, 1 and 3; a non-canonical linear address for
     * type 0. Effects on linear and combined mappings (for all PCIDs and, for combined mappings, all EP4TAs):
     * <ul>
     * <li>individual-address: those of the VPID "that would be used to translate the linear address";</li>
     * <li>single-context: all of the VPID;</li>
     * <li>all-context: all of every VPID "except VPID 0000H";</li>
     * <li>single-context retaining globals: all of the VPID "except global translations".</li>
     * </ul>
     * Mappings are translations and paging-structure-cache entries alike (Vol. 3C §28.3.1: "linear mappings" and
     * "combined mappings" each include paging-structure-cache entries), so each predicate acts on both
     * ({@link Tlb#invalidateWhere}): for individual-address, the PML4-, PDPTE- and PDE-cache entries whose
     * linear-address bits match the address are those that "would be used to translate" it; paging-structure-cache
     * entries are never global translations, so single-context retaining globals removes all of the VPID's.
     */
    public static RootStep execute(VmxProcessor p, InvvpidType type, int vpid, long linear) {
        if (p.mode() != VmxMode.ROOT) {
            throw new IllegalArgumentException("INVVPID in " + p.mode() + " operation (it causes a VM exit there)");
        }
        if (vpid < 0 || vpid > 0xFFFF) {
            throw new IllegalArgumentException("INVVPID descriptor VPID = " + vpid + " is outside 0..0xffff");
        }
        if (!p.capabilities().supports(type)) {
            // "IF (INVVPID_TYPE is not supported) THEN VMfailValid(Invalid operand to INVEPT/INVVPID)"
            // (INVVPID instruction reference; the supported types are IA32_VMX_EPT_VPID_CAP bits 43:40)
            return fail(p, "INVVPID " + type + " is not supported (IA32_VMX_EPT_VPID_CAP bit " + (40 + type.number())
                    + " is 0)");
        }
        if (type != InvvpidType.ALL_CONTEXT && vpid == 0) {
            return fail(p, "INVVPID " + type + " with VPID 0000H");
        }
        if (type == InvvpidType.INDIVIDUAL_ADDRESS && !Canonical.isCanonical(linear)) {
            return fail(p, "INVVPID individual-address with non-canonical " + Hex.of(linear));
        }
        Tlb tlb = p.machine().tlb();
        Tlb after = switch (type) {
            case INDIVIDUAL_ADDRESS -> tlb.invalidateWhere(e -> e.tag().vpid() == vpid && e.covers(linear));
            case SINGLE_CONTEXT -> tlb.invalidateWhere(e -> e.tag().vpid() == vpid);
            case ALL_CONTEXT -> tlb.invalidateWhere(e -> e.tag().vpid() != 0);
            case SINGLE_CONTEXT_RETAINING_GLOBALS -> tlb.invalidateWhere(e -> e.tag().vpid() == vpid && !e.global());
        };
        return new RootStep(new RootOutcome.Succeeded(), p.withMachine(p.machine().withTlb(after)));
    }

    private static RootStep fail(VmxProcessor p, String reason) {
        return new RootStep(new RootOutcome.VmFailValid(RootOutcome.INVALID_OPERAND, reason), p);
    }
}
