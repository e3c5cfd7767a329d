package org.hybridv.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.hybridv.cli.Cli;
import org.hybridv.cli.RepoRoot;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cost model file, the report and its charts: the file is valid against its schema and prices every event the
 * workloads produce; the report is the same bytes every run; every verdict follows from the predictions by its stated
 * definition; the SVGs are well-formed, name every workload, and the committed copies under docs/comparison are what
 * the command draws now; the copy of the report in docs/comparison.md is the report.
 */
class ComparisonTest {
    static Comparison.Report report;

    @BeforeAll
    static void compute() {
        report = (Comparison.Report) Comparison.compute(CostModel.load());
    }

    @Test
    void costsJsonIsValidAgainstItsSchemaAndHasEveryGeneration() throws Exception {
        ObjectMapper m = new ObjectMapper();
        try (InputStream schema = CostModel.class.getResourceAsStream("costs.schema.json");
             InputStream data = CostModel.class.getResourceAsStream(CostModel.RESOURCE)) {
            var s = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(m.readTree(schema));
            assertThat(s.validate(m.readTree(data))).isEmpty();
        }
        CostModel model = CostModel.load();
        assertThat(model.generations()).extracting(CostModel.Generation::id).containsExactly("core2", "skylake");
        for (CostModel.Cost c : model.costs().values()) {
            assertThat(c.source()).as(c.event()).isNotBlank();
            assertThat(c.cycles().keySet()).as(c.event()).containsExactly("core2", "skylake");
        }
        // Every event kind of every workload on every platform is priced (price() would throw otherwise).
        for (Comparison.Measured r : report.rows()) {
            for (Events e : r.events().values()) {
                for (String kind : e.counts().keySet()) {
                    for (String key : CostModel.keysOf(kind)) {
                        assertThat(model.costs()).as(kind).containsKey(key);
                    }
                }
            }
        }
    }

    @Test
    void aBadCostModelIsRefusedNamingTheField() {
        String bad = "{\"unit\":\"cycles\",\"generations\":[{\"id\":\"a\",\"name\":\"A\",\"years\":\"1\"},"
                + "{\"id\":\"b\",\"name\":\"B\",\"years\":\"2\"}],\"costs\":[{\"event\":\"vmexit\",\"what\":\"x\","
                + "\"cycles\":{\"a\":[5,1],\"b\":[1,2]},\"source\":\"s\",\"estimate\":true}],\"mixes\":[]}";
        assertThatThrownBy(() -> CostModel.parse(bad.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("vmexit").hasMessageContaining("a");
        String missing = bad.replace("\"b\":[1,2]", "\"c\":[1,2]").replace("[5,1]", "[1,5]");
        assertThatThrownBy(() -> CostModel.parse(missing.getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("cycles.b");
    }

    @Test
    void verdictsFollowFromThePredictionsByTheirDefinitions() {
        for (CostModel.Generation g : report.model().generations()) {
            boolean anyClose = report.predictions().stream().anyMatch(p -> p.generation().equals(g.id())
                    && p.target() == Target.HYBRID && !p.workload().equals("kernel build")
                    && p.mid() <= Comparison.CLOSE);
            Comparison.Verdict v = report.verdicts().stream().filter(x -> x.generation().equals(g.id())
                    && x.claim().startsWith("hybrid: some lmbench")).findFirst().orElseThrow();
            assertThat(v.reproduced()).isEqualTo(anyClose);
            double[] build = report.buildVsPv().get("kernel build/" + g.id());
            Comparison.Verdict b = report.verdicts().stream().filter(x -> x.generation().equals(g.id())
                    && x.claim().startsWith("kernel build")).findFirst().orElseThrow();
            assertThat(b.reproduced()).isEqualTo(Math.abs(build[0] - Comparison.SEED_BUILD_PERCENT)
                    <= Comparison.BUILD_TOLERANCE);
            assertThat(build[1]).isLessThanOrEqualTo(build[0]);
            assertThat(build[0]).isLessThanOrEqualTo(build[2]);
        }
        // Native relative to itself is 1 whatever the costs.
        assertThat(report.predictions().stream().filter(p -> p.target() == Target.NATIVE))
                .allSatisfy(p -> assertThat(p.lo()).isEqualTo(1.0).isEqualTo(p.hi()));
        // The null call: no event beyond native's on the hybrid (BUD-2, no CR3 switch): exactly 1 at every cost.
        assertThat(report.predictions().stream().filter(p -> p.target() == Target.HYBRID
                && p.workload().equals("null call"))).allSatisfy(p -> assertThat(p.hi()).isEqualTo(1.0));
    }

    @Test
    void theReportIsTheSameBytesEveryRun() {
        Cli.Result a = Cli.run("compare");
        Cli.Result b = Cli.run("compare");
        assertThat(a.exit()).as(a.all()).isZero();
        assertThat(a.out()).isEqualTo(b.out());
        Cli.Result j1 = Cli.run("compare", "--json");
        Cli.Result j2 = Cli.run("compare", "--json");
        assertThat(j1.exit()).as(j1.all()).isZero();
        assertThat(j1.out()).isEqualTo(j2.out()).contains("\"verdicts\"");
    }

    @Test
    void badOptionsExit2() {
        Cli.Result r = Cli.run("compare", "--no-such-option");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--no-such-option");
    }

    @Test
    void svgIntoAFileExits2(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("plain"), "x");
        Cli.Result r = Cli.run("compare", "--svg", file.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.err()).contains("--svg");
    }

    @Test
    void chartsAreWellFormedNameEveryWorkloadAndTheCommittedOnesAreCurrent(@TempDir Path dir) throws Exception {
        Cli.Result r = Cli.run("compare", "--svg", dir.toString());
        assertThat(r.exit()).as(r.all()).isZero();
        Map<String, String> charts = Charts.render(report);
        assertThat(charts).containsOnlyKeys("relative-core2.svg", "relative-skylake.svg", "events.svg");
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        Path committed = RepoRoot.find().resolve("docs/comparison");
        for (Map.Entry<String, String> c : charts.entrySet()) {
            String svg = c.getValue();
            var doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
            assertThat(doc.getDocumentElement().getTagName()).isEqualTo("svg");
            int rows = c.getKey().equals("events.svg") ? Workload.lmbenchRows().size() : report.rows().size();
            for (Comparison.Measured m : report.rows().subList(0, rows)) {
                assertThat(svg).as("%s names %s", c.getKey(), m.name()).contains(m.name());
            }
            assertThat(svg).doesNotContainPattern("\\d{4}-\\d{2}-\\d{2}T");
            assertThat(Files.readString(dir.resolve(c.getKey()))).isEqualTo(svg);
            assertThat(Files.readString(committed.resolve(c.getKey())))
                    .as("docs/comparison/%s is what hybridv compare --svg draws now", c.getKey()).isEqualTo(svg);
        }
    }

    @Test
    void theReportInTheDocsIsTheReport() throws Exception {
        String doc = Files.readString(RepoRoot.find().resolve("docs/comparison.md"));
        String begin = "<!-- compare:begin -->\n```\n";
        String end = "```\n<!-- compare:end -->";
        int a = doc.indexOf(begin);
        int b = doc.indexOf(end);
        assertThat(a).as("docs/comparison.md has the report between markers").isNotNegative();
        assertThat(doc.substring(a + begin.length(), b)).isEqualTo(Comparison.text(report)
                .replace(System.lineSeparator(), "\n"));
        assertThat(doc).as("the cost table of docs/comparison.md is costs.json")
                .contains(Comparison.costTable(report.model()));
    }
}
