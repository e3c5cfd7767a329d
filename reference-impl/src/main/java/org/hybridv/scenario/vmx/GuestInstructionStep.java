package org.hybridv.scenario.vmx;

import java.util.Locale;
import org.hybridv.scenario.x86.Render;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Access;

/**
 * A guest instruction in VMX non-root operation (Intel SDM Vol. 3C chapter 25): {@code guestAccess},
 * {@code guestInvlpg}, {@code guestMovToCr}, {@code guestMovFromCr}, {@code io}, {@code rdmsr}, {@code wrmsr},
 * {@code cpuid}, {@code vmcall}, {@code hlt}. It retires in the guest, raises an exception that is delivered to the
 * guest or causes a VM exit, or causes a VM exit itself ({@link org.hybridv.vmx.NonRoot#execute}).
 *
 * @param op          the op name
 * @param instruction the instruction, as the reference names it
 * @param cpl         the guest CPL for this instruction only ({@code guestAccess}), or null for the guest's CPL
 * @param expect      what must happen, or null to check nothing
 */
public record GuestInstructionStep(String op, GuestInstruction instruction, Integer cpl, GuestExpectation expect)
        implements VmxStep {
    public GuestInstructionStep {
        if (op == null || instruction == null) {
            throw new IllegalArgumentException("a guest instruction step needs an op and an instruction");
        }
    }

    @Override
    public String describe() {
        String at = cpl == null ? "" : " at CPL " + cpl;
        if (instruction instanceof GuestInstruction.MemoryAccess m) {
            Access a = m.access();
            return a.kind().name().toLowerCase(Locale.ROOT) + " " + Render.hex(a.linear())
                    + (a.isWrite() && a.value() != 0 ? " value " + Render.hex(a.value()) : "") + at
                    + (a.implicitSupervisor() ? " (implicit supervisor)" : "");
        }
        if (instruction instanceof GuestInstruction.Io io) {
            String name = (io.in() ? "IN" : "OUT") + (io.string() ? "S" : "");
            return (io.rep() ? "REP " : "") + name + " " + io.size() + " byte" + (io.size() == 1 ? "" : "s")
                    + (io.in() ? " from" : " to") + " port " + Render.hex(io.port())
                    + (io.immediate() ? " (immediate)" : " (DX)")
                    + (!io.in() && io.value() != 0 ? " value " + Render.hex(io.value()) : "");
        }
        if (instruction instanceof GuestInstruction.Rdmsr r) {
            return "RDMSR ECX " + Render.hex(r.msr());
        }
        if (instruction instanceof GuestInstruction.Wrmsr w) {
            return "WRMSR ECX " + Render.hex(w.msr()) + " value " + Render.hex(w.value());
        }
        if (instruction instanceof GuestInstruction.Cpuid c) {
            return "CPUID EAX " + Render.hex(c.leaf()) + " ECX " + Render.hex(c.subleaf());
        }
        if (instruction instanceof GuestInstruction.Vmcall) {
            return "VMCALL";
        }
        if (instruction instanceof GuestInstruction.Hlt) {
            return "HLT";
        }
        if (instruction instanceof GuestInstruction.Invlpg i) {
            return "INVLPG " + Render.hex(i.linear());
        }
        if (instruction instanceof GuestInstruction.MovToCr m) {
            return "MOV CR" + m.cr() + ", " + VmxRender.register(m.register()) + " = " + Render.hex(m.value());
        }
        GuestInstruction.MovFromCr m = (GuestInstruction.MovFromCr) instruction;
        return "MOV " + VmxRender.register(m.register()) + ", CR" + m.cr();
    }
}
