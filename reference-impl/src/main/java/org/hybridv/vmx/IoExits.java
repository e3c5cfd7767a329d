package org.hybridv.vmx;

/**
 * Whether an I/O instruction (IN, INS, OUT, OUTS) in VMX non-root operation causes a VM exit (Intel SDM Vol. 3C
 * §25.1.3), and its exit qualification (§27.2.1, table 27-5).
 */
public final class IoExits {
    private IoExits() {}

    /**
     * SDM 25.1.3: "If both controls ['unconditional I/O exiting', 'use I/O bitmaps'] are 0, the instruction executes
     * normally. If 'unconditional I/O exiting' is 1 and 'use I/O bitmaps' is 0, the instruction causes a VM exit. If
     * 'use I/O bitmaps' is 1, the instruction causes a VM exit if it attempts to access an I/O port corresponding to
     * a bit set to 1 in the appropriate I/O bitmap … If an I/O operation 'wraps around' the 16-bit I/O-port space
     * (accesses ports FFFFH and 0000H), the I/O instruction causes a VM exit (the 'unconditional I/O exiting'
     * VM-execution control is ignored if 'use I/O bitmaps' is 1)."
     *
     * @param port the first port accessed, 0..0xFFFF
     * @param size the access size in bytes: 1, 2 or 4
     */
    public static boolean exits(PrimaryControls p, IoBitmaps bitmaps, int port, int size) {
        IoBitmaps.checkPort(port);
        checkSize(size);
        if (!p.useIoBitmaps()) {
            return p.unconditionalIoExiting();
        }
        if (wrapsAround(port, size)) {
            return true;
        }
        for (int i = 0; i < size; i++) {
            if (bitmaps.bitFor(port + i)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the access touches both port FFFFH and port 0000H. */
    public static boolean wrapsAround(int port, int size) {
        return port + size - 1 > 0xFFFF;
    }

    /**
     * The exit qualification for an I/O instruction (SDM table 27-5): bits 2:0 size of access (0 = 1-byte, 1 = 2-byte,
     * 3 = 4-byte), bit 3 direction (0 = OUT, 1 = IN), bit 4 string instruction, bit 5 REP prefixed, bit 6 operand
     * encoding (0 = DX, 1 = immediate), bits 31:16 port number.
     */
    public static long qualification(int port, int size, boolean in, boolean string, boolean rep, boolean immediate) {
        IoBitmaps.checkPort(port);
        checkSize(size);
        return (size - 1) | (in ? 1L << 3 : 0) | (string ? 1L << 4 : 0) | (rep ? 1L << 5 : 0)
                | (immediate ? 1L << 6 : 0) | ((long) port << 16);
    }

    static void checkSize(int size) {
        if (size != 1 && size != 2 && size != 4) {
            throw new IllegalArgumentException("I/O access size = " + size + " must be 1, 2 or 4 bytes");
        }
    }
}
