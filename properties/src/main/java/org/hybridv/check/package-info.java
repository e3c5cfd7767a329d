/**
 * The checker: whole-system properties as plain functions ({@link org.hybridv.check.SystemProperty}),
 * the campaign engine that runs them from seeded choice streams and shrinks a failure
 * ({@link org.hybridv.check.Campaign}), counterexample capture as scenarios
 * ({@link org.hybridv.check.Capture}), the kill matrix of the seeded faults ({@link org.hybridv.check.KillMatrix})
 * and the report of {@code hybridv check}. The jqwik property classes under {@code mvn verify} call the same
 * {@code check} functions at the CI budget; {@code hybridv check} runs them at the campaign budget.
 */
package org.hybridv.check;
