package org.hybridv.x86;

/**
 * The IA32_EFER bits this reference models (Intel SDM Vol. 3A §2.2.1, MSR C0000080H).
 * EFER.LMA (bit 10) is not stored: it is CR0.PG AND EFER.LME ({@link CpuState#ia32eMode()}, SDM 9.8.5).
 *
 * @param lme IA-32e mode enable (bit 8)
 * @param nxe execute-disable enable (bit 11): when clear, bit 63 of paging-structure entries is reserved
 */
public record Efer(boolean lme, boolean nxe) {
    public static final int LME_BIT = 8;
    public static final int LMA_BIT = 10;
    public static final int NXE_BIT = 11;
    /** The MSR index of IA32_EFER. */
    public static final long MSR_INDEX = 0xC0000080L;

    public static final Efer RESET = new Efer(false, false);

    /** LME and NXE of a value written with WRMSR (LMA, bit 10, is read-only and ignored). */
    public static Efer ofBits(long value) {
        return new Efer(((value >>> LME_BIT) & 1) != 0, ((value >>> NXE_BIT) & 1) != 0);
    }

    public Efer withLme(boolean v) {
        return new Efer(v, nxe);
    }

    public Efer withNxe(boolean v) {
        return new Efer(lme, v);
    }
}
