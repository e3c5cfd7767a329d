package org.hybridv.spec.conformance;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.hybridv.xen.TlbFlushClock;

/**
 * The TLB-flush clock of {@code xen/tlb_clock} against {@link TlbFlushClock}, on the traces of the run
 * {@code clockTraces} (2 CPUs, 1 frame, up to 7 steps, the counter 2 bits wide, every trace wrapping and starting a
 * new period): the boot state is
 * {@link TlbFlushClock#boot}; in every state, the CPUs the model's {@code needFlush} names for the frame's stamp are
 * those {@link TlbFlushClock#cpuNeedsFlush} names; every step's counter and CPU times are those of a Java operation
 * from the state before ({@link TlbFlushClock#flush} of one CPU, {@link TlbFlushClock#newPeriod} after a wrap, or no
 * clock operation for a use, the end of a use and a stutter); and a stamp written by a step is
 * {@link TlbFlushClock#timestamp} of the state before.
 */
public final class TlbClockConformance {
    private TlbClockConformance() {}

    /** The clock width of the model (its counter is 0..3). */
    static final int WIDTH = 2;
    /** At most this many traces (the run has many more lassos than the rules need). */
    public static final int LIMIT = 150;

    /** Which CPUs a clock says to flush for a frame stamp: the function under comparison. */
    public interface NeedFlush {
        boolean cpuNeedsFlush(TlbFlushClock clock, int cpu, long pageStamp);
    }

    /** {@link #check(List, int)} of the reference's {@link TlbFlushClock#cpuNeedsFlush}, up to {@link #LIMIT}. */
    public static Conformance check() {
        return check(List.of(TlbFlushClock::cpuNeedsFlush), LIMIT).get(0);
    }

    /**
     * The comparison with each of {@code judges} standing for the reference's need-flush test, over the same (at most
     * {@code limit}) traces enumerated once: one result per judge, in order. The clock's operations are always the
     * reference's.
     */
    public static List<Conformance> check(List<NeedFlush> judges, int limit) {
        Instances in = Instances.of("xen/tlb_clock", "clockTraces");
        List<List<Disagreement>> all = new ArrayList<>();
        judges.forEach(j -> all.add(new ArrayList<>()));
        Instances.Count n = in.forEach(limit, i -> {
            for (int j = 0; j < judges.size(); j++) {
                compare(i, judges.get(j), all.get(j));
            }
        });
        List<Conformance> out = new ArrayList<>();
        for (List<Disagreement> bad : all) {
            out.add(new Conformance("TLB-flush clock (needFlush, flush, newPeriod, stamps vs TlbFlushClock)",
                    "xen/tlb_clock", "clockTraces", n.instances(), n.exhaustive(), bad));
        }
        return out;
    }

    private static void compare(Instances i, NeedFlush needFlush, List<Disagreement> bad) {
        List<String> cpus = new ArrayList<>(i.atoms("Cpu", 0));
        TlbFlushClock boot = TlbFlushClock.boot(WIDTH, cpus.size());
        if (!clock(i, cpus, 0).equals(boot)) {
            bad.add(new Disagreement("the boot state", clock(i, cpus, 0).toString(), boot.toString(), i.text()));
            return;
        }
        for (int s = 0; s < i.traceLength(); s++) {
            TlbFlushClock java = clock(i, cpus, s);
            long stamp = value(i.atoms("Page.stamp", s));
            Set<String> alloyNeed = i.atoms("{c: Cpu | needFlush[c.time, Page.stamp]}", s);
            Set<String> javaNeed = new TreeSet<>();
            for (int c = 0; c < cpus.size(); c++) {
                if (needFlush.cpuNeedsFlush(java, c, stamp)) {
                    javaNeed.add(cpus.get(c));
                }
            }
            if (!alloyNeed.equals(javaNeed)) {
                bad.add(new Disagreement("state " + s + ": CPUs to flush for a frame stamped " + stamp + " ("
                        + java + ")", alloyNeed.toString(), javaNeed.toString(), i.text()));
            }
            int t = i.successor(s);
            TlbFlushClock next = clock(i, cpus, t);
            List<TlbFlushClock> javaNext = new ArrayList<>(List.of(java));
            for (int c = 0; c < cpus.size(); c++) {
                javaNext.add(java.flush(c));
            }
            if (java.wrapped()) {
                javaNext.add(java.newPeriod());
            }
            if (!javaNext.contains(next)) {
                bad.add(new Disagreement("step " + s + " → " + t + " from " + java, next.toString(),
                        "one of " + javaNext, i.text()));
            }
            long nextStamp = value(i.atoms("Page.stamp", t));
            if (nextStamp != stamp && nextStamp != java.timestamp()) {
                bad.add(new Disagreement("step " + s + " → " + t + ": the stamp written", String.valueOf(
                        nextStamp), "timestamp() = " + java.timestamp(), i.text()));
            }
        }
    }

    /** The model's clock in state {@code s}: its counter and each CPU's time, CPUs in atom order. */
    private static TlbFlushClock clock(Instances i, List<String> cpus, int s) {
        List<Long> times = new ArrayList<>();
        for (String c : cpus) {
            long t = -1;
            for (List<String> row : i.tuples("time", s)) {
                if (row.get(0).equals(c)) {
                    t = Long.parseLong(row.get(1));
                }
            }
            times.add(t);
        }
        return new TlbFlushClock(WIDTH, value(i.atoms("Clock.now", s)), times);
    }

    private static long value(Set<String> atoms) {
        if (atoms.size() != 1) {
            throw new IllegalStateException("expected one integer, got " + atoms);
        }
        return Long.parseLong(atoms.iterator().next());
    }
}
