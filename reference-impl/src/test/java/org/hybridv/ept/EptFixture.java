package org.hybridv.ept;

import org.hybridv.x86.AccessKind;
import org.hybridv.x86.PhysicalMemory;

/**
 * The hand-built EPT used by the walk tests. Every number below is written out by hand from SDM 28.2.2 (entry
 * address = table base | index × 8; index = GPA bits 47:39, 38:30, 29:21, 20:12), not computed by the code under test.
 *
 * <pre>
 * GPA      = 0x80_8060_4567 = (1 &lt;&lt; 39) | (2 &lt;&lt; 30) | (3 &lt;&lt; 21) | (4 &lt;&lt; 12) | 0x567
 * EPTP     = 0x101E   (PML4 table at 0x1000, bits 5:3 = 3 → walk length 4, bits 2:0 = 6 → WB, bit 6 = 0)
 * EPTP A/D = 0x105E   (bit 6 = 1)
 * EPT PML4E at 0x1000 + 1*8 = 0x1008, value 0x2007 (RWX, PDPT at 0x2000)
 * EPT PDPTE at 0x2000 + 2*8 = 0x2010, value 0x3007 (RWX, PD at 0x3000)
 * EPT PDE   at 0x3000 + 3*8 = 0x3018, value 0x4007 (RWX, PT at 0x4000)
 * EPT PTE   at 0x4000 + 4*8 = 0x4020, value 0xABCDE037 (RWX, memory type 6 = WB in bits 5:3 → 0x30, page 0xABCDE000)
 * host     = 0xABCDE000 | 0x567 = 0xABCDE567
 * MAXPHYADDR N = 40: bits 51:40 reserved in every entry.
 * </pre>
 */
final class EptFixture {
    private EptFixture() {}

    static final long GPA = 0x80_8060_4567L;
    static final long EPTP = 0x101EL;
    static final long EPTP_AD = 0x105EL;
    static final long PML4E_AT = 0x1008L;
    static final long PDPTE_AT = 0x2010L;
    static final long PDE_AT = 0x3018L;
    static final long PTE_AT = 0x4020L;
    static final long PML4E = 0x2007L;
    static final long PDPTE = 0x3007L;
    static final long PDE = 0x4007L;
    static final long PTE = 0xABCDE037L;
    static final int N = 40;
    static final EptSupport SUPPORT = new EptSupport(N, false, true);
    static final EptSupport SUPPORT_XO = new EptSupport(N, true, true);
    static final GuestLinear LINEAR = GuestLinear.translationOf(0x7FFF_1234_5567L);

    /** 16 frames of host memory holding the four tables above. */
    static PhysicalMemory memory(long pml4e, long pdpte, long pde, long pte) {
        return PhysicalMemory.ofFrames(16).writePhysical(PML4E_AT, pml4e).writePhysical(PDPTE_AT, pdpte)
                .writePhysical(PDE_AT, pde).writePhysical(PTE_AT, pte);
    }

    static PhysicalMemory memory() {
        return memory(PML4E, PDPTE, PDE, PTE);
    }

    static EptTranslation translate(PhysicalMemory m, EptSupport s, AccessKind access) {
        return EptPageWalk.translate(m, new Eptp(EPTP), s, GPA, access, LINEAR);
    }

    static EptTranslation translate(PhysicalMemory m, AccessKind access) {
        return translate(m, SUPPORT, access);
    }
}
