package org.hybridv.spec.conformance;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.hybridv.x86.Access;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.Cr0;
import org.hybridv.x86.Cr3;
import org.hybridv.x86.Cr4;
import org.hybridv.x86.CpuState;
import org.hybridv.x86.Efer;
import org.hybridv.x86.Entry;
import org.hybridv.x86.EntryReader;
import org.hybridv.x86.ErrorCode;
import org.hybridv.x86.PageFault;
import org.hybridv.x86.PageWalk;
import org.hybridv.x86.Translation;

/**
 * The access-rights decision and error code of {@code x86/paging} ({@code succeeds}, {@code errorCode}; SDM 4.5.4,
 * 4.6, 4.7) against {@link PageWalk#walk} + {@link PageWalk#decide} on the instances of the run {@code accessTable}
 * (paging structures over two frames, one access; the first {@link #LIMIT} instances).
 *
 * <p>Translation: frame atom k is machine frame (k + 1) · 2^18 (so that 2-MByte and 1-GByte leaves have no reserved
 * address bit set, which the model does not state), index atom j is slot j, an entry's flags are its bits P, R/W,
 * U/S, PS, XD; the CPU is in IA-32e mode with CR4.PKE = 0 and MAXPHYADDR = 52.
 */
public final class PagingConformance {
    /** At most this many instances (the "all instances up to a small scope, or at least 10,000"). */
    public static final int LIMIT = 6_000;

    private static final String[] LEVELS = {"PML4", "PDPT", "PD", "PT"};
    private static final int[] SHIFT = {39, 30, 21, 12};

    private PagingConformance() {}

    public static Conformance check() {
        Instances in = Instances.of("x86/paging", "accessTable");
        List<Disagreement> bad = new ArrayList<>();
        Instances.Count n = in.forEach(LIMIT, i -> compare(i, bad));
        return new Conformance("paging access rights and #PF error code (succeeds/errorCode vs PageWalk.decide)",
                "x86/paging", "accessTable", n.instances(), n.exhaustive(), bad);
    }

    private static void compare(Instances i, List<Disagreement> bad) {
        List<String> frames = new ArrayList<>(i.atoms("Frame"));
        List<String> indices = new ArrayList<>(i.atoms("Index"));
        Map<String, Long> raw = new HashMap<>();
        for (List<String> t : i.tuples("flags")) {
            raw.merge(t.get(0), bit(t.get(1)), (a, b) -> a | b);
        }
        for (List<String> t : i.tuples("target")) {
            raw.merge(t.get(0), mfn(frames, t.get(1)) << 12, (a, b) -> a | b);
        }
        Map<Long, Long> memory = new HashMap<>();
        for (List<String> t : i.tuples("Memory.slot")) {
            long address = (mfn(frames, t.get(0)) << 12) | ((long) indices.indexOf(t.get(1)) << 3);
            memory.put(address, raw.getOrDefault(t.get(2), 0L));
        }
        EntryReader reader = a -> memory.getOrDefault(a, 0L);
        CpuState cpu = new CpuState(new Cr0(true, i.holds("Cpu.wp = True"), true), 0,
                new Cr3(mfn(frames, only(i.atoms("Cpu.cr3"))) << 12, 0),
                Cr4.RESET.withPae(true).withSmep(i.holds("Cpu.smep = True")).withSmap(i.holds("Cpu.smap = True")),
                new Efer(true, i.holds("Cpu.nxe = True")), i.holds("Cpu.ac = True"),
                i.holds("Cpu.userMode = True") ? 3 : 0, 0, CpuState.MAX_MAXPHYADDR);
        long linear = 0;
        for (List<String> t : i.tuples("Access.linear.index")) {
            linear |= (long) indices.indexOf(t.get(1)) << SHIFT[List.of(LEVELS).indexOf(t.get(0))];
        }
        AccessKind kind = AccessKind.valueOf(only(i.atoms("Access.kind")).toUpperCase(java.util.Locale.ROOT));
        Access access = new Access(linear, kind, i.holds("Access.implicit = True"), 0);
        Translation t = PageWalk.decide(PageWalk.walk(reader, cpu, linear), cpu, access);
        String java = t instanceof PageFault pf ? "#PF " + pf.errorCode() : "success";
        String alloy = !i.skolem("$accessTable_ok").isEmpty() ? "success"
                : "#PF " + new ErrorCode(PfFilterConformance.bits(i.atoms("errorCode[flags, Access]")));
        if (!alloy.equals(java)) {
            bad.add(new Disagreement(kind + " of " + Long.toHexString(linear) + " with " + cpu, alloy, java,
                    i.text()));
        }
    }

    private static long mfn(List<String> frames, String atom) {
        return (long) (frames.indexOf(atom) + 1) << 18;
    }

    private static long bit(String flag) {
        return switch (flag) {
            case "Present" -> 1L << Entry.P;
            case "RW" -> 1L << Entry.RW;
            case "USER" -> 1L << Entry.US;
            case "PS" -> 1L << Entry.PS;
            case "XD" -> 1L << Entry.XD;
            default -> throw new IllegalArgumentException("not an entry flag: " + flag);
        };
    }

    private static String only(Set<String> atoms) {
        if (atoms.size() != 1) {
            throw new IllegalStateException("expected one atom, got " + atoms);
        }
        return atoms.iterator().next();
    }
}
