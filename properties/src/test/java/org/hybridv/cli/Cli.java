package org.hybridv.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the hybridv command line in-process and captures what it prints. */
public final class Cli {
    private Cli() {}

    /**
     * What one run did.
     *
     * @param exit the exit code
     * @param out  stdout
     * @param err  stderr
     */
    public record Result(int exit, String out, String err) {
        /** stdout and stderr, for assertion messages. */
        public String all() {
            return "exit " + exit + "\n--- stdout ---\n" + out + "--- stderr ---\n" + err;
        }
    }

    public static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Hybridv.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(exit, out.toString(), err.toString());
    }
}
