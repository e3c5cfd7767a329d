package org.hybridv.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.hybridv.cli.RepoRoot;
import org.hybridv.scenario.ParseResult;
import org.hybridv.scenario.ScenarioParser;
import org.hybridv.scenario.ScenarioSources;
import org.hybridv.scenario.modules.Modules;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * docs/scenario.schema.json says what the decoder says: every scenario in the repository matches it, and inputs the
 * decoder rejects for a reason a schema can state are rejected by the schema too.
 */
class ScenarioSchemaTest {
    private static final Path ROOT = RepoRoot.find();
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TestFactory
    Stream<DynamicTest> everyScenarioInTheRepositoryMatchesTheSchema() {
        List<Path> files = new ArrayList<>(ScenarioSources.expand(List.of(ROOT.resolve("counterexamples").toString(),
                ROOT.resolve("docs/examples").toString())).files());
        assertThat(files).hasSizeGreaterThanOrEqualTo(22);
        return files.stream().map(f -> DynamicTest.dynamicTest(ROOT.relativize(f).toString(), () ->
                assertThat(ScenarioSchema.problems(ScenarioSchema.read(f))).isEmpty()));
    }

    @Test
    void theSchemaIsDraft202012AndCoversEveryOp() {
        JsonNode schema = ScenarioSchema.read(ScenarioSchema.FILE);
        assertThat(schema.get("$schema").asText()).isEqualTo("https://json-schema.org/draft/2020-12/schema");
        List<String> ops = new ArrayList<>();
        schema.at("/$defs/step/properties/op/enum").forEach(n -> ops.add(n.asText()));
        assertThat(ops).isEqualTo(Modules.standard().names());
        for (String op : ops) {
            assertThat(schema.at("/$defs/op-" + op + "/properties/op/const").asText()).isEqualTo(op);
        }
    }

    @Test
    void theSchemaNamesEveryFaultOfTheCatalog() {
        JsonNode schema = ScenarioSchema.read(ScenarioSchema.FILE);
        List<String> ids = new ArrayList<>();
        schema.at("/properties/faults/items/enum").forEach(n -> ids.add(n.asText()));
        List<String> catalog = Stream.of(org.hybridv.xen.Fault.values()).map(org.hybridv.xen.Fault::id).sorted()
                .toList();
        assertThat(ids).isEqualTo(catalog);
    }

    /** Mutations of a valid scenario that both the decoder and the schema must reject. */
    @TestFactory
    Stream<DynamicTest> inputsTheDecoderRejectsForSchemaReasonsAreRejectedByTheSchema() {
        JsonNode base = ScenarioSchema.read(ROOT.resolve("docs/examples/first-scenario.json"));
        List<Object[]> cases = List.of(
                mutation("unknown format", d -> d.put("format", "hybridv-scenario/2")),
                mutation("unknown top-level field", d -> d.put("author", "me")),
                mutation("missing machine", d -> d.remove("machine")),
                mutation("no steps", d -> d.putArray("steps")),
                mutation("blank title", d -> d.put("title", "  ")),
                mutation("unknown op", d -> step(d, 0).put("op", "ptee")),
                mutation("unknown step field", d -> step(d, 0).put("tabel", 1)),
                mutation("missing table", d -> step(d, 0).remove("table")),
                mutation("index 512", d -> step(d, 0).put("index", 512)),
                mutation("protection key 16", d -> ((ObjectNode) step(d, 0).get("entry")).put("protectionKey", 16)),
                mutation("raw with named fields", d -> ((ObjectNode) step(d, 0).get("entry")).put("raw", "0x1")),
                mutation("entry flag as a string", d -> ((ObjectNode) step(d, 0).get("entry")).put("present", "yes")),
                mutation("negative number", d -> step(d, 5).put("linear", -8)),
                mutation("number beyond 64 bits", d -> step(d, 5).put("linear",
                        new java.math.BigInteger("18446744073709551616"))),
                mutation("decimal string", d -> step(d, 5).put("linear", "4104")),
                mutation("fraction", d -> step(d, 5).put("linear", 1.5)),
                mutation("unknown access kind", d -> step(d, 5).put("kind", "exec")),
                mutation("value on a read", d -> step(d, 5).put("value", 1)),
                mutation("expect field of another result", d -> ((ObjectNode) step(d, 5).get("expect"))
                        .put("physical", 0)),
                mutation("unknown result", d -> ((ObjectNode) step(d, 5).get("expect")).put("result", "vmExit")),
                mutation("cpl 4", d -> step(d, 4).put("cpl", 4)),
                mutation("empty cr0", d -> step(d, 4).putObject("cr0")),
                mutation("unknown cr4 bit", d -> ((ObjectNode) step(d, 4).get("cr4")).put("la57", true)),
                mutation("maxPhysAddr 64", d -> ((ObjectNode) d.get("machine")).put("maxPhysAddr", 64)),
                mutation("tlb policy", d -> ((ObjectNode) d.get("machine")).put("tlb", "perfect")),
                mutation("origin without seed", d -> d.putObject("origin").put("kind", "property")
                        .put("property", "p")));
        ScenarioParser parser = new ScenarioParser(Modules.standard());
        return cases.stream().map(c -> DynamicTest.dynamicTest((String) c[0], () -> {
            ObjectNode doc = base.deepCopy();
            @SuppressWarnings("unchecked")
            Consumer<ObjectNode> change = (Consumer<ObjectNode>) c[1];
            change.accept(doc);
            ParseResult decoded = parser.parse("m.json", MAPPER.writeValueAsString(doc)
                    .getBytes(StandardCharsets.UTF_8));
            assertThat(decoded).as("the decoder rejects it").isInstanceOf(ParseResult.Rejected.class);
            assertThat(ScenarioSchema.problems(doc)).as("the schema rejects it").isNotEmpty();
        }));
    }

    private static Object[] mutation(String name, Consumer<ObjectNode> change) {
        return new Object[] {name, change};
    }

    private static ObjectNode step(ObjectNode doc, int i) {
        return (ObjectNode) doc.get("steps").get(i);
    }
}
