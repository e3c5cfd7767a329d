package org.hybridv.x86;

/** The page sizes of IA-32e paging (Intel SDM Vol. 3A §4.5: 4 KBytes, 2 MBytes, 1 GByte). */
public enum PageSize {
    SIZE_4K(12),
    SIZE_2M(21),
    SIZE_1G(30);

    private final int shift;

    PageSize(int shift) {
        this.shift = shift;
    }

    /** log2 of the size. */
    public int shift() {
        return shift;
    }

    public long bytes() {
        return 1L << shift;
    }

    /** Mask of the page-offset bits. */
    public long offsetMask() {
        return bytes() - 1;
    }

    /** {@code address} with its page-offset bits cleared. */
    public long base(long address) {
        return address & ~offsetMask();
    }
}
