package org.hybridv.gen;

import java.util.EnumSet;
import org.hybridv.ept.InveptType;
import org.hybridv.vmx.InvvpidType;
import org.hybridv.vmx.VmxCapabilities;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.PhysicalMemory;

/**
 * Generates {@link EptRuleCase}s that drive a guest access through every corner of the EPT translation rules (Intel
 * SDM Vol. 3C §28.2.2 tables 28-1..28-6, §28.2.3.1 misconfigurations, §28.2.3.2 violations): an {@link EptCases} case
 * whose EPT is, in four cases of five, first made clean (every entry R/W/X, write-back leaves, nothing else set), then
 * reshaped so that the chosen entry exists — an EPT PDPTE that maps a 1-GByte page or a PDE that maps a 2-MByte page
 * (the guest frames then identity-mapped, their contents copied to host frames 0..15), or 4-KByte EPT PTEs — and that
 * one entry on the access's walk rewritten:
 * <ul>
 * <li>bits 2:0 to any of the eight values (000b not present, 010b/110b write without read, 100b execute-only, which is
 * a misconfiguration only on a processor without IA32_VMX_EPT_VPID_CAP bit 0 — one case in three here);</li>
 * <li>bits 5:3 to any of the eight memory types (2, 3, 7 reserved in a leaf; in an entry that references a table,
 * any value is a reserved bit of 7:3);</li>
 * <li>one reserved bit of the entry's own table: 7:3 of a PML4E, 6:3 of a PDPTE/PDE that references a table (bit 7 there
 * selects the page size), 29:12 of a 1-GByte PDPTE, 20:12 of a 2-MByte PDE (an EPT PTE has none besides 51:N);</li>
 * <li>one bit of 51:N, N = MAXPHYADDR (36, 39, 46 or 48): bit N, bit 51, or one between;</li>
 * <li>one ignored bit, which must change nothing: 11:8 and 62:52 anywhere, bit 6 (ignore PAT) of a leaf, bit 7 of a
 * PTE, bit 63 (suppress #VE, ignored without the "EPT-violation #VE" control);</li>
 * <li>or nothing;</li>
 * <li>or, for a PTE, the EPT PTE of the guest's PML4 table made readable but not writable (001b or 101b) and the
 * guest's PML4 entry for the access given A = 0, so that setting A is a guest-physical write EPT refuses;</li>
 * <li>or, for the PTE of the access's data page, bits 2:0 without the permission the access needs (a read: 000b or
 * 100b; a write: 001b or 101b; a fetch: 001b or 011b).</li>
 * </ul>
 * The entry is on the walk of the access: PML4E 0, PDPTE 0 and PDE 0 translate every guest-physical address below 2 MiB,
 * and the PTE chosen maps guest frame 1 (the guest's PML4 table, read first by every walk), the frame of the access's
 * data, or another guest frame.
 */
public final class EptRuleCases {
    private EptRuleCases() {}

    private static final long ADDRESS = ((1L << 52) - 1) & ~0xFFFL;
    private static final long PML4E = (long) EptCases.EPT_PML4_FRAME * PhysicalMemory.FRAME_SIZE;
    private static final long PDPTE = (long) EptCases.EPT_PDPT_FRAME * PhysicalMemory.FRAME_SIZE;
    private static final long PDE = (long) EptCases.EPT_PD_FRAME * PhysicalMemory.FRAME_SIZE;
    private static final long PT = (long) EptCases.EPT_PT_FRAME * PhysicalMemory.FRAME_SIZE;
    /** Bits 5:3 = 6 (write-back), bits 2:0 = 111b. */
    private static final long WB_RWX = (6L << 3) | 0b111;

    /** How many choices the rewrite reads, taken before the {@link EptCases} case's (which may use up the rest). */
    static final int OWN_CHOICES = 24;

    public static EptRuleCase generate(Choices choices) {
        int[] own = new int[OWN_CHOICES];
        for (int i = 0; i < own.length; i++) {
            own[i] = choices.next();
        }
        int[] read = {0};
        Choices c = () -> read[0] < own.length ? own[read[0]++] : 0;
        EptCase k = EptCases.generate(choices, c.flag(true, 50));
        int max = c.oneOf(36, 39, 46, 48);
        CpuState g = k.guest();
        CpuState guest = new CpuState(g.cr0(), g.cr2(), g.cr3(), g.cr4(), g.efer(), g.ac(), g.cpl(), g.pkru(), max);
        PhysicalMemory m = fourKByteLayout(k.memory());
        if (c.flag(true, 20)) {
            m = clean(m);
        }
        int shape = c.weighted(3, 2, 2, 2, 2, 5);
        String[] names = {"PML4E", "PDPTE", "PDPTE 1G", "PDE", "PDE 2M", "PTE"};
        long at;
        if (shape == 2 || shape == 4) {
            m = identity(m);
            if (shape == 2) {
                m = m.writePhysical(PDPTE, 0x80 | WB_RWX);
                at = PDPTE;
            } else {
                m = m.writePhysical(PDE, 0x80 | WB_RWX);
                at = PDE;
            }
        } else if (shape == 5) {
            int which = c.weighted(3, 5, 2);
            long frame = switch (which) {
                case 0 -> EptCases.GUEST_PML4_FRAME;
                case 1 -> k.dataEptEntry() >= 0 ? (k.dataEptEntry() - PT) / 8 : EptCases.GUEST_PML4_FRAME;
                default -> 2 + c.below(EptCases.GUEST_FRAMES - 2);
            };
            at = PT + 8 * frame;
            if (which == 1 && k.dataEptEntry() >= 0 && c.flag(false, 60)) {
                // the data page present but without the permission the access needs (SDM 28.2.3.2)
                int rwx = switch (k.access().kind()) {
                    case READ -> c.oneOf(0b000, 0b100);
                    case WRITE -> c.oneOf(0b001, 0b101);
                    default -> c.oneOf(0b001, 0b011);
                };
                return finish(c, m, at, (m.readPhysical(at) & ~7L) | rwx, guest, k,
                        names[shape] + ": data page without the access's permission");
            }
        } else {
            at = shape == 0 ? PML4E : shape == 1 ? PDPTE : PDE;
        }
        boolean leaf = shape == 2 || shape == 4 || shape == 5;
        long e = m.readPhysical(at);
        String what;
        if (shape == 5 && c.flag(false, 25)) {
            // the guest's PML4 table readable but not writable, its entry for the access with A = 0: the walk reads
            // it, and setting A is a guest-physical write that EPT must permit (SDM 28.2.3.2; with EPT A/D, even the
            // read is a write, 28.2.4)
            at = PT + 8L * EptCases.GUEST_PML4_FRAME;
            e = (m.readPhysical(at) & ~7L) | c.oneOf(0b001, 0b101);
            long pml4e = frameOf(e) * PhysicalMemory.FRAME_SIZE + 8 * ((k.access().linear() >>> 39) & 0x1FF);
            m = m.writePhysical(pml4e, m.readPhysical(pml4e) & ~(1L << 5));
            return finish(c, m, at, e, guest, k, names[shape] + ": guest table read-only, its A flag clear");
        }
        switch (c.weighted(3, 2, 2, 2, 2, 1)) {
            case 0 -> {
                int rwx = c.below(8);
                e = (e & ~7L) | rwx;
                what = "RWX=" + Integer.toBinaryString(8 | rwx).substring(1);
            }
            case 1 -> {
                int type = c.below(8);
                e = (e & ~(7L << 3)) | ((long) type << 3);
                what = "memory type " + type;
            }
            case 2 -> {
                int bit = switch (shape) {
                    case 0 -> 3 + c.below(5);
                    case 1, 3 -> 3 + c.below(4);
                    case 2 -> c.flag(false, 50) ? c.oneOf(12, 29) : 12 + c.below(18);
                    case 4 -> c.flag(false, 50) ? c.oneOf(12, 20) : 12 + c.below(9);
                    default -> -1;
                };
                if (bit < 0) {
                    int type = c.oneOf(2, 3, 7);
                    e = (e & ~(7L << 3)) | ((long) type << 3);
                    what = "memory type " + type;
                } else {
                    e |= 1L << bit;
                    what = "reserved bit " + (shape == 0 ? "7:3" : shape == 1 || shape == 3 ? "6:3"
                            : shape == 2 ? "29:12" : "20:12");
                }
            }
            case 3 -> {
                int bit = switch (c.weighted(3, 3, 4)) {
                    case 0 -> max;
                    case 1 -> 51;
                    default -> max + c.below(52 - max);
                };
                e |= 1L << bit;
                what = "bit of 51:MAXPHYADDR";
            }
            case 4 -> {
                int bit = switch (c.weighted(4, 4, 1, 2, 1)) {
                    case 0 -> 8 + c.below(4);
                    case 1 -> 52 + c.below(11);
                    case 2 -> 63;
                    case 3 -> leaf ? 6 : 10;
                    default -> shape == 5 ? 7 : 11;
                };
                e |= 1L << bit;
                what = "ignored bit";
            }
            default -> what = "unchanged";
        }
        return finish(c, m, at, e, guest, k, names[shape] + ": " + what);
    }

    private static EptRuleCase finish(Choices c, PhysicalMemory m, long at, long entry, CpuState guest, EptCase k,
            String region) {
        boolean executeOnly = c.flag(true, 33);
        VmxCapabilities caps = new VmxCapabilities(executeOnly, true, EnumSet.allOf(InveptType.class),
                EnumSet.allOf(InvvpidType.class));
        EptCase out = new EptCase(m.writePhysical(at, entry), guest, k.eptp(), k.access(), k.eptEntries(),
                k.dataEptEntry());
        return new EptRuleCase(out, caps, region);
    }

    /**
     * If the generated EPT maps the first 2 MiB with one EPT PDE (host = guest-physical), the same mapping with 4-KByte
     * EPT PTEs: PDE 0 references the EPT page table, and PTE g maps guest frame g to host frame g with the PDE's bits
     * 11:0 but bit 7.
     */
    private static PhysicalMemory fourKByteLayout(PhysicalMemory m) {
        long pde = m.readPhysical(PDE);
        if ((pde & 0x80) == 0) {
            return m;
        }
        PhysicalMemory out = m.writePhysical(PDE, PT | 0b111);
        for (int g = 0; g < EptCases.GUEST_FRAMES; g++) {
            out = out.writePhysical(PT + 8L * g, (long) g * PhysicalMemory.FRAME_SIZE | (pde & 0xF7F));
        }
        return out;
    }

    /** Every EPT entry R/W/X, leaves write-back, the address kept, every other bit 0. */
    private static PhysicalMemory clean(PhysicalMemory m) {
        PhysicalMemory out = m.writePhysical(PML4E, PDPTE | 0b111).writePhysical(PDPTE, PDE | 0b111)
                .writePhysical(PDE, PT | 0b111);
        for (int g = 0; g < EptCases.GUEST_FRAMES; g++) {
            long pte = m.readPhysical(PT + 8L * g);
            out = out.writePhysical(PT + 8L * g, frameOf(pte) * PhysicalMemory.FRAME_SIZE | WB_RWX);
        }
        return out;
    }

    /**
     * Host frames 0..15 (unused by the generated layout, so zero) hold what the guest frames 0..15 are mapped to
     * through the 4-KByte EPT PTEs.
     */
    private static PhysicalMemory identity(PhysicalMemory m) {
        PhysicalMemory out = m;
        for (int g = 0; g < EptCases.GUEST_FRAMES; g++) {
            long from = frameOf(m.readPhysical(PT + 8L * g));
            for (int i = 0; i < PhysicalMemory.WORDS_PER_FRAME; i++) {
                long word = m.read(from, i);
                if (word != 0) {
                    out = out.write(g, i, word);
                }
            }
        }
        return out;
    }

    /** The host frame an EPT PTE of the generated layout maps (its address bits below 2^18, the 64 host frames). */
    private static long frameOf(long pte) {
        return (pte & ADDRESS) >>> 12 & (EptCases.HOST_FRAMES - 1);
    }
}
