package org.hybridv.guest;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.hybridv.x86.AccessKind;
import org.hybridv.x86.ErrorCode;
import org.hybridv.xen.MmuMode;

/**
 * The exit table: the VM exits a standard workload costs in each configuration, so that the seed's claims are
 * measured, not asserted — a user-mode #PF in direct mode costs no exit under the hybrid filter and at least one in
 * shadow mode; a system call costs none in any VMX mode. The exits a user #PF itself causes are counted apart from
 * the exits of handling it, so that the first claim is read from its own row. The workload: boot as far as the platform allows, create
 * three processes (fork-like), context-switch among them, a page-fault-heavy user run (demand-page
 * {@link #TOUCHED_PAGES} pages, then read them back), system calls, idle; then the timer, idle and interrupt paths
 * (BOOT-8..10 of docs/rules/hybrid.md): a first tick of each kind (their set-up), one timer tick the PV way where the
 * platform offers it (Xen once the hypercall page is installed: {@code VCPUOP_set_singleshot_timer} and the event
 * upcall) and one with the x2APIC timer (native, emulated under VMX, with PV EOI on KVM), each split into programming
 * the timer and the delivery of its one interrupt or event, and one idle period each way ({@code SCHEDOP_block}, HLT),
 * so that the choice of what to para-virtualize can be read from the table. The KVM column is the KVM personality
 * (BOOT-7: HAP, the kernel's own tables).
 */
public final class ExitAccounting {
    private ExitAccounting() {}

    /** Pages the page-fault-heavy run touches. */
    public static final int TOUCHED_PAGES = 16;
    /** System calls in the workload. */
    public static final int SYSCALLS = 8;
    /** Idle periods in the workload. */
    public static final int IDLES = 2;
    /** The widest line the table prints. */
    public static final int WIDTH = 80;
    /** The configurations, in table order. */
    public static final List<String> CONFIGURATIONS = List.of("native", "shadow", "HAP", "direct", "KVM");
    /** The period of the workload's timer ticks and idle periods, in ticks. */
    public static final long TICK = 10;
    /** Label of the row of the exits of programming the timer, under a timer-tick phase. */
    public static final String PROGRAMMING_ROW = "  programming the timer";
    /** Label of the row of the exits of the interrupt or event delivered, under a timer-tick phase. */
    public static final String DELIVERY_ROW = "  one interrupt/event delivered, EOI";

    /** Label of the row of the exits user #PFs caused themselves. */
    public static final String CAUSED_ROW = "  caused by the #PFs themselves";
    /** Label of the row of the exits of handling user #PFs. */
    public static final String HANDLING_ROW = "  handling them (kernel handler, retry)";
    /** Label of the row counting the user #PFs the guest received. */
    public static final String FAULTS_ROW = "user #PFs the guest received";

    /**
     * A row of the table: one phase of the workload; {@code splitDelivery}: two rows under it split its exits into
     * programming the timer and delivering the interrupt ({@link PhaseExits#delivery}).
     */
    public record Phase(String name, List<GuestOp> ops, boolean splitDelivery) {
        public Phase(String name, List<GuestOp> ops) {
            this(name, ops, false);
        }
    }

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
        phases.add(new Phase("first tick of each kind (set-up)", List.of(new GuestOp.TimerTick(TICK, true),
                new GuestOp.TimerTick(TICK, false))));
        phases.add(new Phase("timer tick, PV where offered", List.of(new GuestOp.TimerTick(TICK, true)), true));
        phases.add(new Phase("timer tick, x2APIC timer", List.of(new GuestOp.TimerTick(TICK, false)), true));
        phases.add(new Phase("idle period, PV where offered", List.of(new GuestOp.Idle(TICK, true))));
        phases.add(new Phase("idle period, HLT, x2APIC timer", List.of(new GuestOp.Idle(TICK, false))));
        return phases;
    }

    /**
     * The exits of one phase, and the part of them that user-mode #PFs account for: {@code userPfCaused}, the exits of
     * the faulting accesses themselves (an exception exit, decided by exception-bitmap bit 14 and the #PF error-code
     * filter, SDM Vol. 3C §25.2); {@code userPfHandling}, the exits of everything the kernel then does for the fault
     * in the same operation (its handler writing the PTE, the retried access, or the kill). The rest of
     * {@code total} has nothing to do with a user #PF.
     */
    public record PhaseExits(ExitCount total, ExitCount userPfCaused, ExitCount userPfHandling, int userPageFaults,
            ExitCount delivery) {
        public PhaseExits {
            if (userPfCaused.total() + userPfHandling.total() > total.total() || userPageFaults < 0
                    || delivery.total() > total.total()) {
                throw new IllegalArgumentException("user #PF exits " + userPfCaused + " + " + userPfHandling
                        + " or delivery exits " + delivery + " exceed the phase's " + total);
            }
        }

        /**
         * {@code delivery}: the exits from the instruction at whose boundary (natively) or VM entry (under the
         * hypervisor) an interrupt or event upcall was delivered to the end of the operation — the handler, its EOI
         * and what comes after it; the rest of a timer operation is programming the timer (and idling).
         */
        public PhaseExits(ExitCount total, ExitCount userPfCaused, ExitCount userPfHandling, int userPageFaults) {
            this(total, userPfCaused, userPfHandling, userPageFaults, ExitCount.NONE);
        }

        static final PhaseExits NONE = new PhaseExits(ExitCount.NONE, ExitCount.NONE, ExitCount.NONE, 0);

        PhaseExits plus(PhaseExits o) {
            return new PhaseExits(total.plus(o.total), userPfCaused.plus(o.userPfCaused),
                    userPfHandling.plus(o.userPfHandling), userPageFaults + o.userPageFaults,
                    delivery.plus(o.delivery));
        }

        /** The exits of a timer operation before the delivery: programming the timer (and idling). */
        public ExitCount programming() {
            ExitCount p = ExitCount.NONE;
            for (var e : total.byReason().entrySet()) {
                p = p.plus(ExitCount.of(e.getKey(), e.getValue() - delivery.of(e.getKey())));
            }
            return p;
        }
    }

    /** One configuration's figures: the exits of each phase (the boot first), and the final boot stage. */
    public record Column(String configuration, BootStage stage, Map<String, PhaseExits> phases) {
        public Column {
            phases = Collections.unmodifiableMap(new LinkedHashMap<>(phases));
        }

        /** The whole run's exits split the same way. */
        public PhaseExits all() {
            PhaseExits a = PhaseExits.NONE;
            for (PhaseExits p : phases.values()) {
                a = a.plus(p);
            }
            return a;
        }

        /** The exits the faulting user accesses themselves cost, over the whole run. */
        public ExitCount userPfCaused() {
            return all().userPfCaused();
        }

        /** The exits the kernel's handling of user #PFs cost, over the whole run. */
        public ExitCount userPfHandling() {
            return all().userPfHandling();
        }

        /** The user-mode #PFs the guest received, over the whole run. */
        public int userPageFaults() {
            return all().userPageFaults();
        }
    }

    /** The kernel of {@code frames} frames in {@code configuration} ("native", "shadow", "HAP", "direct"). */
    public static GuestSystem system(String configuration, int frames) {
        return switch (configuration) {
            case "native" -> Loader.onBareMetal(frames);
            case "shadow", "direct" -> Loader.underXen(MmuMode.SHADOW, frames, 64);
            case "HAP" -> Loader.underXen(MmuMode.HAP, frames, 64);
            case "KVM" -> Loader.underXen(MmuMode.HAP, frames, 64, org.hybridv.xen.Faults.NONE,
                    org.hybridv.xen.CpuidIdentity.KVM);
            default -> throw new IllegalArgumentException("no configuration " + configuration + " (one of "
                    + CONFIGURATIONS + ")");
        };
    }

    /** Runs boot and the workload in {@code configuration} and counts. */
    public static Column measure(String configuration) {
        GuestSystem s = system(configuration, 64);
        BootStage target = configuration.equals("direct") || configuration.equals("KVM") ? BootStage.DIRECT
                : configuration.equals("native") ? BootStage.NATIVE : BootStage.HYPERCALL_PAGE_INSTALLED;
        Map<String, PhaseExits> phases = new LinkedHashMap<>();
        KernelStep boot = Kernel.apply(s, new GuestOp.Boot(target));
        phases.put("boot to " + boot.post().kernel().stage(), split(boot));
        s = boot.post();
        for (Phase p : workload()) {
            PhaseExits c = PhaseExits.NONE;
            for (GuestOp op : p.ops()) {
                KernelStep k = Kernel.apply(s, op);
                c = c.plus(split(k));
                s = k.post();
            }
            phases.put(p.name(), c);
        }
        return new Column(configuration, s.kernel().stage(), phases);
    }

    /**
     * One operation's exits, split: an instruction that delivered a user-mode #PF to the guest (U/S = 1 in its
     * error code) counts as caused by the #PF; every instruction after it in the operation counts as handling it.
     */
    static PhaseExits split(KernelStep k) {
        ExitCount caused = ExitCount.NONE;
        ExitCount handling = ExitCount.NONE;
        int faults = 0;
        boolean handlingFault = false;
        ExitCount delivery = ExitCount.NONE;
        boolean delivered = false;
        for (Executed e : k.trace()) {
            // BOOT-9: the instruction at whose boundary or VM entry an interrupt or upcall was delivered, and the rest
            delivered |= e.platform().interruptsDelivered() > e.pre().interruptsDelivered();
            if (delivered) {
                delivery = delivery.plus(e.exits());
            }
            if (e.observed() instanceof Observed.Fault f && f.isPageFault() && (f.errorCode() & ErrorCode.US) != 0) {
                caused = caused.plus(e.exits());
                faults++;
                handlingFault = true;
            } else if (handlingFault) {
                handling = handling.plus(e.exits());
            }
        }
        return new PhaseExits(k.exits(), caused, handling, faults, delivery);
    }

    /**
     * The table for every configuration, as fixed-width text (deterministic: same bytes every run). A phase in which
     * some configuration took user #PFs gets two indented rows under it: the exits the faulting accesses caused and
     * the exits of handling the faults.
     */
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
        List<String> split = workload().stream().filter(Phase::splitDelivery).map(Phase::name).toList();
        String fmt = "%-40s" + ("%" + Math.min(10, (WIDTH - 40) / cols.size()) + "s").repeat(cols.size()) + "%n";
        Object[] head = new Object[cols.size() + 1];
        head[0] = "VM exits";
        for (int i = 0; i < cols.size(); i++) {
            head[i + 1] = cols.get(i).configuration();
        }
        b.append(String.format(fmt, head));
        for (String row : rows) {
            b.append(String.format(fmt, line(row, cols, c -> Integer.toString(find(c, row).total().total()))));
            if (cols.stream().anyMatch(c -> find(c, row).userPageFaults() > 0)) {
                b.append(String.format(fmt, line(CAUSED_ROW, cols,
                        c -> Integer.toString(find(c, row).userPfCaused().total()))));
                b.append(String.format(fmt, line(HANDLING_ROW, cols,
                        c -> Integer.toString(find(c, row).userPfHandling().total()))));
            }
            if (split.contains(row)) {
                b.append(String.format(fmt, line(PROGRAMMING_ROW, cols,
                        c -> Integer.toString(find(c, row).programming().total()))));
                b.append(String.format(fmt, line(DELIVERY_ROW, cols,
                        c -> Integer.toString(find(c, row).delivery().total()))));
            }
        }
        b.append(String.format(fmt, line(FAULTS_ROW, cols, c -> Integer.toString(c.userPageFaults()))));
        b.append(String.format(fmt, line("final boot stage", cols, c -> abbreviate(c.stage()))));
        b.append(System.lineSeparator());
        b.append("Caused by the #PFs themselves: the exits of the faulting user accesses")
                .append(System.lineSeparator());
        b.append("(exception bitmap bit 14 and the #PF error-code filter decide). Handling them:")
                .append(System.lineSeparator());
        b.append("the exits of the kernel's fault handler (the PTE write) and the retried access.")
                .append(System.lineSeparator());
        b.append("Timer ticks: programming the timer (set_singleshot_timer, or the x2APIC")
                .append(System.lineSeparator());
        b.append("initial count), then from the instruction the interrupt or event upcall")
                .append(System.lineSeparator());
        b.append("was delivered at: the handler and its EOI (none for an upcall; none on")
                .append(System.lineSeparator());
        b.append("KVM with PV EOI). PV where offered: Xen once the hypercall page is in.")
                .append(System.lineSeparator());
        b.append("Under VMX each hypercall is one VMCALL exit: a PV row's exits are its")
                .append(System.lineSeparator());
        b.append("hypercalls (set_singleshot_timer; and SCHEDOP_block to idle).")
                .append(System.lineSeparator());
        b.append(System.lineSeparator()).append("Exits by reason:").append(System.lineSeparator());
        for (Column c : cols) {
            ExitCount all = c.all().total();
            StringBuilder l = new StringBuilder(String.format("  %-8s", c.configuration()));
            if (all.byReason().isEmpty()) {
                l.append(" none");
            }
            int n = 0;
            for (Map.Entry<String, Integer> e : all.byReason().entrySet()) {
                String item = " " + e.getKey() + "=" + e.getValue() + (++n < all.byReason().size() ? "," : "");
                if (l.length() + item.length() > WIDTH) {
                    b.append(l).append(System.lineSeparator());
                    l = new StringBuilder(" ".repeat(10));
                }
                l.append(item);
            }
            b.append(l).append(System.lineSeparator());
        }
        return b.toString();
    }

    private static Object[] line(String label, List<Column> cols, Function<Column, String> cell) {
        Object[] line = new Object[cols.size() + 1];
        line[0] = label;
        for (int i = 0; i < cols.size(); i++) {
            line[i + 1] = cell.apply(cols.get(i));
        }
        return line;
    }

    private static PhaseExits find(Column c, String row) {
        for (Map.Entry<String, PhaseExits> e : c.phases().entrySet()) {
            if (e.getKey().equals(row) || (row.equals("boot") && e.getKey().startsWith("boot to"))) {
                return e.getValue();
            }
        }
        return PhaseExits.NONE;
    }

    private static String abbreviate(BootStage s) {
        return switch (s) {
            case HYPERCALL_PAGE_INSTALLED -> "HC_PAGE";
            case HYPERVISOR_DETECTED -> "DETECTED";
            default -> s.name();
        };
    }
}
