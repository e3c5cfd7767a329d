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
 * <p>Exit codes: 0 every expectation holds (or every file is valid); 1 some expectation does not hold; 2 unusable
 * input (bad arguments, a missing or unreadable path, a file that is not a valid scenario, a step the reference
 * cannot run); {@value #EXIT_INTERNAL} an internal error, which is a bug in hybridv.
 */
@Command(name = "hybridv",
        mixinStandardHelpOptions = true,
        versionProvider = Hybridv.Version.class,
        description = {"Executable reference for hybrid virtualization (x86 paging; VMX, EPT and the hypervisor follow).",
            "Replays scenario files (JSON, format " + Scenario.FORMAT + ") against the reference and checks their"
                    + " expectations."},
        subcommands = {CheckCommand.class, ReplayCommand.class, ValidateCommand.class, OpsCommand.class,
            SpecCommand.class, FaultsCommand.class, ExitsCommand.class, BenchCommand.class,
            CommandLine.HelpCommand.class},
        synopsisSubcommandLabel = "COMMAND",
        footerHeading = "%nExamples:%n",
        footer = {"  hybridv check                             every property at campaign budget, the corpus, a report",
            "  hybridv replay counterexamples/           replay every scenario",
            "  hybridv replay -q counterexamples/        only failures and summaries",
            "  hybridv validate my-scenario.json         check a file without running it",
            "  hybridv ops                               list the step operations",
            "  hybridv exits                             the exit table of the hybrid kernel per MMU mode",
            "  hybridv faults                            the kill matrix of the seeded faults",
            "  hybridv bench                             walks/s, actions/s, time to catch each fault",
            "  hybridv spec                              run the Alloy models (docs/spec.md)",
            "",
            "Exit codes: 0 all expectations hold, 1 some do not, 2 unusable input,",
            "70 internal error (a bug in hybridv). Format: docs/scenario-format.md"})
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
        Hybridv top = new Hybridv();
        CommandLine cl = new CommandLine(top);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            out.flush();
            err.println("hybridv: internal error: " + ex + (top.debug ? "" : " (run with --debug for the stack"
                    + " trace; this is a bug in hybridv)"));
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
