package org.hybridv.x86;

/**
 * A 64-bit paging-structure entry of IA-32e paging (Intel SDM Vol. 3A §4.5, tables 4-14 to 4-20). The same record
 * serves PML4Es, PDPTEs, PDEs and PTEs; which bits mean what depends on the level and on PS, and the walk
 * ({@link PageWalk}) and {@link ReservedBits} interpret them accordingly.
 *
 * <p>Bit positions: 0 P, 1 R/W, 2 U/S, 3 PWT, 4 PCD, 5 A, 6 D (leaves), 7 PS (PDPTE/PDE; PAT in a PTE), 8 G (leaves),
 * 51:12 address (bits M-1:12 are the address, bits 51:M are reserved), 62:59 protection key (leaves, CR4.PKE = 1),
 * 63 XD.
 */
public record Entry(long raw) {
    public static final int P = 0;
    public static final int RW = 1;
    public static final int US = 2;
    public static final int PWT = 3;
    public static final int PCD = 4;
    public static final int A = 5;
    public static final int D = 6;
    public static final int PS = 7;
    public static final int G = 8;
    public static final int XD = 63;
    /** Bits 51:12: the widest address field (MAXPHYADDR = 52). */
    public static final long ADDRESS_FIELD = 0x000F_FFFF_FFFF_F000L;
    /** Bits 62:59: the protection key of a leaf (SDM 4.6.2). */
    public static final int PKEY_SHIFT = 59;

    public static final Entry NOT_PRESENT = new Entry(0);

    private boolean bit(int n) {
        return ((raw >>> n) & 1) != 0;
    }

    /** P, bit 0: the entry is present (SDM 4.5: "Present; must be 1 to map …"). */
    public boolean present() {
        return bit(P);
    }

    /** R/W, bit 1: if 0, writes may not be allowed to the region controlled by this entry (SDM 4.6). */
    public boolean writable() {
        return bit(RW);
    }

    /** U/S, bit 2: if 0, user-mode accesses are not allowed to the region controlled by this entry (SDM 4.6). */
    public boolean user() {
        return bit(US);
    }

    public boolean writeThrough() {
        return bit(PWT);
    }

    public boolean cacheDisable() {
        return bit(PCD);
    }

    /** A, bit 5 (SDM 4.8). */
    public boolean accessed() {
        return bit(A);
    }

    /** D, bit 6, meaningful in an entry that maps a page (SDM 4.8). */
    public boolean dirty() {
        return bit(D);
    }

    /** PS, bit 7: in a PDPTE maps a 1-GByte page, in a PDE a 2-MByte page; reserved in a PML4E (SDM 4.5). */
    public boolean pageSize() {
        return bit(PS);
    }

    /** G, bit 8, meaningful in an entry that maps a page (SDM 4.10.2.4). */
    public boolean global() {
        return bit(G);
    }

    /** XD, bit 63: if IA32_EFER.NXE = 1, execute-disable; otherwise reserved (SDM 4.5, 4.6). */
    public boolean noExecute() {
        return bit(XD);
    }

    /** Bits 62:59, the protection key when this entry maps a page and CR4.PKE = 1 (SDM 4.6.2). */
    public int protectionKey() {
        return (int) ((raw >>> PKEY_SHIFT) & 0xF);
    }

    /** Bits 51:12 shifted down: the 4-KByte frame number this entry references (for large pages, its first frame). */
    public long frame() {
        return (raw & ADDRESS_FIELD) >>> 12;
    }

    /** Bits 51:12 as a physical address. */
    public long address() {
        return raw & ADDRESS_FIELD;
    }

    public Entry with(int bit, boolean value) {
        Checks.inRange("entry bit", bit, 0, 63);
        return new Entry(value ? raw | (1L << bit) : raw & ~(1L << bit));
    }

    public Entry withPresent(boolean v) {
        return with(P, v);
    }

    public Entry withWritable(boolean v) {
        return with(RW, v);
    }

    public Entry withUser(boolean v) {
        return with(US, v);
    }

    public Entry withAccessed(boolean v) {
        return with(A, v);
    }

    public Entry withDirty(boolean v) {
        return with(D, v);
    }

    public Entry withPageSize(boolean v) {
        return with(PS, v);
    }

    public Entry withGlobal(boolean v) {
        return with(G, v);
    }

    public Entry withNoExecute(boolean v) {
        return with(XD, v);
    }

    public Entry withProtectionKey(int key) {
        Checks.inRange("protection key", key, 0, 15);
        return new Entry((raw & ~(0xFL << PKEY_SHIFT)) | ((long) key << PKEY_SHIFT));
    }

    /** This entry with bits 51:12 set to {@code frame}; frame must fit in 40 bits. */
    public Entry withFrame(long frame) {
        Checks.inRange("entry frame", frame, 0, (1L << 40) - 1);
        return new Entry((raw & ~ADDRESS_FIELD) | (frame << 12));
    }

    /** A present entry referencing {@code frame} with the given R/W and U/S, all other bits clear. */
    public static Entry table(long frame, boolean writable, boolean user) {
        return NOT_PRESENT.withFrame(frame).withPresent(true).withWritable(writable).withUser(user);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("Entry[").append(Hex.of(raw));
        if (present()) {
            s.append(" P");
            if (writable()) s.append(" RW");
            if (user()) s.append(" US");
            if (accessed()) s.append(" A");
            if (dirty()) s.append(" D");
            if (pageSize()) s.append(" PS");
            if (global()) s.append(" G");
            if (noExecute()) s.append(" XD");
            s.append(" frame=").append(Hex.of(frame()));
        } else {
            s.append(" not present");
        }
        return s.append(']').toString();
    }
}
