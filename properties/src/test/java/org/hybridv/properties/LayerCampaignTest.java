package org.hybridv.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.BeforeProperty;
import net.jqwik.api.statistics.Statistics;
import org.junit.jupiter.api.Test;

/**
 * {@link LayerCampaign} tells each way a property can end apart (docs/properties.md, "The layer properties"): the
 * fixtures below are jqwik classes whose outcome is known by construction — a property false for every integer above
 * 10, one whose tries pass but whose coverage floor cannot be met, one that fails before its first try — and every
 * layer property of {@link LayerProperties} is a jqwik class the campaign can run.
 */
class LayerCampaignTest {
    /** Falsified by any x > 10; jqwik shrinks it to 11. */
    static class Falsified {
        @Property(tries = 500)
        boolean smallNumbersOnly(@ForAll @IntRange(min = 0, max = 1000) int x) {
            return x <= 10;
        }

        @Property(tries = 50)
        boolean alwaysTrue(@ForAll int x) {
            return true;
        }
    }

    /** Every try passes; the label "x" can never reach 50 % "big". */
    static class MissedFloor {
        @Property(tries = 100)
        void labelled(@ForAll @IntRange(min = 0, max = 100_000) int x) {
            Statistics.label("x").collect(x > 1_000_000 ? "big" : "small");
            Statistics.label("x").coverage(c -> c.check("big").percentage(p -> p >= 50));
        }
    }

    /** Fails before any try. */
    static class Broken {
        @BeforeProperty
        void before() {
            throw new IllegalStateException("the fixture cannot start");
        }

        @Property(tries = 10)
        boolean never(@ForAll int x) {
            return true;
        }
    }

    private static LayerCampaign.Result run(Class<?> type, int tries) {
        LayerProperties.Layer l = new LayerProperties.Layer("fixture", type, "test", "a fixture");
        return LayerCampaign.run(List.of(l), new LayerCampaign.Config(7, tries, Optional.empty()), () -> false)
                .get(0);
    }

    @Test
    void aFalsifiedPropertyIsReportedWithItsShrunkSampleAndTheOthersStillPass() {
        LayerCampaign.Result r = run(Falsified.class, 1000);
        LayerCampaign.Outcome bad = r.first(LayerCampaign.Status.FALSIFIED).orElseThrow();
        assertThat(bad.method()).isEqualTo("smallNumbersOnly");
        assertThat(bad.sample()).isEqualTo("[11]");
        assertThat(r.first(LayerCampaign.Status.PASSED).orElseThrow().method()).isEqualTo("alwaysTrue");
        assertThat(r.first(LayerCampaign.Status.PASSED).get().tries()).isEqualTo(50);
    }

    @Test
    void triesAreTheCiTriesScaledByTheCampaignsTries() {
        LayerCampaign.Result r = run(Falsified.class, 100);
        // alwaysTrue: 50 CI tries × 100 / 1000
        assertThat(r.outcomes()).filteredOn(o -> o.method().equals("alwaysTrue")).singleElement()
                .extracting(LayerCampaign.Outcome::tries).isEqualTo(5);
        assertThat(LayerCampaign.triesAsked(new LayerProperties.Layer("f", Falsified.class, "t", "d"), 100))
                .isEqualTo(50 + 5);
        // never fewer than one try
        assertThat(run(Falsified.class, 1).outcomes()).allMatch(o -> o.tries() >= 1);
    }

    @Test
    void passingTriesWithAMissedFloorAreCoverageNotAViolation() {
        LayerCampaign.Outcome o = run(MissedFloor.class, 1000).outcomes().get(0);
        assertThat(o.status()).isEqualTo(LayerCampaign.Status.COVERAGE);
        assertThat(o.tries()).isEqualTo(100);
        assertThat(o.message()).contains("big");
    }

    @Test
    void aFailureOutsideTheTriesIsAnError() {
        LayerCampaign.Outcome o = run(Broken.class, 1000).outcomes().get(0);
        assertThat(o.status()).isEqualTo(LayerCampaign.Status.ERROR);
        assertThat(o.message()).contains("the fixture cannot start");
    }

    @Test
    void aCancelledCampaignRunsNothingAndSaysSo() {
        LayerProperties.Layer l = new LayerProperties.Layer("fixture", Falsified.class, "test", "a fixture");
        LayerCampaign.Result r = LayerCampaign.run(List.of(l), new LayerCampaign.Config(7, 1000, Optional.empty()),
                () -> true).get(0);
        assertThat(r.outcomes()).allMatch(o -> o.status() == LayerCampaign.Status.NOT_RUN && o.tries() == 0);
    }

    @Test
    void everyLayerPropertyClassHasPropertiesAndAUniqueName() {
        List<LayerProperties.Layer> all = LayerProperties.all();
        assertThat(all).extracting(LayerProperties.Layer::name).doesNotHaveDuplicates();
        for (LayerProperties.Layer l : all) {
            assertThat(LayerCampaign.propertyMethods(l.type())).as(l.name()).isNotEmpty();
            assertThat(l.name()).matches("[a-z0-9]+(-[a-z0-9]+)*");
        }
        assertThat(LayerProperties.named("page-walk")).map(LayerProperties.Layer::type)
                .contains(PageWalkProperties.class);
        assertThat(LayerProperties.name(CrAccessExitProperties.class)).isEqualTo("cr-access-exit");
    }

    @Test
    void everyPropertyClassOfThePackageIsALayerProperty() throws Exception {
        // a new layer property that hybridv check would silently leave out fails here
        java.nio.file.Path dir = org.hybridv.cli.RepoRoot.find().resolve("properties/src/main/java/org/hybridv/properties");
        try (var files = java.nio.file.Files.list(dir)) {
            List<String> classes = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith("Properties.java")
                    && !n.equals("LayerProperties.java")).map(n -> n.replace(".java", "")).sorted().toList();
            assertThat(LayerProperties.all().stream().map(l -> l.type().getSimpleName()).sorted().toList())
                    .isEqualTo(classes);
        }
    }
}
