package org.hybridv.vmx;

/**
 * Pin-based VM-execution controls (Intel SDM Vol. 3C §24.6.1, table 24-5). Recorded for completeness of the VMCS;
 * external interrupts and NMIs are not modelled as events.
 *
 * @param externalInterruptExiting bit 0
 * @param nmiExiting               bit 3
 */
public record PinBasedControls(boolean externalInterruptExiting, boolean nmiExiting) {
    public static final PinBasedControls NONE = new PinBasedControls(false, false);

    public long bits() {
        return (externalInterruptExiting ? 1L : 0) | (nmiExiting ? 1L << 3 : 0);
    }
}
