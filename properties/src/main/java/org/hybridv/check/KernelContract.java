package org.hybridv.check;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.KernelResult;
import org.hybridv.guest.KernelState;
import org.hybridv.guest.Layout;
import org.hybridv.guest.Lockstep;
import org.hybridv.guest.Observed;
import org.hybridv.guest.SwitchRoot;
import org.hybridv.x86.AccessKind;

/**
 * The hybrid kernel's workload contract (rules KRN-1..KRN-8 of docs/rules/hybrid.md), judged against a model of what
 * a process sees that is kept here, from the operations and their results alone: which processes exist and are
 * alive, which address space each CPU runs, each process's user pages with their write permission and the words
 * written into them, and the word each CPU's {@code current} variable holds.
 *
 * <p>Native equivalence (I3) compares the kernel under the hypervisor with the same kernel on bare metal, so a slip
 * in the kernel itself — a page mapped with the wrong permission, an unmap that leaves the translation, a demand
 * fault misjudged, a context switch that stores the wrong pid — happens on both sides alike and I3 cannot see it.
 * This model is the independent statement: it knows nothing of the kernel's tables, allocator or pv-ops, only what
 * each operation promises its caller. What it reads of the kernel's state: the boot stage and the CPUs online before
 * the operation (whether the operation applies at all, judged by I8), the allocator's next free frame (whether an
 * allocation may fail for want of memory), and the number of CPUs of the platform.
 *
 * <p>One instance follows one run: {@link #step} takes the run's lockstep steps in order. After a SWITCH_MMU to an
 * explicit root is accepted the kernel's bookkeeping no longer describes its tables, and the model stops judging.
 */
public final class KernelContract {
    /** The name findings carry, in place of an invariant's. */
    public static final String NAME = "KRN";

    /**
     * A broken rule: which, what was expected against what the kernel returned, and the result the rule requires (an
     * oops or a refusal stands for any of its kind: the rules say which kind, not the wording).
     */
    public record Violation(String rule, String explanation, KernelResult expected) {}

    /** A process of the model: alive or killed, its user pages (index → writable), their words (linear → value). */
    private static final class Proc {
        boolean alive = true;
        final TreeMap<Integer, Boolean> pages = new TreeMap<>();
        final Map<Long, Long> words = new HashMap<>();
    }

    private final TreeMap<Integer, Proc> processes = new TreeMap<>();
    /** The pid whose address space each CPU runs (absent: 0, the kernel's). */
    private final Map<Integer, Integer> current = new HashMap<>();
    /** The word each CPU's {@code current} variable holds (absent: 0). */
    private final Map<Integer, Long> currentVar = new HashMap<>();
    private boolean unknown;
    /**
     * Whether the kernel runs on the software-only x86-64 PV platform, whose user page tables do not map the kernel
     * (x86-64 PV keeps two L4s): there a user access to the kernel's data finds no present entry, and its #PF reports
     * P = 0 where on every other platform P = 1 (docs/comparison.md).
     */
    private final boolean splitKernelAddressSpace;

    /** The contract of a kernel whose user and kernel mappings share one L4 (native, shadow, direct, HAP). */
    public KernelContract() {
        this(false);
    }

    /** The contract, on the PV platform if {@code splitKernelAddressSpace} ({@link #splitKernelAddressSpace}). */
    public KernelContract(boolean splitKernelAddressSpace) {
        this.splitKernelAddressSpace = splitKernelAddressSpace;
    }

    /**
     * An independent copy of this contract's model (the explorer keeps one per state: a state reached by two paths
     * with different models is two states).
     */
    public KernelContract copy() {
        KernelContract c = new KernelContract(splitKernelAddressSpace);
        processes.forEach((pid, p) -> {
            Proc q = new Proc();
            q.alive = p.alive;
            q.pages.putAll(p.pages);
            q.words.putAll(p.words);
            c.processes.put(pid, q);
        });
        c.current.putAll(current);
        c.currentVar.putAll(currentVar);
        c.unknown = unknown;
        return c;
    }

    /**
     * The model as words, in a canonical order (processes by pid, pages by index, words by address, CPUs by number;
     * a zero word, written or not, and a CPU running the kernel's tables with current = 0 are written as absent): two
     * models are the same model exactly when their words are equal.
     */
    public void encode(java.util.function.LongConsumer out) {
        out.accept(unknown ? 1 : 0);
        out.accept(splitKernelAddressSpace ? 1 : 0);
        out.accept(processes.size());
        processes.forEach((pid, p) -> {
            out.accept(pid);
            out.accept(p.alive ? 1 : 0);
            out.accept(p.pages.size());
            p.pages.forEach((page, writable) -> {
                out.accept(page);
                out.accept(writable ? 1 : 0);
            });
            TreeMap<Long, Long> words = new TreeMap<>(p.words);
            words.values().removeIf(w -> w == 0);
            out.accept(words.size());
            words.forEach((a, w) -> {
                out.accept(a);
                out.accept(w);
            });
        });
        TreeMap<Integer, long[]> cpus = new TreeMap<>();
        current.forEach((cpu, pid) -> cpus.computeIfAbsent(cpu, k -> new long[2])[0] = pid);
        currentVar.forEach((cpu, w) -> cpus.computeIfAbsent(cpu, k -> new long[2])[1] = w);
        cpus.values().removeIf(v -> v[0] == 0 && v[1] == 0);
        out.accept(cpus.size());
        cpus.forEach((cpu, v) -> {
            out.accept(cpu);
            out.accept(v[0]);
            out.accept(v[1]);
        });
    }

    /**
     * Judges one operation of the run against the model, then applies it to the model. Empty when the result is
     * the one the contract allows (or the model no longer applies).
     */
    public Optional<Violation> step(Lockstep.LockstepStep s) {
        if (unknown) {
            return Optional.empty();
        }
        GuestOp op = s.guest().op();
        int cpu = op instanceof GuestOp.OnCpu o ? o.cpu() : 0;
        GuestOp inner = op instanceof GuestOp.OnCpu o ? o.op() : op;
        KernelState pre = s.pre().guest().kernel();
        KernelResult got = s.guest().result();
        boolean applies = cpu < s.pre().guest().platform().cpus() && pre.online(cpu)
                && (inner instanceof GuestOp.Boot || inner instanceof GuestOp.SwitchMmu || pre.stage().pagingOn());
        if (!applies) {
            // KRN-1: an operation on a CPU that does not run the kernel, or before paging is on, does nothing
            return got instanceof KernelResult.NotApplicable ? Optional.empty()
                    : Optional.of(new Violation("KRN-1", "the operation does not apply (CPU " + cpu
                            + (pre.online(cpu) ? "" : " not online") + ", stage " + pre.stage() + "), yet it returned "
                            + got, new KernelResult.NotApplicable("KRN-1")));
        }
        return judge(inner, cpu, pre, got);
    }

    private Optional<Violation> judge(GuestOp op, int cpu, KernelState pre, KernelResult got) {
        if (op instanceof GuestOp.NewProcess) {
            return newProcess(pre, got);
        }
        if (op instanceof GuestOp.SwitchTo t) {
            return switchTo(cpu, t.pid(), got);
        }
        if (op instanceof GuestOp.Map m) {
            return map(cpu, pre, m.page(), m.writable(), got);
        }
        if (op instanceof GuestOp.Unmap u) {
            return unmap(cpu, u.page(), got);
        }
        if (op instanceof GuestOp.UserAccess a) {
            return userAccess(cpu, pre, a.linear(), a.kind(), a.value(), got);
        }
        if (op instanceof GuestOp.KernelAccess a) {
            return kernelAccess(cpu, a.linear(), a.kind(), a.value(), got);
        }
        if (op instanceof GuestOp.Syscall) {
            // KRN-6: getpid returns the word in this CPU's current variable
            return expect("KRN-6", got, new KernelResult.Read(currentVar.getOrDefault(cpu, 0L)));
        }
        if (op instanceof GuestOp.StartAp a && got instanceof KernelResult.Done) {
            current.put(a.cpu(), 0);
            currentVar.put(a.cpu(), 0L);
            return Optional.empty();
        }
        if (op instanceof GuestOp.SwitchMmu m && m.root() == SwitchRoot.EXPLICIT
                && got instanceof KernelResult.Switched) {
            unknown = true; // the kernel's tables are no longer the ones it built: nothing more to judge
        }
        // boot, SWITCH_MMU, idle, ticks and block I/O change nothing a process sees (KRN-8); their own rules judge them
        return Optional.empty();
    }

    /** KRN-2: a new process gets the next pid (1, 2, … in creation order), or the kernel is out of frames. */
    private Optional<Violation> newProcess(KernelState pre, KernelResult got) {
        if (outOfFrames(pre, 4)) {
            return oom("KRN-2", got, "a new process's four table frames");
        }
        int pid = processes.isEmpty() ? 1 : processes.lastKey() + 1;
        Optional<Violation> v = expect("KRN-2", got, new KernelResult.Created(pid));
        if (v.isEmpty()) {
            processes.put(pid, new Proc());
        }
        return v;
    }

    /** KRN-3: a switch to the kernel's tables or a live process's is done and stores the pid in current. */
    private Optional<Violation> switchTo(int cpu, int pid, KernelResult got) {
        if (pid != 0 && (!processes.containsKey(pid) || !processes.get(pid).alive)) {
            return notApplicable("KRN-3", got, "no runnable process " + pid);
        }
        Optional<Violation> v = expect("KRN-3", got, new KernelResult.Done());
        if (v.isEmpty()) {
            current.put(cpu, pid);
            currentVar.put(cpu, (long) pid);
        }
        return v;
    }

    /** KRN-4: a user page of the current process is mapped once, with the permission asked, and reads as zeros. */
    private Optional<Violation> map(int cpu, KernelState pre, int page, boolean writable, KernelResult got) {
        Proc p = currentProcess(cpu);
        if (p == null || page < 0 || page >= Layout.USER_PAGES || p.pages.containsKey(page)) {
            return notApplicable("KRN-4", got, "map " + page + " with no current process, outside the user region"
                    + " or mapped already");
        }
        if (outOfFrames(pre, 1)) {
            return oom("KRN-4", got, "a frame for user page " + page);
        }
        Optional<Violation> v = expect("KRN-4", got, new KernelResult.Done());
        if (v.isEmpty()) {
            mapped(p, page, writable);
        }
        return v;
    }

    /** KRN-4: an unmap removes the page: its words are gone, and the next access faults (on every CPU). */
    private Optional<Violation> unmap(int cpu, int page, KernelResult got) {
        Proc p = currentProcess(cpu);
        if (p == null || !p.pages.containsKey(page)) {
            return notApplicable("KRN-4", got, "unmap " + page + ": not mapped");
        }
        Optional<Violation> v = expect("KRN-4", got, new KernelResult.Done());
        if (v.isEmpty()) {
            p.pages.remove(page);
            long base = Layout.USER_BASE + (long) page * 4096;
            p.words.keySet().removeIf(a -> a >= base && a < base + 4096);
        }
        return v;
    }

    /**
     * KRN-5: a user access to a mapped page reads the word last written there (zero if none) or writes it, when the
     * page's permission allows; a write to a read-only page, or any access to a supervisor or unmapped page outside
     * the user region, kills the process with the #PF the SDM defines (error code P, W/R, U/S = 1; CR2 the address);
     * a non-canonical address with #GP(0); an unmapped page of the user region is demand-paged (writable, zeros) and
     * the access retried.
     */
    private Optional<Violation> userAccess(int cpu, KernelState pre, long linear, AccessKind kind, long value,
            KernelResult got) {
        Proc p = currentProcess(cpu);
        if (p == null) {
            return notApplicable("KRN-5", got, "no user process is current");
        }
        int pid = current.getOrDefault(cpu, 0);
        boolean write = kind == AccessKind.WRITE;
        if (!canonical(linear)) {
            return killed(cpu, pid, got, new Observed.Fault(13, 0, 0));
        }
        int page = userPage(linear);
        if (page < 0) {
            boolean supervisorPresent = isCurrentVar(linear);
            if (!supervisorPresent && !(linear >= 0 && linear < 4096) && linear != Layout.userPage(Layout.USER_PAGES)) {
                // an address of which the contract says nothing: not judged, but a kill still ends the process
                if (got instanceof KernelResult.Killed k && k.pid() == pid) {
                    kill(pid);
                }
                return Optional.empty();
            }
            int errorCode = (supervisorPresent && !splitKernelAddressSpace ? 1 : 0) | (write ? 2 : 0) | 4;
            return killed(cpu, pid, got, new Observed.Fault(14, errorCode, linear));
        }
        if (!p.pages.containsKey(page)) {
            if (outOfFrames(pre, 1)) {
                return got instanceof KernelResult.Oops o && o.what().contains("out of memory") ? Optional.empty()
                        : Optional.of(new Violation("KRN-5", "demand paging of user page " + page + " has no frame"
                                + " left (an out-of-memory oops expected), yet the access returned " + got,
                                new KernelResult.Oops("out of memory")));
            }
            mapped(p, page, true); // the retry below sees the demand-paged page
        } else if (write && !p.pages.get(page)) {
            return killed(cpu, pid, got, new Observed.Fault(14, 1 | 2 | 4, linear));
        }
        return access(p, linear, write, value, got, "KRN-5", "user ");
    }

    /**
     * KRN-7: a kernel access reaches the kernel's data in every address space and the current process's user pages;
     * a write to a read-only user page faults (CR0.WP = 1), as does any access to an unmapped user page or to the
     * null page: the kernel oopses, it does not demand-page its own accesses.
     */
    private Optional<Violation> kernelAccess(int cpu, long linear, AccessKind kind, long value, KernelResult got) {
        boolean write = kind == AccessKind.WRITE;
        if (linear == Layout.CURRENT_VAR) {
            if (write) {
                Optional<Violation> v = expect("KRN-7", got, new KernelResult.Read(value));
                if (v.isEmpty()) {
                    currentVar.put(0, value);
                }
                return v;
            }
            return expect("KRN-7", got, new KernelResult.Read(currentVar.getOrDefault(0, 0L)));
        }
        int page = userPage(linear);
        if (linear >= 0 && linear < 4096) {
            return oops("KRN-7", got, "the null page is never mapped");
        }
        if (page < 0) {
            return Optional.empty();
        }
        Proc p = currentProcess(cpu);
        if (p == null || !p.pages.containsKey(page)) {
            return oops("KRN-7", got, "user page " + page + " is not mapped in the current address space");
        }
        if (write && !p.pages.get(page)) {
            return oops("KRN-7", got, "user page " + page + " is read-only and CR0.WP = 1");
        }
        return access(p, linear, write, value, got, "KRN-7", "kernel ");
    }

    /** A completed access to a page of {@code p}: a write returns the value and stores it; a read returns the word. */
    private static Optional<Violation> access(Proc p, long linear, boolean write, long value, KernelResult got,
            String rule, String who) {
        long word = linear & ~7L;
        if (write) {
            Optional<Violation> v = expect(rule, got, new KernelResult.Read(value));
            if (v.isEmpty()) {
                p.words.put(word, value);
            }
            return v;
        }
        return expect(rule, got, new KernelResult.Read(p.words.getOrDefault(word, 0L)))
                .map(v -> new Violation(v.rule(), who + "read of " + hex(linear) + " (KRN-8: the word last written"
                        + " there since the page was mapped, zero if none): " + v.explanation(), v.expected()));
    }

    /** KRN-5, KRN-3: the process dies, and every CPU that ran it runs the kernel's tables with current = 0. */
    private Optional<Violation> killed(int cpu, int pid, KernelResult got, Observed.Fault why) {
        Optional<Violation> v = expect("KRN-5", got, new KernelResult.Killed(pid, why));
        if (v.isEmpty()) {
            kill(pid);
        }
        return v;
    }

    /** The model after {@code pid} died: every CPU that ran it runs the kernel's tables with current = 0 (KRN-3). */
    private void kill(int pid) {
        processes.get(pid).alive = false;
        for (Map.Entry<Integer, Integer> e : new ArrayList<>(current.entrySet())) {
            if (e.getValue() == pid) {
                current.put(e.getKey(), 0);
                currentVar.put(e.getKey(), 0L);
            }
        }
    }

    private static void mapped(Proc p, int page, boolean writable) {
        p.pages.put(page, writable);
        long base = Layout.USER_BASE + (long) page * 4096;
        p.words.keySet().removeIf(a -> a >= base && a < base + 4096);
    }

    private Proc currentProcess(int cpu) {
        int pid = current.getOrDefault(cpu, 0);
        return pid == 0 ? null : processes.get(pid);
    }

    /** Whether the allocator cannot give {@code n} frames below the shared-info frame (BOOT-8). */
    private static boolean outOfFrames(KernelState pre, int n) {
        return pre.nextFree() + n > pre.frames() - Layout.SWITCH_RESERVE - 1L;
    }

    /** The user page of {@code linear} (the 512 pages from {@link Layout#USER_BASE}), or -1. */
    private static int userPage(long linear) {
        long off = linear - Layout.USER_BASE;
        return off < 0 || off >= Layout.USER_PAGES * 4096L ? -1 : (int) (off >>> 12);
    }

    /** Bits 63:47 all equal (SDM Vol. 3A §3.3.7.1; 4-level paging). */
    private static boolean canonical(long linear) {
        long top = linear >> 47;
        return top == 0 || top == -1;
    }

    private static boolean isCurrentVar(long linear) {
        return linear >= Layout.CURRENT_VAR && linear < Layout.CURRENT_VAR + 4096;
    }

    private static Optional<Violation> expect(String rule, KernelResult got, KernelResult want) {
        return got.equals(want) ? Optional.empty()
                : Optional.of(new Violation(rule, "expected " + want + ", the kernel returned " + got, want));
    }

    private static Optional<Violation> notApplicable(String rule, KernelResult got, String why) {
        return got instanceof KernelResult.NotApplicable ? Optional.empty()
                : Optional.of(new Violation(rule, "expected NotApplicable (" + why + "), the kernel returned " + got,
                        new KernelResult.NotApplicable(why)));
    }

    private static Optional<Violation> oops(String rule, KernelResult got, String why) {
        return got instanceof KernelResult.Oops ? Optional.empty()
                : Optional.of(new Violation(rule, "expected an oops (" + why + "), the kernel returned " + got,
                        new KernelResult.Oops(why)));
    }

    private static Optional<Violation> oom(String rule, KernelResult got, String what) {
        return got instanceof KernelResult.Oops o && o.what().contains("out of memory") ? Optional.empty()
                : Optional.of(new Violation(rule, "no frame is left for " + what + " (an out-of-memory oops"
                        + " expected), the kernel returned " + got, new KernelResult.Oops("out of memory")));
    }

    private static String hex(long v) {
        return "0x" + Long.toHexString(v);
    }
}
