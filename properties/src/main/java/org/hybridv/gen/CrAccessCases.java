package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.vmx.GuestInstruction;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Cr4;

/**
 * Generates {@link CrAccessCase}s: every CR0 bit the reference models (PE, WP, PG) and some it does not (MP, NE, CD)
 * and every CR4 bit (PSE, PAE, PGE, VMXE, PCIDE, SMEP, SMAP, PKE) as guest-owned or host-owned with either read
 * shadow; sources that match the shadow on the host-owned bits or differ in one of them; CR3 sources equal to a
 * CR3-target value, beyond the targets, or with bits above MAXPHYADDR; guests at CPL 0 and 3 with SMEP, SMAP, PKE,
 * PGE and PCIDE on or off.
 *
 * <p>Choice 0 everywhere gives a MOV to CR0 at CPL 0 of the guest's own CR0 with nothing host-owned.
 */
public final class CrAccessCases {
    private CrAccessCases() {}

    /** The guest's MAXPHYADDR. */
    public static final int MAX_PHYS_ADDR = 39;
    /** CR0 bits the cases vary: PE, MP, NE, WP, CD, PG. */
    static final long[] CR0_BITS = {1L << Cr0.PE_BIT, 1L << 1, 1L << 5, 1L << Cr0.WP_BIT, 1L << 30, 1L << Cr0.PG_BIT};
    /** CR4 bits the cases vary: PSE, PAE, PGE, VMXE, PCIDE, SMEP, SMAP, PKE. */
    static final long[] CR4_BITS = {1L << Cr4.PSE_BIT, 1L << Cr4.PAE_BIT, 1L << Cr4.PGE_BIT, 1L << 13,
        1L << Cr4.PCIDE_BIT, 1L << Cr4.SMEP_BIT, 1L << Cr4.SMAP_BIT, 1L << Cr4.PKE_BIT};

    public static CrAccessCase generate(Choices c) {
        int cpl = c.flag(true, 10) ? 0 : 3;
        Cr4 cr4 = Cr4.RESET.withPae(true).withPge(c.flag(false, 40)).withPcide(c.flag(false, 25))
                .withSmep(c.flag(false, 40)).withSmap(c.flag(false, 40)).withPke(c.flag(false, 40));
        CpuState longMode = CpuState.longMode(0x10 + c.below(4), MAX_PHYS_ADDR);
        CpuState guest = longMode.withCr0(longMode.cr0().withWp(c.flag(true, 50))).withCr4(cr4).withCpl(cpl);
        long cr0Mask = subset(c, CR0_BITS, 30);
        long cr0Shadow = c.flag(true, 40) ? guest.cr0().bits() & cr0Mask : subset(c, CR0_BITS, 50) & cr0Mask;
        long cr4Mask = subset(c, CR4_BITS, 30);
        long cr4Shadow = c.flag(true, 40) ? guest.cr4().bits() & cr4Mask : subset(c, CR4_BITS, 50) & cr4Mask;
        boolean load = c.flag(false, 60);
        boolean store = c.flag(false, 50);
        List<Long> targets = new ArrayList<>();
        int n = c.below(5);
        for (int i = 0; i < n; i++) {
            targets.add((long) c.below(4) << 12);
        }
        GuestInstruction insn = switch (c.weighted(30, 25, 25, 20)) {
            case 0 -> new GuestInstruction.MovToCr(0, source(c, guest.cr0().bits(), cr0Mask, cr0Shadow, CR0_BITS),
                    c.below(16));
            case 1 -> new GuestInstruction.MovToCr(4, source(c, guest.cr4().bits(), cr4Mask, cr4Shadow, CR4_BITS),
                    c.below(16));
            case 2 -> new GuestInstruction.MovToCr(3, cr3(c, targets), c.below(16));
            default -> new GuestInstruction.MovFromCr(c.oneOf(0, 3, 4, 2), c.below(16));
        };
        return new CrAccessCase(guest, cr0Mask, cr0Shadow, cr4Mask, cr4Shadow, load, store, targets,
                c.flag(false, 30), insn);
    }

    /** Each of {@code bits} with probability {@code percent} %. */
    private static long subset(Choices c, long[] bits, int percent) {
        long v = 0;
        for (long b : bits) {
            if (c.flag(false, percent)) {
                v |= b;
            }
        }
        return v;
    }

    /**
     * A MOV-to-CR source: the current value with the host-owned bits replaced by the read shadow (no exit on the mask
     * alone), then with some of {@code bits} flipped (a host-owned one exits, a guest-owned one changes the register).
     */
    private static long source(Choices c, long current, long mask, long shadow, long[] bits) {
        long v = (current & ~mask) | shadow;
        if (c.flag(false, 60)) {
            v ^= bits[c.below(bits.length)];
        }
        if (c.flag(false, 20)) {
            v ^= bits[c.below(bits.length)];
        }
        return v;
    }

    /** A CR3 source: one of the CR3-target values, another frame, or a value with a bit above MAXPHYADDR or 63. */
    private static long cr3(Choices c, List<Long> targets) {
        return switch (c.weighted(40, 40, 20)) {
            case 0 -> targets.isEmpty() ? 0 : targets.get(c.below(targets.size()));
            case 1 -> (long) c.below(8) << 12;
            default -> ((long) c.below(4) << 12) | (1L << c.oneOf(MAX_PHYS_ADDR, 51, 63));
        };
    }
}
