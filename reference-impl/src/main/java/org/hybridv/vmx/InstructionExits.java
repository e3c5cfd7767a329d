package org.hybridv.vmx;

/**
 * Instructions whose VM exit depends on nothing or on one control (Intel SDM Vol. 3C §25.1.2, §25.1.3).
 */
public final class InstructionExits {
    private InstructionExits() {}

    /** SDM 25.1.2: CPUID "cause[s] VM exits in VMX non-root operation … unconditionally". */
    public static boolean cpuidExits() {
        return true;
    }

    /** SDM 25.1.2: VMCALL causes a VM exit unconditionally (it is among "INVEPT, INVVPID, VMCALL, …"). */
    public static boolean vmcallExits() {
        return true;
    }

    /** SDM 25.1.3: "HLT. The HLT instruction causes a VM exit if the 'HLT exiting' VM-execution control is 1." */
    public static boolean hltExits(PrimaryControls p) {
        return p.hltExiting();
    }

    /** SDM 25.1.3: "INVLPG. The INVLPG instruction causes a VM exit if the 'INVLPG exiting' VM-execution control is 1." */
    public static boolean invlpgExits(PrimaryControls p) {
        return p.invlpgExiting();
    }

    /**
     * "INVPCID. The INVPCID instruction causes a VM exit if the 'INVLPG exiting' and 'enable INVPCID' VM-execution
     * controls are both 1." (Intel SDM Vol. 3C §25.1.3)
     */
    public static boolean invpcidExits(ExecutionControls c) {
        return c.primary().invlpgExiting() && c.effectiveSecondary().enableInvpcid();
    }
}
