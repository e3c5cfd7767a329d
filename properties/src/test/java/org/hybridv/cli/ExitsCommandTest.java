package org.hybridv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExitsCommandTest {
    /** Columns of the table, in order: native, shadow, HAP, direct, KVM. */
    private static final String COLUMNS = "native\\s+shadow\\s+HAP\\s+direct\\s+KVM";

    @Test
    void printsTheTableWithEveryConfigurationAndTheSeedsClaims() {
        Cli.Result r = Cli.run("exits", "--pv-ops");
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).containsPattern("VM exits\\s+" + COLUMNS);
        assertThat(r.out()).contains("system calls", "set_pte");
        assertThat(Cli.run("exits").out()).isEqualTo(Cli.run("exits").out());
    }

    @Test
    void theUserPageFaultRowsSeparateTheFaultsOwnExitsFromTheirHandling() {
        String out = Cli.run("exits").out();
        // The workload demand-pages 16 user pages: every configuration delivers 16 user #PFs to the guest.
        assertThat(out).containsPattern("(?m)^user #PFs the guest received\\s+16\\s+16\\s+16\\s+16\\s+16$");
        // The faulting access itself. Bare metal: no VMX. Shadow mode: exception bitmap bit 14 set with
        // PFEC_MASK = PFEC_MATCH = 0, so every #PF exits (and is reflected). HAP: bit 14 clear, EPT maps the guest
        // tables. Direct mode after SWITCH_MMU: MASK = P|W|U, MATCH = P|W never matches a fault with U/S = 1, so a
        // user #PF reaches the guest without an exit — the seed's claim. KVM: HAP, as under Xen.
        assertThat(out).containsPattern("(?m)^  caused by the #PFs themselves\\s+0\\s+16\\s+0\\s+0\\s+0$");
        // Handling it. Shadow: the handler's PTE store hits a write-protected guest page table (trapped and
        // emulated, SH-4) and the retry misses the dropped shadow (one fill) — 2 exits per fault. Direct: set_pte is
        // one mmu_update hypercall per fault. HAP and bare metal: plain stores, no exit.
        assertThat(out).containsPattern("(?m)^  handling them \\(kernel handler, retry\\)\\s+0\\s+32\\s+0\\s+16\\s+0$");
        // The phase row is the sum: nothing else happens while demand paging.
        assertThat(out).containsPattern("(?m)^16 user page faults \\(demand paging\\)\\s+0\\s+48\\s+0\\s+16\\s+0$");
    }

    @Test
    void theTimerRowsShowWhatEachPathCosts() {
        String out = Cli.run("exits").out();
        // BOOT-9, PV where offered: under Xen (shadow, HAP, direct) VCPUOP_set_singleshot_timer is one VMCALL exit
        // (SDM Vol. 3C §25.1.2) and the upcall is injected at VM entry with no exit (EVT-9); natively and on KVM
        // the x2APIC timer: natively no exit, on KVM one MSR-write exit for the initial count (EMU-1) and none for
        // the EOI (PV EOI, EMU-6).
        assertThat(out).containsPattern("(?m)^timer tick, PV where offered\\s+0\\s+1\\s+1\\s+1\\s+1$");
        assertThat(out).containsPattern("(?m)^timer tick, x2APIC timer\\s+0\\s+2\\s+2\\s+2\\s+1$\\n"
                + "  programming the timer\\s+0\\s+1\\s+1\\s+1\\s+1$\\n"
                + "  one interrupt/event delivered, EOI\\s+0\\s+1\\s+1\\s+1\\s+0$");
        // BOOT-10: SCHEDOP_block is a VMCALL where HLT is an HLT exit: the same count under VMX
        assertThat(out).containsPattern("(?m)^idle period, PV where offered\\s+0\\s+2\\s+2\\s+2\\s+2$");
        assertThat(out).containsPattern("(?m)^idle period, HLT, x2APIC timer\\s+0\\s+3\\s+3\\s+3\\s+2$");
    }

    @Test
    void theTableAndTheHelpFitIn80Columns() {
        for (String[] args : List.of(new String[] {"exits"}, new String[] {"exits", "--help"})) {
            Cli.Result r = Cli.run(args);
            assertThat(r.exit()).as(r.all()).isZero();
            assertThat(r.out().lines()).as(Arrays.toString(args)).allSatisfy(l -> assertThat(l.length())
                    .as(l).isLessThanOrEqualTo(80));
        }
    }

    @Test
    void oneBlockRequestRowPerPlatformSplitDriverAgainstEmulatedDisk() {
        String out = Cli.run("exits").out();
        assertThat(out).contains("One block request");
        // bare metal: the ATA registers, no VMX; 6 task-file OUTs + 2 status INs + 128 doubleword data INs
        assertThat(out).containsPattern("(?m)^native\\s+ATA PIO\\s+0\\s+0\\s+0\\s+0\\s+136$");
        // direct and HAP: the request is plain stores and one EVTCHNOP_send
        assertThat(out).containsPattern("(?m)^direct\\s+split driver\\s+1\\s+1\\s+\\d+\\s+1\\s+0$");
        assertThat(out).containsPattern("(?m)^HAP\\s+split driver\\s+1\\s+1\\s+\\d+\\s+1\\s+0$");
        // KVM: every port access of the same request is an I/O exit
        assertThat(out).containsPattern("(?m)^HAP/KVM\\s+emulated ATA\\s+136\\s+136\\s+136\\s+0\\s+136$");
    }
}
