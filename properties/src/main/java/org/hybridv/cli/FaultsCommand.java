package org.hybridv.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.hybridv.check.KillMatrix;
import org.hybridv.xen.Fault;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hybridv faults}: the kill matrix — each seeded fault of the catalog injected alone, the whole-system
 * properties run until one fails; exit 0 when every fault is caught, 1 otherwise. See docs/faults.md.
 */
@Command(name = "faults",
        mixinStandardHelpOptions = true,
        header = "Run the properties once per seeded fault and print the kill matrix.",
        description = {"For each fault of the catalog (docs/faults.md): inject it alone, run the whole-system"
                + " properties at the given budget until one fails, shrink the failure. Prints: fault, rule it"
                + " breaks, invariant that caught it, property, tries and time to the first failure, length of the"
                + " shrunk counterexample.",
            "Exit 0 when every fault is caught, 1 when some fault survives, 2 for unusable arguments."},
        footerHeading = "%nExamples:%n",
        footer = {"  hybridv faults", "  hybridv faults --save        also write counterexamples/found/*.json",
            "  hybridv faults --explore     the explorer's column: each fault in its configuration"})
final class FaultsCommand implements Callable<Integer> {
    @Option(names = "--tries", description = "Tries per property and fault (default ${DEFAULT-VALUE}).",
            defaultValue = "300")
    int tries;

    @Option(names = "--seed", description = "Campaign seed (default ${DEFAULT-VALUE}).", defaultValue = "20261123")
    long seed;

    @Option(names = "--save", description = "Write each shrunk counterexample to --found (never overwriting).")
    boolean save;

    @Option(names = "--found", paramLabel = "DIR", description = "Where --save writes (default: the checkout's "
            + "counterexamples/found/).")
    Path found;

    @Option(names = "--fault", description = "Only these faults (ids; repeatable).")
    List<String> only;

    @Option(names = "--explore", description = "Instead of the properties, explore each fault's configuration"
            + " (docs/explore.md: the fault → configuration map) breadth-first and report found or not, and the"
            + " depth of the shortest counterexample.")
    boolean explore;

    @Option(names = "--workers", paramLabel = "N", description = "With --explore: threads per exploration (default:"
            + " the available processors).")
    Integer workers;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        if (tries < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--tries: " + tries + " must be at least 1");
        }
        List<Fault> faults;
        try {
            faults = only == null ? List.of(Fault.values()) : org.hybridv.xen.Faults.parse(only).active().stream()
                    .toList();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--fault: " + e.getMessage());
        }
        if (explore) {
            return explore(out, faults);
        }
        if (workers != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--workers goes with --explore");
        }
        Optional<Path> dir = Optional.empty();
        if (save) {
            dir = Home.resolve(found, "counterexamples/found");
            if (dir.isEmpty()) {
                spec.commandLine().getErr().println("hybridv faults: --found: no default (hybridv is not running from"
                        + " a checkout); give --found DIR");
                return Hybridv.EXIT_UNUSABLE;
            }
            Optional<String> why = PathChecks.writableFolder(dir.get());
            if (why.isPresent()) {
                spec.commandLine().getErr().println("hybridv faults: --found " + Printable.escape(dir.get()
                        .toString()) + ": " + why.get());
                return Hybridv.EXIT_UNUSABLE;
            }
        }
        String fmt = "%-44s %-10s %-19s %-14s %7s %9s %7s%n";
        out.printf(fmt, "fault", "rule", "caught by", "property", "tries", "time", "steps");
        out.flush();
        List<KillMatrix.Row> rows = KillMatrix.run(faults, seed, tries, dir,
                r -> {
                    out.print(line(fmt, r));
                    out.flush();
                });
        long survived = rows.stream().filter(r -> r.caught().isEmpty()).count();
        out.println();
        out.println((rows.size() - survived) + " of " + rows.size() + " faults caught (seed " + seed + ", " + tries
                + " tries per property)" + (survived == 0 ? "" : "; SURVIVED: " + rows.stream()
                        .filter(r -> r.caught().isEmpty()).map(r -> r.fault().id()).toList()));
        return survived == 0 ? 0 : 1;
    }

    /** {@code --explore}: the explorer's column. Exit 0 when every fault with a configuration is found, else 1. */
    private int explore(PrintWriter out, List<Fault> faults) throws InterruptedException {
        if (save || found != null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--save and --found do not go with"
                    + " --explore (hybridv explore CONFIG --fault ID writes a counterexample)");
        }
        if (workers != null && (workers < 1 || workers > 1024)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--workers: " + workers
                    + " is outside 1..1024");
        }
        Optional<Path> configs = Home.resolve(null, "spec/configs");
        if (configs.isEmpty()) {
            spec.commandLine().getErr().println("hybridv faults: --explore: no spec/configs (hybridv is not running"
                    + " from a checkout)");
            return Hybridv.EXIT_UNUSABLE;
        }
        String fmt = "%-30s %-10s %-15s %-19s %5s %9s %9s%n";
        out.printf(fmt, "fault", "rule", "configuration", "found", "depth", "states", "time");
        out.flush();
        List<org.hybridv.explore.ExploreMatrix.Row> rows;
        try {
            rows = org.hybridv.explore.ExploreMatrix.run(faults, configs.get(), workers != null ? workers
                    : Runtime.getRuntime().availableProcessors(), r -> {
                        out.print(exploreLine(fmt, r));
                        out.flush();
                    });
        } catch (org.hybridv.explore.ExploreConfig.BadConfig e) {
            spec.commandLine().getErr().println("hybridv faults: " + Printable.escape(e.getMessage()));
            return Hybridv.EXIT_UNUSABLE;
        }
        long mapped = rows.stream().filter(r -> r.config().isPresent()).count();
        long found = rows.stream().filter(org.hybridv.explore.ExploreMatrix.Row::found).count();
        out.println();
        out.println(found + " of " + mapped + " faults with a configuration found by exploration; " + (rows.size()
                - mapped) + " without a configuration" + (found == mapped ? "" : "; NOT FOUND: " + rows.stream()
                        .filter(r -> r.config().isPresent() && !r.found()).map(r -> r.fault().id()).toList()));
        return found == mapped ? 0 : 1;
    }

    static String exploreLine(String fmt, org.hybridv.explore.ExploreMatrix.Row r) {
        if (r.exploration().isEmpty()) {
            return String.format(fmt, r.fault().id(), r.fault().rule(), "-", "no configuration", "-", "-", "-");
        }
        org.hybridv.explore.Exploration x = r.exploration().get();
        String found = r.violation().map(v -> v.invariant() + " " + v.rule()).orElse("NOT FOUND ("
                + x.result().outcome().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + ")");
        String depth = r.found() ? String.valueOf(x.result().finding().orElseThrow().depth()) : "-";
        return String.format(java.util.Locale.ROOT, fmt, r.fault().id(), r.fault().rule(), r.config().get(), found,
                depth, String.format(java.util.Locale.ROOT, "%,d", x.result().distinct()), String.format(
                        java.util.Locale.ROOT, "%.2f s", x.result().nanos() / 1e9));
    }

    static String line(String fmt, KillMatrix.Row r) {
        if (r.caught().isEmpty()) {
            return String.format(fmt, r.fault().id(), r.fault().rule(), "SURVIVED", "-", "-", "-", "-");
        }
        KillMatrix.Caught c = r.caught().get();
        return String.format(fmt, r.fault().id(), r.fault().rule(), c.violation().invariant() + " "
                + c.violation().rule(), c.property(), c.tries(), String.format("%.2f s", c.nanos() / 1e9),
                c.shrunkLength()) + c.written().map(w -> "    " + (w.created() ? "wrote " : "exists ") + w.file()
                        + System.lineSeparator()).orElse("");
    }
}
