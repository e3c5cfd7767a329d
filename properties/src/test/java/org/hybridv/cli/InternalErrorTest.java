package org.hybridv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * A bug in hybridv is exit 70 with one line, never a verdict: an exception or an {@link Error} (out of memory, stack
 * overflow) thrown by a command is not exit 0 ("holds") nor 1 ("found"); the stack trace only with --debug.
 */
class InternalErrorTest {
    @CommandLine.Command(name = "boom")
    static final class Boom implements Callable<Integer> {
        final Throwable what;

        Boom(Throwable what) {
            this.what = what;
        }

        @Override
        public Integer call() throws Exception {
            if (what instanceof Error e) {
                throw e;
            }
            throw (Exception) what;
        }
    }

    private static Cli.Result run(Throwable t, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = Hybridv.execute(args, new PrintWriter(out, true), new PrintWriter(err, true),
                cl -> cl.addSubcommand("boom", new Boom(t)));
        return new Cli.Result(exit, out.toString(), err.toString());
    }

    @Test
    void anErrorIsExit70WithOneLine() {
        for (Throwable t : new Throwable[] {new OutOfMemoryError("Java heap space"), new StackOverflowError(),
            new IllegalStateException("a bug")}) {
            Cli.Result r = run(t, "boom");
            assertThat(r.exit()).as(r.all()).isEqualTo(70);
            assertThat(r.err().lines().toList()).as(r.all()).hasSize(1);
            assertThat(r.err()).contains("internal error", t.getClass().getSimpleName()).doesNotContain("\tat ");
        }
    }

    @Test
    void debugShowsTheStackTrace() {
        Cli.Result r = run(new OutOfMemoryError("Java heap space"), "--debug", "boom");
        assertThat(r.exit()).isEqualTo(70);
        assertThat(r.err()).contains("OutOfMemoryError", "\tat ");
    }
}
