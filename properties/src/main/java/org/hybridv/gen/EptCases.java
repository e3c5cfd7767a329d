package org.hybridv.gen;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.ept.EptEntry;
import org.hybridv.ept.Eptp;
import org.hybridv.x86.Access;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Canonical;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Efer;
import org.hybridv.x86.Entry;
import org.hybridv.x86.Level;
import org.hybridv.x86.PhysicalMemory;

/**
 * Generates {@link EptCase}s: a guest whose paging structures live in guest-physical frames 1..15 and an EPT that maps
 * those frames into host memory, with EPT permissions, not-present entries and misconfigurations (W without R,
 * reserved memory type, reserved bit) scattered so that successes, EPT violations (on guest paging-structure accesses
 * and on the final access) and EPT misconfigurations each make up a real share.
 *
 * <p>Host layout (64 frames): EPT PML4 in frame 48, EPT PDPT 49, EPT PD 50, EPT PT 51; every guest-physical address
 * used is below 2 MiB, so only entry 0 of the upper EPT tables is used, and EPT PTE g maps guest frame g, usually to
 * host frame 16 + g (sometimes to another frame of 16..31, so that guest frames alias). Sometimes the EPT PDE instead
 * maps the first 2 MiB as one page, host = guest-physical.
 *
 * <p>Choice 0 everywhere gives a read at CPL 0 of linear address 0 through a present, writable, user 4-KByte guest
 * mapping, with every EPT entry RWX and EPT accessed/dirty flags off.
 */
public final class EptCases {
    public static final int HOST_FRAMES = 64;
    public static final int EPT_PML4_FRAME = 48;
    public static final int EPT_PDPT_FRAME = 49;
    public static final int EPT_PD_FRAME = 50;
    public static final int EPT_PT_FRAME = 51;
    public static final int GUEST_FRAMES = 16;
    public static final int GUEST_BASE_FRAME = 16;
    public static final int GUEST_PML4_FRAME = 1;

    private EptCases() {}

    /**
     * A case. With {@code permissiveGuest} the guest's own paging allows every access and needs no accessed/dirty
     * update (every entry present, writable, user, A = D = 1, no XD, CPL 0, WP = 0), so only EPT decides.
     */
    public static EptCase generate(Choices c, boolean permissiveGuest) {
        int maxPhysAddr = c.oneOf(39, 46, 36);
        boolean accessedDirty = c.flag(false, 25);
        Eptp eptp = Eptp.ofFrame(EPT_PML4_FRAME, accessedDirty);
        boolean largeEptPage = c.flag(false, 8);
        long[] hostFrameOf = new long[GUEST_FRAMES];
        for (int g = 0; g < GUEST_FRAMES; g++) {
            hostFrameOf[g] = GUEST_BASE_FRAME + (c.flag(true, 10) ? g : c.below(GUEST_FRAMES));
        }

        PhysicalMemory m = PhysicalMemory.ofFrames(HOST_FRAMES);
        List<Long> eptEntries = new ArrayList<>();
        m = put(m, eptEntries, EPT_PML4_FRAME, EptEntry.table(EPT_PDPT_FRAME).withPermissionBits(upper(c)));
        m = put(m, eptEntries, EPT_PDPT_FRAME, EptEntry.table(EPT_PD_FRAME).withPermissionBits(upper(c)));
        if (largeEptPage) {
            m = put(m, eptEntries, EPT_PD_FRAME, leaf(c, EptEntry.pde2M(0, org.hybridv.ept.EptPermissions.ALL),
                    maxPhysAddr));
        } else {
            m = put(m, eptEntries, EPT_PD_FRAME, EptEntry.table(EPT_PT_FRAME).withPermissionBits(upper(c)));
            for (int g = 0; g < GUEST_FRAMES; g++) {
                EptEntry pte = leaf(c, EptEntry.pte(hostFrameOf[g], org.hybridv.ept.EptPermissions.ALL),
                        maxPhysAddr);
                long at = (long) EPT_PT_FRAME * PhysicalMemory.FRAME_SIZE + 8L * g;
                m = m.writePhysical(at, pte.raw());
                eptEntries.add(at);
            }
        }

        CpuState cpu = permissiveGuest ? CpuState.longMode(GUEST_PML4_FRAME, maxPhysAddr)
                : CpuState.longMode(GUEST_PML4_FRAME, maxPhysAddr)
                        .withCr0(new Cr0(true, c.flag(false, 50), true))
                        .withEfer(new Efer(true, c.flag(false, 30)))
                        .withCpl(c.flag(true, 20) ? 0 : 3);
        long linear = linearAddress(c);

        long table = GUEST_PML4_FRAME;
        long dataFrame = -1;
        for (Level level = Level.PML4; level != null; level = level.next()) {
            long next = 2 + c.below(GUEST_FRAMES - 2);
            Entry e = Entry.table(next, true, true).withAccessed(true);
            boolean large = false;
            if (!permissiveGuest) {
                e = e.withPresent(c.flag(true, 5)).withWritable(c.flag(true, 10)).withUser(c.flag(true, 10))
                        .withAccessed(c.flag(true, 40)).withNoExecute(c.flag(false, 5));
                large = level == Level.PD && c.flag(false, 8);
            }
            boolean isLeaf = level == Level.PT || large;
            if (large) {
                e = e.withPageSize(true).withFrame(0);
            }
            if (isLeaf) {
                e = e.withDirty(permissiveGuest || c.flag(true, 40));
            }
            long gpa = table * PhysicalMemory.FRAME_SIZE + 8L * level.index(linear);
            m = m.writePhysical(hostOf(gpa, largeEptPage, hostFrameOf), e.raw());
            if (!e.present()) {
                break;
            }
            if (isLeaf) {
                dataFrame = large ? -1 : next;
                break;
            }
            table = next;
        }
        long data = 0x1000_0000L + c.below(0x1000);
        if (dataFrame >= 0) {
            m = m.writePhysical(hostOf(dataFrame * PhysicalMemory.FRAME_SIZE + (linear & 0xFF8), largeEptPage,
                    hostFrameOf), data);
        }
        long dataEptEntry = dataFrame >= 0 && !largeEptPage
                ? (long) EPT_PT_FRAME * PhysicalMemory.FRAME_SIZE + 8L * dataFrame : -1;

        AccessKind kind = c.oneOf(AccessKind.READ, AccessKind.WRITE, AccessKind.FETCH);
        Access access = new Access(linear, kind, false, kind == AccessKind.WRITE ? c.bits64() : 0);
        return new EptCase(m, cpu, eptp, access, eptEntries, dataEptEntry);
    }

    /** The host-physical address of guest-physical {@code gpa} (below 64 KiB) under the generated EPT. */
    static long hostOf(long gpa, boolean largeEptPage, long[] hostFrameOf) {
        if (largeEptPage) {
            return gpa;
        }
        return hostFrameOf[(int) (gpa >>> 12)] * PhysicalMemory.FRAME_SIZE + (gpa & 0xFFF);
    }

    private static PhysicalMemory put(PhysicalMemory m, List<Long> entries, int frame, EptEntry e) {
        long at = (long) frame * PhysicalMemory.FRAME_SIZE;
        entries.add(at);
        return m.writePhysical(at, e.raw());
    }

    /** Permissions of an upper-level EPT entry: almost always RWX. */
    static int upper(Choices c) {
        return switch (c.weighted(91, 2, 2, 1, 1, 1, 1, 1)) {
            case 0 -> 0b111;
            case 1 -> 0b001;
            case 2 -> 0b011;
            case 3 -> 0b101;
            case 4 -> 0b000;
            case 5 -> 0b010; // W without R: misconfiguration
            case 6 -> 0b110; // WX without R: misconfiguration
            default -> 0b100; // execute-only (supported by EptSupport.full)
        };
    }

    /** A leaf: permissions, sometimes a reserved memory type, a reserved bit or an ignored high bit. */
    static EptEntry leaf(Choices c, EptEntry e, int maxPhysAddr) {
        int rwx = switch (c.weighted(72, 5, 6, 5, 2, 4, 3, 3)) {
            case 0 -> 0b111;
            case 1 -> 0b001;
            case 2 -> 0b011;
            case 3 -> 0b101;
            case 4 -> 0b100;
            case 5 -> 0b000;
            case 6 -> 0b010;
            default -> 0b110;
        };
        EptEntry out = e.withPermissionBits(rwx);
        int odd = c.weighted(94, 3, 3);
        if (odd == 1) {
            out = out.withMemoryType(c.oneOf(2, 3, 7));
        } else if (odd == 2) {
            // a reserved bit anywhere in MAXPHYADDR..51 (SDM §28.2.3.1), or one of the ignored bits 52..62, which
            // must not make the entry misconfigured
            int bit = switch (c.weighted(5, 2, 3, 2)) {
                case 0 -> maxPhysAddr;
                case 1 -> 51;
                case 2 -> maxPhysAddr + c.below(52 - maxPhysAddr);
                default -> 52 + c.below(11);
            };
            out = out.with(bit, true);
        }
        return out;
    }

    /** A quadword-aligned canonical linear address with table indices mostly 0, 1 or 511. */
    static long linearAddress(Choices c) {
        return Canonical.canonicalize(PagingCases.tableIndices(c) | c.below(512) * 8L);
    }
}
