package org.hybridv.ept;

import org.hybridv.x86.Checks;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PhysicalMemory;

/**
 * A 64-bit EPT paging-structure entry (Intel SDM Vol. 3C §28.2.2, tables 28-1 to 28-6). The same record serves EPT
 * PML4Es, PDPTEs, PDEs and PTEs; which bits mean what depends on the level and on bit 7, and the walk
 * ({@link EptPageWalk}) and {@link EptReservedBits} interpret them accordingly.
 *
 * <p>Bit positions: 0 read access, 1 write access, 2 execute access; in an entry that maps a page, 5:3 EPT memory
 * type and 6 ignore PAT; 7 "must be 1" in a PDPTE or PDE that maps a page (0: it references the next EPT paging
 * structure), reserved in a PML4E, ignored in a PTE; 8 accessed and (in an entry that maps a page) 9 dirty, when EPTP
 * bit 6 = 1, otherwise ignored; N-1:12 address (N = MAXPHYADDR; bits 51:N reserved); 63:52 ignored (bit 63 is
 * "suppress #VE" when the "EPT-violation #VE" control is 1, not modelled here).
 *
 * <p>"If bits 2:0 of an EPT paging-structure entry are all 0, the entry is not present" (SDM 28.2.2): see
 * {@link #present()}.
 */
public record EptEntry(long raw) {
    /** Bit 0, read access. */
    public static final int R = 0;
    /** Bit 1, write access. */
    public static final int W = 1;
    /** Bit 2, execute access. */
    public static final int X = 2;
    /** Bits 5:3, the EPT memory type of an entry that maps a page (SDM 28.2.6.1). */
    public static final int MEMORY_TYPE_SHIFT = 3;
    /** Bit 6, ignore PAT memory type, in an entry that maps a page (SDM 28.2.6.2). */
    public static final int IGNORE_PAT = 6;
    /** Bit 7: in an EPT PDPTE or PDE, 1 if the entry maps a 1-GByte or 2-MByte page (SDM 28.2.2). */
    public static final int LARGE_PAGE = 7;
    /** Bit 8, accessed flag when EPTP bit 6 = 1 (SDM 28.2.4). */
    public static final int A = 8;
    /** Bit 9, dirty flag of an entry that maps a page when EPTP bit 6 = 1 (SDM 28.2.4). */
    public static final int D = 9;
    /** Bits 51:12: the widest address field (N = 52). */
    public static final long ADDRESS_FIELD = Checks.mask(51, 12);
    /** Bits 2:0, the permission bits whose value decides presence (SDM 28.2.2). */
    public static final long PERMISSION_BITS = 0x7;

    public static final EptEntry NOT_PRESENT = new EptEntry(0);

    private boolean bit(int n) {
        return ((raw >>> n) & 1) != 0;
    }

    /** Bit 0: "Read access; indicates whether reads are allowed from the ... region controlled by this entry". */
    public boolean readable() {
        return bit(R);
    }

    /** Bit 1: "Write access; indicates whether writes are allowed to the ... region controlled by this entry". */
    public boolean writable() {
        return bit(W);
    }

    /** Bit 2: "Execute access; indicates whether instruction fetches are allowed from the ... region". */
    public boolean executable() {
        return bit(X);
    }

    /**
     * Whether the entry is present: "If bits 2:0 of an EPT paging-structure entry are all 0, the entry is not present.
     * The processor ignores bits 62:3 and uses the entry neither to reference another EPT paging-structure entry nor
     * to produce a physical address" (SDM 28.2.2). Any of R, W, X set makes the entry present, including the
     * misconfigured values 010b, 110b and (without execute-only support) 100b.
     */
    public boolean present() {
        return (raw & PERMISSION_BITS) != 0;
    }

    /** Bits 2:0 as a 3-bit value (bit 2 X, bit 1 W, bit 0 R), as SDM 28.2.3.1 writes them ("010b", "100b" …). */
    public int permissionBits() {
        return (int) (raw & PERMISSION_BITS);
    }

    /** R, W and X of this entry. */
    public EptPermissions permissions() {
        return new EptPermissions(readable(), writable(), executable());
    }

    /** Bits 5:3, the EPT memory type encoding (meaningful in an entry that maps a page; SDM 28.2.6.1). */
    public int memoryType() {
        return (int) ((raw >>> MEMORY_TYPE_SHIFT) & 0x7);
    }

    /** Bit 6, ignore PAT memory type (meaningful in an entry that maps a page; SDM 28.2.6.2). */
    public boolean ignorePat() {
        return bit(IGNORE_PAT);
    }

    /**
     * Bit 7. In an EPT PDPTE or PDE: 1 = the entry maps a 1-GByte or 2-MByte page, 0 = it references an EPT page
     * directory or page table (SDM 28.2.2). Reserved in a PML4E, ignored in a PTE.
     */
    public boolean largePage() {
        return bit(LARGE_PAGE);
    }

    /** Bit 8, the accessed flag when EPTP bit 6 = 1 (SDM 28.2.4). */
    public boolean accessed() {
        return bit(A);
    }

    /** Bit 9, the dirty flag of an entry that maps a page when EPTP bit 6 = 1 (SDM 28.2.4). */
    public boolean dirty() {
        return bit(D);
    }

    /** Bits 51:12 as a physical address (for a page, the address of its first byte once the low reserved bits are 0). */
    public long address() {
        return raw & ADDRESS_FIELD;
    }

    /** Bits 51:12 shifted down: the 4-KByte frame this entry references. */
    public long frame() {
        return address() >>> 12;
    }

    public EptEntry with(int bit, boolean value) {
        Checks.inRange("EPT entry bit", bit, 0, 63);
        return new EptEntry(value ? raw | (1L << bit) : raw & ~(1L << bit));
    }

    public EptEntry withReadable(boolean v) {
        return with(R, v);
    }

    public EptEntry withWritable(boolean v) {
        return with(W, v);
    }

    public EptEntry withExecutable(boolean v) {
        return with(X, v);
    }

    /** This entry with bits 2:0 = {@code bits} (0..7: bit 0 R, bit 1 W, bit 2 X). */
    public EptEntry withPermissionBits(int bits) {
        Checks.inRange("EPT permission bits 2:0", bits, 0, 7);
        return new EptEntry((raw & ~PERMISSION_BITS) | bits);
    }

    /** This entry with R, W, X from {@code p}. */
    public EptEntry withPermissions(EptPermissions p) {
        Checks.notNull("permissions", p);
        return withReadable(p.read()).withWritable(p.write()).withExecutable(p.execute());
    }

    /** This entry with bits 5:3 = {@code encoding} (0..7, reserved encodings included, to build misconfigurations). */
    public EptEntry withMemoryType(int encoding) {
        Checks.inRange("EPT memory type encoding", encoding, 0, 7);
        return new EptEntry((raw & ~(0x7L << MEMORY_TYPE_SHIFT)) | ((long) encoding << MEMORY_TYPE_SHIFT));
    }

    public EptEntry withMemoryType(EptMemoryType type) {
        Checks.notNull("memory type", type);
        return withMemoryType(type.encoding());
    }

    public EptEntry withIgnorePat(boolean v) {
        return with(IGNORE_PAT, v);
    }

    public EptEntry withLargePage(boolean v) {
        return with(LARGE_PAGE, v);
    }

    public EptEntry withAccessed(boolean v) {
        return with(A, v);
    }

    public EptEntry withDirty(boolean v) {
        return with(D, v);
    }

    /** This entry with bits 51:12 = {@code address} (4-KByte aligned, below 2<sup>52</sup>). */
    public EptEntry withAddress(long address) {
        Checks.inRange("EPT entry address", address, 0, (1L << 52) - 1);
        Checks.aligned("EPT entry address", address, PhysicalMemory.FRAME_SIZE);
        return new EptEntry((raw & ~ADDRESS_FIELD) | address);
    }

    /** This entry with bits 51:12 = {@code frame} (below 2<sup>40</sup>). */
    public EptEntry withFrame(long frame) {
        Checks.inRange("EPT entry frame", frame, 0, (1L << 40) - 1);
        return withAddress(frame << 12);
    }

    /**
     * A present non-leaf entry that references the EPT paging structure in {@code frame} and allows reads, writes
     * and instruction fetches (bits 2:0 = 111b), all other bits clear: the usual upper-level entry, which leaves the
     * permissions to the leaf.
     */
    public static EptEntry table(long frame) {
        return NOT_PRESENT.withFrame(frame).withPermissionBits(0b111);
    }

    /**
     * An entry that maps the page at {@code address} with permissions {@code p} and memory type {@code type}, bit 7
     * clear (as a PTE needs; use {@link #withLargePage(boolean)} for a PDPTE or PDE leaf).
     */
    public static EptEntry page(long address, EptPermissions p, EptMemoryType type) {
        return NOT_PRESENT.withAddress(address).withPermissions(p).withMemoryType(type);
    }

    /** A 4-KByte EPT PTE: read/write/execute as given, write-back, for the page in {@code frame}. */
    public static EptEntry pte(long frame, EptPermissions p) {
        return page(frame << 12, p, EptMemoryType.WB);
    }

    /** An EPT PDE that maps the 2-MByte page at {@code address} (2-MByte aligned), write-back, bit 7 set. */
    public static EptEntry pde2M(long address, EptPermissions p) {
        Checks.aligned("2-MByte page address", address, 1L << 21);
        return page(address, p, EptMemoryType.WB).withLargePage(true);
    }

    /** An EPT PDPTE that maps the 1-GByte page at {@code address} (1-GByte aligned), write-back, bit 7 set. */
    public static EptEntry pdpte1G(long address, EptPermissions p) {
        Checks.aligned("1-GByte page address", address, 1L << 30);
        return page(address, p, EptMemoryType.WB).withLargePage(true);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("EptEntry[").append(Hex.of(raw));
        if (present()) {
            s.append(' ').append(readable() ? 'R' : '-').append(writable() ? 'W' : '-')
                    .append(executable() ? 'X' : '-');
            s.append(" MT=").append(memoryType());
            if (ignorePat()) s.append(" IPAT");
            if (largePage()) s.append(" L");
            if (accessed()) s.append(" A");
            if (dirty()) s.append(" D");
            s.append(" addr=").append(Hex.of(address()));
        } else {
            s.append(" not present");
        }
        return s.append(']').toString();
    }
}
