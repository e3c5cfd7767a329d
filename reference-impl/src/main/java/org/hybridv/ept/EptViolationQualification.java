package org.hybridv.ept;

import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Checks;
import org.hybridv.x86.Hex;

/**
 * The exit qualification of a VM exit due to an EPT violation (Intel SDM Vol. 3C §27.2.1, table 27-7), the bits this
 * reference models:
 *
 * <table>
 * <caption>Table 27-7, modelled bits</caption>
 * <tr><td>0</td><td>{@code read}: "Set if the access causing the EPT violation was a data read."</td></tr>
 * <tr><td>1</td><td>{@code write}: "Set if the access causing the EPT violation was a data write."</td></tr>
 * <tr><td>2</td><td>{@code fetch}: "Set if the access causing the EPT violation was an instruction fetch."</td></tr>
 * <tr><td>3</td><td>{@code readable}: "The logical-AND of bit 0 in the EPT paging-structures entries used to
 * translate the guest-physical address of the access causing the EPT violation (indicates that the guest-physical
 * address was readable)."</td></tr>
 * <tr><td>4</td><td>{@code writable}: the logical-AND of bit 1 (… "was writeable").</td></tr>
 * <tr><td>5</td><td>{@code executable}: the logical-AND of bit 2 (… "was executable").</td></tr>
 * <tr><td>6</td><td>Reserved (cleared to 0).</td></tr>
 * <tr><td>7</td><td>{@code linearValid}: "Set if the guest linear-address field is valid."</td></tr>
 * <tr><td>8</td><td>{@code translatedAccess}: if bit 7 is 1, set if the access is to a guest-physical address that
 * is the translation of a linear address, clear if it is to a paging-structure entry as part of a page walk or the
 * update of an accessed or dirty bit; reserved (cleared to 0) if bit 7 is 0.</td></tr>
 * </table>
 *
 * <p>Not modelled, always 0 here: bits 11:9 (reserved in the 2016 SDM) and bit 12 ("NMI unblocking due to IRET",
 * which the VMX layer may set), 63:13 reserved.
 */
public record EptViolationQualification(boolean read, boolean write, boolean fetch, boolean readable,
        boolean writable, boolean executable, boolean linearValid, boolean translatedAccess) {
    public static final int BIT_READ = 0;
    public static final int BIT_WRITE = 1;
    public static final int BIT_FETCH = 2;
    public static final int BIT_READABLE = 3;
    public static final int BIT_WRITABLE = 4;
    public static final int BIT_EXECUTABLE = 5;
    public static final int BIT_LINEAR_VALID = 7;
    public static final int BIT_TRANSLATED_ACCESS = 8;
    /** The bits this record models: 5:0, 7, 8. */
    public static final long MODELLED_BITS = 0x1BFL;

    public EptViolationQualification {
        if (translatedAccess && !linearValid) {
            throw new IllegalArgumentException("translatedAccess = true with linearValid = false: bit 8 is reserved"
                    + " (cleared to 0) when bit 7 is 0 (SDM table 27-7)");
        }
        if (fetch && (read || write)) {
            throw new IllegalArgumentException("fetch = true with read = " + read + ", write = " + write
                    + ": an instruction fetch is not a data access (SDM table 27-7 bits 0-2)");
        }
    }

    /**
     * The qualification of an EPT violation caused by an access of kind {@code access} (SDM table 27-7):
     * <ul>
     * <li>bits 2:0 from the access: data read → bit 0, data write → bit 1, instruction fetch → bit 2; but when
     * {@code pagingStructureTreatedAsWrite} (EPT A/D enabled and the access is to a guest paging-structure entry,
     * {@link EptAccessedDirty#treatedAsWrite}), "the processor sets both bit 0 and bit 1 of the exit qualification"
     * (table 27-7, note 1);</li>
     * <li>bits 5:3 from {@code combined}, the AND of bits 2:0 over the EPT entries used to translate the address. For
     * a walk that stopped at a not-present entry, that entry is among those used, so bits 5:3 are all 0;</li>
     * <li>bits 7 and 8 from {@code linear}.</li>
     * </ul>
     */
    public static EptViolationQualification of(AccessKind access, boolean pagingStructureTreatedAsWrite,
            EptPermissions combined, GuestLinear linear) {
        Checks.notNull("access", access);
        Checks.notNull("combined permissions", combined);
        Checks.notNull("linear", linear);
        boolean read = access == AccessKind.READ || pagingStructureTreatedAsWrite;
        boolean write = access == AccessKind.WRITE || pagingStructureTreatedAsWrite;
        boolean fetch = access == AccessKind.FETCH;
        return new EptViolationQualification(read, write, fetch, combined.read(), combined.write(),
                combined.execute(), linear.valid(), linear.translatedAccess());
    }

    /** The 64-bit exit qualification (bits 6 and 9..63 are 0). */
    public long bits() {
        return bit(read, BIT_READ) | bit(write, BIT_WRITE) | bit(fetch, BIT_FETCH) | bit(readable, BIT_READABLE)
                | bit(writable, BIT_WRITABLE) | bit(executable, BIT_EXECUTABLE) | bit(linearValid, BIT_LINEAR_VALID)
                | bit(translatedAccess, BIT_TRANSLATED_ACCESS);
    }

    /**
     * Decodes an exit qualification; any bit outside 5:0, 7, 8 is API misuse (this reference never produces it), as
     * is bit 8 without bit 7 or bit 2 with bit 0 or 1.
     */
    public static EptViolationQualification fromBits(long bits) {
        if ((bits & ~MODELLED_BITS) != 0) {
            throw new IllegalArgumentException("EPT-violation exit qualification = " + Hex.of(bits) + " sets bits "
                    + Hex.of(bits & ~MODELLED_BITS) + " outside the modelled bits 5:0, 7, 8");
        }
        return new EptViolationQualification(set(bits, BIT_READ), set(bits, BIT_WRITE), set(bits, BIT_FETCH),
                set(bits, BIT_READABLE), set(bits, BIT_WRITABLE), set(bits, BIT_EXECUTABLE),
                set(bits, BIT_LINEAR_VALID), set(bits, BIT_TRANSLATED_ACCESS));
    }

    private static long bit(boolean v, int n) {
        return v ? 1L << n : 0;
    }

    private static boolean set(long bits, int n) {
        return ((bits >>> n) & 1) != 0;
    }

    @Override
    public String toString() {
        return "EptViolationQualification[" + Hex.of(bits()) + (read ? " read" : "") + (write ? " write" : "")
                + (fetch ? " fetch" : "") + (readable ? " readable" : "") + (writable ? " writable" : "")
                + (executable ? " executable" : "") + (linearValid ? " linearValid" : "")
                + (translatedAccess ? " translatedAccess" : "") + "]";
    }
}
