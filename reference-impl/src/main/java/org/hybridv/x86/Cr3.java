package org.hybridv.x86;

/**
 * CR3 with IA-32e paging (Intel SDM Vol. 3A §4.5, table 4-12 and 4-13).
 *
 * @param pml4Base physical address of the 4-KByte aligned PML4 table (bits M-1:12)
 * @param pcid     bits 11:0 of the register. They are the process-context identifier only when CR4.PCIDE = 1
 *                 (SDM 4.10.1: with CR4.PCIDE = 0 the current PCID is always 000H); otherwise they hold PWT/PCD and
 *                 ignored bits, which this reference does not interpret.
 */
public record Cr3(long pml4Base, int pcid) {
    /** Bit 63 of a MOV to CR3 source operand: with CR4.PCIDE = 1, do not invalidate (SDM 4.10.4.1). */
    public static final long NO_FLUSH_BIT = 1L << 63;

    public Cr3 {
        Checks.inRange("CR3 PML4 base", pml4Base, 0, (1L << 52) - 1);
        Checks.aligned("CR3 PML4 base", pml4Base, PhysicalMemory.FRAME_SIZE);
        Checks.inRange("CR3 PCID", pcid, 0, 0xFFF);
    }

    /** CR3 pointing at the PML4 in {@code frame}, bits 11:0 zero. */
    public static Cr3 ofFrame(long frame) {
        Checks.inRange("CR3 frame", frame, 0, (1L << 40) - 1);
        return new Cr3(frame << 12, 0);
    }

    /** The register value (without the no-flush bit, which is never stored: SDM MOV—Move to/from Control Registers). */
    public long bits() {
        return pml4Base | pcid;
    }

    /** Decodes a 64-bit register value; bit 63 (the no-flush hint) must already have been removed. */
    public static Cr3 ofBits(long value) {
        return new Cr3(value & ~0xFFFL, (int) (value & 0xFFF));
    }

    public long pml4Frame() {
        return pml4Base >>> 12;
    }
}
