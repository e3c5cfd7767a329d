package org.hybridv.vmx;

/**
 * Control-register accesses in VMX non-root operation (Intel SDM Vol. 3C §25.1.3 for exits, §25.3 for what a MOV
 * that does not exit does, §27.2.1 table 27-3 for the exit qualification).
 */
public final class CrAccessExits {
    /** Access type in bits 5:4 of the qualification: MOV to CR. */
    public static final int MOV_TO_CR = 0;
    /** Access type in bits 5:4 of the qualification: MOV from CR. */
    public static final int MOV_FROM_CR = 1;

    private CrAccessExits() {}

    /**
     * MOV to CR0 (and, with the CR4 fields, MOV to CR4), SDM 25.1.3: "The MOV to CR0 instruction causes a VM exit
     * unless the value of its source operand matches, for the position of each bit set in the CR0 guest/host mask,
     * the corresponding bit in the CR0 read shadow."
     */
    public static boolean movToCrExits(long guestHostMask, long readShadow, long source) {
        return ((source ^ readShadow) & guestHostMask) != 0;
    }

    /**
     * SDM 25.3: a MOV to CR0/CR4 that does not exit "does not modify any bit … corresponding to a bit set in the …
     * guest/host mask": the host-owned bits keep their current value, the others take the source's.
     */
    public static long valueAfterMovToCr(long guestHostMask, long current, long source) {
        return (current & guestHostMask) | (source & ~guestHostMask);
    }

    /**
     * SDM 25.3: MOV from CR0/CR4 loads, "for each position corresponding to a bit clear in the … guest/host mask",
     * the bit of the register and, for each bit set in the mask, the bit of the read shadow.
     */
    public static long valueOfMovFromCr(long guestHostMask, long readShadow, long actual) {
        return (readShadow & guestHostMask) | (actual & ~guestHostMask);
    }

    /**
     * MOV to CR3, SDM 25.1.3: "causes a VM exit unless the 'CR3-load exiting' VM-execution control is 0 or the value
     * of its source operand is equal to one of the CR3-target values specified in the VMCS. Only the first n
     * CR3-target values are considered, where n is the CR3-target count."
     */
    public static boolean movToCr3Exits(ExecutionControls c, long source) {
        if (!c.primary().cr3LoadExiting()) {
            return false;
        }
        return !c.cr3TargetValues().contains(source);
    }

    /** MOV from CR3, SDM 25.1.3: exits iff "CR3-store exiting" is 1. */
    public static boolean movFromCr3Exits(ExecutionControls c) {
        return c.primary().cr3StoreExiting();
    }

    /**
     * The exit qualification for a control-register access (SDM table 27-3): bits 3:0 the control register, bits
     * 5:4 the access type (0 = MOV to CR, 1 = MOV from CR), bits 11:8 the general-purpose register (0 = RAX … 15 =
     * R15).
     */
    public static long qualification(int cr, int accessType, int register) {
        if (cr != 0 && cr != 3 && cr != 4 && cr != 8) {
            throw new IllegalArgumentException("control register CR" + cr + " is not one of CR0, CR3, CR4, CR8");
        }
        if (accessType != MOV_TO_CR && accessType != MOV_FROM_CR) {
            throw new IllegalArgumentException("CR access type = " + accessType + " is not MOV to CR (0) or MOV from"
                    + " CR (1)");
        }
        if (register < 0 || register > 15) {
            throw new IllegalArgumentException("general-purpose register = " + register + " is outside 0..15");
        }
        return cr | ((long) accessType << 4) | ((long) register << 8);
    }
}
