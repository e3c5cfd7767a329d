package org.hybridv.x86;

/**
 * The instructions of a bare x86 processor that touch translation: memory accesses, INVLPG, INVPCID, MOV to
 * CR0/CR3/CR4 and WRMSR to IA32_EFER, and the eviction of a cached entry the processor may make at any time. Each is
 * {@code post = f(pre, instruction)}: a new {@link X86Machine} and an outcome value. A #GP leaves the machine
 * unchanged.
 */
public final class Processor {
    private Processor() {}

    /**
     * One quadword access on bare metal. As {@link #accessWithoutDelivery}, and a resulting #PF is delivered: "the
     * processor loads the CR2 register with the … linear address that generated the exception" (SDM Vol. 3A §6.15,
     * Interrupt 14; §4.7).
     */
    public static AccessStep access(X86Machine m, Access access) {
        Checks.notNull("machine", m);
        Checks.notNull("access", access);
        AccessStep step = accessWithoutDelivery(m, access);
        if (step.outcome() instanceof PageFault pf) {
            X86Machine after = step.machine();
            return new AccessStep(pf, after.withCpu(after.cpu().withCr2(pf.linearAddress())), step.tlbHit());
        }
        return step;
    }

    /**
     * One quadword access without delivering a fault (CR2 untouched), for callers that decide delivery themselves
     * (VMX: a #PF that causes a VM exit does not write CR2).
     * <ol>
     * <li>CR0.PG = 0: the linear address is the physical address (SDM 4.1.1).</li>
     * <li>Non-canonical address: #GP(0) (SDM Vol. 1 §3.3.7.1), nothing else changes.</li>
     * <li>TLB lookup for the current PCID (SDM 4.10.2). A hit decides the access with the cached rights and the
     * current CR0/CR4/EFER/RFLAGS.AC/PKRU (SDM 4.10.2.2: the TLB caches the entries' rights, not the decision).
     * A write through a cached translation whose dirty flag is 0 is treated as a miss: the processor must set D in
     * the paging-structure entry (SDM 4.8), which it cannot do from the TLB alone.</li>
     * <li>Otherwise the walk ({@link PageWalk}), from the deepest paging-structure-cache entry usable for the address
     * if there is one ({@link Tlb#lookupPsc}, {@link PageWalk#walkFrom}; SDM 4.10.3.2), else from CR3; on success the
     * A/D flags are set in the entries read ({@link AccessedDirty}), the translation is cached and the walk's
     * non-leaf entries create paging-structure-cache entries ({@link PagingStructureCaches#createdBy}, SDM
     * 4.10.3.1).</li>
     * <li>A #PF invalidates the TLB entries for the faulting page associated with the current PCID, global or not,
     * and the paging-structure-cache entries of the current PCID that would be used for the address
     * ({@link Tlb#invalidateOnPageFault}, SDM 4.10.4.1).</li>
     * <li>The data access: a read returns the quadword, a write stores {@link Access#value()}.</li>
     * </ol>
     */
    public static AccessStep accessWithoutDelivery(X86Machine m, Access access) {
        Checks.notNull("machine", m);
        Checks.notNull("access", access);
        Checks.aligned("linear address", access.linear(), 8);
        CpuState cpu = m.cpu();
        if (!cpu.pagingEnabled()) {
            return complete(m, m.memory(), m.tlb(), access, access.linear(), false);
        }
        if (!Canonical.isCanonical(access.linear())) {
            return new AccessStep(PageWalk.nonCanonical(access.linear()), m, false);
        }
        int pcid = cpu.currentPcid();
        TlbEntry cached = m.tlb().lookup(m.tlbTag(), pcid, access.linear());
        if (cached != null && !(access.isWrite() && !cached.dirty())) {
            Translation t = PageWalk.checkRights(cached.translate(access.linear()), cached.pageSize(), cached.rights(),
                    cpu, access);
            return finish(m, m.memory(), m.tlb(), t, access, true);
        }
        PscEntry start = m.tlb().lookupPsc(m.tlbTag(), pcid, access.linear());
        Walk walk = start == null ? PageWalk.walk(m.memory(), cpu, access.linear())
                : PageWalk.walkFrom(EntryReader.of(m.memory()), cpu, access.linear(), start);
        Translation t = PageWalk.decide(walk, cpu, access);
        if (t instanceof Translated tr) {
            PhysicalMemory memory = AccessedDirty.update(m.memory(), walk, access.isWrite());
            Entry leaf = new Entry(memory.readPhysical(walk.leaf().address()));
            Tlb tlb = m.tlb().fill(TlbEntry.linear(m.tlbTag(), pcid, leaf.global() && cpu.cr4().pge(),
                    tr.pageSize().base(access.linear()), tr.pageSize(), tr.pageSize().base(tr.physicalAddress()),
                    tr.rights(),
                    leaf.dirty()));
            tlb = PagingStructureCaches.fill(tlb, walk, start, m.tlbTag(), pcid, access.linear(), cpu.maxPhysAddr());
            return finish(m, memory, tlb, t, access, false);
        }
        return finish(m, m.memory(), m.tlb(), t, access, false);
    }

    private static AccessStep finish(X86Machine m, PhysicalMemory memory, Tlb tlb, Translation t, Access access,
            boolean hit) {
        if (t instanceof Translated tr) {
            return complete(m, memory, tlb, access, tr.physicalAddress(), hit);
        }
        if (t instanceof PageFault pf) {
            return new AccessStep(pf, m.withTlb(m.tlb().invalidateOnPageFault(m.tlbTag().vpid(), m.cpu().currentPcid(), access.linear())), hit);
        }
        return new AccessStep((GeneralProtection) t, m, hit);
    }

    private static AccessStep complete(X86Machine m, PhysicalMemory memory, Tlb tlb, Access access, long physical,
            boolean hit) {
        long aligned = physical & ~7L;
        if (access.isWrite()) {
            PhysicalMemory written = memory.writePhysical(aligned, access.value());
            return new AccessStep(new AccessOutcome.Completed(physical, access.value()),
                    new X86Machine(written, m.cpu(), tlb, m.tlbTag()), hit);
        }
        return new AccessStep(new AccessOutcome.Completed(physical, memory.readPhysical(aligned)),
                new X86Machine(memory, m.cpu(), tlb, m.tlbTag()), hit);
    }

    /**
     * INVLPG m (SDM Vol. 2A INVLPG; Vol. 3A §4.10.4.1). "#GP(0) If the current privilege level is not 0." In 64-bit
     * mode, "if the memory address is in non-canonical form … INVLPG is the same as a NOP". Otherwise invalidates
     * the TLB entries for the page with the current PCID and global entries for the page, and every
     * paging-structure-cache entry of the current PCID whatever its address ({@link Tlb#invalidatePage}).
     */
    public static InstructionStep invlpg(X86Machine m, long linear) {
        Checks.notNull("machine", m);
        if (m.cpu().cpl() != 0) {
            return InstructionStep.fault(m, "INVLPG at CPL " + m.cpu().cpl() + " (privileged instruction)");
        }
        if (m.cpu().ia32eMode() && !Canonical.isCanonical(linear)) {
            return InstructionStep.retired(m);
        }
        return InstructionStep.retired(m.withTlb(m.tlb().invalidatePage(m.tlbTag().vpid(), m.cpu().currentPcid(), linear)));
    }

    /**
     * MOV to CR3 (SDM Vol. 2B "MOV—Move to/from Control Registers"; Vol. 3A §4.10.4.1).
     * <ul>
     * <li>#GP(0) at CPL &gt; 0, or when a reserved bit is set: bits 63:MAXPHYADDR, except that with CR4.PCIDE = 1
     * bit 63 is the no-flush hint and is not stored.</li>
     * <li>CR4.PCIDE = 0: invalidates the TLB entries of PCID 000H except global ones, and "all entries in all
     * paging-structure caches associated with PCID 000H".</li>
     * <li>CR4.PCIDE = 1, bit 63 = 0: invalidates the TLB entries of the PCID in bits 11:0 of the operand except
     * global ones, and every paging-structure-cache entry of that PCID; bit 63 = 1: "the instruction is not required
     * to invalidate any TLB entries or entries in paging-structure caches", so the adversarial TLB keeps them
     * all.</li>
     * </ul>
     */
    public static InstructionStep movToCr3(X86Machine m, long value) {
        Checks.notNull("machine", m);
        CpuState cpu = m.cpu();
        if (cpu.cpl() != 0) {
            return InstructionStep.fault(m, "MOV to CR3 at CPL " + cpu.cpl() + " (privileged instruction)");
        }
        boolean noFlush = cpu.cr4().pcide() && (value & Cr3.NO_FLUSH_BIT) != 0;
        long operand = cpu.cr4().pcide() ? value & ~Cr3.NO_FLUSH_BIT : value;
        if ((operand >>> cpu.maxPhysAddr()) != 0) {
            return InstructionStep.fault(m, "MOV to CR3 of " + Hex.of(value) + " sets reserved bits 63:"
                    + cpu.maxPhysAddr());
        }
        Cr3 cr3 = Cr3.ofBits(operand);
        CpuState next = cpu.withCr3(cr3);
        Tlb tlb = m.tlb();
        if (!noFlush) {
            tlb = tlb.invalidateNonGlobal(m.tlbTag().vpid(), next.currentPcid());
        }
        return InstructionStep.retired(new X86Machine(m.memory(), next, tlb, m.tlbTag()));
    }

    /**
     * MOV to CR0 (SDM Vol. 2B MOV; Vol. 3A §2.5, §9.8.5, §4.10.4.1). #GP(0) at CPL &gt; 0; "setting the PG flag when
     * the PE flag is clear causes a general-protection exception"; setting PG with EFER.LME = 1 and CR4.PAE = 0 is
     * #GP (SDM 9.8.5); clearing PG while CR4.PCIDE = 1 is #GP (SDM Vol. 2B MOV: "If an attempt is made to clear
     * CR0.PG[bit 31] while CR4.PCIDE = 1"; SDM 4.10.1). Changing PG from 1 to 0 invalidates all TLB entries, global
     * ones included, and every paging-structure-cache entry ("all TLB entries (including global entries) and all
     * entries in all paging-structure caches (for all PCIDs)"). Enabling paging with EFER.LME = 0 would select 32-bit
     * or PAE paging, which this reference does not model ({@link IllegalArgumentException}).
     */
    public static InstructionStep movToCr0(X86Machine m, Cr0 value) {
        Checks.notNull("machine", m);
        CpuState cpu = m.cpu();
        Checks.notNull("CR0", value);
        if (cpu.cpl() != 0) {
            return InstructionStep.fault(m, "MOV to CR0 at CPL " + cpu.cpl() + " (privileged instruction)");
        }
        if (value.pg() && !value.pe()) {
            return InstructionStep.fault(m, "MOV to CR0 sets PG with PE clear (SDM 2.5)");
        }
        if (cpu.cr0().pg() && !value.pg() && cpu.cr4().pcide()) {
            return InstructionStep.fault(m, "MOV to CR0 clears PG while CR4.PCIDE = 1 (SDM Vol. 2B MOV, 4.10.1)");
        }
        boolean enablingPaging = value.pg() && !cpu.cr0().pg();
        if (enablingPaging && cpu.efer().lme() && !cpu.cr4().pae()) {
            return InstructionStep.fault(m, "MOV to CR0 sets PG with EFER.LME = 1 and CR4.PAE = 0 (SDM 9.8.5)");
        }
        if (enablingPaging && !cpu.efer().lme()) {
            throw new IllegalArgumentException("MOV to CR0 sets PG with EFER.LME = 0: 32-bit and PAE paging are out"
                    + " of scope (only IA-32e paging is modelled)");
        }
        Tlb tlb = cpu.cr0().pg() && !value.pg() ? m.tlb().invalidateVpid(m.tlbTag().vpid()) : m.tlb();
        return InstructionStep.retired(new X86Machine(m.memory(), cpu.withCr0(value), tlb, m.tlbTag()));
    }

    /**
     * MOV to CR4 (SDM Vol. 2B MOV; Vol. 3A §4.10.1, §4.10.4.1). #GP(0) at CPL &gt; 0; when clearing PAE while IA-32e
     * mode is active; when setting PCIDE outside IA-32e mode or while CR3[11:0] ≠ 000H. TLB: a change of PGE, or
     * PCIDE going from 1 to 0, invalidates everything (global entries too, all PCIDs, and all paging-structure-cache
     * entries: {@link Tlb#invalidateVpid}); a change of PAE or SMEP going from 0 to 1 invalidates every entry of the
     * current PCID, global ones included, TLB and paging-structure caches alike
     * ({@link Tlb#invalidatePcid}: unlike MOV to CR3, the SDM makes no exception for global pages here). In VMX
     * non-root operation both are for the current VPID only (SDM Vol. 3C §28.3.3.1).
     */
    public static InstructionStep movToCr4(X86Machine m, Cr4 value) {
        Checks.notNull("machine", m);
        CpuState cpu = m.cpu();
        Checks.notNull("CR4", value);
        Cr4 old = cpu.cr4();
        if (cpu.cpl() != 0) {
            return InstructionStep.fault(m, "MOV to CR4 at CPL " + cpu.cpl() + " (privileged instruction)");
        }
        if (cpu.ia32eMode() && old.pae() && !value.pae()) {
            return InstructionStep.fault(m, "MOV to CR4 clears PAE while IA-32e mode is active (SDM 9.8.5)");
        }
        if (!old.pcide() && value.pcide()) {
            if (!cpu.ia32eMode()) {
                return InstructionStep.fault(m, "MOV to CR4 sets PCIDE outside IA-32e mode (SDM 4.10.1)");
            }
            if (cpu.cr3().pcid() != 0) {
                return InstructionStep.fault(m, "MOV to CR4 sets PCIDE while CR3[11:0] = "
                        + Hex.of(cpu.cr3().pcid()) + " (SDM 4.10.1)");
            }
        }
        Tlb tlb = m.tlb();
        if (old.pge() != value.pge() || (old.pcide() && !value.pcide())) {
            tlb = tlb.invalidateVpid(m.tlbTag().vpid());
        } else if (old.pae() != value.pae() || (!old.smep() && value.smep())) {
            tlb = tlb.invalidatePcid(m.tlbTag().vpid(), cpu.currentPcid());
        }
        return InstructionStep.retired(new X86Machine(m.memory(), cpu.withCr4(value), tlb, m.tlbTag()));
    }

    /**
     * WRMSR to IA32_EFER (SDM Vol. 3A §2.2.1, §9.8.5). #GP(0) at CPL &gt; 0, and when it would change LME while
     * CR0.PG = 1 ("IA32_EFER.LME cannot be changed while paging is enabled"). No TLB effect.
     */
    public static InstructionStep writeEfer(X86Machine m, Efer value) {
        Checks.notNull("machine", m);
        CpuState cpu = m.cpu();
        Checks.notNull("EFER", value);
        if (cpu.cpl() != 0) {
            return InstructionStep.fault(m, "WRMSR IA32_EFER at CPL " + cpu.cpl() + " (privileged instruction)");
        }
        if (cpu.cr0().pg() && cpu.efer().lme() != value.lme()) {
            return InstructionStep.fault(m, "WRMSR changes IA32_EFER.LME while CR0.PG = 1 (SDM 9.8.5)");
        }
        return InstructionStep.retired(m.withCpu(cpu.withEfer(value)));
    }

    /**
     * INVPCID (SDM Vol. 2A INVPCID; Vol. 3A §4.10.4.1): see {@link Invpcid#execute}.
     */
    public static InstructionStep invpcid(X86Machine m, long type, long descriptorLow, long linear) {
        return Invpcid.execute(m, type, descriptorLow, linear);
    }

    /**
     * An eviction: the processor drops {@code entry} (a TLB or paging-structure-cache entry) on its own. "The processor
     * is always free to invalidate additional entries in the TLBs and paging-structure caches." (Intel SDM Vol. 3A
     * §4.10.4.1). Not an instruction: nothing else changes, and dropping an entry the machine does not hold changes
     * nothing.
     */
    public static X86Machine evict(X86Machine m, CachedMapping entry) {
        Checks.notNull("machine", m);
        return m.withTlb(m.tlb().evict(entry));
    }
}
