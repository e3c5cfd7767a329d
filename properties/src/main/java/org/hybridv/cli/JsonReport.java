package org.hybridv.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import org.hybridv.scenario.Check;
import org.hybridv.scenario.NotRun;
import org.hybridv.scenario.Replay;
import org.hybridv.scenario.ScenarioError;
import org.hybridv.scenario.ScenarioJson;
import org.hybridv.scenario.StepReport;
import org.hybridv.scenario.Verdict;

/**
 * The machine-readable report of {@code hybridv replay --json} (format {@value #FORMAT}), streamed with Jackson's
 * generator (no tree of the whole report is built, so a long replay costs no more memory to report than to run). Its
 * shape is documented in docs/scenario-format.md. Strings are JSON-escaped, and so are the bidirectional and
 * invisible formatting characters ({@link Escapes}), so that the report is safe to print on a terminal as well.
 */
final class JsonReport {
    static final String FORMAT = "hybridv-replay-report/1";

    private JsonReport() {}

    static void write(PrintWriter out, List<Replay> replays, int exitCode) {
        try {
            JsonGenerator g = ScenarioJson.mapper().getFactory().createGenerator(out);
            g.setCharacterEscapes(new Escapes());
            g.useDefaultPrettyPrinter();
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            g.writeStartObject();
            g.writeStringField("format", FORMAT);
            g.writeNumberField("exitCode", exitCode);
            g.writeObjectFieldStart("summary");
            g.writeNumberField("scenarios", replays.size());
            g.writeNumberField("passed", count(replays, Verdict.PASSED));
            g.writeNumberField("failed", count(replays, Verdict.FAILED));
            g.writeNumberField("unusable", count(replays, Verdict.UNUSABLE));
            g.writeEndObject();
            g.writeArrayFieldStart("scenarios");
            for (Replay r : replays) {
                scenario(g, r);
            }
            g.writeEndArray();
            g.writeEndObject();
            g.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the JSON report", e);
        }
        out.println();
        out.flush();
    }

    private static long count(List<Replay> replays, Verdict v) {
        return replays.stream().filter(r -> r.verdict() == v).count();
    }

    private static void scenario(JsonGenerator g, Replay r) throws IOException {
        g.writeStartObject();
        g.writeStringField("path", r.source());
        g.writeStringField("verdict", r.verdict().name().toLowerCase(java.util.Locale.ROOT));
        if (r.scenario() != null) {
            g.writeStringField("title", r.scenario().title());
            g.writeStringField("origin", r.scenario().origin().kind());
            if (r.scenario().violates() != null) {
                g.writeStringField("violates", r.scenario().violates());
            }
        }
        g.writeNumberField("checks", r.checks());
        g.writeNumberField("failedChecks", r.failedChecks());
        if (r.error() != null) {
            error(g, r.error());
        }
        if (r.notRun() != null) {
            notRun(g, r.notRun());
        }
        g.writeArrayFieldStart("steps");
        for (StepReport s : r.steps()) {
            step(g, s);
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void error(JsonGenerator g, ScenarioError e) throws IOException {
        g.writeObjectFieldStart("error");
        g.writeStringField("text", e.line());
        g.writeStringField("message", e.message());
        if (e.step() > 0) {
            g.writeNumberField("step", e.step());
        }
        if (e.op() != null) {
            g.writeStringField("op", e.op());
        }
        if (e.location() != null) {
            g.writeNumberField("line", e.location().line());
            g.writeNumberField("column", e.location().column());
        }
        g.writeEndObject();
    }

    private static void notRun(JsonGenerator g, NotRun n) throws IOException {
        g.writeObjectFieldStart("notRun");
        g.writeNumberField("step", n.step());
        g.writeStringField("op", n.op());
        if (n.location() != null) {
            g.writeNumberField("line", n.location().line());
            g.writeNumberField("column", n.location().column());
        }
        g.writeStringField("reason", n.reason());
        g.writeNumberField("divergedAt", n.divergedAt());
        g.writeNumberField("count", n.count());
        g.writeEndObject();
    }

    private static void step(JsonGenerator g, StepReport s) throws IOException {
        g.writeStartObject();
        g.writeNumberField("step", s.step().number());
        g.writeStringField("op", s.step().step().op());
        if (s.step().location() != null) {
            g.writeNumberField("line", s.step().location().line());
            g.writeNumberField("column", s.step().location().column());
        }
        g.writeStringField("action", s.step().step().describe());
        g.writeStringField("result", s.result().observed().result());
        g.writeStringField("observed", s.result().observed().text());
        g.writeObjectFieldStart("facts");
        for (Map.Entry<String, String> f : s.result().observed().facts().entrySet()) {
            g.writeStringField(f.getKey(), f.getValue());
        }
        g.writeEndObject();
        g.writeBooleanField("holds", s.holds());
        g.writeArrayFieldStart("checks");
        for (Check c : s.result().checks()) {
            g.writeStartObject();
            g.writeStringField("what", c.what());
            g.writeStringField("expected", c.expected());
            g.writeStringField("observed", c.observed());
            g.writeBooleanField("holds", c.holds());
            g.writeEndObject();
        }
        g.writeEndArray();
        if (!s.result().notes().isEmpty()) {
            g.writeArrayFieldStart("notes");
            for (String n : s.result().notes()) {
                g.writeString(n);
            }
            g.writeEndArray();
        }
        g.writeEndObject();
    }

    /**
     * JSON's own escapes, plus {@code \\uXXXX} for the characters {@link Printable} escapes beyond ASCII (bidi and
     * invisible formatting characters, C1 controls): valid JSON either way, and inert when the report is printed.
     */
    static final class Escapes extends CharacterEscapes {
        private static final long serialVersionUID = 1L;
        private final int[] ascii = standardAsciiEscapesForJSON();

        Escapes() {
            ascii[0x7F] = CharacterEscapes.ESCAPE_STANDARD; // DEL: valid in JSON, but a control character
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return ascii;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            String s = String.valueOf((char) ch);
            if (ch > 0xFFFF || Printable.escape(s).equals(s)) {
                return null;
            }
            return new SerializedString(String.format("\\u%04x", ch));
        }
    }
}
