package org.hybridv.invariants;

import org.hybridv.x86.Access;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Canonical;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.EntryReader;
import org.hybridv.x86.Hex;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.PageWalk;
import org.hybridv.x86.PhysicalMemory;
import org.hybridv.x86.Translated;
import org.hybridv.x86.Translation;
import org.hybridv.x86.VisitedEntry;
import org.hybridv.x86.Walk;

/**
 * The EPT rules I7 judges EPT exits by (Intel SDM Vol. 3C §28.2), restated here over the raw EPT paging-structure
 * entries in host memory and the raw EPTP — on purpose not taken from {@code org.hybridv.ept}'s walk and decision
 * classes ({@code EptPageWalk}, {@code EptMisconfigurations}, {@code EptPermissions},
 * {@code EptViolationQualification}), which the exits are produced by: an invariant that re-decides with the code it
 * checks cannot catch that code's slip. Bits are decoded here from the SDM's tables.
 * <ul>
 * <li>{@link #translate}: one guest-physical access (SDM 28.2.2 walk, 28.2.3.3 order): entry by entry from the EPT
 * PML4 table at EPTP[51:12], a not-present entry (bits 2:0 = 000b) is an EPT violation, a present but misconfigured
 * one (28.2.3.1) an EPT misconfiguration; once a page is reached, the access is checked against the AND of the R/W/X
 * bits over every entry used (28.2.3.2), an access to a guest paging-structure entry counting as a write when EPTP
 * bit 6 enables EPT accessed/dirty flags (28.2.4).</li>
 * <li>{@link #qualification}: the exit qualification of an EPT violation (SDM 27.2.1, table 27-7).</li>
 * <li>{@link #access}: a guest memory access with EPT (SDM 28.2.1): every guest paging-structure read is a
 * guest-physical access (bit 8 = 0), then the guest's own #PF rules (the architectural {@link PageWalk}), then the
 * writes that set the guest's accessed/dirty flags (guest-physical writes to paging-structure entries, bit 8 = 0),
 * then the access itself (bit 8 = 1). The order of the A/D writes is the reference's documented choice (docs/ept.md,
 * "Choices where the SDM leaves room": guest A/D flags only for a completed access).</li>
 * </ul>
 * EPT accessed/dirty flags (bits 8, 9) that the walked accesses set are ignored by every rule here (they are neither
 * permissions nor reserved bits), so one walk over the pre-state's memory decides the whole access.
 */
public final class EptRules {
    private EptRules() {}

    /** EPT entry bits 2:0 (SDM tables 28-1..28-6): read, write, execute; present iff any is set. */
    static final int R = 1;
    static final int W = 2;
    static final int X = 4;
    /** Bit 7 of an EPT PDPTE / PDE: the entry maps a 1-GByte / 2-MByte page. */
    static final long LARGE = 1L << 7;
    /** Bits 51:12: the physical address of the next structure or of the page. */
    static final long ADDRESS = ((1L << 52) - 1) & ~0xFFFL;
    /** EPTP bit 6: accessed and dirty flags for EPT enabled (SDM 24.6.11). */
    static final long EPTP_AD = 1L << 6;

    /**
     * The modelled processor's IA32_VMX_EPT_VPID_CAP bit 0 (execute-only translations supported, SDM Appendix A.10).
     * The reference models a processor that reports it set (docs/ept.md); {@link #translate} takes it as a parameter
     * so that the rule "bits 2:0 = 100b without that support is a misconfiguration" is stated too.
     */
    static final boolean EXECUTE_ONLY_SUPPORTED = true;

    /** How one guest-physical access ends. */
    public enum End {
        PERMITTED, VIOLATION, MISCONFIGURATION
    }

    /**
     * One guest-physical access: how it ends, the guest-physical address, the host-physical address (PERMITTED), the
     * AND of bits 2:0 over the entries used (for a violation, up to and including the not-present entry), why.
     */
    public record Gpa(End end, long guestPhysical, long hostPhysical, int permissions, String why) {}

    /**
     * The guest-physical access to {@code gpa} of kind {@code kind}, an access to a guest paging-structure entry if
     * {@code pagingStructure}, with EPTP {@code eptp}, MAXPHYADDR {@code maxPhysAddr}, over {@code host}.
     */
    public static Gpa translate(PhysicalMemory host, long eptp, int maxPhysAddr, boolean executeOnly, long gpa,
            AccessKind kind, boolean pagingStructure) {
        long table = eptp & ADDRESS;
        int and = R | W | X;
        String[] names = {"EPT PML4E", "EPT PDPTE", "EPT PDE", "EPT PTE"};
        for (int level = 0; level < 4; level++) {
            int shift = 39 - 9 * level;
            long address = table | (((gpa >>> shift) & 0x1FF) << 3);
            long e = host.readPhysical(address);
            int rwx = (int) (e & 7);
            and &= rwx;
            // the entry's wording ("EPT PDE 0x… at 0x…") is built only when the walk ends at it
            if (rwx == 0) {
                return new Gpa(End.VIOLATION, gpa, 0, and, names[level] + " " + Hex.of(e) + " at " + Hex.of(address)
                        + " is not present (SDM 28.2.3.3 step 1a)");
            }
            boolean leaf = level == 3 || (level > 0 && (e & LARGE) != 0);
            String bad = misconfigured(level, leaf, e, maxPhysAddr, executeOnly);
            if (bad != null) {
                return new Gpa(End.MISCONFIGURATION, gpa, 0, and, names[level] + " " + Hex.of(e) + " at "
                        + Hex.of(address) + ": " + bad + " (SDM 28.2.3.1)");
            }
            if (leaf) {
                long offset = (1L << shift) - 1;
                long hpa = (e & ADDRESS & ~offset) | (gpa & offset);
                boolean asWrite = pagingStructure && (eptp & EPTP_AD) != 0;
                int needed = asWrite || kind == AccessKind.WRITE ? W : kind == AccessKind.FETCH ? X : R;
                if ((and & needed) == 0) {
                    return new Gpa(End.VIOLATION, gpa, 0, and, "the AND of R/W/X over the walk is "
                            + rwx(and) + ", the " + (asWrite ? "paging-structure access (a write with EPT A/D)"
                                    : kind.toString().toLowerCase()) + " is not allowed (SDM 28.2.3.2)");
                }
                return new Gpa(End.PERMITTED, gpa, hpa, and, "mapped at " + Hex.of(hpa));
            }
            table = e & ADDRESS;
        }
        throw new AssertionError("unreachable: an EPT PTE always maps a page");
    }

    /**
     * Null if the present entry {@code e} read at {@code level} (0 = PML4E … 3 = PTE) is configured properly, else the
     * first rule of SDM 28.2.3.1 it breaks: bits 2:0 = 010b or 110b (write without read); 100b without execute-only
     * support; a reserved bit — 51:MAXPHYADDR in every entry, 7:3 in a PML4E and in a PDPTE/PDE that references a
     * table, 29:12 in a PDPTE that maps a 1-GByte page, 20:12 in a PDE that maps a 2-MByte page (tables 28-1..28-6);
     * or, in the entry that maps the page, memory type (bits 5:3) 2, 3 or 7 (28.2.6.1).
     */
    static String misconfigured(int level, boolean leaf, long e, int maxPhysAddr, boolean executeOnly) {
        int rwx = (int) (e & 7);
        if (rwx == 0b010 || rwx == 0b110) {
            return "write permission without read permission (bits 2:0 = " + rwx(rwx) + ")";
        }
        if (rwx == 0b100 && !executeOnly) {
            return "execute-only (bits 2:0 = 100b) without the execute-only capability";
        }
        long reserved = maxPhysAddr >= 52 ? 0 : ((1L << 52) - 1) & ~((1L << maxPhysAddr) - 1);
        if (!leaf || level == 0) {
            reserved |= 0xF8L; // 7:3
        } else if (level == 1) {
            reserved |= ((1L << 30) - 1) & ~0xFFFL; // 29:12
        } else if (level == 2) {
            reserved |= ((1L << 21) - 1) & ~0xFFFL; // 20:12
        }
        if ((e & reserved) != 0) {
            return "reserved bits " + Hex.of(e & reserved) + " set";
        }
        int type = (int) ((e >>> 3) & 7);
        if (leaf && (type == 2 || type == 3 || type == 7)) {
            return "memory type " + type + " is reserved";
        }
        return null;
    }

    /**
     * The exit qualification of an EPT violation (SDM 27.2.1, table 27-7) for an access of kind {@code kind} that ended
     * as {@code g}: bit 0 a data read, bit 1 a data write, bit 2 an instruction fetch — an access to a guest
     * paging-structure entry with EPT A/D enabled sets both bits 0 and 1 (note 1 of the table); bits 5:3 the AND of
     * bits 2:0 over the EPT entries used; bit 7 the guest-linear-address field is valid (every access here comes from
     * a linear address; loads of PAE PDPTEs are not modelled); bit 8, with bit 7, set for the access to the
     * translation of the linear address, clear for an access to a guest paging-structure entry.
     */
    static long qualification(Gpa g, AccessKind kind, boolean pagingStructure, long eptp) {
        boolean asWrite = pagingStructure && (eptp & EPTP_AD) != 0;
        long q = (kind == AccessKind.READ || asWrite ? 1 : 0) | (kind == AccessKind.WRITE || asWrite ? 2 : 0)
                | (kind == AccessKind.FETCH ? 4 : 0);
        q |= (long) g.permissions() << 3;
        q |= 1L << 7;
        q |= pagingStructure ? 0 : 1L << 8;
        return q;
    }

    /** The outcome of a whole guest memory access under EPT, by the rules above. */
    public sealed interface Expected permits EptExit, GuestFault, Completed {}

    /**
     * An EPT exit: the guest-physical access that causes it, the exit qualification (0 for a misconfiguration: SDM
     * 27.2.1 clears it for exits it does not list) and the guest-linear address.
     */
    public record EptExit(Gpa gpa, long qualification, long linear, String what) implements Expected {}

    /** The guest's own paging rules refuse the access (#PF, or #GP for a non-canonical address) before EPT does. */
    public record GuestFault(String what) implements Expected {}

    /** Every guest-physical access the access makes is permitted; it completes at {@code hostPhysical}. */
    public record Completed(long hostPhysical) implements Expected {}

    /** The outcome of {@code a} by a guest with registers {@code guest} under EPTP {@code eptp} (SDM 28.2.1). */
    static Expected access(PhysicalMemory host, long eptp, CpuState guest, Access a) {
        return access(host, eptp, guest, a, EXECUTE_ONLY_SUPPORTED);
    }

    /**
     * {@link #access(PhysicalMemory, long, CpuState, Access)} on a processor whose IA32_VMX_EPT_VPID_CAP bit 0 reads
     * {@code executeOnly}: without it, a present EPT entry with bits 2:0 = 100b is an EPT misconfiguration
     * (SDM 28.2.3.1).
     */
    public static Expected access(PhysicalMemory host, long eptp, CpuState guest, Access a, boolean executeOnly) {
        int n = guest.maxPhysAddr();
        long linear = a.linear();
        if (!guest.pagingEnabled()) {
            return last(host, eptp, n, executeOnly, linear, a);
        }
        if (!Canonical.isCanonical(linear)) {
            return new GuestFault("#GP: " + Hex.of(linear) + " is not canonical");
        }
        Reader reader = new Reader(host, eptp, n, executeOnly);
        Walk w = PageWalk.walk(reader, guest, linear);
        if (w.end() == Walk.End.READ_REFUSED) {
            return exit(reader.refusal, AccessKind.READ, true, eptp, linear, "the read of a guest paging-structure"
                    + " entry");
        }
        Translation t = PageWalk.decide(w, guest, a);
        if (t instanceof PageFault pf) {
            return new GuestFault("#PF " + pf.errorCode() + " from the guest's own tables");
        }
        for (int i = 0; i < w.path().size(); i++) {
            VisitedEntry v = w.path().get(i);
            boolean leaf = i == w.path().size() - 1;
            if (!v.entry().accessed() || (leaf && a.isWrite() && !v.entry().dirty())) {
                Gpa g = translate(host, eptp, n, executeOnly, v.address(), AccessKind.WRITE, true);
                if (g.end() != End.PERMITTED) {
                    return exit(g, AccessKind.WRITE, true, eptp, linear, "the write setting the accessed/dirty"
                            + " flag of the guest " + v.level().entryName() + " at " + Hex.of(v.address()));
                }
            }
        }
        return last(host, eptp, n, executeOnly, ((Translated) t).physicalAddress(), a);
    }

    /** The access itself to its final guest-physical address {@code gpa} (bit 8 = 1). */
    private static Expected last(PhysicalMemory host, long eptp, int n, boolean executeOnly, long gpa, Access a) {
        Gpa g = translate(host, eptp, n, executeOnly, gpa, a.kind(), false);
        return g.end() == End.PERMITTED ? new Completed(g.hostPhysical())
                : exit(g, a.kind(), false, eptp, a.linear(), "the " + a.kind().toString().toLowerCase() + " itself");
    }

    private static EptExit exit(Gpa g, AccessKind kind, boolean pagingStructure, long eptp, long linear,
            String what) {
        long q = g.end() == End.VIOLATION ? qualification(g, kind, pagingStructure, eptp) : 0;
        return new EptExit(g, q, linear, what + " at guest-physical " + Hex.of(g.guestPhysical()) + ": " + g.why());
    }

    /** Guest paging-structure reads as guest-physical accesses; the first one EPT refuses ends the walk. */
    private static final class Reader implements EntryReader {
        private final PhysicalMemory host;
        private final long eptp;
        private final int maxPhysAddr;
        private final boolean executeOnly;
        private Gpa refusal;

        Reader(PhysicalMemory host, long eptp, int maxPhysAddr, boolean executeOnly) {
            this.host = host;
            this.eptp = eptp;
            this.maxPhysAddr = maxPhysAddr;
            this.executeOnly = executeOnly;
        }

        @Override
        public long read(long gpa) {
            Gpa g = translate(host, eptp, maxPhysAddr, executeOnly, gpa, AccessKind.READ, true);
            if (g.end() != End.PERMITTED) {
                refusal = g;
                return 0;
            }
            refusal = null;
            return host.readPhysical(g.hostPhysical());
        }

        @Override
        public boolean refused() {
            return refusal != null;
        }
    }

    static String rwx(int bits) {
        return ((bits & R) != 0 ? "R" : "-") + ((bits & W) != 0 ? "W" : "-") + ((bits & X) != 0 ? "X" : "-");
    }
}
