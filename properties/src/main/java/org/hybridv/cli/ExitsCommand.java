package org.hybridv.cli;

import java.util.concurrent.Callable;
import org.hybridv.guest.ExitAccounting;
import org.hybridv.guest.PvOps;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code hybridv exits}: the VM exits of the hybrid kernel's standard workload in each configuration (native,
 * shadow, HAP, direct after SWITCH_MMU, the KVM personality), the exits of user #PFs split into those the faults
 * caused and those of handling them, a timer tick and an idle period the PV way and the emulated way (the tick split
 * into programming the timer and its one interrupt or event delivered), and with {@code --pv-ops} the para-virtual
 * operations it uses per stage.
 * Deterministic: the same bytes every run. Explained in docs/hybrid.md.
 */
@Command(name = "exits",
        mixinStandardHelpOptions = true,
        header = "Print the exit table of the hybrid kernel's standard workload per MMU mode.",
        description = {"Boots the hybrid kernel natively, in a shadow-mode domain (stops before SWITCH_MMU), in a HAP"
                + " domain, in a shadow-mode domain that switches to direct paging, and under the KVM personality; runs"
                + " the same workload (3 processes, context switches, " + ExitAccounting.TOUCHED_PAGES + " demand-paged"
                + " user pages read back, " + ExitAccounting.SYSCALLS + " system calls, " + ExitAccounting.IDLES
                + " idle periods, timer ticks and idle periods the PV way where offered and with the x2APIC timer)"
                + " and counts the VM exits of each phase.",
            "Under each timer tick, two rows split its exits: programming the timer and the one interrupt or event"
                + " delivered (the handler and its EOI). A PV tick's delivery costs no exit: read its second row.",
            "Under the user page faults, two rows split their exits: those the faulting accesses caused themselves"
                + " (exception bitmap and #PF error-code filter) and those of handling the faults (the kernel's"
                + " handler, the retried access). A user #PF costs no exit in direct mode: read the first row.",
            "Then one block request (a sector read and write) per platform: the split driver's PV path (one"
                + " event-channel hypercall) against the emulated ATA disk (an exit per port access);"
                + " docs/pv-interfaces.md.",
            "See docs/hybrid.md."},
        footerHeading = "%nExample:%n",
        footer = "  hybridv exits --pv-ops")
final class ExitsCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--pv-ops", description = "Also print the para-virtual operations per stage.")
    boolean pvOps;

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        out.print(ExitAccounting.table());
        out.println();
        out.print(org.hybridv.guest.BlockAccounting.table());
        if (pvOps) {
            out.println();
            out.println("Para-virtual operations (native, shadow, HAP | direct after SWITCH_MMU):");
            for (PvOps.Row r : PvOps.TABLE) {
                out.printf("  %-58s %-32s | %s%n", r.operation(), r.nativeOp(), r.directOp());
            }
        }
        return 0;
    }
}
