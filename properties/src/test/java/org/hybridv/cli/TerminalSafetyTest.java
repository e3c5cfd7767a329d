package org.hybridv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every string that came from input is printed with its control and bidi characters escaped, and an error message
 * quotes at most 40 characters of an offending value.
 */
class TerminalSafetyTest {
    /** ESC c (reset), OSC 0 (set the window title), CSI 2J (clear the screen), U+202E (right-to-left override). */
    private static final String HOSTILE = "\u001bc\u001b]0;owned\u0007\u001b[2J\u202eevil";
    private static final String HOSTILE_JSON = "\\u001bc\\u001b]0;owned\\u0007\\u001b[2J\\u202eevil";
    private static final String HOSTILE_ESCAPED = "\\ec\\e]0;owned\\x07\\e[2J\\u202eevil";

    @TempDir
    Path dir;

    private Path scenario(String name, String title, String step) throws IOException {
        return Files.writeString(dir.resolve(name), "{\"format\": \"hybridv-scenario/1\", \"title\": \"" + title
                + "\", \"violates\": \"" + title + "\",\n \"origin\": {\"kind\": \"property\", \"property\": \""
                + title + "\", \"seed\": \"" + title + "\"},\n"
                + " \"machine\": {\"memoryFrames\": 16, \"maxPhysAddr\": 39},\n \"steps\": [\n" + step + "\n]}\n",
                StandardCharsets.UTF_8);
    }

    private static void assertNoRawControlOrBidi(Cli.Result r) {
        String all = r.out() + r.err();
        for (char c : all.toCharArray()) {
            boolean raw = (c < 0x20 && c != '\n') || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e)
                    || (c >= 0x2066 && c <= 0x2069);
            assertThat(raw).as("raw U+%04X in%n%s", (int) c, all).isFalse();
        }
    }

    @Test
    void aHostileTitleIsPrintedEscaped() throws IOException {
        Path p = scenario("title.json", HOSTILE_JSON, "{\"op\": \"invlpg\", \"linear\": 0}");
        Cli.Result r = Cli.run("replay", p.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(1); // the invented violation is not reproduced
        assertNoRawControlOrBidi(r);
        assertThat(r.out()).contains(p + ": " + HOSTILE_ESCAPED + "\n",
                "  origin: property " + HOSTILE_ESCAPED + ", seed " + HOSTILE_ESCAPED + "\n",
                "  violates: " + HOSTILE_ESCAPED + "\n",
                "✗ violates: expected " + HOSTILE_ESCAPED + " violated by some step");
        Cli.Result json = Cli.run("replay", "--json", p.toString());
        assertNoRawControlOrBidi(json); // JSON escapes, bidi characters included: the same text, inert
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.out()).at("/scenarios/0/title")
                .asText()).isEqualTo(HOSTILE);
    }

    @Test
    void aHostileFileNameIsPrintedEscaped() throws IOException {
        Path good = scenario("good.json", "t", "{\"op\": \"invlpg\", \"linear\": 0}");
        String text = Files.readString(good).replace("\"violates\": \"t\",", "");
        Path p = Files.writeString(dir.resolve("a\u001b[2Jb\u202e.json"), text, StandardCharsets.UTF_8);
        String escaped = dir.resolve("a\\e[2Jb\\u202e.json").toString();
        Cli.Result replay = Cli.run("replay", p.toString());
        assertThat(replay.exit()).as(replay.all()).isZero();
        assertNoRawControlOrBidi(replay);
        assertThat(replay.out()).contains("PASS " + escaped + " (");
        Cli.Result validate = Cli.run("validate", dir.toString());
        assertNoRawControlOrBidi(validate);
        assertThat(validate.out()).contains("valid " + escaped + " (1 step)");
        Files.writeString(p, "{", StandardCharsets.UTF_8);
        Cli.Result bad = Cli.run("validate", p.toString());
        assertThat(bad.exit()).isEqualTo(2);
        assertNoRawControlOrBidi(bad);
        assertThat(bad.err()).startsWith(escaped + ":1:2: error: malformed JSON");
    }

    @Test
    void anErrorQuotesAtMostFortyCharactersOfAValueAndEscapesThem() throws IOException {
        String longOp = "x".repeat(5000);
        Path op = scenario("op.json", "t", "{\"op\": \"" + longOp + "\"}");
        Cli.Result r = Cli.run("validate", op.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("unknown op \"" + "x".repeat(40) + "… (4960 more characters)\"")
                .doesNotContain("x".repeat(41));

        Path field = scenario("field.json", "t", "{\"op\": \"invlpg\", \"linear\": 0, \"" + HOSTILE_JSON + "\": 1}");
        Cli.Result f = Cli.run("validate", field.toString());
        assertThat(f.exit()).isEqualTo(2);
        assertNoRawControlOrBidi(f);
        assertThat(f.err()).contains("unknown field \"" + HOSTILE_ESCAPED + "\" in invlpg step");

        // a bare token is quoted by the JSON tokenizer's own message: cut there too
        Path token = scenario("token.json", "t", "{\"op\": \"invlpg\", \"linear\": " + "z".repeat(5000) + "}");
        Cli.Result t = Cli.run("validate", token.toString());
        assertThat(t.exit()).isEqualTo(2);
        assertThat(t.err().lines().toList()).singleElement().asString().contains("malformed JSON")
                .doesNotContain("z".repeat(41));

        Path fault = Files.writeString(dir.resolve("fault.json"), Files.readString(op).replace("\"violates\"",
                "\"faults\": [\"" + "f".repeat(300) + "\"], \"violates\""), StandardCharsets.UTF_8);
        Cli.Result u = Cli.run("validate", fault.toString());
        assertThat(u.exit()).isEqualTo(2);
        assertThat(u.err()).contains("unknown fault \"" + "f".repeat(40) + "… (260 more characters)\"")
                .doesNotContain("f".repeat(41));
    }
}
