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
        // hybrid-design §2.1: the direct-mode filter never matches U/S = 1, so delivery is exit-free;
        // in shadow mode every #PF exits (EB[14] = 1, MASK = MATCH = 0) and is reflected.
        assertThat(direct.userPfDelivery().total()).isZero();
        assertThat(shadow.userPfDelivery().total()).isGreaterThanOrEqualTo(ExitAccounting.TOUCHED_PAGES);
    }

    @Test
    void nativeCostsNothingAndTheTableIsDeterministic() {
        ExitAccounting.Column n = ExitAccounting.measure("native");
        assertThat(n.phases().values()).allMatch(c -> c.total() == 0);
        assertThat(ExitAccounting.table()).isEqualTo(ExitAccounting.table());
    }
}
