package org.hybridv.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import edu.mit.csail.sdg.ast.Command;

/**
 * Vacuity (docs/spec.md, "Vacuity"): every {@code check NAME} of every model has a {@code run NAMEPremise} at the
 * same scope with {@code expect 1} — the assertion's premise (the antecedent of its implication, or the facts plus
 * the guard) is satisfiable where the check searches, so a check cannot pass because nothing satisfies its premise.
 * SpecModelsTest runs those commands and fails when one has no instance; this test fails when a check has no such
 * run (a missing run, another scope, or another expect).
 */
class VacuityConventionTest {
    @Test
    void everyCheckHasAPremiseRunAtItsScope() {
        List<String> problems = new ArrayList<>();
        int checks = 0;
        for (ModelFile m : ModelSources.in(SpecModelsTest.MODELS)) {
            SpecRunner.Parse p = SpecRunner.parse(m, SpecOptions.REPOSITORY_MODELS);
            assertThat(p).as(m.name()).isInstanceOf(SpecRunner.Parse.Parsed.class);
            List<Command> commands = new ArrayList<>(((SpecRunner.Parse.Parsed) p).module().getAllCommands());
            Map<String, Command> runs = commands.stream().filter(c -> !c.check)
                    .collect(Collectors.toMap(c -> c.label, Function.identity()));
            for (Command c : commands) {
                if (!c.check) {
                    continue;
                }
                checks++;
                Command premise = runs.get(c.label + "Premise");
                if (premise == null) {
                    problems.add(m.name() + ": check " + c.label + " has no run " + c.label + "Premise");
                } else if (!SpecRunner.scopeOf(premise).equals(SpecRunner.scopeOf(c))) {
                    problems.add(m.name() + ": run " + premise.label + " is for " + SpecRunner.scopeOf(premise)
                            + ", check " + c.label + " for " + SpecRunner.scopeOf(c));
                } else if (premise.expects != 1) {
                    problems.add(m.name() + ": run " + premise.label + " expects " + premise.expects + ", not 1");
                }
            }
        }
        assertThat(problems).isEmpty();
        assertThat(checks).as("checks found").isGreaterThanOrEqualTo(25);
    }
}
