package org.hybridv.vmx;

/**
 * Primary processor-based VM-execution controls (Intel SDM Vol. 3C §24.6.2, table 24-6), the ones this reference
 * models, with their bit positions.
 *
 * @param hltExiting                bit 7: HLT causes a VM exit
 * @param invlpgExiting             bit 9: INVLPG causes a VM exit
 * @param cr3LoadExiting            bit 15: MOV to CR3 exits, unless the value is a CR3-target value (§25.1.3)
 * @param cr3StoreExiting           bit 16: MOV from CR3 exits
 * @param unconditionalIoExiting    bit 24: every I/O instruction exits (ignored when "use I/O bitmaps" is 1)
 * @param useIoBitmaps              bit 25: the I/O bitmaps decide I/O exits
 * @param useMsrBitmaps             bit 28: the MSR bitmap decides RDMSR/WRMSR exits
 * @param activateSecondaryControls bit 31: the secondary controls are used (otherwise treated as 0, §24.6.2)
 */
public record PrimaryControls(boolean hltExiting, boolean invlpgExiting, boolean cr3LoadExiting,
        boolean cr3StoreExiting, boolean unconditionalIoExiting, boolean useIoBitmaps, boolean useMsrBitmaps,
        boolean activateSecondaryControls) {
    public static final PrimaryControls NONE = new PrimaryControls(false, false, false, false, false, false, false,
            false);

    public long bits() {
        return (hltExiting ? 1L << 7 : 0) | (invlpgExiting ? 1L << 9 : 0) | (cr3LoadExiting ? 1L << 15 : 0)
                | (cr3StoreExiting ? 1L << 16 : 0) | (unconditionalIoExiting ? 1L << 24 : 0)
                | (useIoBitmaps ? 1L << 25 : 0) | (useMsrBitmaps ? 1L << 28 : 0)
                | (activateSecondaryControls ? 1L << 31 : 0);
    }

    public PrimaryControls withHltExiting(boolean v) {
        return new PrimaryControls(v, invlpgExiting, cr3LoadExiting, cr3StoreExiting, unconditionalIoExiting,
                useIoBitmaps, useMsrBitmaps, activateSecondaryControls);
    }

    public PrimaryControls withInvlpgExiting(boolean v) {
        return new PrimaryControls(hltExiting, v, cr3LoadExiting, cr3StoreExiting, unconditionalIoExiting,
                useIoBitmaps, useMsrBitmaps, activateSecondaryControls);
    }

    public PrimaryControls withCr3LoadExiting(boolean v) {
        return new PrimaryControls(hltExiting, invlpgExiting, v, cr3StoreExiting, unconditionalIoExiting,
                useIoBitmaps, useMsrBitmaps, activateSecondaryControls);
    }

    public PrimaryControls withCr3StoreExiting(boolean v) {
        return new PrimaryControls(hltExiting, invlpgExiting, cr3LoadExiting, v, unconditionalIoExiting,
                useIoBitmaps, useMsrBitmaps, activateSecondaryControls);
    }

    public PrimaryControls withUnconditionalIoExiting(boolean v) {
        return new PrimaryControls(hltExiting, invlpgExiting, cr3LoadExiting, cr3StoreExiting, v, useIoBitmaps,
                useMsrBitmaps, activateSecondaryControls);
    }

    public PrimaryControls withUseIoBitmaps(boolean v) {
        return new PrimaryControls(hltExiting, invlpgExiting, cr3LoadExiting, cr3StoreExiting,
                unconditionalIoExiting, v, useMsrBitmaps, activateSecondaryControls);
    }

    public PrimaryControls withUseMsrBitmaps(boolean v) {
        return new PrimaryControls(hltExiting, invlpgExiting, cr3LoadExiting, cr3StoreExiting,
                unconditionalIoExiting, useIoBitmaps, v, activateSecondaryControls);
    }

    public PrimaryControls withActivateSecondaryControls(boolean v) {
        return new PrimaryControls(hltExiting, invlpgExiting, cr3LoadExiting, cr3StoreExiting,
                unconditionalIoExiting, useIoBitmaps, useMsrBitmaps, v);
    }
}
