/**
 * Layer 6 of the reference: the scenario format ({@value org.hybridv.scenario.Scenario#FORMAT}) and its
 * interpreter. A scenario is a JSON file: a machine, then steps, each optionally with an expectation. Counterexamples
 * from properties and hand-written regressions are scenarios; {@code docs/scenario-format.md} is the user's guide.
 *
 * <p>How it fits together:
 * <ul>
 * <li>{@link org.hybridv.scenario.JsonDocument} reads the file with Jackson's streaming parser into Jackson's tree,
 * keeping the line and column of every value and field name.</li>
 * <li>Every part of the file is bound by Jackson data binding to a record ({@link org.hybridv.scenario.Binder}):
 * each operation is one record that is its own JSON form, with its ranges declared on its components
 * ({@link org.hybridv.scenario.Values}) and its combined rules in its compact constructor
 * ({@link org.hybridv.scenario.Bad}); a failure becomes a {@link org.hybridv.scenario.ScenarioError} placed
 * through the document's location index. Writing a step is serializing its record with the same mapper.</li>
 * <li>{@link org.hybridv.scenario.ScenarioParser} binds the top level and hands each step to the record its
 * {@code op} names in the {@link org.hybridv.scenario.OperationRegistry}. Each layer registers its own operations
 * through a {@link org.hybridv.scenario.ScenarioModule} (the x86 layer's is
 * {@code org.hybridv.scenario.x86.X86Module}), so there is no central switch.</li>
 * <li>{@link org.hybridv.scenario.Replayer} runs the steps, {@code state = f(state, step)}, over an immutable
 * {@link org.hybridv.scenario.MachineState} whose components belong to the modules.</li>
 * <li>Results are values: {@link org.hybridv.scenario.ParseResult}, {@link org.hybridv.scenario.Replay},
 * {@link org.hybridv.scenario.ScenarioError}. Nothing here prints or exits.</li>
 * </ul>
 */
package org.hybridv.scenario;
