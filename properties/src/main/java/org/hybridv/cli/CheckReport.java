package org.hybridv.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;
import org.hybridv.check.AtomicFiles;
import org.hybridv.check.Coverage;
import org.hybridv.compare.Charts;
import org.hybridv.compare.Comparison;
import org.hybridv.compare.CostModel;
import org.hybridv.spec.CommandResult;

/**
 * The outputs of {@code hybridv check}, all printed from one {@link CheckRun}: the console summary, report.json,
 * report.md (real Markdown: tables, the coverage of each property, links to the written scenarios), JUnit XML for CI
 * servers, and GitHub Actions annotations. Everything but the {@code run} section of report.json (version, commit,
 * start, workers, durations) and the timings is the same bytes for the same seed and tries.
 */
final class CheckReport {
    private CheckReport() {}

    private static final String ROW = "%-22s %-14s %11s  %s%n";

    /** The console summary: one row per phase or property, the findings, what is incomplete, the exit. */
    static String summary(CheckRun r) {
        StringBuilder b = new StringBuilder();
        b.append(System.lineSeparator());
        b.append(String.format(ROW, "check", "verdict", "runs", "detail"));
        if (r.spec.isPresent()) {
            long bad = r.spec.get().results().stream().filter(x -> !x.matches()).count() + r.spec.get().errors().size();
            b.append(String.format(ROW, "spec (Alloy)", bad == 0 ? "passed" : "FAILED", r.spec.get().results().size(),
                    (bad == 0 ? "every command meets its expect" : bad + " commands do not meet their expect or do not"
                            + " parse") + "; models: " + r.settings.models()));
        }
        for (CheckRun.PropertyRow p : r.properties) {
            b.append(String.format(ROW, p.name(), p.verdict(), p.triesRun() + "/" + p.triesAsked(), p.detail()));
            if (!p.floors().isEmpty() && r.settings.floors()) {
                b.append(String.format(ROW, "", "", "", "coverage: " + (p.floors().size() - p.missed().size())
                        + " of " + p.floors().size() + " floors met"));
            }
            p.counterexample().ifPresent(f -> b.append(String.format(ROW, "", "", "", "counterexample: "
                    + Printable.escape(f.toString()))));
        }
        if (r.replayRan) {
            long failed = r.replays.stream().filter(x -> x.verdict().equals("FAILED")).count();
            long unusable = r.replays.stream().filter(x -> x.verdict().equals("unusable")).count();
            b.append(String.format(ROW, "replay corpus", failed == 0 && unusable == 0 ? "passed" : "FAILED",
                    r.replays.size(), failed + " failed, " + unusable + " unusable; " + Printable.escape(r.corpus)));
        }
        if (!r.findings.isEmpty()) {
            b.append(System.lineSeparator()).append(r.findings.size()).append(r.findings.size() == 1 ? " finding:"
                    : " findings:").append(System.lineSeparator());
            for (Finding f : r.findings) {
                f.lines().forEach(l -> b.append(l).append(System.lineSeparator()));
            }
        }
        if (!r.incomplete.isEmpty()) {
            b.append(System.lineSeparator()).append("incomplete (exit 3 unless something was found):")
                    .append(System.lineSeparator());
            for (CheckRun.Incomplete i : r.incomplete) {
                b.append("  ").append(i.subject()).append(": ").append(i.reason()).append(System.lineSeparator());
            }
        }
        CheckRun.Settings s = r.settings;
        b.append(String.format("%nseed %d, %d tries per property%s, shard %d/%d, %d worker%s; exit %d (%s)%n",
                s.seed(), s.tries(), s.onlyTry() != null ? " (try " + s.onlyTry() + " only)" : s.fromTry() > 0
                        ? " from try " + s.fromTry() : "", s.shard(), s.shards(), s.workers(),
                s.workers() == 1 ? "" : "s", r.exit(), r.verdict()));
        if (r.interrupted) {
            b.append("interrupted: the summary above covers what ran before the interruption").append(System
                    .lineSeparator());
            r.resumeFrom.ifPresent(t -> b.append("resume:    ").append(s.launcher()).append(" check --seed ")
                    .append(s.seed()).append(" --tries ").append(s.tries()).append(" --shard ").append(s.shard())
                    .append("/").append(s.shards()).append(" --from-try ").append(t).append(System.lineSeparator()));
            b.append("reproduce: ").append(Printable.escape(s.command())).append(System.lineSeparator());
        }
        return b.toString();
    }

    /** report.json. */
    static ObjectNode json(CheckRun r) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode doc = f.objectNode();
        doc.put("tool", "hybridv check");
        doc.put("version", r.version);
        doc.put("commit", r.commit);
        CheckRun.Settings s = r.settings;
        doc.put("seed", s.seed());
        doc.put("tries", s.tries());
        doc.put("fromTry", s.fromTry());
        if (s.onlyTry() != null) {
            doc.put("try", s.onlyTry());
        }
        doc.put("shard", s.shard() + "/" + s.shards());
        doc.put("minTries", s.minTries());
        doc.put("floors", s.floors());
        doc.put("shrink", s.shrink());
        if (s.timeSeconds() != null) {
            doc.put("timeBudgetSeconds", s.timeSeconds());
        }
        doc.put("exit", r.exit());
        doc.put("verdict", r.verdict());
        doc.put("interrupted", r.interrupted);
        if (r.spec.isPresent()) {
            ObjectNode sp = doc.putObject("spec");
            sp.put("models", s.models());
            sp.put("commands", r.spec.get().results().size());
            sp.put("mismatched", r.spec.get().results().stream().filter(x -> !x.matches()).count());
            sp.put("errors", r.spec.get().errors().size());
        }
        ArrayNode ps = doc.putArray("properties");
        for (CheckRun.PropertyRow p : r.properties) {
            ObjectNode o = ps.addObject();
            o.put("name", p.name()).put("kind", p.layer() ? "layer" : "whole-system").put("triesRun", p.triesRun())
                    .put("triesAsked", p.triesAsked()).put("verdict", p.verdict()).put("detail", p.detail());
            p.counterexample().ifPresent(c -> o.put("counterexample", c.toString()));
            if (p.layer()) {
                ArrayNode each = o.putArray("properties");
                for (org.hybridv.properties.LayerCampaign.Outcome x : p.outcomes()) {
                    ObjectNode e = each.addObject().put("property", x.method()).put("tries", x.tries())
                            .put("checks", x.checks()).put("status", x.status().name().toLowerCase(
                                    java.util.Locale.ROOT));
                    if (!x.sample().isEmpty()) {
                        e.put("sample", x.sample());
                    }
                    if (!x.message().isEmpty()) {
                        e.put("message", x.message());
                    }
                }
            }
            ObjectNode cov = o.putObject("coverage");
            p.coverage().counts().forEach((label, values) -> {
                ObjectNode l = cov.putObject(label);
                values.forEach(l::put);
            });
            ArrayNode fl = o.putArray("floors");
            for (Coverage.Floor floor : p.floors()) {
                fl.addObject().put("floor", floor.toString()).put("observedPercent", round(floor.observed(p
                        .coverage()))).put("met", !p.missed().contains(floor));
            }
        }
        if (r.replayRan) {
            ObjectNode rp = doc.putObject("replay");
            rp.put("corpus", r.corpus);
            rp.put("scenarios", r.replays.size());
            rp.put("failed", r.replays.stream().filter(x -> x.verdict().equals("FAILED")).count());
            rp.put("unusable", r.replays.stream().filter(x -> x.verdict().equals("unusable")).count());
        }
        ArrayNode fs = doc.putArray("findings");
        for (Finding x : r.findings) {
            ObjectNode o = fs.addObject();
            o.put("phase", x.phase()).put("subject", x.subject()).put("file", x.file()).put("line", x.line())
                    .put("step", x.step()).put("check", x.check()).put("expected", x.expected())
                    .put("observed", x.observed());
            x.reproduce().forEach(o.putArray("reproduce")::add);
        }
        ArrayNode inc = doc.putArray("incomplete");
        r.incomplete.forEach(i -> inc.addObject().put("subject", i.subject()).put("reason", i.reason()));
        ObjectNode run = doc.putObject("run");
        run.put("command", s.command());
        run.put("workers", s.workers());
        run.put("started", r.started.toString());
        ObjectNode secs = run.putObject("seconds");
        r.seconds.forEach((k, v) -> secs.put(k, round(v)));
        return doc;
    }

    /** report.md: tables, findings, what is incomplete, each property's coverage, links to the scenarios. */
    static String markdown(CheckRun r, Path reportDir) {
        StringBuilder b = new StringBuilder();
        CheckRun.Settings s = r.settings;
        b.append("# hybridv check: ").append(r.verdict()).append("\n\n");
        b.append("Exit ").append(r.exit()).append(". Seed ").append(s.seed()).append(", ").append(s.tries())
                .append(" tries per property").append(s.onlyTry() != null ? " (try " + s.onlyTry() + " only)" : "")
                .append(", shard ").append(s.shard()).append("/").append(s.shards()).append(". hybridv ")
                .append(r.version).append(", commit `").append(r.commit).append("`.")
                .append(r.interrupted ? " **Interrupted**: this report covers what ran before the interruption." : "")
                .append("\n\n");
        b.append("| check | verdict | runs | detail |\n|---|---|---:|---|\n");
        if (r.spec.isPresent()) {
            long bad = r.spec.get().results().stream().filter(x -> !x.matches()).count() + r.spec.get().errors().size();
            b.append("| spec (Alloy) | ").append(bad == 0 ? "passed" : "**FAILED**").append(" | ")
                    .append(r.spec.get().results().size()).append(" | ").append(bad == 0 ? "every command meets its"
                            + " expect" : bad + " commands do not meet their expect or do not parse")
                    .append("; models: ").append(md(s.models())).append(" |\n");
        }
        for (CheckRun.PropertyRow p : r.properties) {
            b.append("| ").append(p.name()).append(" | ").append(p.verdict().equals("passed") ? "passed" : "**"
                    + p.verdict() + "**").append(" | ").append(p.triesRun()).append("/").append(p.triesAsked())
                    .append(" | ").append(md(p.detail()));
            p.counterexample().ifPresent(c -> b.append(" ").append(link(c, reportDir)));
            b.append(" |\n");
        }
        if (r.replayRan) {
            long failed = r.replays.stream().filter(x -> x.verdict().equals("FAILED")).count();
            long unusable = r.replays.stream().filter(x -> x.verdict().equals("unusable")).count();
            b.append("| replay corpus | ").append(failed + unusable == 0 ? "passed" : "**FAILED**").append(" | ")
                    .append(r.replays.size()).append(" | ").append(failed).append(" failed, ").append(unusable)
                    .append(" unusable |\n");
        }
        if (!r.findings.isEmpty()) {
            b.append("\n## Findings\n\n| where | step | check | expected | observed | reproduce |\n"
                    + "|---|---:|---|---|---|---|\n");
            for (Finding f : r.findings) {
                String where = f.file().isEmpty() ? md(f.subject()) : link(Path.of(f.file()), reportDir)
                        + (f.line() > 0 ? " line " + f.line() : "");
                b.append("| ").append(where).append(" | ").append(f.step() > 0 ? f.step() : "").append(" | ")
                        .append(md(f.check())).append(" | ").append(md(f.expected())).append(" | ")
                        .append(md(f.observed())).append(" | ");
                b.append(String.join("<br>", f.reproduce().stream().map(c -> "`" + c.replace("`", "'") + "`")
                        .toList())).append(" |\n");
            }
        }
        if (!r.incomplete.isEmpty()) {
            b.append("\n## Incomplete\n\n");
            r.incomplete.forEach(i -> b.append("- ").append(md(i.subject())).append(": ").append(md(i.reason()))
                    .append("\n"));
        }
        if (r.properties.stream().anyMatch(CheckRun.PropertyRow::layer)) {
            b.append("\n## Layer properties\n\n| layer property | property | outcome | tries | checks |\n"
                    + "|---|---|---|---:|---:|\n");
            for (CheckRun.PropertyRow p : r.properties) {
                for (org.hybridv.properties.LayerCampaign.Outcome x : p.outcomes()) {
                    String st = x.status().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
                    b.append("| ").append(p.name()).append(" | ").append(x.method()).append(" | ")
                            .append(x.status() == org.hybridv.properties.LayerCampaign.Status.PASSED ? st : "**" + st
                                    + "**").append(" | ").append(x.tries()).append(" | ").append(x.checks())
                            .append(" |\n");
                }
            }
        }
        for (CheckRun.PropertyRow p : r.properties) {
            if (p.coverage().counts().isEmpty()) {
                continue;
            }
            b.append("\n## Coverage: ").append(p.name()).append("\n\n");
            if (!p.floors().isEmpty()) {
                b.append("| floor | observed | met |\n|---|---:|---|\n");
                for (Coverage.Floor floor : p.floors()) {
                    b.append("| ").append(md(floor.toString())).append(" | ")
                            .append(Coverage.fmt(round(floor.observed(p.coverage())))).append(" % | ")
                            .append(p.missed().contains(floor) ? "**no**" : "yes").append(" |\n");
                }
                b.append("\n");
            }
            b.append("| label | value | count | % of label |\n|---|---|---:|---:|\n");
            for (Map.Entry<String, Map<String, Long>> l : p.coverage().counts().entrySet()) {
                long total = l.getValue().values().stream().mapToLong(Long::longValue).sum();
                for (Map.Entry<String, Long> v : l.getValue().entrySet()) {
                    b.append("| ").append(md(l.getKey())).append(" | ").append(md(v.getKey())).append(" | ")
                            .append(v.getValue()).append(" | ")
                            .append(Coverage.fmt(round(100.0 * v.getValue() / total))).append(" |\n");
                }
            }
        }
        b.append("\n## Run\n\n| | |\n|---|---|\n");
        b.append("| command | `").append(s.command().replace("`", "'")).append("` |\n");
        b.append("| started | ").append(r.started).append(" |\n");
        b.append("| workers | ").append(s.workers()).append(" |\n");
        r.seconds.forEach((k, v) -> b.append("| ").append(k).append(" | ").append(Coverage.fmt(round(v)))
                .append(" s |\n"));
        return b.toString();
    }

    /**
     * JUnit XML (the Ant/Surefire schema GitHub Actions, GitLab and Jenkins read): one test suite per phase, one test
     * case per Alloy command, property and replayed scenario; a finding is a failure, a property not checked or
     * missing a coverage floor is skipped with the reason.
     */
    static String junit(CheckRun r) {
        StringWriter w = new StringWriter();
        try {
            XMLStreamWriter x = XMLOutputFactory.newInstance().createXMLStreamWriter(w);
            x.writeStartDocument("UTF-8", "1.0");
            x.writeCharacters("\n");
            x.writeStartElement("testsuites");
            x.writeAttribute("name", "hybridv check");
            if (r.spec.isPresent()) {
                List<CommandResult> rs = r.spec.get().results();
                suite(x, "hybridv.spec", rs.size() + r.spec.get().errors().size(), rs.stream().filter(c ->
                        !c.matches()).count() + r.spec.get().errors().size(), 0);
                for (CommandResult c : rs) {
                    x.writeCharacters("\n    ");
                    x.writeStartElement("testcase");
                    x.writeAttribute("classname", "hybridv.spec." + c.model().replace('/', '.'));
                    x.writeAttribute("name", c.command());
                    x.writeAttribute("time", secs(c.millis() / 1000.0));
                    for (Finding f : r.findings) {
                        if (f.phase().equals("spec") && f.subject().equals(c.model() + " " + c.command())) {
                            failure(x, f);
                        }
                    }
                    x.writeEndElement();
                }
                for (Finding f : r.findings) {
                    if (f.phase().equals("spec") && f.check().equals("the model parses")) {
                        x.writeCharacters("\n    ");
                        x.writeStartElement("testcase");
                        x.writeAttribute("classname", "hybridv.spec");
                        x.writeAttribute("name", clean(f.subject()));
                        failure(x, f);
                        x.writeEndElement();
                    }
                }
                x.writeCharacters("\n  ");
                x.writeEndElement();
            }
            if (r.propertiesRan) {
                long skipped = r.properties.stream().filter(CheckReport::skipped).count();
                long failed = r.properties.stream().filter(p -> !p.verdict().equals("passed") && !skipped(p))
                        .count();
                suite(x, "hybridv.properties", r.properties.size(), failed, skipped);
                for (CheckRun.PropertyRow p : r.properties) {
                    x.writeCharacters("\n    ");
                    x.writeStartElement("testcase");
                    x.writeAttribute("classname", "hybridv.property");
                    x.writeAttribute("name", p.name());
                    x.writeAttribute("time", secs(r.seconds.getOrDefault("properties", 0.0)));
                    boolean hasFinding = false;
                    for (Finding f : r.findings) {
                        if (f.phase().equals("property") && f.subject().equals(p.name())) {
                            failure(x, f);
                            hasFinding = true;
                        }
                    }
                    if (!hasFinding && skipped(p)) {
                        x.writeStartElement("skipped");
                        x.writeAttribute("message", clean(p.verdict().equals("incomplete") && !p.layer()
                                ? "coverage floors missed: " + p.missed() : p.detail()));
                        x.writeEndElement();
                    }
                    x.writeEndElement();
                }
                x.writeCharacters("\n  ");
                x.writeEndElement();
            }
            if (r.replayRan) {
                long failed = r.replays.stream().filter(p -> !p.verdict().equals("passed")).count();
                suite(x, "hybridv.replay", r.replays.size(), failed, 0);
                for (CheckRun.ReplayRow p : r.replays) {
                    x.writeCharacters("\n    ");
                    x.writeStartElement("testcase");
                    x.writeAttribute("classname", "hybridv.replay");
                    x.writeAttribute("name", clean(p.source()));
                    for (Finding f : r.findings) {
                        if (f.phase().equals("replay") && f.subject().equals(p.source())) {
                            failure(x, f);
                        }
                    }
                    x.writeEndElement();
                }
                x.writeCharacters("\n  ");
                x.writeEndElement();
            }
            x.writeCharacters("\n");
            x.writeEndElement();
            x.writeEndDocument();
            x.close();
        } catch (XMLStreamException e) {
            throw new IllegalStateException("writing JUnit XML failed", e);
        }
        return w + "\n";
    }

    /** A property that ran without a finding but is not checked enough: JUnit's skipped. */
    private static boolean skipped(CheckRun.PropertyRow p) {
        return p.verdict().equals("not checked") || p.verdict().equals("interrupted") || p.verdict().equals(
                "incomplete");
    }

    private static void suite(XMLStreamWriter x, String name, long tests, long failures, long skipped)
            throws XMLStreamException {
        x.writeCharacters("\n  ");
        x.writeStartElement("testsuite");
        x.writeAttribute("name", name);
        x.writeAttribute("tests", Long.toString(tests));
        x.writeAttribute("failures", Long.toString(failures));
        x.writeAttribute("errors", "0");
        x.writeAttribute("skipped", Long.toString(skipped));
    }

    private static void failure(XMLStreamWriter x, Finding f) throws XMLStreamException {
        x.writeStartElement("failure");
        x.writeAttribute("message", clean(f.summary()));
        x.writeAttribute("type", clean(f.check()));
        x.writeCharacters(clean(String.join("\n", f.lines())));
        x.writeEndElement();
    }

    /**
     * GitHub Actions workflow commands: an {@code ::error} per finding (with file and line, so it shows on the
     * file in the pull request) and a {@code ::warning} per incomplete item.
     */
    static List<String> annotations(CheckRun r) {
        java.util.ArrayList<String> l = new java.util.ArrayList<>();
        for (Finding f : r.findings) {
            StringBuilder b = new StringBuilder("::error ");
            if (!f.file().isEmpty()) {
                b.append("file=").append(property(f.file())).append(",");
                if (f.line() > 0) {
                    b.append("line=").append(f.line()).append(",");
                }
            }
            b.append("title=").append(property("hybridv " + f.phase() + ": " + f.check()));
            b.append("::").append(data(f.summary() + (f.reproduce().isEmpty() ? "" : "\nreproduce: " + String.join(
                    "\nreproduce: ", f.reproduce()))));
            l.add(b.toString());
        }
        for (CheckRun.Incomplete i : r.incomplete) {
            l.add("::warning title=" + property("hybridv check incomplete") + "::" + data(i.subject() + ": "
                    + i.reason()));
        }
        return l;
    }

    /** A workflow command's message: %, CR and LF escaped as GitHub's runner expects. */
    private static String data(String s) {
        return clean(s).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A");
    }

    /** A workflow command's property value: also : and , escaped. */
    private static String property(String s) {
        return data(s).replace(":", "%3A").replace(",", "%2C");
    }

    /** Text with control characters other than newline escaped (XML 1.0 cannot carry most of them). */
    private static String clean(String s) {
        StringBuilder b = new StringBuilder();
        for (String line : s.split("\n", -1)) {
            if (b.length() > 0) {
                b.append('\n');
            }
            b.append(Printable.escape(line));
        }
        return b.toString();
    }

    /** A table cell: pipes escaped, one line, input text escaped. */
    private static String md(String s) {
        return Printable.escape(s).replace("|", "\\|");
    }

    /** A Markdown link to {@code file}, relative to the report folder when both are on one file system tree. */
    private static String link(Path file, Path reportDir) {
        Path target = file.toAbsolutePath().normalize();
        String href;
        try {
            href = reportDir.toAbsolutePath().normalize().relativize(target).toString().replace('\\', '/');
        } catch (IllegalArgumentException e) {
            href = target.toString();
        }
        return "[" + md(file.getFileName().toString()) + "](" + href.replace(" ", "%20").replace(")", "%29") + ")";
    }

    private static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    private static String secs(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }

    /**
     * Writes report.json and report.md into {@code dir}, each atomically, and the comparison's charts
     * ({@code hybridv compare --svg}) into {@code dir/comparison/}, which report.md embeds — unless the run was
     * interrupted: then the report is written at once, without the comparison.
     */
    static void write(CheckRun r, Path dir) throws IOException {
        write(r, dir, r.interrupted ? null : comparison());
    }

    /** {@link #write(CheckRun, Path)} with the comparison {@code result} (null: none, the run was interrupted). */
    static void write(CheckRun r, Path dir, Comparison.Result result) throws IOException {
        AtomicFiles.write(dir.resolve("report.json"), (new ObjectMapper().writerWithDefaultPrettyPrinter()
                .writeValueAsString(json(r)) + "\n").getBytes(StandardCharsets.UTF_8));
        if (r.interrupted) {
            // an interruption writes what ran, at once (Ctrl-C): the comparison, independent of the run, is left out
            AtomicFiles.write(dir.resolve("report.md"), markdown(r, dir).getBytes(StandardCharsets.UTF_8));
            return;
        }
        if (result instanceof Comparison.Disagreement d) {
            AtomicFiles.write(dir.resolve("report.md"), (markdown(r, dir) + disagreementSection(d))
                    .getBytes(StandardCharsets.UTF_8));
            return;
        }
        Comparison.Report cmp = (Comparison.Report) result;
        for (java.util.Map.Entry<String, String> e : Charts.render(cmp).entrySet()) {
            java.nio.file.Files.createDirectories(dir.resolve(COMPARISON_DIR));
            AtomicFiles.write(dir.resolve(COMPARISON_DIR).resolve(e.getKey()),
                    e.getValue().getBytes(StandardCharsets.UTF_8));
        }
        AtomicFiles.write(dir.resolve("report.md"), (markdown(r, dir) + comparisonSection(cmp))
                .getBytes(StandardCharsets.UTF_8));
    }

    /** Where the report's charts go, relative to the report directory. */
    static final String COMPARISON_DIR = "comparison";

    private static Comparison.Result cached;

    /**
     * The seed's comparison ({@code hybridv compare}): a function of the model and the cost file alone, not of the
     * campaign, so it is computed once per process — or the disagreement between the platforms that prevents it.
     */
    static synchronized Comparison.Result comparison() {
        if (cached == null) {
            cached = Comparison.compute(CostModel.load());
        }
        return cached;
    }

    /**
     * report.md's last section when the platforms disagree: no comparison, and why (the reference's kernel returned
     * other results on one platform than natively, which the campaign's I3 and workload contract judge).
     */
    static String disagreementSection(Comparison.Disagreement d) {
        return "\n## The seed's comparison (a cost model's prediction)\n\nNot computed: the lmbench workload "
                + md(d.toString()) + ". The platforms did not do the same work, so their events cannot be compared;"
                + " `hybridv compare` says the same.\n";
    }

    /** report.md's last section: the comparison's verdicts and its charts (docs/comparison.md says how to read them). */
    static String comparisonSection(Comparison.Report cmp) {
        StringBuilder b = new StringBuilder("\n## The seed's comparison (a cost model's prediction)\n\n");
        b.append("From `hybridv compare` (docs/comparison.md): the model's events priced by the cost file, not a")
                .append(" measurement.\n\n| claim | generation | reproduced | across the cost ranges |\n")
                .append("|---|---|---|---|\n");
        for (Comparison.Verdict v : cmp.verdicts()) {
            b.append("| ").append(md(v.claim())).append(" | ").append(v.generation()).append(" | ")
                    .append(v.reproduced() ? "yes" : "no").append(" | ").append(v.acrossRanges() ? "yes" : "no")
                    .append(" |\n");
        }
        b.append('\n');
        for (String name : Charts.render(cmp).keySet()) {
            b.append("![").append(name).append("](").append(COMPARISON_DIR).append('/').append(name).append(")\n");
        }
        return b.toString();
    }
}
