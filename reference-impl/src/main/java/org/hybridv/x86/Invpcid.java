package org.hybridv.x86;

/**
 * INVPCID—Invalidate Process-Context Identifier (Intel SDM Vol. 2A INVPCID; Vol. 3A §4.10.4.1), on a processor that
 * supports it: CPUID.(EAX=07H, ECX=0H):EBX.INVPCID[bit 10] = 1, so it never raises #UD for lack of support (the
 * reference's choice, docs/paging.md). The 128-bit descriptor is given by value — its low quadword (PCID in bits
 * 11:0, bits 63:12 reserved) and its linear address (bits 127:64) — so the memory operand's own faults (#PF on reading
 * it, segment-limit #GP) are out of scope. In VMX non-root operation the VMX layer decides #UD ("enable INVPCID")
 * and the VM exit ("INVLPG exiting") first ({@code vmx.NonRoot.invpcid}); when the instruction executes there, on a
 * machine in a VPID context, its scope is that VPID, all EP4TAs (SDM Vol. 3C §28.3.3.1), like every other
 * invalidation of {@link Processor}.
 */
public final class Invpcid {
    private Invpcid() {}

    /**
     * INVPCID {@code type}, descriptor ({@code descriptorLow}, {@code linear}). The #GP(0) conditions of the
     * instruction reference (64-bit mode), checked in its order, then the invalidation of the type; #GP leaves the
     * machine unchanged.
     */
    public static InstructionStep execute(X86Machine m, long type, long descriptorLow, long linear) {
        Checks.notNull("machine", m);
        String fault = generalProtection(m.cpu(), type, descriptorLow, linear);
        if (fault != null) {
            return InstructionStep.fault(m, fault);
        }
        int vpid = m.tlbTag().vpid();
        int pcid = (int) descriptorLow;
        Tlb tlb = m.tlb();
        Tlb after = switch (InvpcidType.ofValue(type)) {
            case INDIVIDUAL_ADDRESS -> individualAddressInvalidation(tlb, vpid, pcid, linear);
            case SINGLE_CONTEXT -> singleContextInvalidation(tlb, vpid, pcid);
            case ALL_CONTEXT_INCLUDING_GLOBALS -> allContextInvalidationIncludingGlobals(tlb, vpid);
            case ALL_CONTEXT -> allContextInvalidation(tlb, vpid);
        };
        return InstructionStep.retired(m.withTlb(after));
    }

    /**
     * The #GP(0) conditions of INVPCID in 64-bit mode (SDM Vol. 2A INVPCID, "64-Bit Mode Exceptions"), or null.
     */
    static String generalProtection(CpuState cpu, long type, long descriptorLow, long linear) {
        if (cpu.cpl() != 0) {
            // "#GP(0) If the current privilege level is not 0."
            return "INVPCID at CPL " + cpu.cpl() + " (privileged instruction)";
        }
        InvpcidType t = InvpcidType.ofValue(type);
        if (t == null) {
            // "If an invalid type is specified in the register operand, i.e., INVPCID_TYPE > 3."
            return "INVPCID type " + Long.toUnsignedString(type) + " is invalid (INVPCID_TYPE > 3)";
        }
        if ((descriptorLow >>> 12) != 0) {
            // "If bits 63:12 of INVPCID_DESC are not all zero."
            return "INVPCID descriptor " + Hex.of(descriptorLow) + " sets reserved bits 63:12";
        }
        boolean addressOrContext = t == InvpcidType.INDIVIDUAL_ADDRESS || t == InvpcidType.SINGLE_CONTEXT;
        if (addressOrContext && !cpu.cr4().pcide() && descriptorLow != 0) {
            // "If CR4.PCIDE=0, INVPCID_TYPE is either 0 or 1, and INVPCID_DESC[11:0] is not zero."
            return "INVPCID type " + type + " for PCID " + Hex.of(descriptorLow) + " with CR4.PCIDE = 0";
        }
        if (t == InvpcidType.INDIVIDUAL_ADDRESS && !Canonical.isCanonical(linear)) {
            // "If INVPCID_TYPE is 0 and the linear address in INVPCID_DESC[127:64] is not canonical."
            return "INVPCID type 0 for the non-canonical linear address " + Hex.of(linear);
        }
        return null;
    }

    /**
     * Type 0 (SDM Vol. 2A INVPCID): "the logical processor invalidates mappings—except global translations—for the
     * linear address and PCID specified in the INVPCID descriptor"; with §4.10.4.1, every paging-structure-cache
     * entry of that PCID, whatever its linear address ({@link Tlb#invalidateIndividualAddress}).
     */
    static Tlb individualAddressInvalidation(Tlb tlb, int vpid, int pcid, long linear) {
        return tlb.invalidateIndividualAddress(vpid, pcid, linear);
    }

    /**
     * Type 1: "the logical processor invalidates all mappings—except global translations—associated with the PCID
     * specified in the INVPCID descriptor" ({@link Tlb#invalidateSingleContext}).
     */
    static Tlb singleContextInvalidation(Tlb tlb, int vpid, int pcid) {
        return tlb.invalidateSingleContext(vpid, pcid);
    }

    /**
     * Type 2: "the logical processor invalidates all mappings—including global translations—associated with any
     * PCID" ({@link Tlb#invalidateVpid}).
     */
    static Tlb allContextInvalidationIncludingGlobals(Tlb tlb, int vpid) {
        return tlb.invalidateVpid(vpid);
    }

    /**
     * Type 3: "the logical processor invalidates all mappings—except global translations—associated with any PCID"
     * ({@link Tlb#invalidateAllContextExceptGlobals}).
     */
    static Tlb allContextInvalidation(Tlb tlb, int vpid) {
        return tlb.invalidateAllContextExceptGlobals(vpid);
    }
}
