package org.hybridv.vmx;

/**
 * Secondary processor-based VM-execution controls (Intel SDM Vol. 3C §24.6.2, table 24-7) that this reference
 * models. They take effect only when "activate secondary controls" is 1 (§24.6.2: otherwise "the logical processor
 * operates as if all the secondary processor-based VM-execution controls were 0").
 *
 * @param enableEpt         bit 1
 * @param enableVpid        bit 5
 * @param unrestrictedGuest bit 7
 * @param enableInvpcid     bit 12: "If this control is 0, any execution of INVPCID causes a #UD."
 */
public record SecondaryControls(boolean enableEpt, boolean enableVpid, boolean unrestrictedGuest,
        boolean enableInvpcid) {
    public static final SecondaryControls NONE = new SecondaryControls(false, false, false, false);

    /** The controls with "enable INVPCID" = 0. */
    public SecondaryControls(boolean enableEpt, boolean enableVpid, boolean unrestrictedGuest) {
        this(enableEpt, enableVpid, unrestrictedGuest, false);
    }

    public long bits() {
        return (enableEpt ? 1L << 1 : 0) | (enableVpid ? 1L << 5 : 0) | (unrestrictedGuest ? 1L << 7 : 0)
                | (enableInvpcid ? 1L << 12 : 0);
    }

    public SecondaryControls withEnableEpt(boolean v) {
        return new SecondaryControls(v, enableVpid, unrestrictedGuest, enableInvpcid);
    }

    public SecondaryControls withEnableVpid(boolean v) {
        return new SecondaryControls(enableEpt, v, unrestrictedGuest, enableInvpcid);
    }

    public SecondaryControls withUnrestrictedGuest(boolean v) {
        return new SecondaryControls(enableEpt, enableVpid, v, enableInvpcid);
    }

    public SecondaryControls withEnableInvpcid(boolean v) {
        return new SecondaryControls(enableEpt, enableVpid, unrestrictedGuest, v);
    }
}
