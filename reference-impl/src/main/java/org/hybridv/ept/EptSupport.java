package org.hybridv.ept;

import org.hybridv.x86.Checks;
import org.hybridv.x86.CpuState;

/**
 * What the logical processor supports that decides EPT translations and the EPTP VM-entry checks.
 *
 * @param maxPhysAddr   N, the physical-address width (CPUID.80000008H:EAX[7:0]), 36..52. Bits 51:N of a present EPT
 *                      entry and bits 63:N of the EPTP are reserved (SDM 28.2.2 tables 28-1..28-6; SDM 26.2.1.1).
 * @param executeOnly   IA32_VMX_EPT_VPID_CAP bit 0: "If bit 0 is read as 1, the logical processor allows software
 *                      to configure EPT paging-structure entries in which bits 2:0 have value 100b (indicating an
 *                      execute-only translation)" (SDM Appendix A.10). Without it, an entry with bits 2:0 = 100b is
 *                      an EPT misconfiguration (SDM 28.2.3.1).
 * @param accessedDirty IA32_VMX_EPT_VPID_CAP bit 21: accessed and dirty flags for EPT are supported (SDM 28.2.4,
 *                      Appendix A.10); without it, VM entry requires EPTP bit 6 = 0 (SDM 26.2.1.1).
 *
 * <p>This reference assumes a processor that, as the IA32_VMX_EPT_VPID_CAP MSR can report, supports a page-walk
 * length of 4 (bit 6), the UC and WB EPT paging-structure memory types (bits 8 and 14), and EPT PDEs and PDPTEs that
 * map 2-MByte and 1-GByte pages (bits 16 and 17); these are therefore not parameters.
 */
public record EptSupport(int maxPhysAddr, boolean executeOnly, boolean accessedDirty) {
    /** IA32_VMX_EPT_VPID_CAP bit 0: execute-only translations supported (SDM Appendix A.10). */
    public static final int CAP_EXECUTE_ONLY = 0;
    /** IA32_VMX_EPT_VPID_CAP bit 21: accessed and dirty flags for EPT supported (SDM Appendix A.10). */
    public static final int CAP_ACCESSED_DIRTY = 21;

    public EptSupport {
        Checks.inRange("maxPhysAddr", maxPhysAddr, CpuState.MIN_MAXPHYADDR, CpuState.MAX_MAXPHYADDR);
    }

    /** A processor with MAXPHYADDR {@code maxPhysAddr} that supports execute-only translations and EPT A/D flags. */
    public static EptSupport full(int maxPhysAddr) {
        return new EptSupport(maxPhysAddr, true, true);
    }

    /**
     * The support described by the value of the IA32_VMX_EPT_VPID_CAP MSR (index 48CH): bit 0 execute-only,
     * bit 21 accessed and dirty flags (SDM Appendix A.10).
     */
    public static EptSupport fromCapabilityMsr(int maxPhysAddr, long ia32VmxEptVpidCap) {
        return new EptSupport(maxPhysAddr, ((ia32VmxEptVpidCap >>> CAP_EXECUTE_ONLY) & 1) != 0,
                ((ia32VmxEptVpidCap >>> CAP_ACCESSED_DIRTY) & 1) != 0);
    }

    public EptSupport withExecuteOnly(boolean v) {
        return new EptSupport(maxPhysAddr, v, accessedDirty);
    }

    public EptSupport withAccessedDirty(boolean v) {
        return new EptSupport(maxPhysAddr, executeOnly, v);
    }
}
