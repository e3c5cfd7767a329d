package org.hybridv.x86;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * INVPCID (Intel SDM Vol. 2A INVPCID; Vol. 3A §4.10.4.1): the #GP(0) conditions of the instruction reference and the
 * scope of each of the four types over a TLB and paging-structure caches holding entries of PCIDs 1 and 2, global
 * and not, for two pages. Expectations are the quoted sentences applied to those entries by hand.
 */
class InvpcidTest {
    private static final long A = 0x1000L;
    private static final long B = 0x40_0000L; // another page, another PDE
    private static final Rights RW = new Rights(true, true, false, 0);

    private static TlbEntry t(int pcid, boolean global, long linear) {
        return TlbEntry.linear(TlbTag.NATIVE, pcid, global, linear, PageSize.SIZE_4K, 0x9000, RW, true);
    }

    private static PscEntry pde(int pcid, long linear) {
        return new PscEntry(TlbTag.NATIVE, pcid, Level.PD, PscEntry.baseOf(Level.PD, linear), 0x4000, true, true,
                false);
    }

    private static final TlbEntry A1 = t(1, false, A);
    private static final TlbEntry B1 = t(1, false, B);
    private static final TlbEntry A1G = t(1, true, A + 0x1000);
    private static final TlbEntry A2 = t(2, false, A);
    private static final PscEntry PDE_A1 = pde(1, A);
    private static final PscEntry PDE_B1 = pde(1, B);
    private static final PscEntry PDE_A2 = pde(2, A);

    /** IA-32e paging with PCIDE = 1, PCID 1 current, CPL 0, holding every entry above. */
    private static X86Machine machine() {
        CpuState c = CpuState.longMode(1, 36);
        c = c.withCr4(c.cr4().withPcide(true).withPge(true)).withCr3(new Cr3(0x1000, 1));
        Tlb tlb = Tlb.empty(TlbPolicy.ADVERSARIAL);
        for (TlbEntry e : List.of(A1, B1, A1G, A2)) {
            tlb = tlb.fill(e);
        }
        for (PscEntry e : List.of(PDE_A1, PDE_B1, PDE_A2)) {
            tlb = tlb.fillPsc(e);
        }
        return new X86Machine(PhysicalMemory.ofFrames(16), c, tlb);
    }

    private static Tlb retired(InstructionStep s) {
        assertThat(s.outcome()).isEqualTo(InstructionOutcome.RETIRED);
        return s.machine().tlb();
    }

    private static void assertGp(X86Machine m, long type, long desc, long linear) {
        InstructionStep s = Processor.invpcid(m, type, desc, linear);
        assertThat(s.outcome()).isInstanceOf(GeneralProtection.class);
        assertThat(s.machine()).isEqualTo(m);
    }

    @Test
    @DisplayName("Vol. 2A INVPCID type 0: the PCID's non-global translations of the address; every cache entry of the PCID")
    void individualAddress() {
        Tlb after = retired(Processor.invpcid(machine(), 0, 1, A));
        // "invalidates mappings—except global translations—for the linear address and PCID specified": A1 goes; B1
        // (other address), A1G (global) and A2 (other PCID) stay. §4.10.4.1: "all entries in all paging-structure
        // caches associated with the PCID specified in the INVPCID descriptor (regardless of the linear addresses to
        // which they correspond)": PDE_A1 and PDE_B1 go.
        assertThat(after.entries()).containsExactly(B1, A1G, A2);
        assertThat(after.pscEntries()).containsExactly(PDE_A2);
    }

    @Test
    @DisplayName("Vol. 2A INVPCID type 1: all the PCID's mappings except global translations")
    void singleContext() {
        Tlb after = retired(Processor.invpcid(machine(), 1, 2, 0));
        // "invalidates all mappings—except global translations—associated with the PCID specified"
        assertThat(after.entries()).containsExactly(A1, B1, A1G);
        assertThat(after.pscEntries()).containsExactly(PDE_A1, PDE_B1);
    }

    @Test
    @DisplayName("Vol. 2A INVPCID type 2: all mappings of every PCID, global translations included")
    void allContextIncludingGlobals() {
        Tlb after = retired(Processor.invpcid(machine(), 2, 0, 0));
        // "invalidates all mappings—including global translations—associated with any PCID"
        assertThat(after.entries()).isEmpty();
        assertThat(after.pscEntries()).isEmpty();
    }

    @Test
    @DisplayName("Vol. 2A INVPCID type 3: all mappings of every PCID except global translations")
    void allContextExceptGlobals() {
        Tlb after = retired(Processor.invpcid(machine(), 3, 0, 0));
        // "invalidates all mappings—except global translations—associated with any PCID"
        assertThat(after.entries()).containsExactly(A1G);
        assertThat(after.pscEntries()).isEmpty();
    }

    @Test
    @DisplayName("Vol. 2A INVPCID: #GP(0) at CPL > 0, for a type > 3, and for descriptor bits 63:12 set")
    void privilegeTypeAndReservedDescriptorBits() {
        X86Machine m = machine();
        // "If the current privilege level is not 0."
        assertGp(m.withCpu(m.cpu().withCpl(3)), 2, 0, 0);
        // "If an invalid type is specified in the register operand, i.e., INVPCID_TYPE > 3."
        assertGp(m, 4, 0, 0);
        assertGp(m, -1, 0, 0);
        // "If bits 63:12 of INVPCID_DESC are not all zero."
        assertGp(m, 1, 0x1000, 0);
        assertGp(m, 2, 1L << 63, 0);
    }

    @Test
    @DisplayName("Vol. 2A INVPCID: #GP(0) for type 0 or 1 with a PCID other than 000H while CR4.PCIDE = 0")
    void nonZeroPcidWithoutPcide() {
        X86Machine m = new X86Machine(PhysicalMemory.ofFrames(4), CpuState.longMode(1, 36),
                Tlb.empty(TlbPolicy.ADVERSARIAL));
        // "If CR4.PCIDE=0, INVPCID_TYPE is either 0 or 1, and INVPCID_DESC[11:0] is not zero."
        assertGp(m, 0, 1, 0);
        assertGp(m, 1, 1, 0);
        assertThat(Processor.invpcid(m, 1, 0, 0).outcome()).isEqualTo(InstructionOutcome.RETIRED);
        // the condition names types 0 and 1 only
        assertThat(Processor.invpcid(m, 2, 1, 0).outcome()).isEqualTo(InstructionOutcome.RETIRED);
        assertThat(Processor.invpcid(m, 3, 1, 0).outcome()).isEqualTo(InstructionOutcome.RETIRED);
    }

    @Test
    @DisplayName("Vol. 2A INVPCID: #GP(0) for type 0 with a non-canonical address; other types ignore the address")
    void nonCanonicalAddress() {
        X86Machine m = machine();
        long nonCanonical = 0x0000_8000_0000_0000L;
        // "If INVPCID_TYPE is 0 and the linear address in INVPCID_DESC[127:64] is not canonical."
        assertGp(m, 0, 1, nonCanonical);
        // "the linear address is not used for other INVPCID types"
        assertThat(Processor.invpcid(m, 1, 1, nonCanonical).outcome()).isEqualTo(InstructionOutcome.RETIRED);
    }

    @Test
    @DisplayName("SDM Vol. 3C 28.3.3.1: in a VPID context INVPCID invalidates that VPID's mappings only")
    void scopedToTheCurrentVpid() {
        X86Machine m = machine();
        TlbEntry otherVpid = TlbEntry.linear(new TlbTag(5, TlbTag.NO_EPT), 1, false, A, PageSize.SIZE_4K, 0x9000, RW,
                true);
        m = m.withTlb(m.tlb().fill(otherVpid));
        Tlb after = retired(Processor.invpcid(m, 2, 0, 0));
        assertThat(after.entries()).containsExactly(otherVpid);
    }
}
