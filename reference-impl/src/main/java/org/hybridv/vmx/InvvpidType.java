package org.hybridv.vmx;

/** INVVPID types (Intel SDM Vol. 3C §28.3.3.3 and the INVVPID instruction reference, Vol. 2B / 3C §30.3). */
public enum InvvpidType {
    /** Type 0: mappings of one VPID for one linear address (all PCIDs, all EP4TAs, global ones included). */
    INDIVIDUAL_ADDRESS(0),
    /** Type 1: all mappings of one VPID. */
    SINGLE_CONTEXT(1),
    /** Type 2: all mappings of all VPIDs except VPID 0000H. */
    ALL_CONTEXT(2),
    /** Type 3: all mappings of one VPID except global translations. */
    SINGLE_CONTEXT_RETAINING_GLOBALS(3);

    private final int number;

    InvvpidType(int number) {
        this.number = number;
    }

    public int number() {
        return number;
    }
}
