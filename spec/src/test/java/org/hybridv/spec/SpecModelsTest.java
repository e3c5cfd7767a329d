package org.hybridv.spec;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import edu.mit.csail.sdg.ast.Command;
import edu.mit.csail.sdg.parser.CompModule;

/**
 * Every command of every Alloy model under {@code spec/models}, one dynamic test each, in name order: the outcome
 * must equal the command's {@code expect}. An unexpected counterexample (or instance) is printed as text.
 */
class SpecModelsTest {
    static final Path MODELS = Path.of("models");

    @TestFactory
    Stream<DynamicTest> everyCommandMeetsItsExpect() {
        List<DynamicTest> tests = new ArrayList<>();
        for (ModelFile m : ModelSources.in(MODELS)) {
            if (m.library()) {
                continue;
            }
            SpecRunner.Parse p = SpecRunner.parse(m, SpecOptions.REPOSITORY_MODELS);
            if (p instanceof SpecRunner.Parse.Failed f) {
                tests.add(DynamicTest.dynamicTest(m.name() + " parses", () -> fail(f.error().toString())));
                continue;
            }
            SpecRunner.Parse.Parsed parsed = (SpecRunner.Parse.Parsed) p;
            CompModule world = parsed.module();
            Solvers.Choice solver = Solvers.choose(m.solver().orElse(Solvers.FALLBACK));
            List<Command> commands = new ArrayList<>(world.getAllCommands());
            commands.sort(Comparator.comparing(c -> c.label));
            for (Command c : commands) {
                tests.add(DynamicTest.dynamicTest(m.name() + " " + c.label, () -> check(m, parsed, c, solver)));
            }
        }
        return tests.stream();
    }

    private static void check(ModelFile m, SpecRunner.Parse.Parsed parsed, Command c, Solvers.Choice solver) {
        CommandResult r = SpecRunner.run(m, parsed, c, solver);
        System.out.printf("%s %s (%s): %s, expect %d, %s, %d ms%n", r.model(), r.command(), r.scope(),
                r.outcomeName(), r.expected(), r.solver(), r.millis());
        if (!r.matches()) {
            String instance = r.outcome() instanceof Outcome.Instance i ? "\n" + i.text() : "";
            fail(m.name() + " " + c.label + " (" + r.scope() + "): " + r.outcomeName() + " but expect "
                    + r.expected() + instance);
        }
    }
}
