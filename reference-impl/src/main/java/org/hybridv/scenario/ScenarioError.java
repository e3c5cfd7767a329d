package org.hybridv.scenario;

/**
 * Why a scenario file is unusable, as a value: the file, where in it, and what is wrong. {@link #line()} is the one
 * line a person reads, in the form compilers use so that editors can jump to it:
 * {@code counterexamples/x.json:12:7: error: step 3 (pte): entry.frame: 70 is outside memory …}.
 *
 * @param source   the file as the user named it (or a description such as "(stdin)")
 * @param step     the 1-based step number, or 0 when the problem is not inside a step
 * @param op       the step's op when known, else null
 * @param location line and column in the file when known, else null
 * @param message  what is wrong
 * @param cause    the underlying exception, for {@code --debug}; null when there is none
 */
public record ScenarioError(String source, int step, String op, SourceLocation location, String message,
        Throwable cause) {
    public ScenarioError {
        if (source == null || message == null) {
            throw new IllegalArgumentException("a scenario error needs a source and a message");
        }
    }

    /** An error about a whole file or path (unreadable, missing, empty folder). */
    public static ScenarioError ofFile(String source, String message, Throwable cause) {
        return new ScenarioError(source, 0, null, null, message, cause);
    }

    /** The same error attributed to step {@code number} with op {@code op}, unless it already names a step. */
    public ScenarioError inStep(int number, String stepOp) {
        return step != 0 ? this : new ScenarioError(source, number, stepOp, location, message, cause);
    }

    /**
     * The one-line rendering: {@code FILE[:LINE:COL]: error: [step N (op): ]MESSAGE}, safe to print on a terminal:
     * the file name and the message (which may quote the input) have their control and bidi characters escaped
     * ({@link InputText#escape}).
     */
    public String line() {
        StringBuilder s = new StringBuilder(InputText.escape(source));
        if (location != null) {
            s.append(':').append(location);
        }
        s.append(": error: ");
        if (step > 0) {
            s.append("step ").append(step);
            if (op != null) {
                s.append(" (").append(InputText.escape(op)).append(')');
            }
            s.append(": ");
        }
        return s.append(InputText.escape(message)).toString();
    }
}
