package org.hybridv.gen;

import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.Efer;
import org.hybridv.x86.X86Machine;

/**
 * One instruction of a bare processor that changes the translation context (MOV to CR0, CR3 or CR4, WRMSR to
 * IA32_EFER, INVLPG; Intel SDM Vol. 2B MOV, Vol. 3A §2.5, §4.10.1, §4.10.4.1, §9.8.5) and the machine it runs on:
 * a CPU state with paging on or off at any CPL, and an adversarial TLB holding translations and paging-structure-cache
 * entries under several VPIDs, EP4TAs and PCIDs, some of them the machine's context.
 */
public record ControlRegisterCase(X86Machine machine, Instruction instruction) {

    /** The instruction and its operand. */
    public sealed interface Instruction {}

    /** MOV to CR0 of the modelled bits. */
    public record MovToCr0(Cr0 value) implements Instruction {}

    /** MOV to CR3 of a 64-bit register value (bit 63 included). */
    public record MovToCr3(long value) implements Instruction {}

    /** MOV to CR4 of the modelled bits. */
    public record MovToCr4(Cr4 value) implements Instruction {}

    /** WRMSR to IA32_EFER of LME and NXE. */
    public record WriteEfer(Efer value) implements Instruction {}

    /** INVLPG of a linear address (canonical or not). */
    public record Invlpg(long linear) implements Instruction {}
}
