package org.hybridv.ept;

import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Checks;

/**
 * The read, write and execute permissions of a guest-physical address, combined over the EPT paging-structure entries
 * used to translate it: "The access is a data read and bit 0 was clear in any of the EPT paging-structure entries used
 * to translate the guest-physical address" causes an EPT violation, and likewise bit 1 for writes and bit 2 for
 * instruction fetches (Intel SDM Vol. 3C §28.2.3.2). The exit qualification of an EPT violation reports these ANDs in
 * bits 5:3 (SDM table 27-7).
 *
 * @param read    bit 0 set in every entry used
 * @param write   bit 1 set in every entry used
 * @param execute bit 2 set in every entry used
 */
public record EptPermissions(boolean read, boolean write, boolean execute) {
    /** The identity of the AND: what a walk starts from before it reads any entry. */
    public static final EptPermissions ALL = new EptPermissions(true, true, true);
    /** Bits 2:0 = 000b. */
    public static final EptPermissions NONE = new EptPermissions(false, false, false);
    /** Read only (001b). */
    public static final EptPermissions READ = new EptPermissions(true, false, false);
    /** Read and write (011b). */
    public static final EptPermissions READ_WRITE = new EptPermissions(true, true, false);
    /** Read and execute (101b). */
    public static final EptPermissions READ_EXECUTE = new EptPermissions(true, false, true);
    /** Execute only (100b; needs execute-only support, SDM 28.2.3.1). */
    public static final EptPermissions EXECUTE_ONLY = new EptPermissions(false, false, true);

    /** These permissions narrowed by one more entry of the walk: the AND of each bit (SDM 28.2.3.2, table 27-7). */
    public EptPermissions and(EptEntry e) {
        Checks.notNull("entry", e);
        return new EptPermissions(read && e.readable(), write && e.writable(), execute && e.executable());
    }

    /**
     * Whether these (combined) permissions allow {@code access} (SDM 28.2.3.2): a data read needs bit 0, a data write
     * bit 1, an instruction fetch bit 2.
     */
    public boolean permits(AccessKind access) {
        Checks.notNull("access", access);
        return switch (access) {
            case READ -> read;
            case WRITE -> write;
            case FETCH -> execute;
        };
    }

    /** Bits 2:0 as the SDM writes them (bit 0 R, bit 1 W, bit 2 X). */
    public int bits() {
        return (read ? 1 : 0) | (write ? 2 : 0) | (execute ? 4 : 0);
    }

    /** The permissions encoded in bits 2:0 of {@code bits} (0..7). */
    public static EptPermissions ofBits(int bits) {
        Checks.inRange("EPT permission bits 2:0", bits, 0, 7);
        return new EptPermissions((bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0);
    }
}
