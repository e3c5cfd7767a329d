package org.hybridv.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.hybridv.cli.RepoRoot;
import org.hybridv.scenario.Operation;
import org.hybridv.scenario.ParseResult;
import org.hybridv.scenario.ScenarioParser;
import org.hybridv.scenario.modules.Modules;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every step example people copy from — the ```json blocks of docs/scenario-format.md and the examples
 * {@code hybridv ops} prints — is a valid step for the decoder and for the schema, and every op is documented.
 */
class DocumentedExamplesTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final ScenarioParser PARSER = new ScenarioParser(Modules.standard());

    static ParseResult asScenario(String step) {
        String text = "{\"format\": \"hybridv-scenario/1\", \"title\": \"example\", \"machine\": {\"memoryFrames\": 64,"
                + " \"maxPhysAddr\": 39}, \"steps\": [" + step + "]}";
        return PARSER.parse("example.json", text.getBytes(StandardCharsets.UTF_8));
    }

    static String verdict(ParseResult r) {
        return r instanceof ParseResult.Rejected rejected ? rejected.error().line() : "valid";
    }

    @TestFactory
    Stream<DynamicTest> everyStepExampleInTheFormatGuideIsValid() throws IOException {
        Path guide = RepoRoot.find().resolve("docs/scenario-format.md");
        List<String> blocks = new ArrayList<>();
        StringBuilder block = null;
        for (String line : Files.readAllLines(guide, StandardCharsets.UTF_8)) {
            if (block == null && line.equals("```json")) {
                block = new StringBuilder();
            } else if (block != null && line.equals("```")) {
                blocks.add(block.toString());
                block = null;
            } else if (block != null) {
                block.append(line).append('\n');
            }
        }
        List<JsonNode> steps = new ArrayList<>();
        for (String b : blocks) {
            List<JsonNode> values = values(b);
            if (values == null) {
                throw new AssertionError("a ```json block of docs/scenario-format.md is not JSON:\n" + b);
            }
            values.stream().filter(v -> v.has("op")).forEach(steps::add);
        }
        List<String> documented = steps.stream().map(s -> s.get("op").asText()).distinct().sorted().toList();
        assertThat(documented).as("every op has an example in the guide").isEqualTo(Modules.standard().names());
        return steps.stream().map(s -> DynamicTest.dynamicTest(s.toString(), () ->
                assertValid(MAPPER.writeValueAsString(s))));
    }

    /**
     * The JSON values of a block: a sequence of values ("{…}\n{…}"), a list of steps with trailing commas as in a
     * "steps" array ("{…},\n{…},"), or a fragment such as {@code "machine": {…}}; null if none of these parses.
     */
    private static List<JsonNode> values(String block) {
        String b = block.strip();
        List<String> candidates = List.of(b, "[" + b.replaceAll(",$", "") + "]", "{" + b + "}");
        for (String c : candidates) {
            try (MappingIterator<JsonNode> it = MAPPER.readerFor(JsonNode.class).readValues(c)) {
                List<JsonNode> out = new ArrayList<>();
                while (it.hasNext()) {
                    JsonNode v = it.next();
                    if (v.isArray()) {
                        v.forEach(out::add);
                    } else {
                        out.add(v);
                    }
                }
                return out;
            } catch (IOException | RuntimeException e) {
                // try the next reading
            }
        }
        return null;
    }

    @TestFactory
    Stream<DynamicTest> everyOpsExampleIsValid() {
        return Modules.standard().operations().stream().map(Operation::example).map(example ->
                DynamicTest.dynamicTest(example, () -> assertValid(example)));
    }

    /** The decoder accepts the step, and so does docs/scenario.schema.json. */
    private static void assertValid(String step) throws IOException {
        assertThat(verdict(asScenario(step))).isEqualTo("valid");
        String text = "{\"format\": \"hybridv-scenario/1\", \"title\": \"example\", \"machine\": {\"memoryFrames\": 64,"
                + " \"maxPhysAddr\": 39}, \"steps\": [" + step + "]}";
        assertThat(ScenarioSchema.problems(MAPPER.readTree(text))).as("schema problems").isEmpty();
    }
}
