package org.hybridv.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.List;
import org.hybridv.scenario.Check;
import org.hybridv.scenario.Replay;
import org.hybridv.scenario.ScenarioError;
import org.hybridv.scenario.ScenarioJson;
import org.hybridv.scenario.StepReport;
import org.hybridv.scenario.Verdict;

/**
 * The machine-readable report of {@code hybridv replay --json} (format {@value #FORMAT}), written with Jackson. Its
 * shape is documented in docs/scenario-format.md.
 */
final class JsonReport {
    static final String FORMAT = "hybridv-replay-report/1";

    private JsonReport() {}

    static void write(PrintWriter out, List<Replay> replays, int exitCode) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        root.put("format", FORMAT);
        root.put("exitCode", exitCode);
        ObjectNode summary = root.putObject("summary");
        summary.put("scenarios", replays.size());
        summary.put("passed", replays.stream().filter(r -> r.verdict() == Verdict.PASSED).count());
        summary.put("failed", replays.stream().filter(r -> r.verdict() == Verdict.FAILED).count());
        summary.put("unusable", replays.stream().filter(r -> r.verdict() == Verdict.UNUSABLE).count());
        ArrayNode scenarios = root.putArray("scenarios");
        for (Replay r : replays) {
            scenarios.add(scenario(r));
        }
        try {
            out.println(ScenarioJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(root));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the JSON report", e);
        }
        out.flush();
    }

    private static ObjectNode scenario(Replay r) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("path", r.source());
        n.put("verdict", r.verdict().name().toLowerCase(java.util.Locale.ROOT));
        if (r.scenario() != null) {
            n.put("title", r.scenario().title());
            n.put("origin", r.scenario().origin().kind());
            if (r.scenario().violates() != null) {
                n.put("violates", r.scenario().violates());
            }
        }
        n.put("checks", r.checks());
        n.put("failedChecks", r.failedChecks());
        if (r.error() != null) {
            n.set("error", error(r.error()));
        }
        ArrayNode steps = n.putArray("steps");
        for (StepReport s : r.steps()) {
            steps.add(step(s));
        }
        return n;
    }

    private static ObjectNode error(ScenarioError e) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("text", e.line());
        n.put("message", e.message());
        if (e.step() > 0) {
            n.put("step", e.step());
        }
        if (e.op() != null) {
            n.put("op", e.op());
        }
        if (e.location() != null) {
            n.put("line", e.location().line());
            n.put("column", e.location().column());
        }
        return n;
    }

    private static ObjectNode step(StepReport s) {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("step", s.step().number());
        n.put("op", s.step().step().op());
        if (s.step().location() != null) {
            n.put("line", s.step().location().line());
            n.put("column", s.step().location().column());
        }
        n.put("action", s.step().step().describe());
        n.put("result", s.result().observed().result());
        n.put("observed", s.result().observed().text());
        ObjectNode facts = n.putObject("facts");
        s.result().observed().facts().forEach(facts::put);
        n.put("holds", s.holds());
        ArrayNode checks = n.putArray("checks");
        for (Check c : s.result().checks()) {
            ObjectNode cn = checks.addObject();
            cn.put("what", c.what());
            cn.put("expected", c.expected());
            cn.put("observed", c.observed());
            cn.put("holds", c.holds());
        }
        if (!s.result().notes().isEmpty()) {
            ArrayNode notes = n.putArray("notes");
            s.result().notes().forEach(notes::add);
        }
        return n;
    }
}
