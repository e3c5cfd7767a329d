package org.hybridv.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * One thing {@code hybridv check} found wrong, with everything a user needs to act on it: where (the scenario file
 * and the line of the step, or the model), which step and which check, what was expected and what was observed, and
 * the command that reproduces it. The console, report.json, report.md, the JUnit XML and the GitHub annotations all
 * print findings from this one record.
 *
 * @param phase     "spec", "property", "replay" or "input"
 * @param subject   the property, the scenario file, or the model and command
 * @param file      the file to open (a scenario, an Alloy model), or empty
 * @param line      the line in {@code file} (the failing step's), or 0 when unknown
 * @param step      the 1-based step, or 0 when the finding is not about a step
 * @param check     what was checked: an invariant and its rule, a step's expectation field, an Alloy command
 * @param expected  what the rules require
 * @param observed  what happened
 * @param reproduce commands that reproduce it, one per line
 */
public record Finding(String phase, String subject, String file, int line, int step, String check, String expected,
        String observed, List<String> reproduce) {
    public Finding {
        reproduce = List.copyOf(reproduce);
    }

    /** The console lines: a headline, then indented details and commands; input text escaped for the terminal. */
    public List<String> lines() {
        List<String> l = new ArrayList<>();
        String where = file.isEmpty() ? Printable.escape(subject) : Printable.escape(file) + (line > 0 ? ":" + line
                : "");
        l.add("✗ " + phase + " " + (file.isEmpty() || subject.equals(file) ? where : Printable.escape(subject) + " — "
                + where) + (step > 0 ? ", step " + step : "") + ": " + Printable.escape(check));
        l.add("    expected: " + Printable.escape(expected));
        l.add("    observed: " + Printable.escape(observed));
        for (String r : reproduce) {
            l.add("    reproduce: " + Printable.escape(r));
        }
        return l;
    }

    /** One line: where, step, check, expected and observed (JUnit messages, annotations). */
    public String summary() {
        return (file.isEmpty() ? subject : file + (line > 0 ? ":" + line : "")) + (step > 0 ? " step " + step : "")
                + ": " + check + ": expected " + expected + ", observed " + observed;
    }
}
