package org.hybridv.vmx;

/**
 * Secondary processor-based VM-execution controls (Intel SDM Vol. 3C §24.6.2, table 24-7) that this reference
 * models. They take effect only when "activate secondary controls" is 1 (§24.6.2: otherwise "the logical processor
 * operates as if all the secondary processor-based VM-execution controls were 0").
 *
 * @param enableEpt         bit 1
 * @param enableVpid        bit 5
 * @param unrestrictedGuest bit 7
 */
public record SecondaryControls(boolean enableEpt, boolean enableVpid, boolean unrestrictedGuest) {
    public static final SecondaryControls NONE = new SecondaryControls(false, false, false);

    public long bits() {
        return (enableEpt ? 1L << 1 : 0) | (enableVpid ? 1L << 5 : 0) | (unrestrictedGuest ? 1L << 7 : 0);
    }

    public SecondaryControls withEnableEpt(boolean v) {
        return new SecondaryControls(v, enableVpid, unrestrictedGuest);
    }

    public SecondaryControls withEnableVpid(boolean v) {
        return new SecondaryControls(enableEpt, v, unrestrictedGuest);
    }

    public SecondaryControls withUnrestrictedGuest(boolean v) {
        return new SecondaryControls(enableEpt, enableVpid, v);
    }
}
