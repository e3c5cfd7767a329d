package org.hybridv.x86;

/** The three kinds of linear-address access the SDM distinguishes for access rights (Vol. 3A §4.6). */
public enum AccessKind {
    /** A data read. */
    READ,
    /** A data write. */
    WRITE,
    /** An instruction fetch. */
    FETCH;

    public boolean isData() {
        return this != FETCH;
    }
}
