package org.hybridv.x86;

/**
 * A general-protection exception, #GP(0), vector 13 (Intel SDM Vol. 3A §6.15 "Interrupt 13"). The cause is a
 * readable explanation for people; it does not change the architectural event.
 */
public record GeneralProtection(String cause) implements Translation, AccessOutcome, InstructionOutcome {
    /** The exception vector of #GP. */
    public static final int VECTOR = 13;

    public GeneralProtection {
        Checks.notNull("cause", cause);
    }

    @Override
    public String toString() {
        return "#GP(0): " + cause;
    }
}
