package org.hybridv.explore;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.hybridv.xen.Faults;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A frontier larger than the in-memory bound keeps only state numbers beyond it and rebuilds those states from the
 * trace on disk when it expands them: the search is the same — verdict, counts per level and per action, and the
 * counterexample's bytes — as with the whole frontier in memory, for one and two workers.
 */
class FrontierSpillTest {
    @ParameterizedTest
    @CsvSource({"direct-paging,", "isolation,", "direct-paging,type-change-no-flush",
        "spare-frames,"})
    void aSpilledFrontierSearchesAsOneInMemory(String name, String fault) throws Exception {
        ExploreConfig c = ExploreTest.config(name);
        Faults faults = Faults.parse(fault == null ? List.of() : List.of(fault));
        Exploration whole = Exploration.run(c, faults, new Explorer.Options(1, c.ciDepth(), c.maxStates(),
                c.deadlock()), p -> { });
        for (int workers : new int[] {1, 2}) {
            Exploration spilled = Exploration.run(c, faults, new Explorer.Options(workers, c.ciDepth(), c.maxStates(),
                    c.deadlock(), 7), p -> { });
            Explorer.Result a = whole.result();
            Explorer.Result b = spilled.result();
            assertThat(b.outcome()).isEqualTo(a.outcome());
            assertThat(b.distinct()).isEqualTo(a.distinct());
            assertThat(b.transitions()).isEqualTo(a.transitions());
            assertThat(b.invariantChecks()).isEqualTo(a.invariantChecks());
            assertThat(b.levels()).isEqualTo(a.levels());
            assertThat(b.enabled()).isEqualTo(a.enabled());
            assertThat(b.taken()).isEqualTo(a.taken());
            assertThat(b.newStates()).isEqualTo(a.newStates());
            assertThat(b.finding()).isEqualTo(a.finding());
            assertThat(spilled.counterexample().map(Object::toString)).isEqualTo(whole.counterexample()
                    .map(Object::toString));
        }
        // the bound is exercised: some level is larger than it
        assertThat(whole.result().levels()).anyMatch(l -> l > 7);
    }
}
