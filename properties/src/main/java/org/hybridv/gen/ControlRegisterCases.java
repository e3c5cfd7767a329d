package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Efer;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.PscEntry;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.TlbTag;
import org.hybridv.x86.X86Machine;

/**
 * Generates {@link ControlRegisterCase}s that reach every #GP condition and every TLB effect of MOV to CR0/CR3/CR4,
 * WRMSR to IA32_EFER and INVLPG: a CPU in IA-32e paging (60 %; WP, NXE, PGE, PSE, SMEP, SMAP, PKE drawn independently,
 * PCIDE with a current PCID 0..3, or without PCIDE CR3[11:0] often non-zero) or with paging off (PE, WP, PAE, PGE,
 * SMEP, SMAP, PKE, EFER.LME and NXE drawn); CPL 0 (75 %) or 1..3; the TLB filled as {@link TlbScopeCases} fills it,
 * in the context of one of the fills (so the instruction's VPID and PCID often match cached entries). The operand:
 * CR0 with PE, WP, PG each flipped or not (paging enabled from off, cleared from on, PG without PE); CR3 with a frame,
 * a bit in 63:MAXPHYADDR (20 %), bits 11:0 0..3 or FFFH and bit 63; CR4 with each modelled bit flipped with
 * probability 30 %; EFER with LME and NXE flipped; INVLPG of an address of the pool or (in IA-32e mode, 30 %) a
 * non-canonical one.
 *
 * <p>Never generated: enabling paging with EFER.LME = 0 at CPL 0 with PE set, which selects 32-bit or PAE paging,
 * outside the modelled processor (the reference rejects it as API misuse).
 */
public final class ControlRegisterCases {
    /** MAXPHYADDR of every case. */
    public static final int MAXPHY = 36;
    /** Frames of the (empty) memory. */
    public static final int FRAMES = 16;

    private ControlRegisterCases() {}

    public static ControlRegisterCase generate(Choices c) {
        TlbScopeCase k = TlbScopeCases.generate(c);
        List<TlbTag> tags = new ArrayList<>();
        k.fills().forEach(e -> tags.add(e.tag()));
        k.pscFills().forEach(e -> tags.add(e.tag()));
        TlbTag tag = tags.get(c.below(tags.size()));
        CpuState cpu = c.flag(true, 40) ? paging(c) : pagingOff(c);
        cpu = cpu.withCpl(c.weighted(75, 25) == 0 ? 0 : 1 + c.below(3));
        ControlRegisterCase.Instruction i = switch (c.below(5)) {
            case 0 -> movToCr0(c, cpu);
            case 1 -> movToCr3(c);
            case 2 -> new ControlRegisterCase.MovToCr4(flip(c, cpu.cr4()));
            case 3 -> new ControlRegisterCase.WriteEfer(new Efer(cpu.efer().lme() ^ c.flag(false, 40),
                    cpu.efer().nxe() ^ c.flag(false, 50)));
            default -> new ControlRegisterCase.Invlpg(cpu.ia32eMode() && c.flag(false, 30)
                    ? c.oneOf(0x0000_8000_0000_0000L, 0x8000_0000_0000_1000L, 0x00FF_0000_0000_0000L)
                    : TlbScopeCases.linear(c));
        };
        Tlb tlb = Tlb.empty(TlbPolicy.ADVERSARIAL);
        for (TlbEntry e : k.fills()) {
            tlb = tlb.fill(e);
        }
        for (PscEntry e : k.pscFills()) {
            tlb = tlb.fillPsc(e);
        }
        X86Machine m = new X86Machine(PhysicalMemory.ofFrames(FRAMES), cpu, tlb, tag);
        return new ControlRegisterCase(m, i);
    }

    /** IA-32e paging, PML4 in frame 1, every optional control drawn. */
    static CpuState paging(Choices c) {
        CpuState cpu = CpuState.longMode(1, MAXPHY);
        cpu = cpu.withCr0(cpu.cr0().withWp(c.flag(false, 50)));
        cpu = cpu.withEfer(cpu.efer().withNxe(c.flag(false, 50)));
        Cr4 cr4 = cpu.cr4().withPge(c.flag(false, 50)).withPse(c.flag(false, 30)).withSmep(c.flag(false, 40))
                .withSmap(c.flag(false, 40)).withPke(c.flag(false, 40)).withPcide(c.flag(false, 50));
        cpu = cpu.withCr4(cr4);
        int low = cr4.pcide() ? c.below(4) : c.oneOf(0, 0, 0x18, 0x8);
        return cpu.withCr3(new Cr3(cpu.cr3().pml4Base(), low));
    }

    /** Paging off: PE, WP, PAE, PGE, PSE, SMEP, SMAP, PKE, LME, NXE drawn; CR3 at frame 1 with bits 11:0 drawn. */
    static CpuState pagingOff(Choices c) {
        Cr0 cr0 = new Cr0(c.flag(true, 30), c.flag(false, 50), false);
        Cr4 cr4 = Cr4.RESET.withPae(c.flag(true, 40)).withPge(c.flag(false, 50)).withPse(c.flag(false, 30))
                .withSmep(c.flag(false, 40)).withSmap(c.flag(false, 40)).withPke(c.flag(false, 40));
        Efer efer = new Efer(c.flag(true, 30), c.flag(false, 50));
        return new CpuState(cr0, 0, new Cr3(0x1000, c.oneOf(0, 0x18)), cr4, efer, false, 0, 0, MAXPHY);
    }

    /**
     * CR0: from paging on, WP flipped (50 %), PG cleared (30 %), PE cleared (15 %); from paging off, PG set (60 %),
     * PE flipped (30 %), WP flipped (50 %). A value that would enable 32-bit or PAE paging keeps PG clear.
     */
    static ControlRegisterCase.Instruction movToCr0(Choices c, CpuState cpu) {
        Cr0 old = cpu.cr0();
        Cr0 v = old.withWp(old.wp() ^ c.flag(false, 50));
        if (old.pg()) {
            v = v.withPg(c.flag(true, 30)).withPe(c.flag(true, 15));
        } else {
            v = v.withPg(c.flag(true, 40)).withPe(old.pe() ^ c.flag(false, 30));
        }
        if (cpu.cpl() == 0 && !old.pg() && v.pg() && v.pe() && !cpu.efer().lme()) {
            v = v.withPg(false);
        }
        return new ControlRegisterCase.MovToCr0(v);
    }

    /** CR3: frame 1..FRAMES-1, or a bit of 63:MAXPHYADDR set (20 %); bits 11:0 0..3 or FFFH; bit 63 (40 %). */
    static ControlRegisterCase.Instruction movToCr3(Choices c) {
        long value = (1L + c.below(FRAMES - 1)) << 12;
        if (c.flag(false, 20)) {
            value |= 1L << (MAXPHY + c.below(63 - MAXPHY));
        }
        value |= c.weighted(80, 20) == 0 ? c.below(4) : 0xFFF;
        if (c.flag(false, 40)) {
            value |= Cr3.NO_FLUSH_BIT;
        }
        return new ControlRegisterCase.MovToCr3(value);
    }

    /** Each modelled CR4 bit flipped with probability 30 %. */
    static Cr4 flip(Choices c, Cr4 old) {
        return new Cr4(old.pse() ^ c.flag(false, 30), old.pae() ^ c.flag(false, 30), old.pge() ^ c.flag(false, 30),
                old.pcide() ^ c.flag(false, 30), old.smep() ^ c.flag(false, 30), old.smap() ^ c.flag(false, 30),
                old.pke() ^ c.flag(false, 30));
    }
}
