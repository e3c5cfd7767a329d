package org.hybridv.guest;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.ErrorCode;
import org.hybridv.xen.MmuMode;

/**
 * The exit table: the VM exits a standard workload costs in each configuration, so that the seed's claims are
 * measured, not asserted — a user-mode #PF in direct mode costs no exit under the hybrid filter and at least one in
 * shadow mode; a system call costs none in any VMX mode. The workload: boot as far as the platform allows, create
 * three processes (fork-like), context-switch among them, a page-fault-heavy user run (demand-page
 * {@link #TOUCHED_PAGES} pages, then read them back), system calls, idle.
 */
public final class ExitAccounting {
    private ExitAccounting() {}

    /** Pages the page-fault-heavy run touches. */
    public static final int TOUCHED_PAGES = 16;
    /** System calls in the workload. */
    public static final int SYSCALLS = 8;
    /** Idle periods in the workload. */
    public static final int IDLES = 2;
    /** The configurations, in table order. */
    public static final List<String> CONFIGURATIONS = List.of("native", "shadow", "HAP", "direct");

    /** A row of the table: one phase of the workload. */
    public record Phase(String name, List<GuestOp> ops) {}

    /** The standard workload after boot. */
    public static List<Phase> workload() {
        List<Phase> phases = new ArrayList<>();
        phases.add(new Phase("create 3 processes", List.of(new GuestOp.NewProcess(), new GuestOp.NewProcess(),
                new GuestOp.NewProcess())));
        phases.add(new Phase("6 context switches", List.of(new GuestOp.SwitchTo(1), new GuestOp.SwitchTo(2),
                new GuestOp.SwitchTo(3), new GuestOp.SwitchTo(1), new GuestOp.SwitchTo(2), new GuestOp.SwitchTo(1))));
        List<GuestOp> touch = new ArrayList<>();
        List<GuestOp> reread = new ArrayList<>();
        for (int p = 0; p < TOUCHED_PAGES; p++) {
            touch.add(new GuestOp.UserAccess(Layout.userPage(p), AccessKind.WRITE, 0x1000 + p));
            reread.add(new GuestOp.UserAccess(Layout.userPage(p), AccessKind.READ, 0));
        }
        phases.add(new Phase(TOUCHED_PAGES + " user page faults (demand paging)", touch));
        phases.add(new Phase(TOUCHED_PAGES + " user reads of mapped pages", reread));
        List<GuestOp> sys = new ArrayList<>();
        for (int i = 0; i < SYSCALLS; i++) {
            sys.add(new GuestOp.Syscall());
        }
        phases.add(new Phase(SYSCALLS + " system calls", sys));
        List<GuestOp> idle = new ArrayList<>();
        for (int i = 0; i < IDLES; i++) {
            idle.add(new GuestOp.Idle());
        }
        phases.add(new Phase(IDLES + " idle periods (HLT)", idle));
        return phases;
    }

    /** One configuration's figures: exits per phase, and the exits of the faulting instructions of user #PFs. */
    public record Column(String configuration, BootStage stage, Map<String, ExitCount> phases, ExitCount userPfDelivery,
            int userPageFaults) {}

    /** The kernel of {@code frames} frames in {@code configuration} ("native", "shadow", "HAP", "direct"). */
    public static GuestSystem system(String configuration, int frames) {
        return switch (configuration) {
            case "native" -> Loader.onBareMetal(frames);
            case "shadow", "direct" -> Loader.underXen(MmuMode.SHADOW, frames, 64);
            case "HAP" -> Loader.underXen(MmuMode.HAP, frames, 64);
            default -> throw new IllegalArgumentException("no configuration " + configuration + " (one of "
                    + CONFIGURATIONS + ")");
        };
    }

    /** Runs boot and the workload in {@code configuration} and counts. */
    public static Column measure(String configuration) {
        GuestSystem s = system(configuration, 64);
        BootStage target = configuration.equals("direct") ? BootStage.DIRECT
                : configuration.equals("native") ? BootStage.NATIVE : BootStage.HYPERCALL_PAGE_INSTALLED;
        Map<String, ExitCount> phases = new LinkedHashMap<>();
        KernelStep boot = Kernel.apply(s, new GuestOp.Boot(target));
        phases.put("boot to " + boot.post().kernel().stage(), boot.exits());
        s = boot.post();
        ExitCount delivery = ExitCount.NONE;
        int userPf = 0;
        for (Phase p : workload()) {
            ExitCount c = ExitCount.NONE;
            for (GuestOp op : p.ops()) {
                KernelStep k = Kernel.apply(s, op);
                c = c.plus(k.exits());
                for (Executed e : k.trace()) {
                    if (e.observed() instanceof Observed.Fault f && f.isPageFault()
                            && (f.errorCode() & ErrorCode.US) != 0) {
                        delivery = delivery.plus(e.exits());
                        userPf++;
                    }
                }
                s = k.post();
            }
            phases.put(p.name(), c);
        }
        return new Column(configuration, s.kernel().stage(), phases, delivery, userPf);
    }

    /** The table for every configuration, as fixed-width text (deterministic: same bytes every run). */
    public static String table() {
        List<Column> cols = CONFIGURATIONS.stream().map(ExitAccounting::measure).toList();
        List<String> rows = new ArrayList<>();
        for (Column c : cols) {
            for (String k : c.phases().keySet()) {
                String name = k.startsWith("boot to") ? "boot" : k;
                if (!rows.contains(name)) {
                    rows.add(name);
                }
            }
        }
        StringBuilder b = new StringBuilder();
        String fmt = "%-40s" + "%10s".repeat(cols.size()) + "%n";
        Object[] head = new Object[cols.size() + 1];
        head[0] = "VM exits";
        for (int i = 0; i < cols.size(); i++) {
            head[i + 1] = cols.get(i).configuration();
        }
        b.append(String.format(fmt, head));
        for (String row : rows) {
            Object[] line = new Object[cols.size() + 1];
            line[0] = row;
            for (int i = 0; i < cols.size(); i++) {
                line[i + 1] = Integer.toString(find(cols.get(i), row).total());
            }
            b.append(String.format(fmt, line));
        }
        Object[] pf = new Object[cols.size() + 1];
        pf[0] = "  of which delivering the user #PFs";
        for (int i = 0; i < cols.size(); i++) {
            pf[i + 1] = cols.get(i).userPfDelivery().total() + "/" + cols.get(i).userPageFaults();
        }
        b.append(String.format(fmt, pf));
        Object[] st = new Object[cols.size() + 1];
        st[0] = "final boot stage";
        for (int i = 0; i < cols.size(); i++) {
            st[i + 1] = abbreviate(cols.get(i).stage());
        }
        b.append(String.format(fmt, st));
        b.append(System.lineSeparator()).append("Exits by reason:").append(System.lineSeparator());
        for (Column c : cols) {
            ExitCount all = ExitCount.NONE;
            for (ExitCount e : c.phases().values()) {
                all = all.plus(e);
            }
            b.append(String.format("  %-8s %s%n", c.configuration(), all.byReason().isEmpty() ? "none"
                    : all.byReason().toString()));
        }
        return b.toString();
    }

    private static ExitCount find(Column c, String row) {
        for (Map.Entry<String, ExitCount> e : c.phases().entrySet()) {
            if (e.getKey().equals(row) || (row.equals("boot") && e.getKey().startsWith("boot to"))) {
                return e.getValue();
            }
        }
        return ExitCount.NONE;
    }

    private static String abbreviate(BootStage s) {
        return switch (s) {
            case HYPERCALL_PAGE_INSTALLED -> "HC_PAGE";
            case HYPERVISOR_DETECTED -> "DETECTED";
            default -> s.name();
        };
    }
}
