package org.hybridv.guest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The seed's claims about exits, measured on the standard workload. */
class ExitAccountingTest {
    @Test
    void userPageFaultsCostNoExitInDirectModeAndAtLeastOneInShadowMode() {
        ExitAccounting.Column direct = ExitAccounting.measure("direct");
        ExitAccounting.Column shadow = ExitAccounting.measure("shadow");
        assertThat(direct.stage()).isEqualTo(BootStage.DIRECT);
        assertThat(shadow.stage()).isEqualTo(BootStage.HYPERCALL_PAGE_INSTALLED);
        assertThat(direct.userPageFaults()).isEqualTo(ExitAccounting.TOUCHED_PAGES);
        assertThat(shadow.userPageFaults()).isEqualTo(ExitAccounting.TOUCHED_PAGES);
        // CTL-1: the direct-mode filter never matches U/S = 1, so delivery is exit-free;
        // in shadow mode every #PF exits (EB[14] = 1, MASK = MATCH = 0) and is reflected.
        assertThat(direct.userPfCaused().total()).isZero();
        assertThat(shadow.userPfCaused().total()).isGreaterThanOrEqualTo(ExitAccounting.TOUCHED_PAGES);
        assertThat(shadow.userPfCaused().of("EXCEPTION_OR_NMI")).isEqualTo(shadow.userPfCaused().total());
    }

    @Test
    void handlingAUserFaultCostsTheHypervisorsPartOfTheModeOnly() {
        int n = ExitAccounting.TOUCHED_PAGES;
        // Direct mode: the handler's set_pte is one mmu_update (a VMCALL); CR2 is not intercepted and the retry
        // runs on the hardware tables the hypercall just wrote.
        ExitCount direct = ExitAccounting.measure("direct").userPfHandling();
        assertThat(direct.total()).isEqualTo(n);
        assertThat(direct.of("VMCALL")).isEqualTo(n);
        // Shadow mode: the handler's PTE store hits a write-protected guest page table (SH-4: trapped, emulated,
        // shadows dropped) and the retried access misses the dropped shadow (one fill): two #PF exits per fault.
        ExitCount shadow = ExitAccounting.measure("shadow").userPfHandling();
        assertThat(shadow.total()).isEqualTo(2 * n);
        assertThat(shadow.of("EXCEPTION_OR_NMI")).isEqualTo(2 * n);
        // HAP: guest page tables are ordinary memory under EPT and #PF does not exit.
        ExitAccounting.Column hap = ExitAccounting.measure("HAP");
        assertThat(hap.userPageFaults()).isEqualTo(n);
        assertThat(hap.userPfCaused().total() + hap.userPfHandling().total()).isZero();
    }

    @Test
    void nativeCostsNothingAndTheTableIsDeterministic() {
        ExitAccounting.Column n = ExitAccounting.measure("native");
        assertThat(n.phases().values()).allMatch(c -> c.total().total() == 0);
        assertThat(ExitAccounting.table()).isEqualTo(ExitAccounting.table());
    }
}
