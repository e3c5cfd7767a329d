package org.hybridv.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.hybridv.scenario.NumberedStep;
import org.hybridv.scenario.OperationRegistry;
import org.hybridv.scenario.ParseResult;
import org.hybridv.scenario.Scenario;
import org.hybridv.scenario.ScenarioParser;
import org.hybridv.scenario.Step;
import org.hybridv.scenario.modules.Modules;
import org.junit.jupiter.api.Test;

/**
 * Every step of every scenario in the corpus (counterexamples/ and docs/examples/) is written back by the record
 * that read it and read again: the same record. A step is its own JSON form, so writing is reading's inverse for
 * every op and field the corpus uses, hand-written or generated.
 */
class StepRoundTripTest {
    private static final OperationRegistry REGISTRY = Modules.standard();

    @Test
    void everyCorpusStepReadsBackAsItself() throws IOException {
        ScenarioParser parser = new ScenarioParser(REGISTRY);
        ObjectMapper mapper = REGISTRY.mapper();
        List<String> ops = new ArrayList<>();
        int steps = 0;
        for (Path file : corpus()) {
            ParseResult parsed = parser.parse(file.toString(), Files.readAllBytes(file));
            assertThat(parsed).as(file.toString()).isInstanceOf(ParseResult.Parsed.class);
            Scenario s = ((ParseResult.Parsed) parsed).scenario();
            com.fasterxml.jackson.databind.node.ObjectNode tree = (com.fasterxml.jackson.databind.node.ObjectNode)
                    mapper.readTree(file.toFile());
            com.fasterxml.jackson.databind.node.ArrayNode written = tree.putArray("steps");
            for (NumberedStep n : s.steps()) {
                written.add(mapper.readTree(mapper.writerFor(Step.class).writeValueAsString(n.step())));
                if (!ops.contains(n.step().op())) {
                    ops.add(n.step().op());
                }
            }
            ParseResult again = parser.parse(file + " (written back)", mapper.writeValueAsBytes(tree));
            assertThat(again).as(file + " written back: " + tree).isInstanceOf(ParseResult.Parsed.class);
            List<Step> read = ((ParseResult.Parsed) again).scenario().steps().stream().map(NumberedStep::step)
                    .toList();
            assertThat(read).as(file.toString()).isEqualTo(s.steps().stream().map(NumberedStep::step).toList());
            steps += read.size();
        }
        assertThat(steps).isGreaterThan(1000);
        assertThat(ops).as("ops the corpus uses").hasSizeGreaterThan(25);
    }

    private static List<Path> corpus() throws IOException {
        Path root = Path.of(System.getProperty("hybridv.home", "..")).toAbsolutePath().normalize();
        List<Path> out = new ArrayList<>();
        for (String dir : List.of("counterexamples", "docs/examples")) {
            try (Stream<Path> s = Files.walk(root.resolve(dir))) {
                s.filter(p -> p.toString().endsWith(".json") && !p.toString().contains("/alloy/")
                        && !p.getFileName().toString().equals("wrong-expectation.json")).sorted().forEach(out::add);
            }
        }
        return out;
    }
}
