package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.ept.InveptType;
import org.hybridv.vmx.InvvpidType;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.InvpcidType;
import org.hybridv.x86.Level;
import org.hybridv.x86.PageSize;
import org.hybridv.x86.PscEntry;
import org.hybridv.x86.Rights;
import org.hybridv.x86.Tlb;
import org.hybridv.x86.TlbEntry;
import org.hybridv.x86.TlbPolicy;
import org.hybridv.x86.TlbTag;

/**
 * Generates {@link TlbScopeCase}s: one to eight fills of an adversarial TLB drawn from small pools (VPIDs 0, 1, 2 and
 * {@link VpidCases#vpid}'s; no EPT or two EP4TAs; PCIDs 0..3; global or not; 4-KByte pages and a 2-MByte page that
 * covers two of them), so that entries collide on a page in different contexts, then one invalidating operation
 * whose operands come from the same pools. Every cached translation is supervisor-only (so a CPL-3 read through it
 * page-faults) and every combined mapping has EPT permissions none or read-only (so a guest write never uses it).
 * Then zero to six paging-structure-cache entries from the same pools (PML4-, PDPTE- or PDE-cache, for the pool's
 * linear addresses, supervisor-only, referencing frames the test machine leaves empty, so a walk from one faults).
 *
 * <p>Choice 0 everywhere gives INVLPG of 0x0 in VPID 0, no EPT, PCID 0, over one 4-KByte non-global entry for 0x0
 * in that context.
 */
public final class TlbScopeCases {
    /** EP4TAs of the pool (below 2^36, the generated MAXPHYADDR). */
    public static final long EP4TA_1 = 0x64000L;
    public static final long EP4TA_2 = 0x70000L;
    /** Linear addresses of the pool: 4-KByte pages 0x0 and 0x1000 lie in the 2-MByte page at 0x0. */
    static final long[] LINEAR = {0x0L, 0x1000L, 0x7FFF_FFFF_F000L, 0xFFFF_8000_0000_0000L};
    static final Rights SUPERVISOR = new Rights(true, false, false, 0);

    private TlbScopeCases() {}

    public static TlbScopeCase generate(Choices c) {
        TlbScopeCase.Op op = op(c); // first: the fills may run out of raw choices (then they read zeroes)
        int n = 1 + c.below(8);
        Tlb tlb = Tlb.empty(TlbPolicy.ADVERSARIAL);
        for (int i = 0; i < n; i++) {
            tlb = tlb.fill(entry(c));
        }
        int k = c.below(7);
        for (int i = 0; i < k; i++) {
            tlb = tlb.fillPsc(pscEntry(c));
        }
        return new TlbScopeCase(tlb.entries(), tlb.pscEntries(), op);
    }

    static PscEntry pscEntry(Choices c) {
        TlbTag tag = tag(c);
        Level level = c.oneOf(Level.PD, Level.PDPT, Level.PML4);
        long linear = linear(c);
        return new PscEntry(tag, c.below(4), level, PscEntry.baseOf(level, linear), 0x10000L + 0x1000L * c.below(4),
                c.flag(true, 50), false, false);
    }

    static int vpid(Choices c) {
        return switch (c.weighted(40, 25, 25, 10)) {
            case 0 -> 0;
            case 1 -> 1;
            case 2 -> 2;
            default -> VpidCases.vpid(c);
        };
    }

    static long ep4ta(Choices c) {
        return c.oneOf(TlbTag.NO_EPT, EP4TA_1, EP4TA_2);
    }

    static TlbTag tag(Choices c) {
        return new TlbTag(vpid(c), ep4ta(c));
    }

    static long linear(Choices c) {
        return LINEAR[c.below(LINEAR.length)];
    }

    static TlbEntry entry(Choices c) {
        TlbTag tag = tag(c);
        boolean large = c.flag(false, 15);
        long linear = large ? 0 : linear(c);
        PageSize size = large ? PageSize.SIZE_2M : PageSize.SIZE_4K;
        long physical = large ? 0x20_0000L : 0x9000L + 0x1000L * c.below(4);
        int stage2 = tag.combined() ? c.below(2) : TlbEntry.NO_STAGE2;
        return new TlbEntry(tag, c.below(4), c.flag(false, 40), linear, size, physical, SUPERVISOR, c.flag(true, 30),
                stage2);
    }

    static TlbScopeCase.Op op(Choices c) {
        return switch (c.below(11)) {
            case 0 -> new TlbScopeCase.Invlpg(tag(c), c.below(4), linear(c));
            case 1 -> {
                boolean pcide = c.flag(true, 30);
                yield new TlbScopeCase.MovToCr3(tag(c), pcide, pcide ? c.below(4) : 0, pcide && c.flag(false, 40));
            }
            case 2 -> movToCr4(c);
            case 3 -> new TlbScopeCase.MovToCr0ClearingPg(tag(c));
            case 4 -> new TlbScopeCase.PageFault(tag(c), c.below(4), linear(c));
            case 5 -> {
                InvvpidType type = c.oneOf(InvvpidType.values());
                int v = vpid(c);
                if (v == 0 && type != InvvpidType.ALL_CONTEXT) {
                    v = 1;
                }
                yield new TlbScopeCase.Invvpid(type, v, linear(c));
            }
            case 6 -> new TlbScopeCase.Invept(c.oneOf(InveptType.values()), c.oneOf(EP4TA_1, EP4TA_2));
            case 7 -> {
                boolean on = c.flag(true, 50);
                yield new TlbScopeCase.VmEntry(on, on ? Math.max(1, vpid(c)) : 0, ep4ta(c));
            }
            case 8 -> {
                boolean on = c.flag(true, 50);
                yield new TlbScopeCase.VmExit(on, new TlbTag(on ? Math.max(1, vpid(c)) : 0, ep4ta(c)));
            }
            case 10 -> {
                InvpcidType type = c.oneOf(InvpcidType.values());
                boolean pcide = c.flag(true, 30);
                int current = pcide ? c.below(4) : 0;
                boolean addressOrContext = type == InvpcidType.INDIVIDUAL_ADDRESS
                        || type == InvpcidType.SINGLE_CONTEXT;
                int pcid = pcide || !addressOrContext ? c.below(4) : 0;
                yield new TlbScopeCase.Invpcid(tag(c), pcide, current, type, pcid, linear(c));
            }
            default -> {
                boolean on = c.flag(true, 50);
                TlbTag tag = new TlbTag(on ? Math.max(1, vpid(c)) : 0, c.oneOf(EP4TA_1, EP4TA_2));
                boolean translated = c.flag(true, 40);
                // with guest CR0.PG = 0 the linear address is the guest-physical one: keep it below 2^48
                long linear = translated ? LINEAR[c.below(LINEAR.length - 1)] : linear(c);
                yield new TlbScopeCase.EptViolation(on, tag, translated, linear);
            }
        };
    }

    /** A legal MOV to CR4 that flips some of PGE, PCIDE, SMEP (with paging) or PAE, PGE, SMEP (with CR0.PG = 0). */
    static TlbScopeCase.Op movToCr4(Choices c) {
        TlbTag tag = tag(c);
        boolean paging = c.flag(true, 30);
        Cr4 old = Cr4.RESET.withPae(paging || c.flag(true, 50)).withPge(c.flag(true, 50)).withSmep(c.flag(false, 50))
                .withPcide(paging && c.flag(false, 50));
        Cr4 next = old;
        if (c.flag(false, 40)) {
            next = next.withPge(!next.pge());
        }
        if (c.flag(false, 50)) {
            next = next.withSmep(!next.smep());
        }
        if (paging && c.flag(false, 30)) {
            next = next.withPcide(!next.pcide());
        }
        if (!paging && c.flag(false, 50)) {
            next = next.withPae(!next.pae());
        }
        int pcid = old.pcide() ? c.below(4) : 0;
        return new TlbScopeCase.MovToCr4(tag, pcid, old, next, paging);
    }

    /** A linear address of the pool (canonical; 4-KByte pages 0x0 and 0x1000 share the 2-MByte page at 0x0). */
    public static long poolLinear(Choices c) {
        return linear(c);
    }
}
