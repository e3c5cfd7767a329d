package org.hybridv.spec;

/**
 * One command of one model, run: what it is, what it found, what its {@code expect} says, which SAT solver ran it
 * and how long it took (the time is reported only; no decision depends on it).
 *
 * @param expected the command's {@code expect} (0 or 1), or -1 when it has none (a mismatch: every command of the
 *                 models states one)
 * @param solver   the solver that ran, e.g. {@code minisat}, or {@code sat4j (fallback from minisat: …)}
 */
public record CommandResult(String model, String command, boolean check, String scope, Outcome outcome,
        int expected, String solver, long millis) {

    public boolean matches() {
        return expected >= 0 && !(outcome instanceof Outcome.TooLarge) && outcome.asExpect() == expected;
    }

    /** "counterexample"/"no counterexample" for a check, "instance"/"no instance" for a run, or "scope too large". */
    public String outcomeName() {
        if (outcome instanceof Outcome.TooLarge) {
            return "scope too large";
        }
        boolean found = outcome instanceof Outcome.Instance;
        if (check) {
            return found ? "counterexample" : "no counterexample";
        }
        return found ? "instance" : "no instance";
    }
}
