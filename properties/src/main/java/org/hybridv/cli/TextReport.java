package org.hybridv.cli;

import java.util.List;
import org.hybridv.scenario.Check;
import org.hybridv.scenario.NotRun;
import org.hybridv.scenario.Origin;
import org.hybridv.scenario.Replay;
import org.hybridv.scenario.Scenario;
import org.hybridv.scenario.StepReport;
import org.hybridv.scenario.Verdict;

/**
 * The human trace of {@code hybridv replay}:
 * <pre>
 * docs/examples/first-scenario.json: a user-mode write to a read-only page faults with P|W|U
 *   step 1  pte          table 0x1[0] := 0x2007 (P RW US frame 0x2)
 *   step 8  access       write 0x8 value 0x1234 → #PF error code 0x7 (P|W|U), CR2 0x8  ✓
 * PASS docs/examples/first-scenario.json (8 steps, 9 checks)
 * </pre>
 * When the machine diverged from the scenario (a check failed) and a later step then could not run, that step is
 * shown as {@code not run} with the reason, and the summary counts the steps run: {@code FAIL f.json (8 of 10 steps
 * run, …)}. A failing check is shown under its step: {@code errorCode: expected 0x5 (P|U), observed 0x7 (P|W|U)}. Every
 * string that came from the input (file names, titles, descriptions, values) is printed with its control and bidi
 * characters escaped ({@link Printable#escape}).
 */
final class TextReport {
    static final String HOLDS = "✓";
    static final String FAILS = "✗";

    private final Output output;
    private final boolean quiet;

    TextReport(Output output, boolean quiet) {
        this.output = output;
        this.quiet = quiet;
    }

    void replay(Replay r) {
        Scenario s = r.scenario();
        if (s != null && !quiet) {
            output.out.println(esc(r.source()) + ": " + esc(s.title()));
            if (s.origin() instanceof Origin.Property p) {
                output.out.println("  origin: property " + esc(p.property()) + ", seed " + esc(p.seed()));
            }
            if (s.violates() != null) {
                output.out.println("  violates: " + esc(s.violates()));
            }
        }
        if (s != null && !s.faults().isEmpty() && !quiet) {
            output.out.println("  faults: " + esc(String.join(", ", s.faults())) + " (injected; docs/faults.md)");
        }
        int width = s == null ? 1 : String.valueOf(s.steps().size()).length();
        for (StepReport step : r.steps()) {
            if (!quiet || !step.holds()) {
                step(step, width);
            }
        }
        if (r.error() != null) {
            output.error(r.error());
            return;
        }
        NotRun notRun = r.notRun();
        if (notRun != null) {
            notRun(notRun, width);
        }
        int steps = r.steps().size();
        String counts = (notRun == null ? steps + (steps == 1 ? " step, " : " steps, ")
                : steps + " of " + (steps + notRun.count()) + " steps run, ") + r.checks()
                + (r.checks() == 1 ? " check" : " checks");
        if (r.verdict() == Verdict.PASSED) {
            output.out.println("PASS " + esc(r.source()) + " (" + counts + ")");
        } else {
            List<String> failing = r.failedSteps().stream().map(x -> String.valueOf(x.step().number())).toList();
            output.out.println("FAIL " + esc(r.source()) + " (" + counts + "; " + r.failedChecks() + " failed, in step"
                    + (failing.size() == 1 ? " " : "s ") + String.join(", ", failing) + ")");
        }
        if (!quiet) {
            output.out.println();
        }
    }

    private void step(StepReport step, int width) {
        StringBuilder line = new StringBuilder("  step ");
        line.append(pad(String.valueOf(step.step().number()), width, true)).append("  ");
        line.append(pad(esc(step.step().step().op()), 11, false)).append("  ");
        line.append(esc(step.step().step().describe()));
        String observed = step.result().observed().text();
        if (!observed.isEmpty()) {
            line.append(" → ").append(esc(observed));
        }
        if (!step.result().checks().isEmpty()) {
            line.append("  ").append(step.holds() ? HOLDS : FAILS);
        }
        output.out.println(line);
        String indent = " ".repeat(8 + width + 2);
        for (Check c : step.result().checks()) {
            if (!c.holds()) {
                output.out.println(indent + FAILS + " " + esc(c.toString()));
            }
        }
        if (!quiet) {
            for (String note : step.result().notes()) {
                output.out.println(indent + "note: " + esc(note));
            }
        }
    }

    /** The step that could not run after the divergence, why, and the steps not run. */
    private void notRun(NotRun n, int width) {
        output.out.println("  step " + pad(String.valueOf(n.step()), width, true) + "  " + pad(esc(n.op()), 11, false)
                + "  not run: " + esc(n.reason()));
        String indent = " ".repeat(8 + width + 2);
        output.out.println(indent + "(the machine diverged from the scenario at step " + n.divergedAt() + "; "
                + (n.count() == 1 ? "step " + n.step() : "steps " + n.step() + "–" + n.last()) + " not run)");
    }

        void totals(List<Verdict> verdicts) {
        long passed = verdicts.stream().filter(v -> v == Verdict.PASSED).count();
        long failed = verdicts.stream().filter(v -> v == Verdict.FAILED).count();
        long unusable = verdicts.stream().filter(v -> v == Verdict.UNUSABLE).count();
        output.out.println(verdicts.size() + (verdicts.size() == 1 ? " scenario: " : " scenarios: ") + passed
                + " passed, " + failed + " failed, " + unusable + " unusable");
    }

    /** Text from (or built from) the input, escaped for the terminal. */
    private static String esc(String s) {
        return Printable.escape(s);
    }

    private static String pad(String s, int width, boolean left) {
        if (s.length() >= width) {
            return s;
        }
        String fill = " ".repeat(width - s.length());
        return left ? fill + s : s + fill;
    }
}
