package org.hybridv.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.hybridv.scenario.Scenario;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code hybridv} command line. {@link #execute} runs it in-process and returns the exit code (tests use it);
 * only {@link #main} exits.
 *
 * <p>Exit codes: 0 every expectation holds (or every file is valid); 1 something was found (a counterexample, an
 * expectation that does not hold); 2 unusable input (bad arguments, a missing or unreadable path, a file that is not
 * a valid scenario); 3 incomplete ({@code check}: a property ran too few tries or missed a coverage floor);
 * {@value #EXIT_INTERNAL} an internal error, which is a bug in hybridv, also for any {@link Error} such as
 * {@link OutOfMemoryError}; 130 interrupted.
 */
@Command(name = "hybridv",
        mixinStandardHelpOptions = true,
        versionProvider = Hybridv.Version.class,
        description = {"Executable reference and model checker for hybrid virtualization: x86 paging, VMX, EPT, a"
                + " Xen-like hypervisor and a hybrid kernel that switches from shadow to direct paging. Checks"
                + " Alloy models, whole-system properties and scenario files (JSON, format " + Scenario.FORMAT
                + ") against the reference."},
        subcommands = {CheckCommand.class, ReplayCommand.class, ValidateCommand.class, OpsCommand.class,
            SpecCommand.class, FaultsCommand.class, ExitsCommand.class, CompareCommand.class, BenchCommand.class,
            ExploreCommand.class,
            CommandLine.HelpCommand.class},
        synopsisSubcommandLabel = "COMMAND",
        footerHeading = "%nExamples:%n",
        footer = {"  hybridv check                        Alloy models, properties, corpus",
            "  hybridv replay counterexamples/      replay every scenario",
            "  hybridv replay -q counterexamples/   only failures and summaries",
            "  hybridv validate my.json             check a file, do not run it",
            "  hybridv ops                          the step operations",
            "  hybridv exits                        VM exits per MMU mode",
            "  hybridv compare                      hybrid vs native, PV, shadow, HAP",
            "  hybridv faults                       kill matrix of seeded faults",
            "  hybridv bench                        walks/s, actions/s, time to catch",
            "  hybridv explore spec/configs/isolation.json   every state, bounded",
            "  hybridv spec                         the Alloy models (docs/spec.md)",
            "",
            "Scenario format: docs/scenario-format.md"},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:every check holds",
            "1:something was found: a counterexample, a failed expectation",
            "2:unusable input: a bad option, path or file; the error names it",
            "3:incomplete: check ran too few tries or missed a coverage floor;"
                + " explore reached a bound before exhausting",
            "70:internal error, a bug in hybridv (--debug: the stack trace)",
            "130:interrupted (Ctrl-C)"})
public final class Hybridv implements java.util.concurrent.Callable<Integer> {
    /** Exit code for a bug in hybridv itself (sysexits EX_SOFTWARE). */
    public static final int EXIT_INTERNAL = 70;
    /** Exit code for unusable input. */
    public static final int EXIT_UNUSABLE = 2;

    @Option(names = "--debug", scope = ScopeType.INHERIT,
            description = "Show stack traces for errors (never shown otherwise).")
    boolean debug;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.out),
                StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(new FileOutputStream(FileDescriptor.err),
                StandardCharsets.UTF_8), true);
        int code = execute(args, out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs the command line with {@code args}, writing to {@code out} and {@code err}; returns the exit code. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        return execute(args, out, err, cl -> { });
    }

    /** {@link #execute(String[], PrintWriter, PrintWriter)} with {@code setup} applied to the command line first. */
    static int execute(String[] args, PrintWriter out, PrintWriter err,
            java.util.function.Consumer<CommandLine> setup) {
        Hybridv top = new Hybridv();
        CommandLine cl = new CommandLine(top);
        setup.accept(cl);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            out.flush();
            err.println("hybridv: internal error: " + Printable.quote(ex.toString()) + (top.debug ? ""
                    : " (run with --debug for the stack trace; this is a bug in hybridv)"));
            if (top.debug) {
                ex.printStackTrace(err);
            }
            err.flush();
            return EXIT_INTERNAL;
        });
        cl.setParameterExceptionHandler((ex, params) -> {
            CommandLine c = ex.getCommandLine();
            err.println("hybridv: " + ex.getMessage());
            err.println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for more information.");
            err.flush();
            return EXIT_UNUSABLE;
        });
        try {
            return cl.execute(args);
        } catch (Error e) {
            // An Error (OutOfMemoryError, StackOverflowError …) is never a verdict: exit 70 with one line.
            out.flush();
            err.println("hybridv: internal error: " + e.getClass().getSimpleName() + (e.getMessage() == null ? ""
                    : ": " + Printable.quote(e.getMessage())) + (top.debug ? "" : " (run with --debug for the stack"
                    + " trace)"));
            if (top.debug) {
                e.printStackTrace(err);
            }
            return EXIT_INTERNAL;
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** Without a command: the usage on stderr, and exit 2 (a command is required). */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return EXIT_UNUSABLE;
    }

    boolean debug() {
        return debug;
    }

    /** {@code --version}: the build's version and the scenario format it reads. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"hybridv " + version() + " (scenario format " + Scenario.FORMAT + ")",
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"};
        }

        static String version() {
            Properties p = new Properties();
            try (InputStream in = Hybridv.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            } catch (IOException e) {
                return "unknown";
            }
            String v = p.getProperty("version", "unknown");
            return v.startsWith("${") ? "unknown" : v;
        }
    }
}
