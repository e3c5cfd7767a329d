package org.hybridv.guest;

import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hybridv.x86.Checks;

/**
 * The kernel's own bookkeeping — what Linux keeps in {@code mem_map}, {@code mm_struct}s and its p2m array — kept as
 * a Java value next to the machine rather than in guest memory. Frames are numbered as the kernel numbers them (pfns
 * 0..frames-1); {@code frameOf} maps a pfn to the number its page-table entries hold: the pfn itself natively, in
 * shadow mode and under HAP (guest-physical), the machine frame once SWITCH_MMU is accepted.
 *
 * @param stage      the boot stage
 * @param frames     the number of frames the kernel was given
 * @param frameOf    pfn → frame number written into entries
 * @param nextFree   the page allocator's next free pfn (a bump allocator: frames are never reused)
 * @param switchNext the next free pfn of the SWITCH_MMU reserve ({@link Layout#SWITCH_RESERVE} frames at the top)
 * @param kernel     the kernel's own tables (address space 0)
 * @param processes  the processes by pid
 * @param current    the pid whose tables are loaded on the boot CPU, CPU 0 (0: the kernel's)
 * @param pageTables the pfns in use as page tables
 * @param apCurrent  the application processors brought up ({@link GuestOp.StartAp}), each with the pid whose tables
 *                   it has loaded (Linux's per-CPU {@code current}); empty for the one-CPU kernel
 */
public record KernelState(BootStage stage, int frames, List<Long> frameOf, long nextFree, long switchNext, Tables kernel,
        SortedMap<Integer, Process> processes, int current, SortedSet<Long> pageTables,
        SortedMap<Integer, Integer> apCurrent) {
    public KernelState {
        Checks.notNull("stage", stage);
        Checks.inRange("frames", frames, Layout.MIN_FRAMES, Layout.MAX_FRAMES);
        frameOf = List.copyOf(frameOf);
        if (frameOf.size() != frames) {
            throw new IllegalArgumentException("frameOf has " + frameOf.size() + " entries for " + frames + " frames");
        }
        Checks.notNull("kernel tables", kernel);
        processes = Collections.unmodifiableSortedMap(new TreeMap<>(processes));
        pageTables = Collections.unmodifiableSortedSet(new TreeSet<>(pageTables));
        apCurrent = Collections.unmodifiableSortedMap(new TreeMap<>(apCurrent));
        if (apCurrent.containsKey(0)) {
            throw new IllegalArgumentException("CPU 0 is the boot CPU, not an application processor");
        }
    }

    /** A kernel state with no application processor online. */
    public KernelState(BootStage stage, int frames, List<Long> frameOf, long nextFree, long switchNext, Tables kernel,
            SortedMap<Integer, Process> processes, int current, SortedSet<Long> pageTables) {
        this(stage, frames, frameOf, nextFree, switchNext, kernel, processes, current, pageTables, new TreeMap<>());
    }

    /** Whether CPU {@code cpu} runs the kernel: the boot CPU always, an application processor once brought up. */
    public boolean online(int cpu) {
        return cpu == 0 || apCurrent.containsKey(cpu);
    }

    /** The pid whose tables CPU {@code cpu} has loaded (0: the kernel's, also for a CPU not online). */
    public int current(int cpu) {
        return cpu == 0 ? current : apCurrent.getOrDefault(cpu, 0);
    }

    /** CPU {@code cpu} now has {@code pid}'s tables loaded (an application processor: it is online from now on). */
    public KernelState withCurrent(int cpu, int pid) {
        if (cpu == 0) {
            return withCurrent(pid);
        }
        SortedMap<Integer, Integer> m = new TreeMap<>(apCurrent);
        m.put(cpu, pid);
        return new KernelState(stage, frames, frameOf, nextFree, switchNext, kernel, processes, current, pageTables, m);
    }

    /** The CPUs online, the boot CPU first. */
    public List<Integer> onlineCpus() {
        List<Integer> l = new java.util.ArrayList<>();
        l.add(0);
        l.addAll(apCurrent.keySet());
        return l;
    }

    /** The kernel as the loader leaves it: real mode, early tables in frames 0–3, identity frame numbers. */
    public static KernelState initial(int frames) {
        List<Long> identity = new java.util.ArrayList<>();
        for (long f = 0; f < frames; f++) {
            identity.add(f);
        }
        Tables early = new Tables(Layout.EARLY_L4, Layout.EARLY_L3, Layout.EARLY_L2, Layout.EARLY_L1);
        return new KernelState(BootStage.REAL, frames, identity, Layout.FIRST_FREE, frames - Layout.SWITCH_RESERVE,
                early, new TreeMap<>(), 0, new TreeSet<>(early.frames()));
    }

    public long frameOf(long pfn) {
        return frameOf.get((int) pfn);
    }

    /** The tables of address space {@code pid} (0: the kernel's). */
    public Tables tables(int pid) {
        return pid == 0 ? kernel : processes.get(pid).tables();
    }

    public Process process(int pid) {
        return processes.get(pid);
    }

    public KernelState withStage(BootStage s) {
        return new KernelState(s, frames, frameOf, nextFree, switchNext, kernel, processes, current, pageTables, apCurrent);
    }

    public KernelState withProcess(Process p) {
        SortedMap<Integer, Process> m = new TreeMap<>(processes);
        m.put(p.pid(), p);
        return new KernelState(stage, frames, frameOf, nextFree, switchNext, kernel, m, current, pageTables, apCurrent);
    }

    public KernelState withCurrent(int pid) {
        return new KernelState(stage, frames, frameOf, nextFree, switchNext, kernel, processes, pid, pageTables, apCurrent);
    }

    public KernelState withNextFree(long n) {
        return new KernelState(stage, frames, frameOf, n, switchNext, kernel, processes, current, pageTables, apCurrent);
    }

    public KernelState withSwitchNext(long n) {
        return new KernelState(stage, frames, frameOf, nextFree, n, kernel, processes, current, pageTables, apCurrent);
    }

    /**
     * The first pfn of the SWITCH_MMU reserve. The page allocator stops one frame lower: below the shared-info frame
     * ({@link Layout#sharedInfo}, BOOT-8).
     */
    public long reserveBase() {
        return frames - Layout.SWITCH_RESERVE;
    }

    public KernelState withPageTables(SortedSet<Long> pts) {
        return new KernelState(stage, frames, frameOf, nextFree, switchNext, kernel, processes, current, pts, apCurrent);
    }

    /** After SWITCH_MMU: new frame numbers, new kernel tables, new process tables, new page-table set. */
    public KernelState switched(List<Long> machineFrames, Tables k, SortedMap<Integer, Process> ps,
            SortedSet<Long> pts) {
        return new KernelState(BootStage.DIRECT, frames, machineFrames, nextFree, switchNext, k, ps, current, pts, apCurrent);
    }

    /** The next pid. */
    public int nextPid() {
        return processes.isEmpty() ? 1 : processes.lastKey() + 1;
    }
}
