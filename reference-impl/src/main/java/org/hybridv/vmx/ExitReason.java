package org.hybridv.vmx;

/**
 * Basic exit reasons (Intel SDM Vol. 3C appendix C, table C-1) for the exits this reference produces. The number is
 * bits 15:0 of the exit-reason field (SDM 24.9.1).
 */
public enum ExitReason {
    EXCEPTION_OR_NMI(0),
    EXTERNAL_INTERRUPT(1),
    TRIPLE_FAULT(2),
    /** Interrupt window: RFLAGS.IF = 1 with "interrupt-window exiting" set (SDM Vol. 3C §25.2). */
    INTERRUPT_WINDOW(7),
    CPUID(10),
    HLT(12),
    INVLPG(14),
    VMCALL(18),
    CR_ACCESS(28),
    IO_INSTRUCTION(30),
    MSR_READ(31),
    MSR_WRITE(32),
    /** VM-entry failure due to invalid guest state (reported with bit 31 of the exit reason set, SDM 26.3). */
    INVALID_GUEST_STATE(33),
    EPT_VIOLATION(48),
    EPT_MISCONFIG(49),
    INVEPT(50),
    INVVPID(53),
    INVPCID(58);

    private final int number;

    ExitReason(int number) {
        this.number = number;
    }

    /** The SDM's basic exit-reason number. */
    public int number() {
        return number;
    }

    /** The reason with SDM number {@code n}. */
    public static ExitReason ofNumber(int n) {
        for (ExitReason r : values()) {
            if (r.number == n) {
                return r;
            }
        }
        throw new IllegalArgumentException("basic exit reason " + n + " is not one this reference models");
    }
}
