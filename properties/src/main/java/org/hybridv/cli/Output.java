package org.hybridv.cli;

import java.io.PrintWriter;
import org.hybridv.scenario.ScenarioError;

/** Where a command writes: results to out, errors to err (each error one line; a stack trace only with --debug). */
final class Output {
    final PrintWriter out;
    final PrintWriter err;
    final boolean debug;

    Output(PrintWriter out, PrintWriter err, boolean debug) {
        this.out = out;
        this.err = err;
        this.debug = debug;
    }

    /** The error's one line on err (after flushing out, so the two streams interleave in order on a terminal). */
    void error(ScenarioError e) {
        out.flush();
        err.println(e.line());
        if (debug && e.cause() != null) {
            e.cause().printStackTrace(err);
        }
        err.flush();
    }
}
