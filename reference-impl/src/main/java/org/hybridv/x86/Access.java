package org.hybridv.x86;

/**
 * One linear-address access: its address, its kind, whether it is an <em>implicit supervisor-mode access</em>, and
 * for a write the 64-bit value written.
 *
 * <p>Intel SDM Vol. 3A §4.6: "Every access to a linear address is either a supervisor-mode access or a user-mode
 * access. For all instruction fetches and most data accesses, this distinction is determined by the current privilege
 * level (CPL): accesses made while CPL &lt; 3 are supervisor-mode accesses, while accesses made while CPL = 3 are
 * user-mode accesses. Some operations implicitly access system data structures with linear addresses; the resulting
 * accesses to those data structures are supervisor-mode accesses regardless of CPL" (e.g. GDT/IDT/TSS accesses).
 * Implicit accesses are data accesses, so an implicit fetch is API misuse.
 *
 * <p>Data accesses in this reference are 8-byte quadwords; the data path ({@link Processor#access}) requires the
 * linear address to be 8-byte aligned, so an access never spans two pages.
 */
public record Access(long linear, AccessKind kind, boolean implicitSupervisor, long value) {
    public Access {
        Checks.notNull("access kind", kind);
        if (implicitSupervisor && kind == AccessKind.FETCH) {
            throw new IllegalArgumentException("an instruction fetch cannot be an implicit supervisor-mode access"
                    + " (SDM 4.6: implicit accesses are accesses to system data structures)");
        }
        if (kind != AccessKind.WRITE && value != 0) {
            throw new IllegalArgumentException("value = " + Hex.of(value) + " given for a " + kind
                    + "; only writes carry a value");
        }
    }

    public static Access read(long linear) {
        return new Access(linear, AccessKind.READ, false, 0);
    }

    public static Access write(long linear, long value) {
        return new Access(linear, AccessKind.WRITE, false, value);
    }

    public static Access write(long linear) {
        return write(linear, 0);
    }

    public static Access fetch(long linear) {
        return new Access(linear, AccessKind.FETCH, false, 0);
    }

    public static Access of(long linear, AccessKind kind) {
        return new Access(linear, kind, false, 0);
    }

    /** The same access made as an implicit supervisor-mode access. */
    public Access implicit() {
        return new Access(linear, kind, true, value);
    }

    /** SDM 4.6: a supervisor-mode access is one made at CPL &lt; 3, or an implicit supervisor-mode access. */
    public boolean isSupervisorMode(CpuState cpu) {
        return cpu.cpl() < 3 || implicitSupervisor;
    }

    /** SDM 4.6: a user-mode access is an explicit access made at CPL = 3. */
    public boolean isUserMode(CpuState cpu) {
        return !isSupervisorMode(cpu);
    }

    public boolean isWrite() {
        return kind == AccessKind.WRITE;
    }

    public boolean isFetch() {
        return kind == AccessKind.FETCH;
    }
}
