package org.hybridv.cli;

import java.util.concurrent.Callable;
import org.hybridv.scenario.Operation;
import org.hybridv.scenario.modules.Modules;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code hybridv ops}: the step operations this build knows, with their fields and an example each. */
@Command(name = "ops",
        mixinStandardHelpOptions = true,
        header = "List the step operations, their fields and an example each.",
        description = "Lists the step operations of the scenario format: what each does, its fields, an example.",
        footerHeading = "%nExample:%n",
        footer = "  hybridv ops")
final class OpsCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        for (Operation op : Modules.standard().operations()) {
            out.println(op.name() + " — " + op.synopsis());
            out.println("  fields:  " + String.join(", ", op.fields()));
            out.println("  example: " + op.example());
            out.println();
        }
        out.println("Details: docs/scenario-format.md");
        return 0;
    }
}
