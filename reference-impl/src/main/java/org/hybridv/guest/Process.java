package org.hybridv.guest;

import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;
import org.hybridv.x86.Checks;

/**
 * A user process as the kernel keeps it: its tables (a PML4 that shares the kernel's direct map through slot 272,
 * and its own path to the user region) and its user pages.
 *
 * @param pid    process id (1, 2, …; 0 is the kernel's own address space)
 * @param tables its page-table frames
 * @param pages  user page index → page
 * @param killed whether a bad access killed it (SIGSEGV); a killed process is not run again
 */
public record Process(int pid, Tables tables, SortedMap<Integer, UserPage> pages, boolean killed) {
    /** A mapped user page: the frame (pfn) and whether it is writable. */
    public record UserPage(long pfn, boolean writable) {}

    public Process {
        Checks.notNull("tables", tables);
        Checks.notNull("pages", pages);
        pages = Collections.unmodifiableSortedMap(new TreeMap<>(pages));
    }

    public Process withPage(int page, UserPage p) {
        SortedMap<Integer, UserPage> m = new TreeMap<>(pages);
        if (p == null) {
            m.remove(page);
        } else {
            m.put(page, p);
        }
        return new Process(pid, tables, m, killed);
    }

    public Process withTables(Tables t) {
        return new Process(pid, t, pages, killed);
    }

    public Process kill() {
        return new Process(pid, tables, pages, true);
    }
}
