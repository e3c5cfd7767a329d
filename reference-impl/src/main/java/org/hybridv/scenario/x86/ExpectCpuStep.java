package org.hybridv.scenario.x86;

/**
 * {@code {"op": "expectCpu", "cr2": …, "cpl": …, …}}: check register values (e.g. that CR2 holds the address of
 * the last #PF, SDM Vol. 3A §4.7). Registers are compared as their architectural values (CR0 0x80010001 …, EFER
 * with LMA); absent fields are not checked.
 *
 * @param cr0  CR0, or null
 * @param cr2  CR2, or null
 * @param cr3  CR3 (bits 63:0 as stored: PML4 base | PCID), or null
 * @param cr4  CR4, or null
 * @param efer IA32_EFER (LME, LMA, NXE), or null
 * @param cpl  the CPL, or null
 * @param ac   RFLAGS.AC, or null
 * @param pkru PKRU, or null
 */
public record ExpectCpuStep(Long cr0, Long cr2, Long cr3, Long cr4, Long efer, Integer cpl, Boolean ac, Long pkru)
        implements X86Step {
    @Override
    public String op() {
        return "expectCpu";
    }

    @Override
    public String describe() {
        return "registers";
    }
}
