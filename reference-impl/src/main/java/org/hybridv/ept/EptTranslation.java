package org.hybridv.ept;

/**
 * The outcome of translating one guest-physical address for one access with EPT (Intel SDM Vol. 3C §28.2): a
 * host-physical address, an EPT violation (§28.2.3.2) or an EPT misconfiguration (§28.2.3.1). Both failures are
 * EPT-induced VM exits (§28.2.3), which the VMX layer builds from these values.
 */
public sealed interface EptTranslation permits EptTranslated, EptViolation, EptMisconfiguration {
    /** The guest-physical address that was translated (the VM-exit "guest-physical address" field on failure). */
    long guestPhysical();

    default boolean isSuccess() {
        return this instanceof EptTranslated;
    }
}
