package org.hybridv.vmx;

import java.util.EnumSet;
import java.util.Set;
import org.hybridv.ept.EptSupport;
import org.hybridv.ept.InveptType;
import org.hybridv.x86.CpuState;

/**
 * What the logical processor reports in its IA32_VMX_EPT_VPID_CAP MSR (index 48CH, Intel SDM Vol. 3C Appendix A.10)
 * and this reference lets vary: execute-only EPT translations, EPT accessed and dirty flags, and which INVEPT and
 * INVVPID types it supports. Everything else that MSR can report is assumed supported (see {@link EptSupport}).
 *
 * @param executeOnly      bit 0: EPT paging-structure entries with bits 2:0 = 100b are allowed; without it such an
 *                         entry is an EPT misconfiguration (§28.2.3.1)
 * @param eptAccessedDirty bit 21: accessed and dirty flags for EPT; without it VM entry requires EPTP bit 6 = 0
 *                         (§26.2.1.1)
 * @param inveptTypes      bits 25 (single-context) and 26 (all-context): the INVEPT types supported; INVEPT of
 *                         another type fails with VMfailValid(invalid operand to INVEPT/INVVPID) (INVEPT instruction
 *                         reference, §30.3)
 * @param invvpidTypes     bits 40 (individual-address), 41 (single-context), 42 (all-context), 43 (single-context
 *                         retaining globals): the INVVPID types supported; likewise for INVVPID
 */
public record VmxCapabilities(boolean executeOnly, boolean eptAccessedDirty, Set<InveptType> inveptTypes,
        Set<InvvpidType> invvpidTypes) {
    /** A processor that supports all of it: the reference's default, and every hypervisor world's processor. */
    public static final VmxCapabilities FULL = new VmxCapabilities(true, true, EnumSet.allOf(InveptType.class),
            EnumSet.allOf(InvvpidType.class));

    /** IA32_VMX_EPT_VPID_CAP bits (Appendix A.10) besides the EPT ones {@link EptSupport} decodes (0 and 21). */
    public static final int CAP_INVEPT_SINGLE_CONTEXT = 25;
    public static final int CAP_INVEPT_ALL_CONTEXT = 26;
    public static final int CAP_INVVPID_INDIVIDUAL_ADDRESS = 40;
    public static final int CAP_INVVPID_SINGLE_CONTEXT = 41;
    public static final int CAP_INVVPID_ALL_CONTEXT = 42;
    public static final int CAP_INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS = 43;

    public VmxCapabilities {
        if (inveptTypes == null || invvpidTypes == null) {
            throw new IllegalArgumentException("the supported INVEPT and INVVPID types must not be null");
        }
        inveptTypes = Set.copyOf(inveptTypes);
        invvpidTypes = Set.copyOf(invvpidTypes);
    }

    /** The capabilities an IA32_VMX_EPT_VPID_CAP value reports (bits as in {@link VmxCapabilities}). */
    public static VmxCapabilities fromMsr(long cap) {
        Set<InveptType> invept = EnumSet.noneOf(InveptType.class);
        if (bit(cap, CAP_INVEPT_SINGLE_CONTEXT)) {
            invept.add(InveptType.SINGLE_CONTEXT);
        }
        if (bit(cap, CAP_INVEPT_ALL_CONTEXT)) {
            invept.add(InveptType.ALL_CONTEXT);
        }
        Set<InvvpidType> invvpid = EnumSet.noneOf(InvvpidType.class);
        int[] bits = {CAP_INVVPID_INDIVIDUAL_ADDRESS, CAP_INVVPID_SINGLE_CONTEXT, CAP_INVVPID_ALL_CONTEXT,
            CAP_INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS};
        for (InvvpidType t : InvvpidType.values()) {
            if (bit(cap, bits[t.number()])) {
                invvpid.add(t);
            }
        }
        EptSupport ept = EptSupport.fromCapabilityMsr(CpuState.MIN_MAXPHYADDR, cap);
        return new VmxCapabilities(ept.executeOnly(), ept.accessedDirty(), invept, invvpid);
    }

    private static boolean bit(long v, int n) {
        return ((v >>> n) & 1) != 0;
    }

    /** What EPT translations and the EPTP checks need of these capabilities, for MAXPHYADDR {@code maxPhysAddr}. */
    public EptSupport eptSupport(int maxPhysAddr) {
        return new EptSupport(maxPhysAddr, executeOnly, eptAccessedDirty);
    }

    /** Whether INVEPT of {@code t} is supported. */
    public boolean supports(InveptType t) {
        return inveptTypes.contains(t);
    }

    /** Whether INVVPID of {@code t} is supported. */
    public boolean supports(InvvpidType t) {
        return invvpidTypes.contains(t);
    }
}
