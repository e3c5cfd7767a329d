package org.hybridv.vmx;

import org.hybridv.x86.Access;

/** An instruction a guest executes in VMX non-root operation, as this reference distinguishes them. */
public sealed interface GuestInstruction {
    /** A memory access (read, write, fetch) through the guest's translation. */
    record MemoryAccess(Access access) implements GuestInstruction {}

    /** IN/OUT (or INS/OUTS) of {@code size} bytes at {@code port}. */
    record Io(int port, int size, boolean in, boolean string, boolean rep, boolean immediate, long value)
            implements GuestInstruction {
        public Io {
            IoBitmaps.checkPort(port);
            IoExits.checkSize(size);
        }
    }

    /** RDMSR with ECX = {@code msr}. */
    record Rdmsr(long msr) implements GuestInstruction {}

    /** WRMSR with ECX = {@code msr} and EDX:EAX = {@code value}. */
    record Wrmsr(long msr, long value) implements GuestInstruction {}

    /** CPUID with EAX = {@code leaf}, ECX = {@code subleaf}. */
    record Cpuid(long leaf, long subleaf) implements GuestInstruction {}

    /** VMCALL. */
    record Vmcall() implements GuestInstruction {}

    /** HLT. */
    record Hlt() implements GuestInstruction {}

    /** INVLPG of {@code linear}. */
    record Invlpg(long linear) implements GuestInstruction {}

    /** INVPCID with register operand {@code type} and the descriptor ({@code descriptorLow}, {@code linear}). */
    record Invpcid(long type, long descriptorLow, long linear) implements GuestInstruction {}

    /** MOV to CR{@code cr} (0, 3 or 4) from general-purpose register {@code register} holding {@code value}. */
    record MovToCr(int cr, long value, int register) implements GuestInstruction {}

    /** MOV from CR{@code cr} (0, 3 or 4) to general-purpose register {@code register}. */
    record MovFromCr(int cr, int register) implements GuestInstruction {}

    /** WRPKRU with EAX = {@code eax}, ECX = {@code ecx}, EDX = {@code edx} (SDM Vol. 2D WRPKRU). */
    record Wrpkru(long eax, long ecx, long edx) implements GuestInstruction {}

    /** RDPKRU with ECX = {@code ecx}; PKRU is read into EAX and EDX is cleared (SDM Vol. 2B RDPKRU). */
    record Rdpkru(long ecx) implements GuestInstruction {}
}
