package org.hybridv.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.hybridv.compare.Charts;
import org.hybridv.compare.Comparison;
import org.hybridv.compare.CostModel;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code hybridv compare}: the seed's performance comparison as a cost model's prediction — lmbench-like workloads and
 * a kernel-build mix run on native, software-only PV, shadow, HAP and the hybrid; events counted; priced by
 * {@code costs.json}; the seed's claims judged; sensitivity; optional SVG charts. Deterministic. docs/comparison.md.
 */
@Command(name = "compare",
        mixinStandardHelpOptions = true,
        header = "Predict the hybrid's performance from counted events and a cost model.",
        description = {"Runs lmbench-like workloads (null call, context switch, page fault, mmap/munmap, fork+exit,"
                + " exec) and a kernel-build mix on five platforms: native, software-only x86-64 PV (no VMX),"
                + " shadow, HAP and the hybrid (direct paging after SWITCH_MMU). Counts VM exits, hypercalls, PV"
                + " traps, CR3 switches, TLB flushes, TLB misses and page-walk memory references; prices them with"
                + " the cost model (cycles per event for a 2007 Core 2 and a later Skylake, each with its source,"
                + " most of them estimates given as ranges); prints the predicted time relative to native,"
                + " the seed's claims with a verdict, and which costs move each verdict.",
            "A cost model predicts; it does not measure a real machine. See docs/comparison.md."},
        footerHeading = "%nExamples:%n",
        footer = {"  hybridv compare", "  hybridv compare --json", "  hybridv compare --svg docs/comparison"})
final class CompareCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = "--json", description = "Print the report as JSON instead of text.")
    boolean json;

    @CommandLine.Option(names = "--svg", paramLabel = "DIR",
            description = "Also write the charts as SVG files into DIR (created if missing).")
    Path svg;

    @Override
    public Integer call() throws IOException {
        if (svg != null) {
            Optional<String> bad = PathChecks.writableFolder(svg);
            if (bad.isPresent()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--svg " + svg + ": " + bad.get());
            }
        }
        Comparison.Result result = Comparison.compute(CostModel.load());
        if (result instanceof Comparison.Disagreement d) {
            spec.commandLine().getErr().println("hybridv compare: nothing to compare: the lmbench workload " + d
                    + ". The platforms must do the same work as natively; this reference's kernel does not"
                    + " (hybridv check names the rule it breaks).");
            return 1;
        }
        Comparison.Report r = (Comparison.Report) result;
        var out = spec.commandLine().getOut();
        out.print(json ? Comparison.json(r) : Comparison.text(r));
        if (svg != null) {
            for (Path p : Charts.write(r, svg)) {
                spec.commandLine().getErr().println("wrote " + p);
            }
        }
        return 0;
    }
}
