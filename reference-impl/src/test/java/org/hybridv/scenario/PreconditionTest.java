package org.hybridv.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.hybridv.scenario.ScenarioText.scenario;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.hybridv.scenario.x86.X86Module;
import org.junit.jupiter.api.Test;

/**
 * A module may declare a precondition on another module's op: checked before the executor, a problem ends the replay
 * as unusable input naming the step.
 */
class PreconditionTest {
    private static final Component<Boolean> LOCKED = Component.of("lock", Boolean.class);

    /** A toy layer: op "lock" sets a flag; while it is set, the x86 op "invlpg" is refused. */
    private static final class LockModule implements ScenarioModule {
        @com.fasterxml.jackson.annotation.JsonTypeName("lock")
        record LockStep() implements Step {
            @Override
            public String describe() {
                return "lock";
            }
        }

        @Override
        public String name() {
            return "lock";
        }

        @Override
        public void register(OperationRegistry.Builder r) {
            r.component(LOCKED, spec -> false);
            r.operation(Operation.of(LockStep.class, "set the lock", "{\"op\": \"lock\"}",
                    (s, step) -> new StepResult(s.with(LOCKED, true), Observation.of("ok", "locked"), List.of())));
            r.precondition("invlpg", s -> s.get(LOCKED) ? "invlpg is refused while locked; unlock first" : null);
        }
    }

    private static Replay replay(OperationRegistry registry, String text) {
        return new Scenarios(registry).replay("t.json", text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aPreconditionOnAnotherModulesOpRefusesTheStepWithItsMessage() {
        OperationRegistry registry = OperationRegistry.builder().install(new X86Module()).install(new LockModule())
                .build();
        Replay r = replay(registry, scenario("{\"op\": \"invlpg\", \"linear\": 0}", "{\"op\": \"lock\"}",
                "{\"op\": \"invlpg\", \"linear\": 0}", "{\"op\": \"invlpg\", \"linear\": 8}"));
        assertThat(r.verdict()).isEqualTo(Verdict.UNUSABLE);
        assertThat(r.steps()).as("the steps before the refused one ran").hasSize(2);
        assertThat(r.error().line()).isEqualTo("t.json:6:1: error: step 3 (invlpg): invlpg is refused while locked;"
                + " unlock first");
    }

    @Test
    void aPreconditionThatHoldsLetsTheStepRun() {
        OperationRegistry registry = OperationRegistry.builder().install(new X86Module()).install(new LockModule())
                .build();
        assertThat(registry.problem("invlpg", registry.initialState(new MachineSpec(16, 39,
                org.hybridv.x86.TlbPolicy.NONE)))).isNull();
        assertThat(replay(registry, scenario("{\"op\": \"invlpg\", \"linear\": 0}")).verdict())
                .isEqualTo(Verdict.PASSED);
    }

    @Test
    void aPreconditionOnAnOpNoModuleRegistersIsAProgrammingError() {
        OperationRegistry.Builder b = OperationRegistry.builder().install(new LockModule());
        assertThatThrownBy(b::build).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a precondition names op \"invlpg\", which no installed module registers");
    }
}
