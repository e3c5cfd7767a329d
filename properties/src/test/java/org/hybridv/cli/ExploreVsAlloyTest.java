package org.hybridv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import edu.mit.csail.sdg.ast.Command;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.hybridv.explore.ExploreConfig;
import org.hybridv.spec.ModelFile;
import org.hybridv.spec.ModelSources;
import org.hybridv.spec.SpecRunner;
import org.hybridv.xen.Faults;
import org.junit.jupiter.api.Test;

/**
 * hybridv bench --explore-vs-alloy: each pair is an Alloy command of the two models the issue names and an explorer
 * configuration; a correct-model pair is a command that expects no counterexample with no fault injected, a
 * seeded-bug pair a command that expects one with the reference fault that skips the same rule as the model's. (Running
 * the pairs costs a minute — the Alloy side's 36 s for direct_paging's inductive check alone — too much for the test
 * suite; docs/benchmarks.md records a run.)
 */
class ExploreVsAlloyTest {
    private static final Path ROOT = RepoRoot.find();

    @Test
    void everyPairAsksForTheSameRuleOnBothSides() throws Exception {
        List<ModelFile> models = ModelSources.in(ROOT.resolve("spec/models"));
        assertThat(ExploreVsAlloy.PAIRS.stream().map(ExploreVsAlloy.Pair::model).collect(Collectors.toSet()))
                .isEqualTo(Set.of("xen/switch_mmu", "xen/direct_paging"));
        for (String model : List.of("xen/switch_mmu", "xen/direct_paging")) {
            assertThat(ExploreVsAlloy.PAIRS).as(model + ": a correct and a seeded-bug pair")
                    .anyMatch(p -> p.model().equals(model) && !p.bug())
                    .anyMatch(p -> p.model().equals(model) && p.bug());
        }
        java.util.Map<String, SpecRunner.Parse.Parsed> parses = new java.util.HashMap<>();
        for (ExploreVsAlloy.Pair p : ExploreVsAlloy.PAIRS) {
            SpecRunner.Parse.Parsed parsed = parses.computeIfAbsent(p.model(), k -> (SpecRunner.Parse.Parsed)
                    SpecRunner.parse(models.stream().filter(f -> f.name().equals(k)).findFirst().orElseThrow()));
            Command c = parsed.module().getAllCommands().stream().filter(x -> x.label.equals(p.command()))
                    .findFirst().orElseThrow();
            assertThat(c.check).as(p.command()).isTrue();
            assertThat(c.expects).as(p.command() + " expect").isEqualTo(p.bug() ? 1 : 0);
            ExploreConfig cfg = ExploreConfig.read(ROOT.resolve("spec/configs/" + p.config() + ".json"), p.config());
            assertThat(cfg.faults()).isEmpty();
            if (p.bug()) {
                assertThat(Faults.parse(List.of(p.fault())).active()).singleElement()
                        .satisfies(f -> assertThat(f.rule()).isEqualTo(p.replaces()));
                assertThat(c.label).startsWith("bug");
            }
        }
    }
}
