package org.hybridv.spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The report of a run: per model, its commands or its error; a table in text form. */
public record SpecReport(List<ModelReport> models) {
    public SpecReport {
        models = List.copyOf(models);
    }

    public List<CommandResult> results() {
        List<CommandResult> all = new ArrayList<>();
        for (ModelReport m : models) {
            if (m instanceof ModelReport.Checked c) {
                all.addAll(c.results());
            }
        }
        return all;
    }

    /**
     * Why some input could not be analysed: a model that does not read or parse, and a command whose scope is too large
     * to translate (each at its place, {@code file:line:column}).
     */
    public List<ModelError> errors() {
        List<ModelError> all = new ArrayList<>();
        for (ModelReport m : models) {
            if (m instanceof ModelReport.Unparsable u) {
                all.add(u.error());
            } else if (m instanceof ModelReport.Checked c) {
                for (CommandResult r : c.results()) {
                    if (r.outcome() instanceof Outcome.TooLarge t) {
                        all.add(t.error());
                    }
                }
            }
        }
        return all;
    }

    /** Whether every model parsed and every command's outcome equals its {@code expect}. */
    public boolean allMatch() {
        return errors().isEmpty() && results().stream().allMatch(CommandResult::matches);
    }

    public long totalMillis() {
        return results().stream().mapToLong(CommandResult::millis).sum();
    }

    /** The report table: model, command, scope, outcome, expected, solver, time, ✓/✗. */
    public String table() {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"model", "command", "scope", "outcome", "expect", "solver", "time", ""});
        for (CommandResult r : results()) {
            rows.add(new String[] {r.model(), r.command(), r.scope(), r.outcomeName(),
                    r.expected() < 0 ? "none" : Integer.toString(r.expected()), r.solver(),
                    String.format(Locale.ROOT, "%.2f s", r.millis() / 1000.0), r.matches() ? "✓" : "✗"});
        }
        int[] w = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                w[i] = Math.max(w[i], row[i].length());
            }
        }
        StringBuilder s = new StringBuilder();
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                line.append(i == 0 ? "" : "  ").append(row[i]).append(" ".repeat(w[i] - row[i].length()));
            }
            s.append(line.toString().stripTrailing()).append('\n');
        }
        for (ModelError e : errors()) {
            s.append(e).append('\n');
        }
        long tooLarge = results().stream().filter(r -> r.outcome() instanceof Outcome.TooLarge).count();
        long failed = results().stream().filter(r -> !r.matches()).count() - tooLarge;
        long unparsable = models.stream().filter(m -> m instanceof ModelReport.Unparsable).count();
        s.append(String.format(Locale.ROOT, "%d commands in %d models, %d as expected, %d not, %s%d unparsable models; "
                        + "solve time %.1f s%n", results().size(), models.size(), results().size() - failed - tooLarge,
                failed, tooLarge == 0 ? "" : tooLarge + " too large to translate, ", unparsable,
                totalMillis() / 1000.0));
        return s.toString();
    }
}
