package org.hybridv.x86;

/**
 * Access rights of IA-32e paging (Intel SDM Vol. 3A §4.6.1 "Determination of Access Rights"). Each function below is
 * one paragraph of that section; the sentence it implements is quoted beside it. Protection keys (§4.6.2) are a
 * separate check in {@link ProtectionKeys}: an access faults if either denies it.
 */
public final class AccessRights {
    private AccessRights() {}

    /** Whether the access is allowed by the page-level protections of §4.6.1 (protection keys not included). */
    public static boolean permits(Rights rights, CpuState cpu, Access access) {
        if (access.isSupervisorMode(cpu)) {
            return switch (access.kind()) {
                case READ -> supervisorRead(rights, cpu, access);
                case WRITE -> supervisorWrite(rights, cpu, access);
                case FETCH -> supervisorFetch(rights, cpu);
            };
        }
        return switch (access.kind()) {
            case READ -> userRead(rights);
            case WRITE -> userWrite(rights);
            case FETCH -> userFetch(rights, cpu);
        };
    }

    /**
     * SMAP's condition for supervisor data accesses to user-mode addresses: "If CR4.SMAP = 0, data may be read
     * from any user-mode address … If CR4.SMAP = 1, access rights depend on the value of EFLAGS.AC and whether the
     * access is implicit or explicit: If EFLAGS.AC = 1 and the access is explicit, data may be read from any
     * user-mode address …; If EFLAGS.AC = 0 or the access is implicit, data may not be read from any user-mode
     * address." The same words govern writes.
     */
    static boolean smapAllowsDataAccess(CpuState cpu, Access access) {
        return !cpu.cr4().smap() || (cpu.ac() && !access.implicitSupervisor());
    }

    /**
     * Data reads, supervisor mode: "Data may be read (implicitly or explicitly) from any supervisor-mode address";
     * from user-mode addresses only as {@link #smapAllowsDataAccess SMAP} allows.
     */
    static boolean supervisorRead(Rights rights, CpuState cpu, Access access) {
        return !rights.user() || smapAllowsDataAccess(cpu, access);
    }

    /**
     * Data writes, supervisor mode. To supervisor-mode addresses: "If CR0.WP = 0, data may be written to any
     * supervisor-mode address. If CR0.WP = 1, data may be written to any supervisor-mode address with a translation
     * for which the R/W flag … is 1 in every paging-structure entry controlling the translation." To user-mode
     * addresses: the same CR0.WP rule, and only where {@link #smapAllowsDataAccess SMAP} allows.
     */
    static boolean supervisorWrite(Rights rights, CpuState cpu, Access access) {
        boolean wpAllows = !cpu.cr0().wp() || rights.writable();
        if (!rights.user()) {
            return wpAllows;
        }
        return smapAllowsDataAccess(cpu, access) && wpAllows;
    }

    /**
     * Instruction fetches, supervisor mode. From user-mode addresses: "If CR4.SMEP = 1, instructions may not be
     * fetched from any user-mode address"; with SMEP = 0 as for supervisor-mode addresses. From supervisor-mode
     * addresses: "If IA32_EFER.NXE = 0, instructions may be fetched from any supervisor-mode address. If
     * IA32_EFER.NXE = 1, instructions may be fetched from any supervisor-mode address with a translation for which
     * the XD flag … is 0 in every paging-structure entry controlling the translation."
     */
    static boolean supervisorFetch(Rights rights, CpuState cpu) {
        if (rights.user() && cpu.cr4().smep()) {
            return false;
        }
        return executeDisableAllows(rights, cpu);
    }

    /** Data reads, user mode: "Data may be read from any user-mode address with a valid translation." */
    static boolean userRead(Rights rights) {
        return rights.user();
    }

    /**
     * Data writes, user mode: "Data may be written to any user-mode address with a translation for which the R/W
     * flag is 1 in every paging-structure entry controlling the translation." (CR0.WP does not matter.)
     */
    static boolean userWrite(Rights rights) {
        return rights.user() && rights.writable();
    }

    /**
     * Instruction fetches, user mode: "If IA32_EFER.NXE = 0, instructions may be fetched from any user-mode address.
     * If IA32_EFER.NXE = 1, instructions may be fetched from any user-mode address with a translation for which the
     * XD flag is 0 in every paging-structure entry controlling the translation."
     */
    static boolean userFetch(Rights rights, CpuState cpu) {
        return rights.user() && executeDisableAllows(rights, cpu);
    }

    /** The XD rule shared by all fetches: with IA32_EFER.NXE = 1, XD = 1 in any entry forbids the fetch. */
    static boolean executeDisableAllows(Rights rights, CpuState cpu) {
        return !cpu.efer().nxe() || !rights.executeDisable();
    }
}
