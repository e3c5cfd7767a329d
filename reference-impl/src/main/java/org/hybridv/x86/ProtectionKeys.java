package org.hybridv.x86;

/**
 * Protection keys for user-mode pages (Intel SDM Vol. 3A §4.6.2) and the PK bit of the error code (§4.7).
 */
public final class ProtectionKeys {
    private ProtectionKeys() {}

    /** AD_i, bit 2i of PKRU: access disable for key i. */
    public static boolean accessDisable(int pkru, int key) {
        return ((pkru >>> (2 * key)) & 1) != 0;
    }

    /** WD_i, bit 2i+1 of PKRU: write disable for key i. */
    public static boolean writeDisable(int pkru, int key) {
        return ((pkru >>> (2 * key + 1)) & 1) != 0;
    }

    /**
     * Whether the access is a protection-key violation. SDM 4.7, PK flag: "This flag is 1 if (1) IA32_EFER.LMA =
     * CR4.PKE = 1; (2) the access causing the page-fault exception was a data access; (3) the linear address was a
     * user-mode address with protection key i; and (4) the PKRU register is such that either (a) AD_i = 1; or (b) the
     * following all hold: (i) WD_i = 1; (ii) the access is a write access; and (iii) either CR0.WP = 1 or the access
     * causing the page-fault exception was a user-mode access." Per §4.6.2 the same condition denies the access, for
     * supervisor-mode and user-mode data accesses alike; instruction fetches are not subject to protection keys.
     */
    public static boolean violation(Rights rights, CpuState cpu, Access access) {
        if (!(cpu.ia32eMode() && cpu.cr4().pke())) {
            return false;
        }
        if (!access.kind().isData() || !rights.user()) {
            return false;
        }
        int key = rights.protectionKey();
        if (accessDisable(cpu.pkru(), key)) {
            return true;
        }
        return writeDisable(cpu.pkru(), key) && access.isWrite() && (cpu.cr0().wp() || access.isUserMode(cpu));
    }
}
