package org.hybridv.x86;

/**
 * The architectural state that decides a linear-address translation (Intel SDM Vol. 3A §4.1, §4.6).
 *
 * <p>Only two paging modes are modelled: paging disabled (CR0.PG = 0: linear = physical) and IA-32e 4-level paging
 * (CR0.PG = 1, CR4.PAE = 1, EFER.LME = 1; SDM 4.1.1). A state with CR0.PG = 1 and any other combination is 32-bit or
 * PAE paging, out of scope here, and rejected; so is a state the SDM makes unreachable (CR0.PG = 1 with CR0.PE = 0,
 * SDM 2.5; CR4.PCIDE = 1 outside IA-32e mode, SDM 4.10.1). The instructions that move between states, with the
 * #GP the SDM prescribes for illegal moves, are in {@link Processor}.
 *
 * @param cr0         CR0
 * @param cr2         CR2, the page-fault linear address, written when a #PF is delivered (SDM 4.7, 6.15)
 * @param cr3         CR3
 * @param cr4         CR4
 * @param efer        IA32_EFER
 * @param ac          RFLAGS.AC (bit 18), which lifts SMAP for explicit supervisor accesses (SDM 4.6.1)
 * @param cpl         current privilege level 0..3; CPL 3 is user mode, 0..2 supervisor mode (SDM 4.6)
 * @param pkru        the PKRU register: for key i, bit 2i is AD (access disable), bit 2i+1 WD (SDM 4.6.2)
 * @param maxPhysAddr MAXPHYADDR, the physical-address width M (CPUID.80000008H:EAX[7:0]), 36..52
 */
public record CpuState(Cr0 cr0, long cr2, Cr3 cr3, Cr4 cr4, Efer efer, boolean ac, int cpl, int pkru,
        int maxPhysAddr) {
    public static final int MIN_MAXPHYADDR = 36;
    public static final int MAX_MAXPHYADDR = 52;

    public CpuState {
        Checks.notNull("cr0", cr0);
        Checks.notNull("cr3", cr3);
        Checks.notNull("cr4", cr4);
        Checks.notNull("efer", efer);
        Checks.inRange("cpl", cpl, 0, 3);
        Checks.inRange("maxPhysAddr", maxPhysAddr, MIN_MAXPHYADDR, MAX_MAXPHYADDR);
        if (cr0.pg() && !cr0.pe()) {
            throw new IllegalArgumentException("CR0.PG = 1 with CR0.PE = 0 is not a reachable state (SDM 2.5)");
        }
        if (cr0.pg() && !(cr4.pae() && efer.lme())) {
            throw new IllegalArgumentException("CR0.PG = 1 with CR4.PAE = " + (cr4.pae() ? 1 : 0) + ", EFER.LME = "
                    + (efer.lme() ? 1 : 0) + " is 32-bit or PAE paging, out of scope: only IA-32e 4-level paging"
                    + " is modelled");
        }
        if (cr4.pcide() && !(cr0.pg() && efer.lme())) {
            throw new IllegalArgumentException("CR4.PCIDE = 1 outside IA-32e mode is not a reachable state"
                    + " (SDM 4.10.1)");
        }
        if ((cr3.pml4Base() >>> maxPhysAddr) != 0) {
            throw new IllegalArgumentException("CR3 PML4 base " + Hex.of(cr3.pml4Base()) + " is not below"
                    + " 2^MAXPHYADDR (MAXPHYADDR = " + maxPhysAddr + ")");
        }
    }

    /** Paging disabled, CPL 0, everything clear: the state after reset with the given MAXPHYADDR (SDM 9.1.1). */
    public static CpuState reset(int maxPhysAddr) {
        return new CpuState(Cr0.RESET, 0, new Cr3(0, 0), Cr4.RESET, Efer.RESET, false, 0, 0, maxPhysAddr);
    }

    /**
     * IA-32e 4-level paging with the PML4 in {@code pml4Frame}, CR0.PE = PG = 1, CR4.PAE = 1, EFER.LME = 1, CPL 0,
     * and every optional protection (WP, NXE, SMEP, SMAP, PKE, PGE, PCIDE) off.
     */
    public static CpuState longMode(long pml4Frame, int maxPhysAddr) {
        return new CpuState(new Cr0(true, false, true), 0, Cr3.ofFrame(pml4Frame), Cr4.RESET.withPae(true),
                new Efer(true, false), false, 0, 0, maxPhysAddr);
    }

    /** EFER.LMA: IA-32e mode is active iff CR0.PG = 1 and EFER.LME = 1 (SDM 9.8.5; with PAE, as enforced above). */
    public boolean ia32eMode() {
        return cr0.pg() && efer.lme();
    }

    /** Whether linear addresses are translated at all (SDM 4.1.1: CR0.PG). */
    public boolean pagingEnabled() {
        return cr0.pg();
    }

    /**
     * IA32_EFER as RDMSR reads it: LME (bit 8), LMA (bit 10, = CR0.PG AND EFER.LME, SDM 9.8.5) and NXE (bit 11).
     */
    public long eferBits() {
        return (efer.lme() ? 1L << Efer.LME_BIT : 0) | (ia32eMode() ? 1L << Efer.LMA_BIT : 0)
                | (efer.nxe() ? 1L << Efer.NXE_BIT : 0);
    }

    /** The current PCID: CR3[11:0] when CR4.PCIDE = 1, otherwise 000H (SDM 4.10.1). */
    public int currentPcid() {
        return cr4.pcide() ? cr3.pcid() : 0;
    }

    public CpuState withCr0(Cr0 v) {
        return new CpuState(v, cr2, cr3, cr4, efer, ac, cpl, pkru, maxPhysAddr);
    }

    public CpuState withCr2(long v) {
        return new CpuState(cr0, v, cr3, cr4, efer, ac, cpl, pkru, maxPhysAddr);
    }

    public CpuState withCr3(Cr3 v) {
        return new CpuState(cr0, cr2, v, cr4, efer, ac, cpl, pkru, maxPhysAddr);
    }

    public CpuState withCr4(Cr4 v) {
        return new CpuState(cr0, cr2, cr3, v, efer, ac, cpl, pkru, maxPhysAddr);
    }

    public CpuState withEfer(Efer v) {
        return new CpuState(cr0, cr2, cr3, cr4, v, ac, cpl, pkru, maxPhysAddr);
    }

    public CpuState withAc(boolean v) {
        return new CpuState(cr0, cr2, cr3, cr4, efer, v, cpl, pkru, maxPhysAddr);
    }

    public CpuState withCpl(int v) {
        return new CpuState(cr0, cr2, cr3, cr4, efer, ac, v, pkru, maxPhysAddr);
    }

    public CpuState withPkru(int v) {
        return new CpuState(cr0, cr2, cr3, cr4, efer, ac, cpl, v, maxPhysAddr);
    }
}
