package org.hybridv.x86;

/**
 * The page-fault error code (Intel SDM Vol. 3A §4.7, figure 4-12). Only the bits this reference models are
 * produced: P, W/R, U/S, RSVD, I/D and PK. Shadow-stack (bit 6), HLAT (bit 7) and SGX (bit 15) are out of scope.
 */
public record ErrorCode(int bits) {
    /** Bit 0: 0 = the fault was caused by a non-present page; 1 = by a page-level protection violation. */
    public static final int P = 1;
    /** Bit 1: 0 = the access causing the fault was a read; 1 = a write. */
    public static final int WR = 1 << 1;
    /** Bit 2: 0 = a supervisor-mode access caused the fault; 1 = a user-mode access. */
    public static final int US = 1 << 2;
    /** Bit 3: 1 = the fault was caused by a reserved bit set to 1 in some paging-structure entry. */
    public static final int RSVD = 1 << 3;
    /** Bit 4: 1 = the fault was caused by an instruction fetch (when SMEP or NXE; see {@link #instructionFetch}). */
    public static final int ID = 1 << 4;
    /** Bit 5: 1 = the fault was caused by a protection-key violation. */
    public static final int PK = 1 << 5;
    /** Every bit this reference can produce. */
    public static final int MODELLED = P | WR | US | RSVD | ID | PK;

    public ErrorCode {
        if ((bits & ~MODELLED) != 0) {
            throw new IllegalArgumentException("error code " + Hex.of(bits) + " sets bits outside P|W/R|U/S|RSVD|I/D|PK ("
                    + Hex.of(MODELLED) + ")");
        }
    }

    /**
     * The error code of a page fault (SDM 4.7), each bit by its own rule.
     *
     * @param present      whether every entry read was present (false: the walk met a not-present entry)
     * @param reservedBit  whether the walk met an entry with a reserved bit set
     * @param pkViolation  whether the access violated a protection key (see {@link ProtectionKeys})
     */
    public static ErrorCode of(boolean present, boolean reservedBit, boolean pkViolation, Access access,
            CpuState cpu) {
        int b = 0;
        b |= present(present) ? P : 0;
        b |= writeAccess(access) ? WR : 0;
        b |= userModeAccess(access, cpu) ? US : 0;
        b |= reservedBit ? RSVD : 0;
        b |= instructionFetch(access, cpu) ? ID : 0;
        b |= pkViolation ? PK : 0;
        return new ErrorCode(b);
    }

    /** SDM 4.7, P: "0 … caused by a non-present page; 1 … caused by a page-level protection violation". */
    static boolean present(boolean everyEntryPresent) {
        return everyEntryPresent;
    }

    /** SDM 4.7, W/R: "0 … the access causing the page-fault exception was a read; 1 … was a write". */
    static boolean writeAccess(Access access) {
        return access.isWrite();
    }

    /**
     * SDM 4.7, U/S: "0 … a supervisor-mode access caused the page-fault exception; 1 … a user-mode access". An
     * implicit supervisor-mode access at CPL 3 is a supervisor-mode access (SDM 4.6).
     */
    static boolean userModeAccess(Access access, CpuState cpu) {
        return access.isUserMode(cpu);
    }

    /**
     * SDM 4.7, I/D: "This flag is 1 if (1) the access causing the page-fault exception was an instruction fetch; and
     * (2) either (a) CR4.SMEP = 1; or (b) both (i) CR4.PAE = 1 … and (ii) IA32_EFER.NXE = 1."
     */
    static boolean instructionFetch(Access access, CpuState cpu) {
        return access.isFetch() && (cpu.cr4().smep() || (cpu.cr4().pae() && cpu.efer().nxe()));
    }

    public boolean p() {
        return (bits & P) != 0;
    }

    public boolean wr() {
        return (bits & WR) != 0;
    }

    public boolean us() {
        return (bits & US) != 0;
    }

    public boolean rsvd() {
        return (bits & RSVD) != 0;
    }

    public boolean id() {
        return (bits & ID) != 0;
    }

    public boolean pk() {
        return (bits & PK) != 0;
    }

    /** The flags by their SDM names, e.g. {@code P|W|U}; {@code 0} when none is set. */
    public String names() {
        StringBuilder s = new StringBuilder();
        String[] names = {"P", "W", "U", "RSVD", "I/D", "PK"};
        for (int i = 0; i < names.length; i++) {
            if ((bits & (1 << i)) != 0) {
                s.append(s.isEmpty() ? "" : "|").append(names[i]);
            }
        }
        return s.isEmpty() ? "0" : s.toString();
    }

    @Override
    public String toString() {
        return Hex.of(bits) + " (" + names() + ")";
    }
}
