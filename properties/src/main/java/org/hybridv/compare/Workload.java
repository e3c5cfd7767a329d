package org.hybridv.compare;

import java.util.ArrayList;
import java.util.List;
import org.hybridv.guest.GuestOp;
import org.hybridv.guest.Layout;
import org.hybridv.x86.AccessKind;

/**
 * A workload modelled on an lmbench benchmark: operations that bring the freshly booted kernel to the benchmark's
 * starting point ({@code setup}, not counted), then one iteration of the benchmark's loop ({@code measured}) as the
 * kernel's operations.
 *
 * @param name     the row's name
 * @param lmbench  the lmbench benchmark it is modelled on, and how
 * @param setup    operations before the measurement
 * @param measured one iteration
 */
public record Workload(String name, String lmbench, List<GuestOp> setup, List<GuestOp> measured) {
    public Workload {
        setup = List.copyOf(setup);
        measured = List.copyOf(measured);
    }

    /** Pages of the mmap/munmap region and of the exec'd image. */
    public static final int REGION_PAGES = 16;
    /** Pages the parent has mapped when it forks (their PTEs are copied). */
    public static final int FORK_PAGES = 8;
    /** System calls of the exec'd program's start-up. */
    public static final int EXEC_SYSCALLS = 4;

    /** The six lmbench-like rows, in the order they are reported. */
    public static List<Workload> lmbenchRows() {
        List<GuestOp> oneProcess = List.of(new GuestOp.NewProcess(), new GuestOp.SwitchTo(1), write(0));
        List<Workload> w = new ArrayList<>();
        w.add(new Workload("null call", "lat_syscall null: one system call (getpid) from a running process",
                oneProcess, List.of(new GuestOp.Syscall())));
        w.add(new Workload("context switch", "lat_ctx -s 0 2: two processes passing the CPU back and forth; one"
                + " iteration = two switches, each process touching its page",
                List.of(new GuestOp.NewProcess(), new GuestOp.NewProcess(), new GuestOp.SwitchTo(1), write(0),
                        new GuestOp.SwitchTo(2), write(0), new GuestOp.SwitchTo(1), read(0)),
                List.of(new GuestOp.SwitchTo(2), read(0), new GuestOp.SwitchTo(1), read(0))));
        w.add(new Workload("page fault", "lat_pagefault (anonymous, demand-zero): the first write to an unmapped"
                + " page", oneProcess, List.of(write(3))));
        List<GuestOp> mmap = new ArrayList<>();
        for (int p = 0; p < REGION_PAGES; p++) {
            mmap.add(new GuestOp.Map(10 + p, true));
        }
        for (int p = 0; p < REGION_PAGES; p++) {
            mmap.add(new GuestOp.Unmap(10 + p));
        }
        w.add(new Workload("mmap/munmap", "lat_mmap: map a " + REGION_PAGES + "-page region (PTEs populated) and"
                + " unmap it", oneProcess, mmap));
        List<GuestOp> parent = new ArrayList<>(List.of(new GuestOp.NewProcess(), new GuestOp.SwitchTo(1)));
        for (int p = 0; p < FORK_PAGES; p++) {
            parent.add(write(p));
        }
        List<GuestOp> fork = new ArrayList<>(List.of(new GuestOp.NewProcess(), new GuestOp.SwitchTo(2)));
        for (int p = 0; p < FORK_PAGES; p++) {
            fork.add(new GuestOp.Map(p, true));
        }
        fork.add(read(0));
        fork.add(new GuestOp.SwitchTo(1));
        w.add(new Workload("fork+exit", "lat_proc fork: a child with a copy of the parent's " + FORK_PAGES
                + " PTEs runs and exits (exit: back to the parent; frames are not reclaimed in this model)",
                parent, fork));
        List<GuestOp> exec = new ArrayList<>(List.of(new GuestOp.NewProcess(), new GuestOp.SwitchTo(2)));
        for (int p = 0; p < REGION_PAGES; p++) {
            exec.add(write(p));
        }
        for (int i = 0; i < EXEC_SYSCALLS; i++) {
            exec.add(new GuestOp.Syscall());
        }
        exec.add(new GuestOp.SwitchTo(1));
        w.add(new Workload("exec", "lat_proc exec: a new process whose image is demand-paged (" + REGION_PAGES
                + " pages) and makes " + EXEC_SYSCALLS + " system calls, then back to the parent",
                oneProcess, exec));
        return w;
    }

    private static GuestOp write(int page) {
        return new GuestOp.UserAccess(Layout.userPage(page), AccessKind.WRITE, 0x100 + page);
    }

    private static GuestOp read(int page) {
        return new GuestOp.UserAccess(Layout.userPage(page), AccessKind.READ, 0);
    }
}
