package org.hybridv.check;

import java.util.Optional;
import org.hybridv.gen.ControlRegisterCase;
import org.hybridv.gen.TlbScopeCase;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.TlbTag;

/**
 * MOV to CR0/CR3/CR4, WRMSR to IA32_EFER and INVLPG on a bare processor, restated from the SDM over the operand and
 * the raw register bits, independently of the reference's {@code Processor}: when each faults (#GP(0)), the register
 * state after it retires, and which invalidation of {@link TlbScopes} it performs. The judge the control-register
 * property compares the reference against.
 *
 * <p>The processor modelled has no code-segment state: clearing CR0.PG in IA-32e mode is judged as from compatibility
 * mode (SDM §9.8.5.4, the way out of IA-32e mode), where only CR4.PCIDE = 1 forbids it.
 */
public final class SdmControlRegisters {
    private SdmControlRegisters() {}

    private static final long CR0_PE = 1L, CR0_PG = 1L << 31;
    private static final long CR4_PAE = 1L << 5, CR4_PCIDE = 1L << 17;

    private static boolean lma(CpuState cpu) {
        return cpu.cr0().pg() && cpu.efer().lme();
    }

    /**
     * Why {@code i} raises #GP(0) on {@code cpu}, or empty if it retires. SDM Vol. 2B "MOV—Move to/from Control
     * Registers", "Protected Mode Exceptions" and "64-Bit Mode Exceptions"; WRMSR; INVLPG; Vol. 3A §2.5, §4.10.1,
     * §9.8.5:
     * <ul>
     * <li>every one of them: the CPL is not 0 (a privileged instruction);</li>
     * <li>MOV to CR0: PG set with PE clear; PG cleared while CR4.PCIDE = 1; PG set (paging enabled) with
     * IA32_EFER.LME = 1 and CR4.PAE = 0;</li>
     * <li>MOV to CR3: a reserved bit set: bits 63:MAXPHYADDR, except bit 63 with CR4.PCIDE = 1, where it is the
     * no-flush hint;</li>
     * <li>MOV to CR4: PAE cleared while IA-32e mode is active (IA32_EFER.LMA = 1); PCIDE changed from 0 to 1 outside
     * IA-32e mode or while CR3[11:0] ≠ 000H;</li>
     * <li>WRMSR to IA32_EFER: LME changed while CR0.PG = 1;</li>
     * <li>INVLPG: nothing else (a non-canonical address in 64-bit mode makes it a NOP, not a fault).</li>
     * </ul>
     */
    public static Optional<String> generalProtection(CpuState cpu, ControlRegisterCase.Instruction i) {
        if (cpu.cpl() != 0) {
            return Optional.of("CPL " + cpu.cpl() + " ≠ 0");
        }
        long cr0 = cpu.cr0().bits();
        long cr4 = cpu.cr4().bits();
        if (i instanceof ControlRegisterCase.MovToCr0 o) {
            long v = o.value().bits();
            if ((v & CR0_PG) != 0 && (v & CR0_PE) == 0) {
                return Optional.of("PG set with PE clear");
            }
            if ((cr0 & CR0_PG) != 0 && (v & CR0_PG) == 0 && (cr4 & CR4_PCIDE) != 0) {
                return Optional.of("PG cleared with CR4.PCIDE = 1");
            }
            if ((cr0 & CR0_PG) == 0 && (v & CR0_PG) != 0 && cpu.efer().lme() && (cr4 & CR4_PAE) == 0) {
                return Optional.of("paging enabled with EFER.LME = 1 and CR4.PAE = 0");
            }
            return Optional.empty();
        }
        if (i instanceof ControlRegisterCase.MovToCr3 o) {
            long reserved = -(1L << cpu.maxPhysAddr());
            if ((cr4 & CR4_PCIDE) != 0) {
                reserved &= ~Cr3.NO_FLUSH_BIT;
            }
            return (o.value() & reserved) != 0 ? Optional.of("a reserved bit of 63:MAXPHYADDR set") : Optional.empty();
        }
        if (i instanceof ControlRegisterCase.MovToCr4 o) {
            long v = o.value().bits();
            if (lma(cpu) && (cr4 & CR4_PAE) != 0 && (v & CR4_PAE) == 0) {
                return Optional.of("PAE cleared in IA-32e mode");
            }
            if ((cr4 & CR4_PCIDE) == 0 && (v & CR4_PCIDE) != 0) {
                if (!lma(cpu)) {
                    return Optional.of("PCIDE set outside IA-32e mode");
                }
                if ((cpu.cr3().bits() & 0xFFF) != 0) {
                    return Optional.of("PCIDE set with CR3[11:0] ≠ 000H");
                }
            }
            return Optional.empty();
        }
        if (i instanceof ControlRegisterCase.WriteEfer o) {
            return (cr0 & CR0_PG) != 0 && o.value().lme() != cpu.efer().lme()
                    ? Optional.of("LME changed with CR0.PG = 1") : Optional.empty();
        }
        return Optional.empty();
    }

    /**
     * The CPU state after {@code i} retires: the register written holds the operand (CR3 without bit 63 when CR4.PCIDE
     * = 1: the no-flush hint is not stored; with PCIDE = 0 bits 11:0 are kept as written); every other field as
     * before.
     */
    public static CpuState after(CpuState cpu, ControlRegisterCase.Instruction i) {
        if (i instanceof ControlRegisterCase.MovToCr0 o) {
            return cpu.withCr0(o.value());
        }
        if (i instanceof ControlRegisterCase.MovToCr3 o) {
            long v = cpu.cr4().pcide() ? o.value() & ~Cr3.NO_FLUSH_BIT : o.value();
            return cpu.withCr3(new Cr3(v & -4096L, (int) (v & 0xFFF)));
        }
        if (i instanceof ControlRegisterCase.MovToCr4 o) {
            return cpu.withCr4(o.value());
        }
        if (i instanceof ControlRegisterCase.WriteEfer o) {
            return cpu.withEfer(o.value());
        }
        return cpu;
    }

    /**
     * The invalidation a retiring {@code i} performs in context {@code tag} (Vol. 3A §4.10.4.1; the scope of each is
     * in {@link TlbScopes#mustRemove} and {@link TlbScopes#mustRemovePsc}), or empty if it invalidates nothing:
     * <ul>
     * <li>MOV to CR0: only clearing PG invalidates; setting PG, WP or PE does not.</li>
     * <li>MOV to CR3: always (with bit 63 set and PCIDE = 1 the scope is nothing): the PCID of bits 11:0 with PCIDE =
     * 1, PCID 000H without.</li>
     * <li>MOV to CR4: the old and new values decide the scope, with the current PCID.</li>
     * <li>WRMSR to IA32_EFER: nothing.</li>
     * <li>INVLPG: a non-canonical address in IA-32e mode ("64-bit mode") is a NOP; otherwise the page, with the
     * current PCID.</li>
     * </ul>
     */
    public static Optional<TlbScopeCase.Op> invalidation(CpuState cpu, TlbTag tag, ControlRegisterCase.Instruction i) {
        boolean pcide = (cpu.cr4().bits() & CR4_PCIDE) != 0;
        int currentPcid = pcide ? (int) (cpu.cr3().bits() & 0xFFF) : 0;
        if (i instanceof ControlRegisterCase.MovToCr0 o) {
            return cpu.cr0().pg() && !o.value().pg() ? Optional.of(new TlbScopeCase.MovToCr0ClearingPg(tag))
                    : Optional.empty();
        }
        if (i instanceof ControlRegisterCase.MovToCr3 o) {
            return Optional.of(new TlbScopeCase.MovToCr3(tag, pcide, pcide ? (int) (o.value() & 0xFFF) : 0,
                    pcide && (o.value() & Cr3.NO_FLUSH_BIT) != 0));
        }
        if (i instanceof ControlRegisterCase.MovToCr4 o) {
            return Optional.of(new TlbScopeCase.MovToCr4(tag, currentPcid, cpu.cr4(), o.value(), cpu.cr0().pg()));
        }
        if (i instanceof ControlRegisterCase.Invlpg o) {
            long top = o.linear() >> 47;
            if (lma(cpu) && top != 0 && top != -1) {
                return Optional.empty();
            }
            return Optional.of(new TlbScopeCase.Invlpg(tag, currentPcid, o.linear()));
        }
        return Optional.empty();
    }
}
