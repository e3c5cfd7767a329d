package org.hybridv.scenario.x86;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.Efer;

/**
 * {@code {"op": "cpu", "cr0": {…}, "cr3": {…}, "cr4": {…}, "efer": {…}, "cr2": …, "cpl": …, "ac": …, "pkru": …}}:
 * set the named register fields, leaving every other field as it is. The writes are the instructions a kernel
 * would use (MOV to CR0/CR3/CR4, WRMSR to IA32_EFER) with their architectural side effects, made at CPL 0 in the
 * order {@link X86Executors#cpu} documents; {@code cpl} is applied last. A #GP stops the step.
 *
 * @param cr0    the CR0 bits to set, or null
 * @param cr3    the CR3 fields to load, or null
 * @param cr4    the CR4 bits to set, or null
 * @param efer   the IA32_EFER bits to set, or null
 * @param cr2    a value for CR2 (MOV to CR2), or null
 * @param cpl    the CPL afterwards, or null to keep it
 * @param ac     RFLAGS.AC (STAC/CLAC), or null
 * @param pkru   PKRU (WRPKRU), or null
 * @param expect what the writes must do (default: retire)
 */
public record CpuStep(Cr0Bits cr0, Cr3Load cr3, Cr4Bits cr4, EferBits efer, Long cr2, Integer cpl, Boolean ac,
        Integer pkru, InstructionExpectation expect) implements X86Step {
    public CpuStep {
        if (expect == null) {
            throw new IllegalArgumentException("expect must not be null (default: retires)");
        }
    }

    /** CR0 bits; null leaves a bit unchanged. */
    public record Cr0Bits(Boolean pe, Boolean wp, Boolean pg) {
        public Cr0 applyTo(Cr0 old) {
            return new Cr0(pe == null ? old.pe() : pe, wp == null ? old.wp() : wp, pg == null ? old.pg() : pg);
        }

        @Override
        public String toString() {
            return Render.flags(new String[] {"pe", "wp", "pg"}, pe, wp, pg);
        }
    }

    /** CR4 bits; null leaves a bit unchanged. */
    public record Cr4Bits(Boolean pse, Boolean pae, Boolean pge, Boolean pcide, Boolean smep, Boolean smap,
            Boolean pke) {
        public Cr4 applyTo(Cr4 old) {
            return new Cr4(pse == null ? old.pse() : pse, pae == null ? old.pae() : pae, pge == null ? old.pge() : pge,
                    pcide == null ? old.pcide() : pcide, smep == null ? old.smep() : smep,
                    smap == null ? old.smap() : smap, pke == null ? old.pke() : pke);
        }

        @Override
        public String toString() {
            return Render.flags(new String[] {"pse", "pae", "pge", "pcide", "smep", "smap", "pke"}, pse, pae, pge,
                    pcide, smep, smap, pke);
        }
    }

    /** IA32_EFER bits; null leaves a bit unchanged. */
    public record EferBits(Boolean lme, Boolean nxe) {
        public Efer applyTo(Efer old) {
            return new Efer(lme == null ? old.lme() : lme, nxe == null ? old.nxe() : nxe);
        }

        @Override
        public String toString() {
            return Render.flags(new String[] {"lme", "nxe"}, lme, nxe);
        }
    }

    /**
     * A CR3 load: the PML4 frame and the PCID (bits 11:0); null keeps the current value. {@code noFlush} sets bit 63
     * of the operand (with CR4.PCIDE = 1: do not invalidate, SDM Vol. 3A §4.10.4.1; with PCIDE = 0 it is a
     * reserved bit and the load raises #GP).
     */
    public record Cr3Load(Long frame, Integer pcid, boolean noFlush) {
        @Override
        public String toString() {
            List<String> parts = new ArrayList<>();
            if (frame != null) {
                parts.add("frame " + Render.frame(frame));
            }
            if (pcid != null) {
                parts.add("pcid " + Render.hex(pcid));
            }
            if (noFlush) {
                parts.add("noFlush");
            }
            return String.join(" ", parts);
        }
    }

    @Override
    public String op() {
        return "cpu";
    }

    @Override
    public String describe() {
        List<String> parts = new ArrayList<>();
        // the order the writes are made in when entering paging (see X86Executors#cpu)
        if (efer != null) {
            parts.add("efer " + efer);
        }
        if (cr4 != null) {
            parts.add("cr4 " + cr4);
        }
        if (cr3 != null) {
            parts.add("cr3 " + cr3);
        }
        if (cr0 != null) {
            parts.add("cr0 " + cr0);
        }
        if (cr2 != null) {
            parts.add("cr2 " + Render.hex(cr2));
        }
        if (ac != null) {
            parts.add("ac " + (ac ? 1 : 0));
        }
        if (pkru != null) {
            parts.add("pkru " + Render.hex(pkru & 0xFFFF_FFFFL));
        }
        if (cpl != null) {
            parts.add("cpl " + cpl);
        }
        return String.join(", ", parts);
    }
}
