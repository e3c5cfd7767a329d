package org.hybridv.ept;

import org.hybridv.x86.Checks;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PhysicalMemory;

/**
 * The extended-page-table pointer, a 64-bit VM-execution control field (Intel SDM Vol. 3C §24.6.11, table 24-8):
 *
 * <table>
 * <caption>EPTP format (SDM table 24-8)</caption>
 * <tr><td>2:0</td><td>EPT paging-structure memory type: 0 = UC, 6 = WB; other values reserved</td></tr>
 * <tr><td>5:3</td><td>this value is 1 less than the EPT page-walk length</td></tr>
 * <tr><td>6</td><td>setting this control to 1 enables accessed and dirty flags for EPT (SDM 28.2.4)</td></tr>
 * <tr><td>11:7</td><td>reserved</td></tr>
 * <tr><td>N-1:12</td><td>bits N-1:12 of the physical address of the 4-KByte aligned EPT PML4 table</td></tr>
 * <tr><td>63:N</td><td>reserved</td></tr>
 * </table>
 *
 * <p>Any 64-bit value is representable: the VM-entry checks ({@link #vmEntryCheck(EptSupport)}) decide whether the
 * processor accepts it.
 */
public record Eptp(long raw) {
    /** Bits 2:0 value 0: uncacheable (SDM table 24-8). */
    public static final int MEMORY_TYPE_UC = 0;
    /** Bits 2:0 value 6: write-back (SDM table 24-8). */
    public static final int MEMORY_TYPE_WB = 6;
    /** Bits 5:3 value 3: a page-walk length of 4, the only one VM entry accepts (SDM 26.2.1.1). */
    public static final int PAGE_WALK_LENGTH_4_MINUS_1 = 3;
    /** Bit 6: enable accessed and dirty flags for EPT (SDM 24.6.11, 28.2.4). */
    public static final int ACCESSED_DIRTY = 6;
    /** Bits 51:12: the address field read by the EPT walk (SDM 28.2.2) and the EP4TA (SDM 28.3). */
    public static final long ADDRESS_FIELD = Checks.mask(51, 12);
    /** Bits 11:7, reserved (SDM table 24-8, 26.2.1.1). */
    public static final long RESERVED_11_7 = Checks.mask(11, 7);

    /** The memory type, bits 2:0 (0..7; only 0 and 6 are defined). */
    public int memoryType() {
        return (int) (raw & 0x7);
    }

    /** Bits 5:3: "This value is 1 less than the EPT page-walk length" (SDM table 24-8). */
    public int pageWalkLengthMinus1() {
        return (int) ((raw >>> 3) & 0x7);
    }

    /** The EPT page-walk length encoded in bits 5:3 (1..8; VM entry accepts only 4). */
    public int pageWalkLength() {
        return pageWalkLengthMinus1() + 1;
    }

    /** Bit 6: accessed and dirty flags for EPT are enabled (SDM 28.2.4). */
    public boolean accessedDirtyEnabled() {
        return ((raw >>> ACCESSED_DIRTY) & 1) != 0;
    }

    /**
     * The physical address of the EPT PML4 table: "A 4-KByte naturally aligned EPT PML4 table is located at the
     * physical address specified in bits 51:12 of the extended-page-table pointer (EPTP)" (SDM 28.2.2). For an EPTP
     * that passes the VM-entry checks, bits 51:N are 0, so this is also the N-1:12 field of table 24-8.
     */
    public long pml4Address() {
        return raw & ADDRESS_FIELD;
    }

    /**
     * The EP4TA, bits 51:12 of the EPTP (the address of the EPT PML4 table), which tags guest-physical and combined
     * mappings in the TLBs and paging-structure caches (SDM 28.3.1, 28.3.2). INVEPT single-context "invalidates all
     * mappings associated with bits 51:12 of the EPT pointer (EPTP) specified in the INVEPT descriptor" (SDM Vol. 3C
     * ch. 30, INVEPT): two EPTPs that differ only in bits 11:0 (memory type, walk length, A/D enable) or 63:52 name
     * the same EP4TA. Returned as an address (bits 11:0 zero), not shifted.
     */
    public long ep4ta() {
        return raw & ADDRESS_FIELD;
    }

    /**
     * The EPTP VM-entry checks (SDM 26.2.1.1, "If the 'enable EPT' VM-execution control is 1, the EPTP VM-execution
     * control field ... must satisfy the following checks"), in the SDM's order; the first that fails is returned as
     * a reason, or null when all pass:
     * <ol>
     * <li>"The EPT memory type (bits 2:0) must be a value supported by the processor as indicated in the
     * IA32_VMX_EPT_VPID_CAP MSR" — UC (0) or WB (6), both assumed supported ({@link EptSupport}).</li>
     * <li>"Bits 5:3 (1 less than the EPT page-walk length) must be 3, indicating an EPT page-walk length of 4".</li>
     * <li>"Bit 6 (enable bit for accessed and dirty flags for EPT) must be 0 if bit 21 of the IA32_VMX_EPT_VPID_CAP
     * MSR ... is read as 0".</li>
     * <li>"Reserved bits 11:7 and 63:N (where N is the processor's physical-address width) must all be 0."</li>
     * </ol>
     * A failed check makes VM entry fail (an outcome for the VMX layer, not an exception).
     */
    public String vmEntryCheck(EptSupport support) {
        Checks.notNull("support", support);
        if (!memoryTypeSupported(memoryType())) {
            return "EPTP memory type (bits 2:0) = " + memoryType() + " is not supported: only 0 (UC) and 6 (WB)"
                    + " (SDM 26.2.1.1, table 24-8)";
        }
        if (pageWalkLengthMinus1() != PAGE_WALK_LENGTH_4_MINUS_1) {
            return "EPTP bits 5:3 = " + pageWalkLengthMinus1() + " (page-walk length " + pageWalkLength()
                    + "); must be 3, a page-walk length of 4 (SDM 26.2.1.1)";
        }
        if (accessedDirtyEnabled() && !support.accessedDirty()) {
            return "EPTP bit 6 (accessed/dirty enable) = 1 but IA32_VMX_EPT_VPID_CAP bit 21 is 0 (SDM 26.2.1.1)";
        }
        if ((raw & RESERVED_11_7) != 0) {
            return "EPTP reserved bits 11:7 are not 0: " + Hex.of(raw & RESERVED_11_7) + " (SDM 26.2.1.1)";
        }
        long high = reservedAbove(support.maxPhysAddr());
        if ((raw & high) != 0) {
            return "EPTP reserved bits 63:" + support.maxPhysAddr() + " are not 0: " + Hex.of(raw & high)
                    + " (SDM 26.2.1.1, N = MAXPHYADDR = " + support.maxPhysAddr() + ")";
        }
        return null;
    }

    /**
     * {@link #vmEntryCheck(EptSupport)} on a processor with physical-address width {@code maxPhysAddr} that supports
     * EPT accessed and dirty flags ({@link EptSupport#full(int)}).
     */
    public String vmEntryCheck(int maxPhysAddr) {
        return vmEntryCheck(EptSupport.full(maxPhysAddr));
    }

    /** Whether this EPTP passes the VM-entry checks of SDM 26.2.1.1 ({@link #vmEntryCheck(int)} returns null). */
    public boolean validFor(int maxPhysAddr) {
        return vmEntryCheck(maxPhysAddr) == null;
    }

    /** Whether this EPTP passes the VM-entry checks of SDM 26.2.1.1 for {@code support}. */
    public boolean validFor(EptSupport support) {
        return vmEntryCheck(support) == null;
    }

    /** The EPT paging-structure memory types VM entry accepts: UC (0) and WB (6) (SDM table 24-8, 26.2.1.1). */
    public static boolean memoryTypeSupported(int memoryType) {
        return memoryType == MEMORY_TYPE_UC || memoryType == MEMORY_TYPE_WB;
    }

    /** Bits 63:N, reserved in the EPTP for physical-address width N (SDM table 24-8, 26.2.1.1). */
    public static long reservedAbove(int maxPhysAddr) {
        Checks.inRange("maxPhysAddr", maxPhysAddr, 36, 52);
        return Checks.mask(63, maxPhysAddr);
    }

    /**
     * A valid-looking EPTP: memory type WB, page-walk length 4, A/D as given, the PML4 table at {@code pml4Address}
     * (4-KByte aligned, below 2<sup>52</sup>).
     */
    public static Eptp of(long pml4Address, boolean accessedDirty) {
        return new Eptp(0).withPml4Address(pml4Address).withMemoryType(MEMORY_TYPE_WB)
                .withPageWalkLengthMinus1(PAGE_WALK_LENGTH_4_MINUS_1).withAccessedDirty(accessedDirty);
    }

    /** {@link #of(long, boolean)} with the PML4 table in {@code frame}. */
    public static Eptp ofFrame(long frame, boolean accessedDirty) {
        Checks.inRange("EPT PML4 frame", frame, 0, (1L << 40) - 1);
        return of(frame * PhysicalMemory.FRAME_SIZE, accessedDirty);
    }

    /** This EPTP with bits 2:0 = {@code memoryType} (0..7; any value, valid or not). */
    public Eptp withMemoryType(int memoryType) {
        Checks.inRange("EPTP memory type", memoryType, 0, 7);
        return new Eptp((raw & ~0x7L) | memoryType);
    }

    /** This EPTP with bits 5:3 = {@code value} (0..7; any value, valid or not). */
    public Eptp withPageWalkLengthMinus1(int value) {
        Checks.inRange("EPTP page-walk length - 1", value, 0, 7);
        return new Eptp((raw & ~(0x7L << 3)) | ((long) value << 3));
    }

    public Eptp withAccessedDirty(boolean v) {
        return new Eptp(v ? raw | (1L << ACCESSED_DIRTY) : raw & ~(1L << ACCESSED_DIRTY));
    }

    /** This EPTP with bits 51:12 = {@code pml4Address} (4-KByte aligned, below 2<sup>52</sup>). */
    public Eptp withPml4Address(long pml4Address) {
        Checks.inRange("EPT PML4 address", pml4Address, 0, (1L << 52) - 1);
        Checks.aligned("EPT PML4 address", pml4Address, PhysicalMemory.FRAME_SIZE);
        return new Eptp((raw & ~ADDRESS_FIELD) | pml4Address);
    }

    @Override
    public String toString() {
        return "Eptp[" + Hex.of(raw) + " MT=" + memoryType() + " PWL=" + pageWalkLength()
                + (accessedDirtyEnabled() ? " A/D" : "") + " PML4=" + Hex.of(pml4Address()) + "]";
    }
}
