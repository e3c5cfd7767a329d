package org.hybridv.xen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The fault catalog's names and the {@link Faults} value. */
class FaultsTest {
    @Test
    void theCatalogHasAtLeastFifteenFaultsWithStableKebabCaseIdsRulesAndSources() {
        assertThat(Fault.values().length).isGreaterThanOrEqualTo(15);
        Set<String> ids = new HashSet<>();
        for (Fault f : Fault.values()) {
            assertThat(f.id()).matches("[a-z0-9]+(-[a-z0-9]+)*");
            assertThat(ids.add(f.id())).as("duplicate id %s", f.id()).isTrue();
            assertThat(f.rule()).isNotBlank();
            assertThat(f.description()).isNotBlank();
            assertThat(f.source()).isNotBlank();
            assertThat(Fault.byId(f.id())).isEqualTo(f);
        }
        assertThat(Fault.byId("no-such-fault")).isNull();
    }

    @Test
    void parseOfIdsAndBack() {
        Faults f = Faults.parse(List.of("pt-update-no-flush", "superpage-accepted", "pt-update-no-flush"));
        assertThat(f.active()).containsExactly(Fault.SUPERPAGE_ACCEPTED, Fault.PT_UPDATE_NO_FLUSH);
        assertThat(f.ids()).containsExactly("pt-update-no-flush", "superpage-accepted");
        assertThat(f.breaks(Fault.SUPERPAGE_ACCEPTED)).isTrue();
        assertThat(f.breaks(Fault.XEN_SLOT_UPDATE)).isFalse();
        assertThat(f).isEqualTo(Faults.of(Fault.PT_UPDATE_NO_FLUSH, Fault.SUPERPAGE_ACCEPTED));
        assertThat(Faults.parse(List.of())).isEqualTo(Faults.NONE);
        assertThat(Faults.NONE.ids()).isEmpty();
        assertThat(Faults.NONE.toString()).isEqualTo("no faults");
    }

    @Test
    void anUnknownIdNamesItAndListsTheKnownOnes() {
        assertThatThrownBy(() -> Faults.parse(List.of("superpage-accepted", "skip-flush")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("unknown fault \"skip-flush\"; known faults: ")
                .hasMessageContaining("superpage-accepted").hasMessageContaining("vpid-shared-across-domains");
    }

    @Test
    void theActiveSetIsImmutable() {
        Faults f = Faults.of(Fault.XEN_SLOT_UPDATE);
        assertThatThrownBy(() -> f.active().add(Fault.SUPERPAGE_ACCEPTED))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> f.ids().add("x")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void theMachineCarriesItsFaultsAndPassesThemToTheDirectPagingCore() {
        XenMachine m = XenMachine.boot(16, 1);
        assertThat(m.faults()).isEqualTo(Faults.NONE);
        Faults f = Faults.of(Fault.TYPE_CHANGE_NO_FLUSH);
        XenMachine g = m.withFaults(f);
        assertThat(g.faults()).isEqualTo(f);
        assertThat(g.paging().faults()).isEqualTo(f);
        assertThat(g.withPaging(g.paging()).faults()).isEqualTo(f);
        assertThat(g.withPaging(m.paging()).faults()).as("withPaging keeps the machine's faults").isEqualTo(f);
        assertThat(g.paging().assign(3, 5).write(5, 0, org.hybridv.x86.Entry.table(6, false, false)).faults())
                .isEqualTo(f);
    }
}
