package org.hybridv.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** hybridv replay / validate / ops: exit codes, the trace, --quiet, --json, folders, help. */
class ReplayCommandTest {
    private static final Path ROOT = RepoRoot.find();
    private static final String PASSING = ROOT.resolve("docs/examples/first-scenario.json").toString();
    private static final String FAILING = ROOT.resolve("docs/examples/wrong-expectation.json").toString();

    @TempDir
    Path dir;

    @Test
    void everyExpectationHoldsExitsZeroWithATraceLinePerStep() {
        Cli.Result r = Cli.run("replay", PASSING);
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out().lines().filter(l -> l.startsWith("  step ")).count()).isEqualTo(8);
        assertThat(r.out()).contains("  step 8  access       write 0x8 value 0x1234 → #PF error code 0x7 (P|W|U), CR2"
                + " 0x8  ✓", "PASS " + PASSING + " (8 steps, 9 checks)", "1 scenario: 1 passed, 0 failed, 0 unusable");
    }

    @Test
    void aWrongExpectationExitsOneAndShowsTheStepAndWhy() {
        Cli.Result r = Cli.run("replay", FAILING);
        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        assertThat(r.out()).contains("  step 6  access       write 0x0 → #PF error code 0x7 (P|W|U), CR2 0x0  ✗\n"
                + "           ✗ errorCode: expected 0x5 (P|U), observed 0x7 (P|W|U)\n",
                "FAIL " + FAILING + " (6 steps, 4 checks; 1 failed, in step 6)");
    }

    @Test
    void quietPrintsOnlyFailuresAndSummaries() {
        Cli.Result r = Cli.run("replay", "--quiet", PASSING, FAILING);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out().lines().toList()).containsExactly(
                "PASS " + PASSING + " (8 steps, 9 checks)",
                "  step 6  access       write 0x0 → #PF error code 0x7 (P|W|U), CR2 0x0  ✗",
                "           ✗ errorCode: expected 0x5 (P|U), observed 0x7 (P|W|U)",
                "FAIL " + FAILING + " (6 steps, 4 checks; 1 failed, in step 6)",
                "2 scenarios: 1 passed, 1 failed, 0 unusable");
    }

    @Test
    void theWorstVerdictDecidesTheExitCodeAndEveryFileIsReported() throws IOException {
        Path bad = Files.writeString(dir.resolve("bad.json"), "{", StandardCharsets.UTF_8);
        Cli.Result r = Cli.run("replay", "-q", FAILING, bad.toString(), PASSING);
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).contains("FAIL " + FAILING, "PASS " + PASSING, "3 scenarios: 1 passed, 1 failed, 1"
                + " unusable");
        assertThat(r.err().lines().toList()).singleElement().asString().startsWith(bad + ":1:2: error: malformed JSON");
    }

    @Test
    void jsonReportIsOneDocumentWithEveryStep() throws IOException {
        Cli.Result r = Cli.run("replay", "--json", PASSING, FAILING);
        assertThat(r.exit()).isEqualTo(1);
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertThat(report.get("format").asText()).isEqualTo("hybridv-replay-report/1");
        assertThat(report.get("exitCode").asInt()).isEqualTo(1);
        assertThat(report.at("/summary/passed").asInt()).isEqualTo(1);
        assertThat(report.at("/summary/failed").asInt()).isEqualTo(1);
        JsonNode failing = report.at("/scenarios/1");
        assertThat(failing.get("verdict").asText()).isEqualTo("failed");
        assertThat(failing.get("steps")).hasSize(6);
        JsonNode step6 = failing.at("/steps/5");
        assertThat(step6.get("result").asText()).isEqualTo("pageFault");
        assertThat(step6.get("line").asInt()).isEqualTo(14);
        assertThat(step6.at("/facts/errorCode").asText()).isEqualTo("0x7");
        assertThat(step6.at("/checks/1/expected").asText()).isEqualTo("0x5 (P|U)");
        assertThat(step6.at("/checks/1/holds").asBoolean()).isFalse();
    }

    @Test
    void jsonReportCarriesErrorsOfUnusableFiles() throws IOException {
        Path bad = Files.writeString(dir.resolve("bad.json"), "{\"format\": \"x\"}", StandardCharsets.UTF_8);
        Cli.Result r = Cli.run("replay", "--json", bad.toString(), dir.resolve("missing.json").toString());
        assertThat(r.exit()).isEqualTo(2);
        JsonNode report = new ObjectMapper().readTree(r.out());
        assertThat(report.at("/summary/unusable").asInt()).isEqualTo(2);
        assertThat(report.at("/scenarios/0/error/text").asText()).endsWith("missing.json: error: no such file or"
                + " folder");
        assertThat(report.at("/scenarios/1/error/line").asInt()).isEqualTo(1);
        assertThat(report.at("/scenarios/1/error/message").asText()).startsWith("unknown format \"x\"");
        assertThat(r.err().lines().count()).isEqualTo(2);
    }

    @Test
    void foldersAreSearchedRecursivelyInSortedOrderSkippingHiddenAndOtherFiles() throws IOException {
        Path tree = Files.createDirectories(dir.resolve("tree/b"));
        Files.createDirectories(dir.resolve("tree/.hidden"));
        byte[] passing = Files.readAllBytes(Path.of(PASSING));
        Files.write(dir.resolve("tree/z.json"), passing);
        Files.write(tree.resolve("a.json"), passing);
        Files.write(dir.resolve("tree/a.json"), passing);
        Files.write(dir.resolve("tree/.hidden/x.json"), "{".getBytes(StandardCharsets.UTF_8));
        Files.writeString(dir.resolve("tree/README.md"), "not a scenario");
        Cli.Result r = Cli.run("replay", "-q", dir.resolve("tree").toString());
        assertThat(r.exit()).as(r.all()).isZero();
        Path t = dir.resolve("tree");
        assertThat(r.out().lines().filter(l -> l.startsWith("PASS")).toList()).containsExactly(
                "PASS " + t.resolve("a.json") + " (8 steps, 9 checks)",
                "PASS " + t.resolve("b/a.json") + " (8 steps, 9 checks)",
                "PASS " + t.resolve("z.json") + " (8 steps, 9 checks)");
    }

    @Test
    void faultsAndViolatesAreShownAndAnUnreproducedViolationFails() throws IOException {
        String text = Files.readString(Path.of(PASSING))
                .replace("\"origin\": {\"kind\": \"hand\"}", "\"origin\": {\"kind\": \"property\", \"property\":"
                        + " \"isolation\", \"seed\": \"-123\"}, \"faults\": [\"pt-update-no-flush\"], \"violates\": \"I1\"");
        Path p = Files.writeString(dir.resolve("cx.json"), text, StandardCharsets.UTF_8);
        Cli.Result r = Cli.run("replay", p.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        assertThat(r.out()).contains("  origin: property isolation, seed -123", "  violates: I1",
                "  faults: pt-update-no-flush (injected; docs/faults.md)",
                "✗ violates: expected I1 violated by some step, observed no step reports I1 violated");
    }

    @Test
    void anUnknownFaultIsUnusableInput() throws IOException {
        String text = Files.readString(Path.of(PASSING))
                .replace("\"origin\": {\"kind\": \"hand\"}", "\"origin\": {\"kind\": \"hand\"}, \"faults\": [\"skip-flush\"]");
        Path p = Files.writeString(dir.resolve("cx.json"), text, StandardCharsets.UTF_8);
        Cli.Result r = Cli.run("replay", p.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(2);
        assertThat(r.all()).contains("unknown fault \"skip-flush\"; known faults: ", "superpage-accepted");
    }

    @Test
    void aStepThatCannotRunAfterAFailedExpectationIsNotRunAndTheReplayFailsWithExitOne() throws IOException {
        // first-guest.json with step 8's exit expected to be a delivered #PF, and a guest read after it: the exit
        // happens (SDM §24.6.3), so the guest read cannot run; that is the failure of step 8, not a broken file
        String text = Files.readString(ROOT.resolve("docs/examples/first-guest.json"))
                .replace("\"expect\": {\"result\": \"vmExit\", \"reason\": \"EXCEPTION_OR_NMI\", \"qualification\":"
                        + " \"0x2000\",\n                \"interruption\": {\"vector\": 14, \"type\": 3, \"errorCodeValid\":"
                        + " true, \"errorCode\": \"0x0\"}}},",
                        "\"expect\": {\"result\": \"delivered\", \"vector\": 14}},\n"
                        + "    {\"op\": \"guestAccess\", \"linear\": \"0x1000\", \"kind\": \"read\"},");
        Path p = Files.writeString(dir.resolve("diverged.json"), text, StandardCharsets.UTF_8);
        Cli.Result r = Cli.run("replay", "--quiet", p.toString());
        assertThat(r.exit()).as(r.all()).isEqualTo(1);
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).contains("  step  9  guestAccess  not run: guestAccess is a guest instruction: it runs"
                + " only in VMX non-root operation; enter the guest with vmresume\n"
                + "            (the machine diverged from the scenario at step 8; steps 9–11 not run)\n",
                "FAIL " + p + " (8 of 11 steps run, 6 checks; 1 failed, in step 8)",
                "1 scenario: 0 passed, 1 failed, 0 unusable");
        Cli.Result json = Cli.run("replay", "--json", p.toString());
        assertThat(json.exit()).isEqualTo(1);
        JsonNode n = new ObjectMapper().readTree(json.out()).at("/scenarios/0");
        assertThat(n.get("verdict").asText()).isEqualTo("failed");
        assertThat(n.at("/notRun/step").asInt()).isEqualTo(9);
        assertThat(n.at("/notRun/divergedAt").asInt()).isEqualTo(8);
        assertThat(n.at("/notRun/count").asInt()).isEqualTo(3);
        assertThat(n.at("/notRun/reason").asText()).startsWith("guestAccess is a guest instruction");
        assertThat(n.get("steps")).hasSize(8);
        assertThat(n.has("error")).isFalse();
    }

    @Test
    void validateChecksWithoutRunning() throws IOException {
        Cli.Result ok = Cli.run("validate", PASSING, FAILING);
        assertThat(ok.exit()).isZero();
        assertThat(ok.out()).contains("valid " + PASSING + " (8 steps)", "2 paths: 2 valid, 0 unusable");
        Path bad = Files.writeString(dir.resolve("bad.json"), "[]", StandardCharsets.UTF_8);
        Cli.Result r = Cli.run("validate", "-q", PASSING, bad.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out().lines().toList()).containsExactly("2 paths: 1 valid, 1 unusable");
    }

    @Test
    void theRegressionCorpusReplaysCleanly() {
        Cli.Result r = Cli.run("replay", "--quiet", ROOT.resolve("counterexamples").toString());
        assertThat(r.exit()).as(r.all()).isZero();
        assertThat(r.out()).doesNotContain("FAIL", "✗");
    }

    /** The trace line of every step of every file in the corpus and the examples renders (each step describes itself). */
    @Test
    void everyStepOfTheCorpusAndTheExamplesRendersInTheTrace() {
        for (String dir : new String[] {"counterexamples", "docs/examples"}) {
            Cli.Result r = Cli.run("replay", ROOT.resolve(dir).toString());
            // docs/examples holds one file whose expectation is wrong on purpose (exit 1); 70 is an internal error
            assertThat(r.exit()).as(dir).isEqualTo(dir.equals("counterexamples") ? 0 : 1);
            assertThat(r.all()).as(dir).doesNotContain("internal error");
            assertThat(r.out()).as(dir).contains("  step  1 ");
        }
    }

    @Test
    void helpAndVersion() {
        Cli.Result help = Cli.run("--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("Usage: hybridv", "replay", "validate", "ops", "Examples:", "Exit codes");
        for (String command : new String[] {"replay", "validate", "ops"}) {
            Cli.Result sub = Cli.run(command, "--help");
            assertThat(sub.exit()).isZero();
            assertThat(sub.out()).contains("Usage: hybridv " + command, "Example", "hybridv " + command);
        }
        Cli.Result version = Cli.run("--version");
        assertThat(version.exit()).isZero();
        assertThat(version.out()).startsWith("hybridv ").contains("(scenario format hybridv-scenario/1)");
        assertThat(version.out()).doesNotContain("${");
    }

    @Test
    void opsListsEveryOperationWithAnExample() {
        Cli.Result r = Cli.run("ops");
        assertThat(r.exit()).isZero();
        for (String op : new String[] {"access", "cpu", "expectCpu", "expectEntry", "expectTlb", "invlpg", "movToCr3",
            "pte"}) {
            assertThat(r.out()).contains(op + " — ", "{\"op\": \"" + op + "\"");
        }
    }
}
