package org.hybridv.scenario.x86;

import java.util.Locale;
import java.util.OptionalLong;
import org.hybridv.scenario.Fields;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessKind;

/**
 * The operands of one memory access as a scenario writes them — {@code linear}, {@code kind}, {@code value},
 * {@code cpl}, {@code implicitSupervisor} — decoded with the checks the reference would otherwise reject as API
 * misuse. Shared by the bare-processor {@code access} and the VMX {@code guestAccess}.
 *
 * @param access the access
 * @param cpl    the CPL for this one access, or null for the current one
 */
public record AccessOperands(Access access, Integer cpl) {
    /** Decodes the access fields of {@code f}. */
    public static AccessOperands decode(Fields f) {
        long linear = f.unsigned("linear", 64);
        if ((linear & 7) != 0) {
            throw f.error("linear", Render.hex(linear) + " is not 8-byte aligned (an access is one aligned quadword,"
                    + " so it never spans two pages)");
        }
        AccessKind kind = f.choice("kind", X86Decoders.KINDS);
        OptionalLong value = f.optionalUnsigned("value", 64);
        if (value.isPresent() && kind != AccessKind.WRITE) {
            throw f.error("value", "only a write has a value (this access is a " + kind.name().toLowerCase(
                    Locale.ROOT) + ")");
        }
        OptionalLong cpl = f.optionalInteger("cpl", 0, 3, "privilege levels 0..3");
        boolean implicit = f.bool("implicitSupervisor", false);
        if (implicit && kind == AccessKind.FETCH) {
            throw f.error("implicitSupervisor", "an instruction fetch cannot be an implicit supervisor-mode access"
                    + " (SDM Vol. 3A §4.6: implicit accesses are data accesses to system structures)");
        }
        return new AccessOperands(new Access(linear, kind, implicit, value.orElse(0)),
                cpl.isPresent() ? (int) cpl.getAsLong() : null);
    }
}
