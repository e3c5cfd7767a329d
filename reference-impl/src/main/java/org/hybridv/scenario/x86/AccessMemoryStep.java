package org.hybridv.scenario.x86;

import org.hybridv.x86.AccessKind;

/**
 * {@code {"op": "access", "linear": …, "kind": "read"|"write"|"fetch", "value": …, "cpl": …,
 * "implicitSupervisor": …, "expect": {…}}}: one aligned quadword access through the MMU (SDM Vol. 3A §4.5–4.10),
 * delivering a #PF (CR2 written) if it faults.
 *
 * @param linear             the linear address, 8-byte aligned
 * @param kind               read, write or fetch
 * @param value              the quadword written (0 unless a write)
 * @param cpl                the CPL for this access only, or null for the current CPL
 * @param implicitSupervisor an implicit supervisor-mode access (to a system data structure; SDM 4.6)
 * @param expect             what must happen, or null to check nothing
 */
public record AccessMemoryStep(long linear, AccessKind kind, long value, Integer cpl, boolean implicitSupervisor,
        AccessExpectation expect) implements X86Step {
    @Override
    public String op() {
        return "access";
    }

    @Override
    public String describe() {
        StringBuilder s = new StringBuilder(kind.name().toLowerCase(java.util.Locale.ROOT)).append(' ')
                .append(Render.hex(linear));
        if (kind == AccessKind.WRITE && value != 0) {
            s.append(" value ").append(Render.hex(value));
        }
        if (cpl != null) {
            s.append(" at CPL ").append(cpl);
        }
        if (implicitSupervisor) {
            s.append(" (implicit supervisor)");
        }
        return s.toString();
    }
}
